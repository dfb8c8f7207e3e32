// The browser benchmark (`bash tools/bench-browser.sh`): the lesson demo's default run trained in headless Chromium
// on the CPU (the wasm backend) and on WebGPU, and the same settings natively (`tinytune bench --demo`, one thread,
// as the wasm backend has), in one run. It prints figures and checks only that every run finished.
//
// Step times come from the worker's own metrics (each step's tokens/s, evaluations excluded), read from the
// messages it posts to the page; the first step (kernel compilation on WebGPU) is reported apart.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startServer, launchBrowser, openPage, distDir, answerPredictions, recordWorkerEvents } from "./harness.mjs";

const LESSON = "/learn/your-first-lora-fine-tune";
const tinytune = process.env.TINYTUNE_CLI;
if (!tinytune) throw new Error("TINYTUNE_CLI must name the native tinytune binary (tools/bench-browser.sh sets it)");
// SwiftShader (a GPU emulated on the CPU, all a machine without a GPU offers) takes seconds a step: a few steps show
// its pace. On a real GPU the whole default run.
const EMULATED_GPU_STEPS = Number(process.env.TINYTUNE_BENCH_EMULATED_STEPS ?? 4);
// As many steps as the demo's default run: fewer are too short to time steadily.
const NATIVE_STEPS = 60;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs the demo's default settings in a fresh page of `browser`; returns its figures. */
async function runDemo(browser, origin) {
  const { page, context } = await openPage(browser, origin);
  await context.addInitScript(recordWorkerEvents);
  const demo = page.locator("section.demo");
  await page.goto(`${origin}${LESSON}`);
  await answerPredictions(page); // the lesson's demo opens once its predictions are committed
  await demo.getByText(/^Training on/).first().waitFor({ timeout: 120_000 });
  const events = () => page.evaluate(() => window.__workerEvents);
  const ready = (await events()).find((e) => e.event.Ready)?.event.Ready;
  const backend = ready.backend;
  const emulated = backend.kind === "WebGpu" && /swiftshader/i.test(backend.adapter_name ?? "");
  if (emulated) await demo.getByLabel("Steps", { exact: true }).fill(String(EMULATED_GPU_STEPS));
  // The worker writes the base model's sample first (minutes on SwiftShader): Train would wait for it, so the
  // first step is timed after it.
  await demo.locator(".demo-sample:not([aria-busy]) .demo-sample-text").first().waitFor({ timeout: 900_000 });
  const clicked = await page.evaluate(() => performance.now());
  await demo.getByRole("button", { name: "Train", exact: true }).click();
  await demo.locator(".demo-status").getByText(/^Finished after/).waitFor({ timeout: 1_800_000 });
  const recorded = await events();
  await context.close();
  const { steps, batch_size: batch, grad_accum: accum, seq_len: seqLen } = recorded.find((e) => e.event.Start).event.Start.settings;
  const metrics = recorded.filter((e) => e.event.Metrics);
  if (metrics.length !== steps) throw new Error(`expected ${steps} steps, the worker reported ${metrics.length}`);
  const rates = metrics.slice(1).map((e) => e.event.Metrics.metrics.tokens_per_second);
  const tokensPerStep = batch * accum * seqLen;
  return {
    backend,
    emulated,
    steps,
    batch,
    seqLen,
    firstStepMs: metrics[0].at - clicked,
    // The first step's own forward/backward/update; the rest of firstStepMs is preparing the data and the model,
    // and the evaluations after step 1.
    firstStepTrainMs: (1000 * tokensPerStep) / metrics[0].event.Metrics.metrics.tokens_per_second,
    tokensPerSecond: median(rates),
    stepMs: (1000 * tokensPerStep) / median(rates),
  };
}

/**
 * A learner who clicks Train as soon as it is there: milliseconds from opening the lesson (a first visit: nothing
 * cached) to the trainer being ready and to the first step's metrics.
 */
async function openToFirstStep(browser, origin) {
  const { page, context } = await openPage(browser, origin);
  await context.addInitScript(recordWorkerEvents);
  const demo = page.locator("section.demo");
  const opened = Date.now();
  await page.goto(`${origin}${LESSON}`);
  await answerPredictions(page); // the lesson's demo opens once its predictions are committed
  await demo.getByText(/^Training on/).first().waitFor({ timeout: 120_000 });
  const readyMs = Date.now() - opened;
  await demo.getByRole("button", { name: "Train", exact: true }).click();
  await page.waitForFunction(() => window.__workerEvents.some((e) => e.event.Metrics), null, { timeout: 120_000 });
  const firstStepMs = Date.now() - opened;
  await context.close();
  return { readyMs, firstStepMs };
}

function nativeFigures(steps) {
  const model = join(distDir, "models", "stories260K");
  const out = execFileSync(tinytune, ["bench", "--demo", "--threads", "1", "--steps", String(steps), "--model", model], {
    encoding: "utf8",
  });
  const line = out.split("\n").find((l) => l.startsWith("tinytune"));
  const [, rate, seconds] = line.match(/([\d.]+) tokens\/s\s+\(([\d.]+) s\/step\)/);
  return { tokensPerSecond: Number(rate), stepMs: 1000 * Number(seconds), header: out.split("\n")[0] };
}

const { server, origin } = await startServer();
const cpuBrowser = await launchBrowser();
const gpuBrowser = await launchBrowser(["--enable-unsafe-webgpu"]);
try {
  const version = cpuBrowser.version();
  const opening = await openToFirstStep(cpuBrowser, origin);
  const cpu = await runDemo(cpuBrowser, origin);
  const gpu = await runDemo(gpuBrowser, origin);
  const native = nativeFigures(NATIVE_STEPS);
  const pad = (text, width) => String(text).padEnd(width);
  const num = (value, width) => value.toFixed(0).padStart(width);
  console.log(`Browser benchmark — the lesson demo's default run (batch ${cpu.batch} × ${cpu.seqLen}), Chromium ${version}`);
  console.log(`native: ${native.header}`);
  console.log(`${pad("backend", 44)}${"steps".padStart(6)}${"ms/step".padStart(10)}${"tokens/s".padStart(10)}${"first step ms".padStart(15)}`);
  const gpuName = gpu.backend.kind === "WebGpu"
    ? `WebGPU${gpu.emulated ? " (SwiftShader: emulated on the CPU)" : ""}`
    : "WebGPU unavailable (ran on the CPU)";
  for (const [name, r] of [["CPU in the tab (wasm, one thread)", cpu], [gpuName, gpu]]) {
    console.log(`${pad(name, 44)}${String(r.steps).padStart(6)}${num(r.stepMs, 10)}${num(r.tokensPerSecond, 10)}${num(r.firstStepMs, 15)}`);
  }
  console.log(`${pad("native CPU (tinytune bench --demo, one thread)", 44)}${String(NATIVE_STEPS).padStart(6)}${num(native.stepMs, 10)}${num(native.tokensPerSecond, 10)}`);
  console.log(
    `CPU, first visit, Train clicked as soon as it is there: lesson opened → trainer ready ${opening.readyMs} ms → first step's metrics ${opening.firstStepMs} ms (target ≤ 2,000)`,
  );
  for (const [name, r] of [["CPU", cpu], ["WebGPU", gpu]]) {
    console.log(
      `${name}, Train clicked after the base model's sample: first step's metrics after ${r.firstStepMs.toFixed(0)} ms, the step itself ${r.firstStepTrainMs.toFixed(0)} ms (the rest: data, model, evaluations)`,
    );
  }
  console.log(`wasm CPU / native one thread: ${(cpu.tokensPerSecond / native.tokensPerSecond).toFixed(2)}× (target ≥ 0.5×)`);
  console.log(`WebGPU backend reported by the worker: ${JSON.stringify(gpu.backend)}`);
} finally {
  await cpuBrowser.close();
  await gpuBrowser.close();
  server.close();
}
