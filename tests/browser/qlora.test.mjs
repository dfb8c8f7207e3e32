// SmolLM2-135M-Instruct in the tab on the CPU backend (headless Chromium without WebGPU): the hardware preflight's
// figures before anything downloads, the 4-bit GGUF loading from the build output with progress, and the chat box
// answering a message through the model's chat template, streamed; then a short QLoRA run in the tab, whose adapter
// zip PEFT loads on the same model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servedSite, openPage, distDir } from "./harness.mjs";

const site = servedSite();

test("the QLoRA demo measures the device before anything downloads, loads the 4-bit model with progress, and chats", async () => {
  const { page } = await openPage(site.browser, site.origin);
  const modelRequests = [];
  page.on("request", (request) => request.url().endsWith("/model.gguf") && modelRequests.push(request.url()));
  await page.goto(`${site.origin}/embed/qlora-chat`);
  const demo = page.locator("section.demo");

  // The preflight: this device, and a row for each way of training with its memory and verdicts.
  const preflight = demo.locator(".demo-preflight");
  await preflight.getByText(/CPU: [\d.]+ billion operations a second, measured here/).waitFor({ timeout: 60_000 });
  // Headless Chromium without --enable-unsafe-webgpu offers no WebGPU adapter.
  await preflight.getByText(/No GPU for training: .+\./).waitFor();
  const rows = preflight.locator("tbody tr");
  assert.deepEqual(await rows.locator("th").allInnerTexts(), [
    "QLoRA (LoRA on the 4-bit base)",
    "LoRA on the base in 32-bit floats",
    "Full fine-tuning",
  ]);
  const qlora = await rows.nth(0).locator("td").allInnerTexts();
  const lora = await rows.nth(1).locator("td").allInnerTexts();
  const megabytes = (text) => Number(text.replace(/[^\d.]/g, "")) * (text.includes("GB") ? 1000 : 1);
  assert.ok(megabytes(qlora[0]) < megabytes(lora[0]), `QLoRA needs less memory than LoRA: ${qlora[0]} vs ${lora[0]}`);
  assert.match(qlora[1], /^Does not fit: no usable GPU/);
  assert.equal(qlora[2], "Fits");
  assert.match(qlora[3], /^(a few seconds|about \d+ (s|min)|about \d+ h \d+ min)$/);
  assert.deepEqual(modelRequests, [], "nothing downloads before the learner asks");

  // The run recorded when the site was built, shown before anything downloads: its settings, its check and one
  // customer's message with both models' replies; the chart holds its losses.
  const recorded = demo.locator(".demo-recorded");
  await recorded.getByRole("heading", { name: "A recorded run" }).waitFor();
  const note = await recorded.textContent();
  assert.match(note, /with the settings this demo starts with: 30 steps on \d+ pieces of 160 tokens/);
  assert.match(note, /Answers in the Ridgeline voice: [1-8] of 8 samples pass the data set's check afterwards \(the base model's: \d\)/);
  const [asked, base, tuned] = await recorded.locator("blockquote").allInnerTexts();
  assert.match(asked, /\n— Ngozi$/);
  assert.match(tuned, /^Hi Ngozi\b[\s\S]*Happy trails, the Ridgeline crew$/);
  assert.notEqual(base, tuned);
  assert.match(await demo.locator(".demo-data caption").textContent(), /recorded run/);

  // The size comes from the build output's manifest.
  const manifest = JSON.parse(readFileSync(join(distDir, "models/SmolLM2-135M-Instruct/manifest.json"), "utf8"));
  assert.equal(manifest.model, "HuggingFaceTB/SmolLM2-135M-Instruct");
  const load = demo.getByRole("button", { name: /^Load SmolLM2-135M-Instruct \(98\.\d MB\)$/ });
  assert.equal(manifest.files["model.gguf"].bytes, 98_362_432);
  // Every progress line, kept as it changes (over localhost the download is over in moments).
  await page.evaluate(() => {
    window.progressLines = [];
    new MutationObserver(() => {
      const line = document.querySelector(".demo-loading")?.textContent;
      if (line && window.progressLines.at(-1) !== line) window.progressLines.push(line);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await load.click();
  await demo.getByText(/^Training on the CPU/).waitFor({ timeout: 180_000 });
  assert.equal(modelRequests.length, 1);
  const lines = await page.evaluate(() => window.progressLines);
  assert.ok(
    lines.some((line) => /^Downloading model\.gguf: [\d.]+ (bytes?|KB|MB) of 98\.4 MB$/.test(line)),
    `download progress was shown: ${JSON.stringify(lines)}`,
  );

  // The chat box: the reply streams in, then ends at the end-of-turn token, without the template's markup.
  const message = demo.getByLabel("Your message");
  await message.fill("What is the capital of France? Answer in one short sentence.");
  await demo.getByLabel("Temperature").fill("0");
  await demo.getByRole("button", { name: "Send" }).click();
  const reply = demo.locator(".demo-sample").first();
  await reply.locator(".demo-sample-text").waitFor({ timeout: 120_000 });
  await page.waitForFunction(
    () => !document.querySelector(".demo-sample")?.getAttribute("aria-busy"),
    undefined,
    { timeout: 180_000 },
  );
  const text = await reply.locator(".demo-sample-text").innerText();
  assert.match(text, /Paris/, `the model answers: ${text}`);
  assert.doesNotMatch(text, /<\|im_(start|end)\|>|^user|assistant\n/, `only the reply: ${text}`);
  page.assertClean();
});

test("a QLoRA run trains in the tab on the 4-bit model, and its adapter zip loads in PEFT on SmolLM2 with our logits", async () => {
  const python = process.env.TINYTUNE_PYTHON;
  assert.ok(python, "TINYTUNE_PYTHON must point at the reference environment (tools/test.sh sets it)");
  const tinytune = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/tinytune/target"), "release", "tinytune");
  const { page } = await openPage(site.browser, site.origin, { acceptDownloads: true });
  // The demo's own check writes 8 replies of up to 96 tokens with each model, minutes on the CPU path: this run is
  // checked on the first of them, 6 tokens long (intercepted as the worker fetches it).
  const check = JSON.parse(readFileSync(join(distDir, "datasets/smollm2/ridgeline-support.check.json"), "utf8"));
  let checkServed = 0;
  await page.route("**/datasets/smollm2/ridgeline-support.check.json", (route) => {
    checkServed += 1;
    route.fulfill({ json: { ...check, max_new_tokens: 6, samples: [{ ...check.samples[0], must_contain: ["Hi"] }] } });
  });
  // A run one step long on one 48-token piece, from the address (the demo's own is 30 steps of 4 × 160); without
  // warmup that step changes the adapters.
  await page.goto(`${site.origin}/embed/qlora-chat?steps=1&batch=1&seq=48&warmup=0`);
  const demo = page.locator("section.demo");
  await demo.getByRole("button", { name: /^Load SmolLM2-135M-Instruct/ }).click();
  await demo.getByText(/^Training on the CPU/).waitFor({ timeout: 180_000 });
  await demo.getByRole("button", { name: "QLoRA-tune on the support replies" }).click();
  await demo.locator(".demo-status").getByText(/^Finished after 1 step\. “Answers in the Ridgeline voice”: \d of 1 sample/).waitFor({ timeout: 600_000 });
  assert.equal(checkServed, 1, "the worker fetched the intercepted check");

  const downloading = page.waitForEvent("download");
  await demo.getByRole("button", { name: "Download adapter" }).click();
  const download = await downloading;
  const dir = mkdtempSync(join(tmpdir(), "tinytune-qlora-zip-"));
  const zipPath = join(dir, "adapter.zip");
  await download.saveAs(zipPath);
  execFileSync(python, ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", zipPath, dir]);
  const adapter = join(dir, "tinytune-adapter");
  // A 4-bit base's zip holds the PEFT files and the card: GGUF and merged exports would need the base dequantized.
  assert.deepEqual(readdirSync(adapter).sort(), ["README.md", "adapter_config.json", "adapter_model.safetensors"]);
  const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
  assert.equal(config.base_model_name_or_path, "HuggingFaceTB/SmolLM2-135M-Instruct");
  assert.equal(config.r, 8);
  assert.deepEqual([...config.target_modules].sort(), ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);

  // PEFT attaches it to transformers' (dequantized) SmolLM2 from the same GGUF, and the logits are ours.
  const gguf = join(distDir, "models/SmolLM2-135M-Instruct/model.gguf");
  const tokens = "1,9690,198,17830,28,314,1345,2683,30,2";
  const logits = (args) => JSON.parse(execFileSync(args[0], args.slice(1), { maxBuffer: 1 << 28 }));
  const reference = join(import.meta.dirname, "..", "reference", "logits.py");
  const peft = logits([python, reference, "--model", gguf, "--adapter", adapter, "--tokens", tokens]);
  const ours = logits([tinytune, "logits", "--model", gguf, "--four-bit", "--adapter", adapter, "--tokens", tokens]);
  const base = logits([tinytune, "logits", "--model", gguf, "--four-bit", "--tokens", tokens]);
  // 10 × 49,152 logits: too many for Math.max's arguments.
  const maxDiff = (a, b) => {
    const [x, y] = [a.flat(), b.flat()];
    assert.equal(x.length, y.length);
    return x.reduce((most, v, i) => Math.max(most, Math.abs(v - y[i])), 0);
  };
  assert.ok(maxDiff(ours, peft) <= 1e-3, `ours (4-bit) vs PEFT (dequantized): ${maxDiff(ours, peft)}`);
  assert.ok(maxDiff(ours, base) > 1e-2, `the adapter changes the model: ${maxDiff(ours, base)}`);
  page.assertClean();
});
