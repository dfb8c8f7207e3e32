// The live lesson's fine-tuning demo in headless Chromium, with the real trainer worker and model: WebGPU
// (SwiftShader, via --enable-unsafe-webgpu) against the CPU fallback on a step of the demo's embeddable copy,
// pause/resume/stop, the adapter download checked in PEFT (and its GGUF files against the CLI's), and accessibility.
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, openPage, distDir, waitForQuiz, answerPredictions } from "./harness.mjs";

const LESSON = "/learn/your-first-lora-fine-tune";
let server, origin, cpuOnlyBrowser, webgpuBrowser;

before(async () => {
  ({ server, origin } = await startServer());
  cpuOnlyBrowser = await launchBrowser();
  webgpuBrowser = await launchBrowser(["--enable-unsafe-webgpu"]);
});
after(async () => {
  await cpuOnlyBrowser?.close();
  await webgpuBrowser?.close();
  server?.close();
});

function demo(page) {
  return page.locator("section.demo");
}

/** Opens the lesson and waits until the worker reports its backend; returns the milliseconds that took. */
async function openDemo(page) {
  const started = Date.now();
  await page.goto(`${origin}${LESSON}`);
  await waitForQuiz(page);
  await answerPredictions(page);
  await demo(page).getByText(/^Training on/).first().waitFor({ timeout: 120_000 });
  return Date.now() - started;
}

async function setSteps(page, steps) {
  await demo(page).getByLabel("Steps", { exact: true }).fill(String(steps));
}

async function train(page, { timeout = 240_000 } = {}) {
  await demo(page).getByRole("button", { name: "Train", exact: true }).click();
  await demo(page).locator(".demo-status").getByText(/^(Finished after|Stopped at)/).waitFor({ timeout });
}

/** The data table under the chart: one row per step, numbers as shown (4 decimals). */
async function lossTable(page) {
  const rows = await demo(page).locator(".demo-data tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((cell) => cell.textContent.trim())),
  );
  return rows.map(([step, training, heldOut, drift]) => ({
    step: Number(step),
    training: Number(training),
    heldOut: heldOut.startsWith("–") ? null : Number(heldOut),
    drift: drift.startsWith("–") ? null : Number(drift),
  }));
}

async function sampleText(page, title) {
  const card = demo(page).locator(".demo-sample").filter({ has: page.getByRole("heading", { name: title }) });
  await card.locator(".demo-sample-text").waitFor({ timeout: 120_000 });
  // The text streams in: read it once the card is no longer busy.
  await card.and(page.locator(":not([aria-busy])")).waitFor({ timeout: 120_000 });
  return card.locator(".demo-sample-text").textContent();
}

test("without WebGPU the demo says why, trains on the CPU, and the default run changes what the model writes", async () => {
  const { page, context } = await openPage(cpuOnlyBrowser, origin);
  const readyMs = await openDemo(page);
  const backend = await demo(page).getByText(/^Training on/).first().textContent();
  assert.equal(backend, "Training on the CPU");
  const reason = await demo(page).textContent();
  assert.match(reason, /WebGPU is not available: the browser offers no GPU adapter/);
  assert.match(reason, /chrome:\/\/flags\/#enable-unsafe-webgpu/, "the learner is told how to get WebGPU");
  const before = await sampleText(page, "Base model");
  assert.doesNotMatch(before, /Pip/);

  // Before any run, the run recorded when the site was built: labelled as such, its steps in the chart's table.
  const recordedNote = demo(page).locator(".demo-recorded");
  await recordedNote.getByRole("heading", { name: "A recorded run" }).waitFor();
  assert.match(await recordedNote.textContent(), /Made when this site was built, with the settings this demo starts with: 60 steps/);
  assert.match(await demo(page).locator(".demo-data caption").textContent(), /recorded run/);
  const recorded = await lossTable(page);
  assert.equal(recorded.length, 60);

  const started = Date.now();
  await demo(page).getByRole("button", { name: "Train", exact: true }).click();
  await recordedNote.waitFor({ state: "detached" });
  await demo(page).locator(".demo-data tbody tr").first().waitFor({ state: "attached", timeout: 60_000 });
  const firstStepMs = Date.now() - started;
  await demo(page).locator(".demo-status").getByText(/^Finished after/).waitFor({ timeout: 240_000 });
  const trainMs = Date.now() - started;
  const after = await sampleText(page, /^Fine-tuned/);
  const changedMs = Date.now() - started;
  assert.notEqual(after, before);
  assert.match(after, /Pip/, "the fine-tuned model writes about Pip, the data set's main character");
  const table = await lossTable(page);
  const steps = table.length;
  assert.ok(table.at(-1).heldOut < table[0].heldOut, `held-out loss falls: ${JSON.stringify([table[0], table.at(-1)])}`);
  // The recorded run is this run, made natively by the CLI: the same losses, to float rounding.
  assert.equal(steps, recorded.length);
  const gap = Math.max(...table.map((row, i) => Math.abs(row.training - recorded[i].training)));
  assert.ok(gap <= 1e-3, `the learner's default run repeats the recorded one: largest gap in training loss ${gap}`);
  console.log(`figure: largest gap between the learner's default run and the recorded one (training loss): ${gap.toFixed(4)}`);
  console.log(`figure: CPU (wasm) — lesson open to trainer ready ${readyMs} ms; Train to first step ${firstStepMs} ms`);
  console.log(`figure: CPU (wasm) — ${steps} steps in ${trainMs} ms (${(trainMs / steps).toFixed(0)} ms/step); Train to a changed sample ${changedMs} ms`);
  console.log(`figure: base sample: ${before.slice(0, 100)}…`);
  console.log(`figure: fine-tuned sample: ${after.slice(0, 100)}…`);
  page.assertClean();
  await context.close();
});

test("on WebGPU a training step equals the CPU backend's, in its loss and in the held-out loss its update leaves", { timeout: 1_200_000 }, async () => {
  // SwiftShader emulates a GPU on the CPU: a step takes it tens of seconds, and the samples the lesson's demo writes
  // take minutes. So one step, without warmup (whose first learning rate is 0), in the embeddable copy of the demo:
  // it takes its settings from the address and writes no samples.
  const oneStep = async (browser, backend) => {
    const { page, context } = await openPage(browser, origin);
    await page.goto(`${origin}/embed/first-lora?steps=1&warmup=0`);
    await demo(page).getByText(backend).waitFor({ timeout: 120_000 });
    const started = Date.now();
    await train(page, { timeout: 900_000 });
    const ms = Date.now() - started;
    const rows = await lossTable(page);
    page.assertClean();
    // Closed at once: after the run its worker checks the task on 8 samples, minutes on SwiftShader.
    await context.close();
    assert.equal(rows.length, 1);
    return { ...rows[0], ms };
  };
  const gpu = await oneStep(webgpuBrowser, /is ready to train on WebGPU/);
  const cpu = await oneStep(cpuOnlyBrowser, /is ready to train on the CPU/);
  for (const loss of ["training", "heldOut"]) {
    assert.ok(Math.abs(gpu[loss] - cpu[loss]) <= 1e-3, `${loss} loss: WebGPU ${gpu[loss]} vs CPU ${cpu[loss]}`);
  }
  // The base model's held-out loss: the recorded run's first evaluation, after a step at warmup's learning rate 0.
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets/pip-the-purple-robot.recorded.json"), "utf8"));
  const base = recorded.metrics[0].eval_loss;
  assert.equal(recorded.metrics[0].learning_rate, 0);
  assert.ok(gpu.heldOut < base - 0.05, `one step on WebGPU lowers the held-out loss: ${base} → ${gpu.heldOut}`);
  console.log(`figure: WebGPU (SwiftShader) one step in ${gpu.ms} ms, shaders compiled included; CPU in ${cpu.ms} ms; held-out loss ${base.toFixed(4)} → ${gpu.heldOut}`);
});

test("a learner can choose the CPU even when WebGPU is available", async () => {
  const { page, context } = await openPage(webgpuBrowser, origin);
  await openDemo(page);
  assert.match(await demo(page).getByText(/^Training on/).first().textContent(), /^Training on WebGPU/);
  await demo(page).getByLabel("Use the CPU even if WebGPU is available").check();
  // The worker leaves the base-model sample it is writing on SwiftShader (minutes) unfinished: the switch is quick.
  await demo(page).getByText("Training on the CPU").waitFor({ timeout: 30_000 });
  const base = demo(page).locator(".demo-sample").filter({ has: page.getByRole("heading", { name: "Base model" }) });
  await base.locator(".demo-sample-text").waitFor({ timeout: 60_000 });
  assert.doesNotMatch(await demo(page).textContent(), /WebGPU is not available/, "a chosen CPU needs no excuse");
  page.assertClean();
  await context.close();
});

test("pause, resume and stop take effect, and the page stays responsive while training", async () => {
  const { page, context } = await openPage(cpuOnlyBrowser, origin);
  await openDemo(page);
  await setSteps(page, 1000);
  await demo(page).getByRole("button", { name: "Train", exact: true }).click();
  await demo(page).locator(".demo-recorded").waitFor({ state: "detached" });
  const rows = demo(page).locator(".demo-data tbody tr");
  await rows.nth(2).waitFor({ state: "attached", timeout: 60_000 });

  // Another control answers while a run is going.
  const clicked = Date.now();
  await page.getByLabel("Theme").selectOption("dark");
  await page.waitForFunction(() => document.documentElement.dataset.theme === "dark", null, { timeout: 2_000 });
  const responseMs = Date.now() - clicked;

  await demo(page).getByRole("button", { name: "Pause" }).click();
  await demo(page).locator(".demo-status").getByText(/^Paused at step \d+/).waitFor({ timeout: 10_000 });
  const pausedAt = await rows.count();
  await page.waitForTimeout(1500);
  assert.equal(await rows.count(), pausedAt, "no step runs while paused");

  await demo(page).getByRole("button", { name: "Resume" }).click();
  await rows.nth(pausedAt + 1).waitFor({ state: "attached", timeout: 30_000 });
  await demo(page).getByRole("button", { name: "Stop" }).click();
  await demo(page).locator(".demo-status").getByText(/^Stopped at step \d+/).waitFor({ timeout: 10_000 });
  const stoppedAt = await rows.count();
  await page.waitForTimeout(1000);
  assert.equal(await rows.count(), stoppedAt, "no step runs after Stop");
  assert.ok(stoppedAt < 1000);
  console.log(`figure: a click on another control was handled ${responseMs} ms into a training run`);
  page.assertClean();
  await context.close();
});

test("the base model is downloaded once and comes from the browser cache on the next visit", async () => {
  const { page, context } = await openPage(cpuOnlyBrowser, origin);
  const downloads = [];
  context.on("request", (request) => {
    if (request.url().endsWith("/model.safetensors")) downloads.push(request.url());
  });
  await openDemo(page);
  const again = await context.newPage();
  await openDemo(again);
  assert.deepEqual(downloads.length, 1, `model.safetensors fetched ${downloads.length} times`);
  page.assertClean();
  await context.close();
});

test("the downloaded adapter zip loads in PEFT and gives the logits our CLI gives; its GGUF files and merged folder are the CLI's", async () => {
  const python = process.env.TINYTUNE_PYTHON;
  const tinytune = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/tinytune/target"), "release", "tinytune");
  assert.ok(python, "TINYTUNE_PYTHON must point at the reference environment (tools/test.sh sets it)");
  const { page, context } = await openPage(cpuOnlyBrowser, origin, { acceptDownloads: true });
  await openDemo(page);
  await setSteps(page, 6);
  await train(page);
  const downloading = page.waitForEvent("download");
  await demo(page).getByRole("button", { name: "Download adapter" }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "tinytune-adapter.zip");
  const dir = mkdtempSync(join(tmpdir(), "tinytune-zip-"));
  const zipPath = join(dir, "adapter.zip");
  await download.saveAs(zipPath);
  await demo(page).locator(".demo-status").getByText(/^Adapter downloaded/).waitFor();
  execFileSync(python, ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", zipPath, dir]);
  const adapter = join(dir, "tinytune-adapter");
  const model = join(distDir, "models", "stories260K");
  const tokens = "1,403,407,261,378,365,294,306,287,366";
  const ours = JSON.parse(execFileSync(tinytune, ["logits", "--model", model, "--adapter", adapter, "--tokens", tokens]));
  const peft = JSON.parse(
    execFileSync(python, [join(import.meta.dirname, "..", "reference", "logits.py"), "--model", model, "--adapter", adapter, "--tokens", tokens]),
  );
  const base = JSON.parse(execFileSync(tinytune, ["logits", "--model", model, "--tokens", tokens]));
  const maxDiff = (a, b) => Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])));
  assert.ok(maxDiff(ours, peft) <= 1e-4, `ours vs PEFT: ${maxDiff(ours, peft)}`);
  assert.ok(maxDiff(ours, base) > 1e-3, "the adapter changes the model");
  const card = execFileSync(python, ["-c", "import sys; print(open(sys.argv[1]).read())", join(adapter, "README.md")]).toString();
  assert.match(card, /base_model: stories260K/);
  assert.match(card, /Final losses \(step 6\)/);
  // The zip's GGUF files are byte for byte what the CLI writes for the same adapter (llama.cpp runs the CLI's in
  // tests/native/parity.rs).
  const cli = join(dir, "cli-export");
  execFileSync(tinytune, ["export", "--format", "ollama", "--model", model, "--adapter", adapter, "--out", cli], { stdio: "ignore" });
  const files = ["model.gguf", "adapter.gguf", "merged.gguf", "Modelfile", "RUN.md"];
  assert.deepEqual(readdirSync(join(adapter, "gguf")).sort(), [...files].sort());
  for (const file of files) {
    assert.ok(readFileSync(join(adapter, "gguf", file)).equals(readFileSync(join(cli, file))), `gguf/${file} differs from the CLI's`);
  }
  // The merged Hugging Face folder is what `tinytune export --format hf-merged` writes, and transformers gives it
  // the logits of the model with the adapter.
  const cliMerged = join(dir, "cli-merged");
  execFileSync(tinytune, ["export", "--format", "hf-merged", "--model", model, "--adapter", adapter, "--out", cliMerged], { stdio: "ignore" });
  const mergedFiles = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
  assert.deepEqual(readdirSync(join(adapter, "merged")).sort(), mergedFiles);
  for (const file of mergedFiles) {
    assert.ok(readFileSync(join(adapter, "merged", file)).equals(readFileSync(join(cliMerged, file))), `merged/${file} differs from the CLI's`);
  }
  const merged = JSON.parse(
    execFileSync(python, [join(import.meta.dirname, "..", "reference", "logits.py"), "--model", join(adapter, "merged"), "--tokens", tokens]),
  );
  assert.ok(maxDiff(ours, merged) <= 1e-4, `ours with the adapter vs transformers on merged/: ${maxDiff(ours, merged)}`);
  // And the PEFT files are what `tinytune export --format peft` writes for the same adapter.
  const cliPeft = join(dir, "cli-peft");
  execFileSync(tinytune, ["export", "--format", "peft", "--model", model, "--adapter", adapter, "--out", cliPeft], { stdio: "ignore" });
  for (const file of ["adapter_config.json", "adapter_model.safetensors"]) {
    assert.ok(readFileSync(join(adapter, file)).equals(readFileSync(join(cliPeft, file))), `${file} differs from the CLI's`);
  }
  page.assertClean();
  await context.close();
});

test("every demo control is labelled, the chart has a text alternative and a table, and changes are announced", async () => {
  const { page, context } = await openPage(cpuOnlyBrowser, origin);
  await openDemo(page);
  await setSteps(page, 3);
  await train(page);
  const unlabelled = await demo(page)
    .locator("input, select, textarea, button")
    .evaluateAll((controls) =>
      controls
        .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || c.getAttribute("aria-labelledby") || c.textContent.trim()))
        .map((c) => c.outerHTML.slice(0, 120)),
    );
  assert.deepEqual(unlabelled, []);
  const chart = demo(page).locator("svg[role=img]");
  assert.match(await chart.getAttribute("aria-label"), /[Tt]raining loss (fell|rose).* over 3 steps/);
  assert.equal(await demo(page).locator(".demo-data tbody tr").count(), 3);
  assert.equal(await demo(page).locator(".demo-status").getAttribute("role"), "status");
  assert.match(await demo(page).locator(".demo-status").textContent(), /^Finished after 3 steps/);
  page.assertClean();
  await context.close();
});

