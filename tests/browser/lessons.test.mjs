// The lessons' live elements, on the CPU in headless Chromium against the built dist/ (the first fine-tune has its
// own file, demo.test.mjs): the next-token bars (temperature, top-p, drawing a token), the tokens, the instruction
// adapter beside the base model, the four ways to one goal and the adapter in three templates, each showing what was
// recorded at build time before the learner's own; the layer map's counts; the shipped adapter's matrices, sized from
// its files; the two sweeps, their recordings and one cell of each run by the learner (the loss-mask sweep's on the
// instruction data); one training step up close, recorded and the learner's; the base model in each quantization
// format, recorded and the learner's; DPO on preference pairs, recorded, the learner's, and at another β; the messy
// practice set cleaned in the studio and trained on; instruction tuning's stories judged for shape and request; the
// town's facts trained as notes and as questions and asked five ways; stories with stereotyped and balanced
// pronouns; the cost calculator's sums, worked by hand in lesson 5; and two shipped adapters mixed, recorded and the
// learner's, the mix downloaded and loaded in PEFT; and GRPO's groups, rewards and advantages, recorded and the
// learner's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPage, readCourse, answerPredictions, distDir, servedSite, recordWorkerEvents } from "./harness.mjs";

const course = readCourse();
const site = servedSite();

/** Opens the lesson that holds `name`'s demo, commits its predictions and returns the demo's section. */
async function openDemo(page, name) {
  const lesson = course.lessons.find((l) => l.demos.includes(name));
  assert.ok(lesson, `a lesson places the ${name} demo`);
  await page.goto(`${site.origin}/learn/${lesson.slug}`);
  await answerPredictions(page);
  const demo = page.locator(`[data-demo="${name}"] section.demo`);
  await demo.waitFor();
  return demo;
}

/** Sets a range input the way a learner's drag does: its value, then an input event. */
async function slide(demo, label, value) {
  await demo.getByLabel(label, { exact: true }).evaluate((input, value) => {
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);
}

async function bars(demo) {
  return demo.locator(".next-token-bars li").evaluateAll((items) =>
    items.map((li) => ({
      token: li.querySelector(".token-chip, span").textContent,
      percent: li.querySelector(".bar-value").textContent,
      drawn: !li.classList.contains("outside"),
    })),
  );
}

async function chips(demo) {
  return demo.locator("ol.token-chips > li").evaluateAll((items) =>
    items.map((li) => ({ text: li.querySelector(".token-text").textContent, byte: li.classList.contains("byte"), drawn: li.classList.contains("drawn") })),
  );
}

test("next-token: the recorded reading first, then the learner's own; temperature and top-p shape the nucleus; a drawn token is appended", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "next-token");
  // Before the learner asks: the reading recorded at build time, labelled.
  await demo.locator(".demo-recorded").waitFor();
  assert.match(await demo.locator(".demo-recorded").textContent(), /Recorded when this site was built, for “Once upon a time, Lily went to the”/);
  const recorded = await bars(demo);
  assert.equal(recorded.length, 11, "ten likely tokens and the rest");
  assert.equal(recorded.at(-1).token, "all other tokens");

  await demo.getByText(/^Running on the CPU|^Running on WebGPU/).waitFor({ timeout: 120_000 });
  await demo.getByRole("button", { name: "Show the next token" }).click();
  await demo.locator(".demo-recorded").waitFor({ state: "detached" });
  const own = await bars(demo);
  assert.deepEqual(own, recorded, "the learner's reading of the opening prompt equals the recorded one");
  const total = own.reduce((sum, bar) => sum + Number(bar.percent.replace("%", "")), 0);
  assert.ok(Math.abs(total - 100) < 0.6, `the bars add up to 100%: ${total}`);

  // Temperature 0: one token takes everything.
  await slide(demo, "Temperature", 0);
  assert.match(await demo.locator(".demo-nucleus").textContent(), /draws from 1 token holding 100\.0%/);
  const greedy = await bars(demo);
  assert.equal(greedy[0].percent, "100.0%");
  assert.deepEqual(greedy.slice(1, -1).map((bar) => bar.drawn), Array(9).fill(false), "the rest greyed out");
  // A higher temperature flattens: the top token loses probability; a lower top-p shrinks the nucleus.
  await slide(demo, "Temperature", 2);
  await slide(demo, "Top-p", 1);
  const hot = await bars(demo);
  assert.ok(Number(hot[0].percent.replace("%", "")) < Number(own[0].percent.replace("%", "")), `${hot[0].percent} < ${own[0].percent}`);
  const wide = Number((await demo.locator(".demo-nucleus").textContent()).match(/draws from ([\d,]+) token/)[1].replace(",", ""));
  await slide(demo, "Top-p", 0.05);
  const narrow = Number((await demo.locator(".demo-nucleus").textContent()).match(/draws from ([\d,]+) token/)[1].replace(",", ""));
  assert.ok(narrow < wide, `top-p 0.05 keeps fewer tokens (${narrow}) than 1 (${wide})`);

  // Greedy drawing appends the top token, exactly, and reads again.
  await slide(demo, "Temperature", 0);
  const before = await chips(demo);
  const top = (await bars(demo))[0].token;
  await demo.getByRole("button", { name: "Add a token" }).click();
  await demo.locator("ol.token-chips > li").nth(before.length).waitFor();
  const after = await chips(demo);
  assert.equal(after.length, before.length + 1);
  assert.deepEqual(after.at(-1), { text: top, byte: false, drawn: true }, "the drawn token is the top bar's, marked as drawn");
  // Editing the prompt starts again from the learner's words.
  await demo.getByLabel("Prompt", { exact: true }).fill("Tom had a dog");
  await demo.getByRole("button", { name: "Show the next token" }).click();
  await demo.locator(".token-chip.drawn").waitFor({ state: "detached" });
  page.assertClean();
  await context.close();
});

test("tokens: the recorded reading first; a rare name is several tokens, an emoji is bytes, and the counts say so", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "tokens");
  await demo.locator(".demo-recorded").waitFor();
  const recordedChips = await chips(demo);
  assert.equal(recordedChips[0].text, "<s>", "the start-of-text token comes first");

  await demo.getByText(/^Running on the CPU|^Running on WebGPU/).waitFor({ timeout: 120_000 });
  await demo.getByRole("button", { name: /^A name from the stories/ }).click();
  await demo.getByRole("button", { name: "Show the tokens" }).click();
  await demo.locator(".demo-recorded").waitFor({ state: "detached" });
  await demo.locator(".demo-token-counts").filter({ hasText: /^4 characters, 1 word, 1 token/ }).waitFor();
  assert.deepEqual((await chips(demo)).map((chip) => chip.text), ["<s>", "▁Lily"]);

  await demo.getByRole("button", { name: /^A rare name/ }).click();
  await demo.getByRole("button", { name: "Show the tokens" }).click();
  await demo.locator(".demo-token-counts").filter({ hasText: /^9 characters, 1 word/ }).waitFor();
  const rare = (await chips(demo)).slice(1);
  assert.ok(rare.length >= 4, `a rare name takes several tokens: ${JSON.stringify(rare)}`);
  assert.equal(rare.map((chip) => chip.text).join("").replace("▁", ""), "Zephyrine", "the pieces spell the name");

  await demo.getByRole("button", { name: /^An emoji/ }).click();
  await demo.getByRole("button", { name: "Show the tokens" }).click();
  await demo.locator(".demo-token-counts").filter({ hasText: /4 of them single bytes/ }).waitFor();
  const bytes = (await chips(demo)).filter((chip) => chip.byte).map((chip) => chip.text);
  assert.deepEqual(bytes, ["<0xF0>", "<0x9F>", "<0x8D>", "<0x95>"], "🍕 is U+1F355: four UTF-8 bytes");
  assert.match(await demo.locator(".demo-token-counts").textContent(), /of the 512 tokens the model reads at once/);
  page.assertClean();
  await context.close();
});

test("instruction adapter: the recorded pair first, then the learner's own, equal to it; each judged as the task metric judges it", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "instruction-adapter");
  await demo.locator(".demo-recorded").waitFor();
  const cards = demo.locator(".demo-sample");
  const pair = async () =>
    cards.evaluateAll((divs) =>
      divs.map((div) => ({
        title: div.querySelector("h4").textContent,
        prompt: div.querySelector(".demo-prompt")?.textContent ?? "",
        text: div.querySelector(".demo-continuation").textContent.trim(),
        verdict: div.querySelector(".demo-verdict")?.textContent ?? null,
      })),
    );
  const recorded = await pair();
  assert.deepEqual(recorded.map((card) => card.title), ["Base model", "With the instruction adapter"]);
  for (const card of recorded) {
    assert.equal(card.prompt, "Write a story about a fox on the farm.");
    assert.match(card.verdict, /^(✓ Names the fox and the farm, as asked\.|✗ Does not name both the fox and the farm\.)$/);
  }

  const write = demo.getByRole("button", { name: "Write with both" });
  await page.waitForFunction((button) => !button.disabled, await write.elementHandle(), { timeout: 120_000 });
  await write.click();
  await demo.locator(".demo-recorded").waitFor({ state: "detached" });
  await page.waitForFunction(() => !document.querySelector(".demo-sample-grid[aria-busy]"), null, { timeout: 120_000 });
  assert.deepEqual(await pair(), recorded, "the learner's pair for the first request repeats the recorded one: same settings, same code");

  // The learner's own request: written by both, with no check to judge it.
  await demo.getByLabel("Request").selectOption({ label: "Your own request…" });
  await demo.getByLabel("Your request").fill("Write a story about a dog in the park.");
  await write.click();
  await page.waitForFunction(() => !document.querySelector(".demo-sample-grid[aria-busy]"), null, { timeout: 120_000 });
  const own = await pair();
  assert.deepEqual(own.map((card) => [card.prompt, card.verdict]), [
    ["Write a story about a dog in the park.", null],
    ["Write a story about a dog in the park.", null],
  ]);
  assert.ok(own.every((card) => card.text.length > 0));
  page.assertClean();
  await context.close();
});

/** The ways a comparison demo sets side by side, as the recording names them, and their titles. */
const LINEUPS = {
  approaches: [
    ["plain", "The request alone"],
    ["worked-example", "A worked example in front"],
    ["retrieved", "Retrieved examples in front"],
    ["adapter", "The instruction adapter"],
  ],
  templates: [
    ["adapter", "The instruction adapter"],
    ["adapter-chat-labels", "The adapter, asked with chat role labels"],
    ["adapter-alpaca", "The adapter, asked with Alpaca's markers"],
  ],
};

/**
 * Opens the comparison demo `name`, checks its table and samples against the recording (every way, recorded at build
 * time; the demo shows its lineup's), then scores the ways with `button` and checks the learner's comparison repeats
 * the recorded one. `claims(passed)` checks the lesson's claims on the recording; it returns the recorded samples.
 */
async function compareWays(name, button, claims) {
  const ways = LINEUPS[name];
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, name);
  await demo.locator(".demo-recorded").waitFor();
  const recorded = await page.evaluate(async () => {
    const response = await fetch(new URL("/models/stories260K/instruction-adapter/compared.json", document.baseURI));
    return response.json();
  });
  // Eight held-out requests, three seeds each, for each of the six ways.
  assert.equal(recorded.length, 6 * 24);
  const of = (way) => recorded.filter((s) => s.approach === way);
  const passed = (way) => of(way).filter((s) => s.sample.passed).length;
  claims(of, passed);

  const rows = async () => demo.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
  const table = await rows();
  assert.deepEqual(table.map((row) => [row[0], row[3]]), ways.map(([way, title]) => [title, `${passed(way)} of 24`]));
  ways.forEach(([way], i) => {
    const mean = of(way).reduce((sum, s) => sum + s.prompt_tokens, 0) / 24;
    assert.ok(Math.abs(Number(table[i][2]) - mean) <= 0.5, `${way}: ${table[i][2]} tokens, the file says ${mean}`);
  });
  const samples = async () =>
    demo.locator("details.demo-sample-list li").evaluateAll((items) =>
      items.map((li) => `${li.querySelector(".demo-prompt").textContent} ${li.querySelector(".demo-continuation").textContent}`),
    );
  const recordedSamples = await samples();
  const lineup = ways.flatMap(([way]) => of(way));
  assert.deepEqual(recordedSamples, lineup.map((s) => `${s.sample.prompt} ${s.sample.text.trimStart()}`));

  const score = demo.getByRole("button", { name: button });
  await page.waitForFunction((button) => !button.disabled, await score.elementHandle(), { timeout: 120_000 });
  await score.click();
  await demo.locator(".demo-recorded").waitFor({ state: "detached" });
  await demo.getByText(`Done: ${ways.length * 24} samples written and judged.`).waitFor({ timeout: 300_000 });
  assert.equal(await demo.locator("caption").textContent(), "Your comparison");
  assert.deepEqual(await rows(), table, "the learner's comparison repeats the recorded one: same model, seeds and code");
  assert.deepEqual(await samples(), recordedSamples);
  page.assertClean();
  await context.close();
}

test("approaches: the recorded comparison first, then the learner's own, equal to it sample for sample", async () => {
  await compareWays("approaches", "Score the four ways", (of, passed) => {
    // Retrieval put two training examples about the same animal or the same place in front of each request.
    for (const sample of of("retrieved")) {
      const [, animal, place] = sample.sample.prompt.match(/about an? (\w+) (?:on|at|by|in) the (\w+)\./);
      assert.equal(sample.in_front.length, 2);
      assert.ok(sample.in_front.every((request) => request.includes(` ${animal} `) || request.includes(` ${place}.`)), sample.in_front.join(" | "));
    }
    // The lesson's claim: the adapter names both far more often than any way that only changes the prompt.
    for (const way of ["plain", "worked-example", "retrieved"]) assert.ok(passed("adapter") >= passed(way) + 12, `${way}: ${passed(way)}`);
  });
});

test("templates: the adapter in its own template and two others, recorded first, then the learner's own", async () => {
  await compareWays("templates", "Score the three templates", (of, passed) => {
    // Lesson 12's claims: about 20 of 24 in its own template, fewer than half as many in each of the two others,
    // yet more than the base model. Counts of sampled stories, not exact figures: the adapter is trained when the
    // site is built, and another CPU's SIMD kernels round differently, which changes some samples.
    const own = passed("adapter");
    assert.ok(Math.abs(own - 20) <= 2, `the adapter in its own template: ${own} of 24, the lesson says about 20`);
    for (const way of ["adapter-chat-labels", "adapter-alpaca"]) {
      assert.ok(2 * passed(way) < own, `${way}: ${passed(way)} of 24, not fewer than half of ${own}`);
      assert.ok(passed(way) > passed("plain"), `${way}: ${passed(way)} of 24, the base model ${passed("plain")}`);
    }
    // The requests' lengths in tokens (the tokenizer's, the same on every machine).
    const tokens = (way) => of(way).reduce((sum, s) => sum + s.prompt_tokens, 0) / 24;
    assert.deepEqual(["adapter", "adapter-chat-labels", "adapter-alpaca"].map((way) => Math.round(tokens(way))), [26, 40, 53]);
    // Every template way reads the request alone in its samples, with nothing in front.
    assert.ok(of("adapter-alpaca").every((s) => s.in_front.length === 0 && !s.sample.prompt.includes("###")));
  });
});

/** The tensors of a safetensors file whose names end with one of `suffixes`, as { shape, data: Float32Array }. */
function readTensors(file, suffixes) {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  return suffixes.map((suffix) => {
    const name = Object.keys(header).find((key) => key.endsWith(suffix));
    assert.ok(name, `${file} holds a tensor named …${suffix}`);
    const { dtype, shape, data_offsets: [start, end] } = header[name];
    assert.equal(dtype, "F32", name);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + headerLength + start, bytes.byteOffset + 8 + headerLength + end));
    return { shape, data };
  });
}

/** The Frobenius norms of one projection's W and of its update (alpha / r)·B·A, worked from the files the site serves. */
function projectionSizes(projection) {
  const models = join(distDir, "models", "stories260K");
  const module = ["q_proj", "k_proj", "v_proj", "o_proj"].includes(projection) ? "self_attn" : "mlp";
  const [w] = readTensors(join(models, "model.safetensors"), [`layers.0.${module}.${projection}.weight`]);
  const [a, b] = readTensors(join(models, "instruction-adapter", "adapter_model.safetensors"), [
    `layers.0.${module}.${projection}.lora_A.weight`,
    `layers.0.${module}.${projection}.lora_B.weight`,
  ]);
  const config = JSON.parse(readFileSync(join(models, "instruction-adapter", "adapter_config.json"), "utf8"));
  const [rank, cols] = a.shape;
  const rows = b.shape[0];
  assert.deepEqual(w.shape, [rows, cols]);
  const scaling = config.lora_alpha / config.r;
  let delta = 0;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += b.data[i * rank + k] * a.data[k * cols + j];
      delta += (scaling * sum) ** 2;
    }
  return { rows, cols, rank, w: Math.hypot(...w.data), delta: Math.sqrt(delta) };
}

test("lora matrix: the shipped adapter's W and update sized as its files say, its singular values, k and alpha, samples at three alphas", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "lora-matrix");
  const figures = demo.locator(".lora-matrix-figures");
  await figures.waitFor({ timeout: 120_000 });
  const q = projectionSizes("q_proj");
  assert.match(await figures.textContent(), /^layer 1 q_proj: W holds 4,096 frozen weights; B \(64 × 8\) and A \(8 × 64\) hold 1,024 trainable ones\./);
  assert.ok((await figures.textContent()).includes(`W ${q.w.toFixed(3)}, ΔW ${q.delta.toFixed(3)}`), await figures.textContent());

  // The singular values: eight, largest first, their squares adding up to the squared size worked out above.
  const sigmas = async () =>
    demo.locator(".singular-values li").evaluateAll((items) =>
      items.map((li) => ({ sigma: Number(li.firstElementChild.textContent.split("= ")[1]), kept: !li.classList.contains("outside") })),
    );
  const values = await sigmas();
  assert.equal(values.length, 8);
  assert.ok(values.every((v, i) => v.kept && (i === 0 || v.sigma <= values[i - 1].sigma)), JSON.stringify(values));
  const squares = values.reduce((sum, v) => sum + v.sigma ** 2, 0);
  assert.ok(Math.abs(Math.sqrt(squares) - q.delta) < 0.005, `σ give ${Math.sqrt(squares)}, the files ${q.delta}`);
  assert.ok((await figures.textContent()).includes("The kept ranks hold 100% of the update."));

  // k = 1 keeps the first direction alone.
  await slide(demo, "Ranks of the update kept, k", 1);
  const share = Math.round((100 * values[0].sigma ** 2) / squares);
  assert.ok((await figures.textContent()).includes(`The kept ranks hold ${share}% of the update.`), await figures.textContent());
  assert.deepEqual((await sigmas()).map((v) => v.kept), [true, false, false, false, false, false, false, false]);
  assert.equal(await demo.locator(".heatmap figcaption").nth(1).textContent(), "ΔW = (α/r)·B·A, first 1 of 8 ranks");

  // Three heatmaps, one pixel per weight, each drawn in more than one colour.
  const canvases = async () =>
    demo.locator(".heatmap canvas").evaluateAll((all) =>
      all.map((canvas) => {
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        const colours = new Set();
        for (let i = 0; i < pixels.length; i += 4) colours.add(`${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`);
        return [canvas.width, canvas.height, colours.size];
      }),
    );
  for (const [width, height, colours] of await canvases()) {
    assert.deepEqual([width, height], [64, 64]);
    assert.ok(colours > 50, `${colours} colours`);
  }

  // down_proj maps the MLP's 172 numbers back to 64; k stays where the learner put it.
  await demo.getByLabel("Projection").selectOption("down_proj");
  await figures.getByText(/^layer 1 down_proj/).waitFor();
  const down = projectionSizes("down_proj");
  const text = await figures.textContent();
  assert.match(text, /W holds 11,008 frozen weights; B \(64 × 8\) and A \(8 × 172\) hold 1,888 trainable ones\./);
  await slide(demo, "Ranks of the update kept, k", 8);
  assert.ok((await figures.textContent()).includes(`W ${down.w.toFixed(3)}, ΔW ${down.delta.toFixed(3)}`), await figures.textContent());
  assert.deepEqual((await canvases()).map(([width, height]) => [width, height]), [[172, 64], [172, 64], [172, 64]]);

  // Samples: at α 0 the base model's, at the trained α the recorded run's; at α 8 the fox goes to the forest.
  const recorded = JSON.parse(readFileSync(join(distDir, "models", "stories260K", "instruction-adapter", "recorded.json"), "utf8"));
  const write = demo.getByRole("button", { name: "Write with this α" });
  const writeAt = async (alpha) => {
    await slide(demo, "LoRA alpha α", alpha);
    await page.waitForFunction((button) => !button.disabled, await write.elementHandle(), { timeout: 120_000 });
    await write.click();
    const sample = demo.locator(".demo-sample");
    await sample.locator("h4").getByText(`With α = ${alpha}`, { exact: true }).waitFor();
    await page.waitForFunction((card) => !card.hasAttribute("aria-busy"), await sample.elementHandle(), { timeout: 120_000 });
    return (await sample.locator(".demo-sample-text").textContent()).trim();
  };
  const written = (sample) => `${sample.prompt} ${sample.text.trim()}`;
  assert.equal(await writeAt(0), written(recorded.base_checked[0]));
  assert.equal(await writeAt(16), written(recorded.tuned_checked[0]));
  assert.match(await writeAt(8), /fox.*forest/s);
  page.assertClean();
  await context.close();
});

/** A sweep's grid as the page shows it: for each cell, row by row, its checkbox's name and state and its figures. */
async function sweepGrid(demo) {
  return demo.locator(".sweep-grid tbody td").evaluateAll((cells) =>
    cells.map((td) => ({
      label: td.querySelector("input").getAttribute("aria-label"),
      chosen: td.querySelector("input").checked,
      loss: td.querySelector(".sweep-loss")?.textContent ?? null,
      task: td.querySelector(".sweep-task")?.textContent ?? null,
      drift: td.querySelector(".sweep-drift")?.textContent ?? null,
      passes: td.querySelector(".sweep-passes")?.textContent ?? null,
      source: [...td.querySelectorAll(".sweep-source")].map((s) => s.textContent).join(" "),
    })),
  );
}

/** Opens a sweep's demo, checks that every cell shows its recording, chooses `run` alone and runs it; returns
 * the demo, the recording and the cell's index. */
async function runOneSweepCell(page, name, file, suggested, run) {
  const demo = await openDemo(page, name);
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", file), "utf8"));
  await page.waitForFunction(() => document.querySelectorAll(".sweep-grid .sweep-loss").length > 0, null, { timeout: 60_000 });
  const grid = await sweepGrid(demo);
  assert.equal(grid.length, recorded.length, "a recorded run for every cell");
  const heldOut = (metrics) => metrics.filter((m) => m.eval_loss != null).at(-1).eval_loss;
  grid.forEach((cell, i) => {
    const task = recorded[i].task;
    assert.deepEqual([cell.loss, cell.task, cell.source], [heldOut(recorded[i].metrics).toFixed(3), `${task.passed} of ${task.total}`, "recorded"], cell.label);
  });
  assert.deepEqual(grid.filter((cell) => cell.chosen).map((cell) => cell.label).sort(), [...suggested].sort());
  const legend = await demo.locator(".chart-legend li").allTextContents();
  assert.deepEqual(legend, suggested.map((label) => `${label} (recorded)`), "the chart's lines in the order the cells were chosen");

  // The learner keeps one cell and runs it: it shows their run, equal to the recorded one to float rounding.
  for (const label of suggested.filter((label) => label !== run)) await demo.getByLabel(label, { exact: true }).uncheck();
  if (!suggested.includes(run)) await demo.getByLabel(run, { exact: true }).check();
  const button = demo.getByRole("button", { name: "Run the 1 chosen cell" });
  await page.waitForFunction((b) => !b.disabled, await button.elementHandle(), { timeout: 120_000 });
  await button.click();
  const index = grid.findIndex((cell) => cell.label === run);
  await page.waitForFunction(
    ([i]) => {
      const td = document.querySelectorAll(".sweep-grid tbody td")[i];
      return td.textContent.includes("yours") && !document.querySelector(".sweep-grid input").disabled;
    },
    [index],
    { timeout: 180_000 },
  );
  const mine = (await sweepGrid(demo))[index];
  const gap = Math.abs(Number(mine.loss) - heldOut(recorded[index].metrics));
  assert.ok(gap <= 5e-3, `${run}: held-out loss ${mine.loss} in the tab, ${heldOut(recorded[index].metrics)} recorded`);
  assert.match(mine.task, /^\d of 8$/);
  assert.deepEqual(await demo.locator(".chart-legend li").allTextContents(), [run]);
  return { demo, recorded, index };
}

test("rank sweep: every cell's recording first; the learner runs r 1 on all linear layers, and it repeats the recording", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const { recorded } = await runOneSweepCell(
    page,
    "rank-sweep",
    "pip-the-purple-robot.sweep-rank-targets.json",
    ["r 32, Attention only", "r 4, All linear", "r 1, All linear"],
    "r 1, All linear",
  );
  // The grid is rank × place: r 1 plain and rsLoRA are the same run (both scale by 16), and the lesson's readings hold.
  const last = (i) => recorded[i].metrics.filter((m) => m.eval_loss != null).at(-1).eval_loss;
  const at = (row, column) => row * 4 + column;
  assert.equal(last(at(0, 2)), last(at(0, 3)));
  assert.ok(last(at(2, 2)) < last(at(5, 0)) && last(at(5, 0)) < last(at(0, 2)), "r 4 all linear < r 32 attention < r 1 all linear");
  for (let row = 0; row < 6; row++) assert.ok(last(at(row, 1)) < last(at(row, 0)), `MLP below attention at row ${row}`);
  for (let row = 1; row < 6; row++) assert.ok(last(at(row, 3)) > last(at(row, 2)), `rsLoRA above plain at row ${row}`);
  page.assertClean();
  await context.close();
});

test("overfitting sweep: every cell's recording with its drift and passes; few examples overfit and drift, replay lowers the drift and the Pip rate; the learner's 8-example run repeats the recording", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const { demo, recorded, index } = await runOneSweepCell(
    page,
    "overfitting-sweep",
    "pip-the-purple-robot.sweep-overfitting.json",
    ["training examples 8, No replay", "training examples all, No replay", "training examples all, 50% replay"],
    "training examples 8, No replay",
  );
  const evals = (i) => recorded[i].metrics.filter((m) => m.eval_loss != null);
  const drift = (i) => evals(i).at(-1).reference_eval_loss;
  const passes = (i) => (recorded[i].settings.steps * recorded[i].settings.batch_size) / recorded[i].training_sequences;
  const grid = await sweepGrid(demo);
  grid.forEach((cell, i) => {
    if (i === index) return;
    assert.deepEqual([cell.drift, cell.passes], [`drift ${drift(i).toFixed(3)}`, `${passes(i).toFixed(1)} passes`], cell.label);
  });
  // The learner's run of the 8-example cell: its passes are the recording's, its drift within float rounding.
  assert.equal(grid[index].passes, `${passes(index).toFixed(1)} passes`);
  const mine = Number(grid[index].drift.replace("drift ", ""));
  assert.ok(Math.abs(mine - drift(index)) <= 5e-3, `drift ${mine} in the tab, ${drift(index)} recorded`);
  // What the lesson reads in the grid (rows 8, 32, all; columns no, 20% and 50% replay).
  const at = (row, column) => row * 3 + column;
  const best = (i) => Math.min(...evals(i).map((m) => m.eval_loss));
  assert.ok(evals(at(0, 0)).at(-1).eval_loss > best(at(0, 0)) + 0.5, "8 examples: the held-out loss turns up");
  assert.ok(drift(at(0, 0)) > drift(at(2, 0)), "fewer examples, more drift");
  for (let row = 0; row < 3; row++) assert.ok(drift(at(row, 2)) < drift(at(row, 0)), `replay lowers the drift at row ${row}`);
  for (let row = 0; row < 3; row++) assert.ok(recorded[at(row, 2)].task.passed < recorded[at(row, 0)].task.passed, `replay costs the Pip rate at row ${row}`);
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  for (const figure of [evals(at(0, 0)).at(-1).eval_loss, best(at(0, 0)), drift(at(0, 0)), drift(at(2, 0)), drift(at(2, 2))]) {
    assert.ok(lessonText.includes(figure.toFixed(3)), `the lesson quotes ${figure.toFixed(3)}`);
  }
  page.assertClean();
  await context.close();
});

test("learning-rate sweep: the recording first; the learner runs full fine-tuning at 0.001; the schedule and gradient norm charted", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const { demo, recorded } = await runOneSweepCell(
    page,
    "learning-rate-sweep",
    "pip-the-purple-robot.sweep-learning-rate.json",
    ["learning rate 0.01, LoRA, rank 8, all linear", "learning rate 0.01, Full fine-tuning", "learning rate 0.001, Full fine-tuning"],
    "learning rate 0.001, Full fine-tuning",
  );
  // The lesson's reading: LoRA does best at ten times full fine-tuning's best rate.
  const last = (i) => recorded[i].metrics.filter((m) => m.eval_loss != null).at(-1).eval_loss;
  const best = (column) => [0, 1, 2, 3, 4, 5, 6].reduce((b, row) => (last(row * 2 + column) < last(b * 2 + column) ? row : b), 0);
  assert.deepEqual([best(0), best(1)], [4, 2], "LoRA best at 0.01, full fine-tuning at 0.001");
  // The chart's table, switched to the learning rate: zero at step 1, the peak 0.001 at step 7, near zero at step 60.
  await demo.getByLabel("Chart", { exact: true }).selectOption("Learning rate");
  assert.equal(await demo.locator(".demo-chart h4").textContent(), "Learning rate");
  const rows = await demo.locator(".demo-data tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.equal(rows.length, 60);
  assert.deepEqual([rows[0][1], rows[6][1]], ["0.0000", "1.000e-3"]);
  await demo.getByLabel("Chart", { exact: true }).selectOption("Gradient norm");
  const norms = await demo.locator(".demo-data tbody tr td").allTextContents();
  assert.ok(norms.every((n) => Number(n) > 0), "a gradient norm at every step");
  page.assertClean();
  await context.close();
});

test("loss-mask sweep: the recording first; the learner runs the end tokens masked for 60 steps; counting the prompt barely moves the held-out loss, masking the end token raises it", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const { recorded } = await runOneSweepCell(
    page,
    "loss-mask-sweep",
    "animal-place-instructions.sweep-loss-mask.json",
    [
      "loss on responses and their end tokens, 300 steps (Instruction tuning)",
      "loss on prompts and responses, 300 steps (Instruction tuning)",
      "loss on responses without their end tokens, 300 steps (Instruction tuning)",
    ],
    "loss on responses without their end tokens, 60 steps (the default run)",
  );
  // The lesson's readings: the prompt within 0.01 of the default, the masked end token at least 0.05 above it, at
  // both lengths; 300 steps take every row well below its 60.
  const last = (i) => recorded[i].metrics.filter((m) => m.eval_loss != null).at(-1).eval_loss;
  const at = (row, column) => row * 2 + column;
  for (const column of [0, 1]) {
    assert.ok(Math.abs(last(at(0, column)) - last(at(1, column))) < 0.01, `prompts counted, column ${column}`);
    assert.ok(last(at(2, column)) > last(at(0, column)) + 0.05, `end tokens masked, column ${column}`);
  }
  for (const row of [0, 1, 2]) assert.ok(last(at(row, 1)) < 0.6 * last(at(row, 0)), `row ${row}`);
  // Training losses under the three masks differ even at step 1, on the same batch and the same base model; the
  // held-out loss, on the same tokens, does not.
  const first = [0, 1, 2].map((row) => recorded[at(row, 0)].metrics[0]);
  assert.equal(new Set(first.map((m) => m.loss)).size, 3);
  assert.equal(new Set(first.map((m) => m.eval_loss)).size, 1);
  page.assertClean();
  await context.close();
});

/** The one-step demo's stages as shown: each heading and its text. */
async function stages(demo) {
  return demo.locator(".one-step-stages > li").evaluateAll((items) => items.map((li) => ({ title: li.querySelector("h4").textContent, text: li.textContent })));
}

/** A matrix grid's cells, projection by projection, layer by layer. */
async function grid(demo, caption) {
  const grids = demo.locator(".matrix-grid").filter({ has: demo.page().getByText(caption, { exact: true }) });
  assert.equal(await grids.count(), 1, `one grid captioned ${caption}`);
  return grids.locator("tbody td").allTextContents();
}

test("one step: the recorded step stage by stage, the keyboard on each new stage; the learner's step repeats it; a high rate overshoots; full fine-tuning", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "one-step");
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", "pip-the-purple-robot.one-step.json"), "utf8"));
  const label = demo.locator(".demo-recorded-label");
  await label.waitFor({ timeout: 60_000 });
  assert.equal(await label.textContent(), `Recorded when this site was built: sequence 1 of ${recorded.sequences.toLocaleString("en-US")}, LoRA, learning rate 0.01. Take one step to see your own.`);

  // Stage 1 alone: the sequence's 64 targets, as the recording has them, outlined where they count.
  assert.deepEqual((await stages(demo)).map((s) => s.title), ["1. The batch"]);
  const targets = await demo.locator(".one-step-stages ol.token-chips > li").evaluateAll((lis) => lis.map((li) => [li.textContent, li.classList.contains("trained")]));
  assert.deepEqual(targets, recorded.tokens.map((t) => [t.target.text, t.trained]));
  // Each Next shows one more stage and moves the keyboard to its heading.
  await demo.getByRole("button", { name: "Next: The loss, token by token" }).click();
  await page.waitForFunction(() => document.activeElement?.textContent === "2. The loss, token by token");
  const loss = (await stages(demo))[1].text;
  assert.ok(loss.includes(`over the 64 targets: ${recorded.loss_before.toFixed(3)}`), loss);
  await demo.getByRole("button", { name: "Show every stage" }).click();
  const all = await stages(demo);
  assert.deepEqual(all.map((s) => s.title), ["1. The batch", "2. The loss, token by token", "3. The gradients", "4. The update", "5. The probabilities after the step"]);
  assert.equal(await demo.getByRole("button", { name: /^Next/ }).count(), 0);

  // The gradients: A's all zero (B starts at zero), B's as recorded, clipping named; every B value moved by the rate.
  assert.ok(all[2].text.includes(`a norm of ${recorded.grad_norm.toFixed(3)}, above the limit of 1`), all[2].text);
  assert.ok(all[2].text.includes("35 of the 70 matrices have a gradient of exactly zero."), all[2].text);
  assert.deepEqual(await grid(demo, "lora_A: gradient norm"), Array(35).fill("0.0000"));
  const byGrid = (factor, key) =>
    ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"].flatMap((p) =>
      [0, 1, 2, 3, 4].map((l) => recorded.matrices.find((m) => m.layer === l && m.projection === p && m.factor === factor)[key].toFixed(4)),
    );
  assert.deepEqual(await grid(demo, "lora_B: gradient norm"), byGrid("LoraB", "grad_norm"));
  assert.ok(all[3].text.includes("AdamW moved 24,000 of the 46,240 numbers in the matrices below. The largest change of any one is 0.0100; the learning rate is 0.01."), all[3].text);
  assert.deepEqual(await grid(demo, "lora_B: largest change of one number"), Array(35).fill("0.0100"));
  assert.ok(all[4].text.includes(`the same sequence's loss is ${recorded.loss_after.toFixed(3)}, from ${recorded.loss_before.toFixed(3)}`), all[4].text);
  assert.ok(recorded.loss_after < recorded.loss_before / 2, "the lesson's reading: one step halves the sequence's loss");
  assert.ok(recorded.held_out_after < recorded.held_out_before && recorded.held_out_before - recorded.held_out_after < 0.2, "and helps the held-out loss a little");

  // The learner takes the same step: their own, equal to the recording to float rounding, walked from stage 1 again.
  const take = demo.getByRole("button", { name: "Take one step" });
  await page.waitForFunction((b) => !b.disabled, await take.elementHandle(), { timeout: 120_000 });
  await take.click();
  await label.getByText(/^Your step: sequence 1 of/).waitFor({ timeout: 120_000 });
  assert.deepEqual((await stages(demo)).map((s) => s.title), ["1. The batch"]);
  await demo.getByRole("button", { name: "Show every stage" }).click();
  const mine = await stages(demo);
  const figure = (text, pattern) => Number(text.match(pattern)[1]);
  const after = figure(mine[4].text, /the same sequence's loss is ([\d.]+)/);
  assert.ok(Math.abs(after - recorded.loss_after) <= 2e-3, `${after} in the tab, ${recorded.loss_after} recorded`);

  // Ten times the rate on another sequence: each number moves by 0.1, and the step overshoots its own sequence.
  await demo.getByLabel("Training sequence").fill("2");
  await demo.getByLabel("Training sequence").dispatchEvent("change");
  await demo.getByLabel("Learning rate").selectOption("0.1");
  await take.click();
  await label.getByText("Your step: sequence 2 of", { exact: false }).waitFor({ timeout: 120_000 });
  await demo.getByRole("button", { name: "Show every stage" }).click();
  const high = await stages(demo);
  assert.ok(high[3].text.includes("The largest change of any one is 0.1000; the learning rate is 0.1."), high[3].text);
  const [afterHigh, beforeHigh] = high[4].text.match(/loss is ([\d.]+), from ([\d.]+)/).slice(1).map(Number);
  assert.ok(afterHigh > beforeHigh, `at 0.1 the sequence's own loss rises: ${beforeHigh} → ${afterHigh}`);

  // Full fine-tuning trains the projections' weights themselves: 35 matrices, every number moved.
  await demo.getByLabel("What trains").selectOption("Full fine-tuning");
  await demo.getByLabel("Learning rate").selectOption("0.001");
  await take.click();
  await label.getByText("full fine-tuning, learning rate 0.001", { exact: false }).waitFor({ timeout: 120_000 });
  await demo.getByRole("button", { name: "Show every stage" }).click();
  assert.equal((await grid(demo, "weight: gradient norm")).length, 35);
  assert.match((await stages(demo))[3].text, /AdamW moved 226,560 of the 226,560 numbers in the matrices below \(full fine-tuning also trains the token embeddings and the norms, left out here\)/);
  page.assertClean();
  await context.close();
});

/** The quantization demo's table rows as shown: each row's cells' text. */
const BLOCKS = [32, 64, 128, 256];

async function quantizedRows(demo) {
  return demo.locator(".demo-table tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
}

/** The block picture's circles and level lines: x positions of the weights, of where each is stored, of the levels. */
async function blockPicture(demo) {
  return demo.locator(".block-picture svg").evaluate((svg) => ({
    weights: [...svg.querySelectorAll("circle.weight")].map((c) => Number(c.getAttribute("cx"))),
    stored: [...svg.querySelectorAll("circle.stored")].map((c) => Number(c.getAttribute("cx"))),
    levels: [...svg.querySelectorAll("line.level")].map((l) => Number(l.getAttribute("x1"))),
    label: svg.getAttribute("aria-label"),
  }));
}

test("quantization: the recorded table first; one block pictured in each format and size, every weight on a level; the learner's measurement repeats the recording", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "quantization");
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", "pip-the-purple-robot.quantized.json"), "utf8"));
  const label = demo.locator(".demo-recorded-label");
  await label.waitFor({ timeout: 60_000 });
  assert.equal(await label.textContent(), `Recorded when this site was built. Held-out loss over ${recorded.held_out_sequences} sequences of 64 tokens; the picture shows the first weights of layer 1's q_proj. Measure to see your own.`);

  // What the lesson reads off the recording holds for the recording it ships with (a new recording that changes
  // it fails here: update the lesson's figures).
  const loss = (value) => value.toFixed(4);
  const percent = (cell) => `${(100 * cell.weight_error).toFixed(2)}%`;
  // The lesson rounds further than the table (3 decimals, one of a percent), so a last digit that differs from
  // machine to machine does not change it.
  const [lessonLoss, lessonPercent] = [(value) => value.toFixed(3), (cell) => `${(100 * cell.weight_error).toFixed(1)}%`];
  const cellOf = (format, block) => recorded.cells.find((c) => c.format === format && c.block === block);
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  for (const [format, block] of [["Q8_0", 64], ["Q4_0", 64], ["Q4_1", 64], ["Nf4", 64], ["Nf4", 32], ["Nf4", 256], ["Q4_0", 32], ["Q4_0", 256], ["Q4_1", 32], ["Q4_1", 256]]) {
    const cell = cellOf(format, block);
    assert.ok(lessonText.includes(lessonLoss(cell.held_out_loss)) && lessonText.includes(lessonPercent(cell)), `the lesson quotes ${format} at block ${block}: ${lessonLoss(cell.held_out_loss)}, ${lessonPercent(cell)}`);
  }
  assert.ok(lessonText.includes(lessonLoss(recorded.full_precision_loss)) && lessonText.includes(Math.exp(recorded.full_precision_loss).toFixed(2)));
  const at64 = ["Q4_0", "Q4_1", "Nf4"].map((f) => cellOf(f, 64).held_out_loss);
  assert.ok(at64[0] < at64[1] && at64[1] < at64[2], `the lesson's reading: at block 64, Q4_0 then Q4_1 then NF4 (${at64})`);
  assert.ok(cellOf("Q4_1", 64).weight_error < cellOf("Q4_0", 64).weight_error, "Q4_1 moves the weights least, Q4_0 most");
  const at256 = ["Q4_0", "Q4_1", "Nf4"].map((f) => cellOf(f, 256).held_out_loss);
  assert.ok(at256[2] < at256[0] && at256[2] < at256[1], `and NF4 the best at block 256 (${at256})`);
  assert.ok(BLOCKS.every((block) => Math.abs(cellOf("Q8_0", block).held_out_loss - recorded.full_precision_loss) < 3e-3), "8 bits: within three thousandths at every block size");

  // Every cell as recorded, after the 32-bit row; the chosen format and size (NF4, 64) marked.
  const rows = await quantizedRows(demo);
  assert.deepEqual(rows[0], ["32-bit", "—", "32", "0%", loss(recorded.full_precision_loss), Math.exp(recorded.full_precision_loss).toFixed(3)]);
  const change = (cell) => { const d = cell.held_out_loss - recorded.full_precision_loss; return `${d >= 0 ? "+" : "-"}${Math.abs(d).toFixed(4)}`; };
  // Bits per weight as numbers: 4.0625 is a tie that Rust and JavaScript round to different last digits.
  assert.ok(rows.slice(1).every((row, at) => Math.abs(Number(row[2]) - recorded.cells[at].bits_per_weight) <= 1e-3));
  assert.deepEqual(rows.slice(1).map((row) => row.filter((_, column) => column !== 2)), recorded.cells.map((cell) => [
    { Q8_0: "Q8_0", Q4_0: "Q4_0", Q4_1: "Q4_1", Nf4: "NF4" }[cell.format], String(cell.block),
    percent(cell), `${loss(cell.held_out_loss)} (${change(cell)})`, Math.exp(cell.held_out_loss).toFixed(3),
  ]));
  assert.deepEqual(await demo.locator('tbody tr[aria-current="true"]').locator("th, td").allTextContents().then((cells) => cells.slice(0, 3)), ["NF4", "64", "4.500"]);

  // The picture: the block's weights, each stored on one of the format's levels.
  const onLevels = (picture) => picture.stored.every((x) => picture.levels.some((level) => Math.abs(level - x) < 1e-3));
  let picture = await blockPicture(demo);
  assert.deepEqual([picture.weights.length, picture.stored.length, picture.levels.length], [64, 64, 16]);
  assert.ok(onLevels(picture), "every NF4 weight lands on a level");
  assert.match(picture.label, /^The first 64 weights of layer 1's q_proj, from -?\d\.\d{4} to -?\d\.\d{4}, stored as NF4 in one block: it can hold 16 values/);
  await demo.getByLabel("Format", { exact: true }).selectOption("Q4_1");
  await demo.getByLabel("Block size (weights per scale)").selectOption("32");
  picture = await blockPicture(demo);
  assert.deepEqual([picture.weights.length, picture.levels.length], [32, 16]);
  assert.ok(onLevels(picture), "every Q4_1 weight lands on a level");
  assert.deepEqual(await demo.locator('tbody tr[aria-current="true"] th').allTextContents(), ["Q4_1"]);
  await demo.getByLabel("Format", { exact: true }).selectOption("Q8_0");
  picture = await blockPicture(demo);
  assert.equal(picture.levels.length, 255, "8 bits: 255 levels from -127 to 127 times the scale");

  // The learner measures on this device: the same table, to float rounding.
  const measure = demo.getByRole("button", { name: "Measure on this device" });
  await page.waitForFunction((b) => !b.disabled, await measure.elementHandle(), { timeout: 120_000 });
  await measure.click();
  await label.getByText(/^Measured on this device\./).waitFor({ timeout: 240_000 });
  const mine = await quantizedRows(demo);
  assert.equal(mine.length, 17);
  for (const [at, row] of mine.entries()) {
    const theirs = at === 0 ? recorded.full_precision_loss : recorded.cells[at - 1].held_out_loss;
    assert.ok(Math.abs(Number(row[4].split(" ")[0]) - theirs) <= 2e-3, `row ${at}: ${row[4]} in the tab, ${theirs} recorded`);
  }
  await context.close();
});

/** A chart's data table (the chart titled `title`): one row per step, each cell's text. */
async function chartRows(demo, title) {
  const chart = demo.locator(".demo-chart").filter({ has: demo.page().getByRole("heading", { name: title, exact: true }) });
  return chart.locator(".demo-data tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
}

/** The held-out pairs' line: accuracy, and the chosen and rejected answers' log-probabilities first and latest. */
async function heldOutLine(demo) {
  const text = await demo.locator(".demo-summary").textContent();
  const match = text.match(/at step (\d+): the chosen story's reward is ahead in (\d+)% of them; the model's log-probability of the chosen stories went from (-?[\d.]+) to (-?[\d.]+) \(step \d+ to \d+\), of the rejected ones from (-?[\d.]+) to (-?[\d.]+)\.$/);
  assert.ok(match, `the held-out line: ${text}`);
  const [step, accuracy, chosenFirst, chosenLast, rejectedFirst, rejectedLast] = match.slice(1).map(Number);
  return { step, accuracy, chosenFirst, chosenLast, rejectedFirst, rejectedLast };
}

test("preference tuning: the recorded DPO run first, its rewards, log-probabilities and held-out pairs as the lesson reads them; the learner's run repeats it; β 1 holds the chosen answers' log-probability", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "preference-tuning");
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", "animal-place-preferences.recorded.json"), "utf8"));
  assert.equal(recorded.settings.dpo_beta, 0.1);
  await demo.locator(".demo-recorded").getByText(/preference pairs \(each answer cut to 64 tokens\), with β = 0\.1\./).waitFor({ timeout: 60_000 });

  // The recorded run, charted: every step's rewards and log-probabilities, ln 2 and zero rewards at step 1.
  const rewardRows = await chartRows(demo, "Implicit rewards");
  assert.equal(rewardRows.length, 60);
  assert.deepEqual(rewardRows[0], ["1", "0.0000", "0.0000"]);
  assert.equal(recorded.metrics[0].loss.toFixed(4), Math.LN2.toFixed(4));
  const logProbRows = await chartRows(demo, "Log-probability of the answers");
  recorded.metrics.forEach((m, i) => {
    assert.ok(Math.abs(Number(logProbRows[i][1]) - m.rewards.chosen_log_prob) < 1e-3 && Math.abs(Number(logProbRows[i][2]) - m.rewards.rejected_log_prob) < 1e-3, `step ${m.step}`);
  });
  // The held-out pairs as the lesson reads them: both answers' log-probabilities fall, the rejected's further, and
  // every held-out pair ends with the chosen answer ahead.
  const evaluated = recorded.metrics.filter((m) => m.eval_rewards);
  const [first, last] = [evaluated[0].eval_rewards, evaluated.at(-1).eval_rewards];
  const line = await heldOutLine(demo);
  assert.deepEqual(line, {
    step: 60, accuracy: Math.round(100 * last.accuracy),
    chosenFirst: Number(first.chosen_log_prob.toFixed(1)), chosenLast: Number(last.chosen_log_prob.toFixed(1)),
    rejectedFirst: Number(first.rejected_log_prob.toFixed(1)), rejectedLast: Number(last.rejected_log_prob.toFixed(1)),
  });
  assert.ok(last.accuracy === 1 && last.chosen_log_prob < first.chosen_log_prob - 5 && last.rejected_log_prob - first.rejected_log_prob < last.chosen_log_prob - first.chosen_log_prob, JSON.stringify([first, last]));
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ").replace(/\u2212/g, "-");
  for (const value of [first.chosen_log_prob, last.chosen_log_prob, first.rejected_log_prob, last.rejected_log_prob]) {
    assert.ok(lessonText.includes(value.toFixed(1)), `the lesson quotes the recording's ${value.toFixed(1)}`);
  }

  // The learner's run with the demo's settings: the recording, to float rounding.
  const train = async () => {
    const button = demo.getByRole("button", { name: "Train", exact: true });
    await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
    await button.click();
    // The form locks while the run trains (so an earlier run's "Finished" is not taken for this one's).
    await page.waitForFunction((b) => b.closest("fieldset").disabled, await button.elementHandle());
    await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 300_000 });
    assert.match(await demo.locator(".demo-status").textContent(), /^Finished after 60 steps/);
  };
  await train();
  const mine = await heldOutLine(demo);
  for (const key of ["chosenFirst", "chosenLast", "rejectedFirst", "rejectedLast"]) assert.ok(Math.abs(mine[key] - line[key]) <= 0.15, `${key}: ${mine[key]} in the tab, ${line[key]} recorded`);
  assert.equal(mine.accuracy, line.accuracy);
  await demo.locator(".task-result h4").waitFor({ timeout: 120_000 });
  assert.match(await demo.locator(".task-result h4").textContent(), /^Follows the instruction: \d of 8$/);

  // β on its slider, then a second run: held near the base model, the chosen answers keep their log-probability.
  await slide(demo, "DPO β", 1);
  assert.equal(await demo.getByLabel("DPO β", { exact: true }).evaluate((input) => input.nextElementSibling.textContent), "1.00");
  await train();
  const leashed = await heldOutLine(demo);
  assert.ok(leashed.chosenLast > leashed.chosenFirst - 2 && leashed.chosenLast > line.chosenLast + 10, `β 1: ${JSON.stringify(leashed)}`);
  assert.ok(leashed.rejectedLast < leashed.rejectedFirst - 5, `β 1 still pushes the rejected down: ${JSON.stringify(leashed)}`);
  page.assertClean();
  await context.close();
});

test("data cleaning: the messy set as it came and cleaned, recorded; the learner finds each fault in the studio, sees the leaks an ungrouped split makes, drops what is flagged, and their cleaning trains here and beats the messy run", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  let demo = await openDemo(page, "data-cleaning");
  const recorded = (variant) => JSON.parse(readFileSync(join(distDir, "datasets", `animal-place-messy.${variant}.recorded.json`), "utf8"));
  const [asItCame, cleaned] = [recorded("as-it-came"), recorded("cleaned")];
  // Cleaning wins on requests no run trained on, though it trains on 40% fewer lines.
  assert.ok(cleaned.task.passed > asItCame.task.passed && cleaned.training_sequences < asItCame.training_sequences, JSON.stringify([asItCame.task, cleaned.task]));
  const row = async (label) => demo.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name: label }) }).locator("td").allTextContents();
  const words = (run) => `${run.task.passed} of 8 (base model: ${run.task.base_passed})`;
  await demo.locator("tbody td", { hasText: "of 8" }).first().waitFor({ timeout: 60_000 });
  assert.deepEqual(await row("As it came"), [asItCame.training_sequences.toLocaleString("en-US"), words(asItCame)]);
  assert.deepEqual(await row("Cleaned"), [cleaned.training_sequences.toLocaleString("en-US"), words(cleaned)]);
  assert.deepEqual(await row("Your cleaning"), ["not trained yet", "not trained yet"]);
  // The lesson quotes the recordings' scores and settings.
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  const quoted = `As it came: ${asItCame.task.passed} of 8. Cleaned: ${cleaned.task.passed} of 8. The base model: ${cleaned.task.base_passed} of 8.`;
  assert.ok(lessonText.includes(quoted), `the lesson says "${quoted}"`);
  assert.ok(lessonText.includes(`${cleaned.settings.steps} steps of 8 sequences of 64 tokens`) && cleaned.settings.steps === asItCame.settings.steps);
  // With no data set in the studio yet, the demo says where to get one.
  await demo.locator(".demo-alert", { hasText: "the studio has no data set: bring one in the data studio first" }).waitFor({ timeout: 120_000 });

  // The studio: the messy set from its Bring list, each fault found with the count the script put in.
  await demo.getByRole("link", { name: "open the data studio" }).click();
  await page.waitForFunction(() => {
    const input = document.querySelector(".studio-bring input[type=file]");
    return input && !input.disabled;
  }, null, { timeout: 120_000 });
  await page.getByRole("button", { name: "Stories on request, as they came (messy)" }).click();
  await page.locator(".studio-overview h2", { hasText: "animal-place-messy.jsonl" }).waitFor({ timeout: 60_000 });
  const kinds = async () => (await page.locator(".studio-problems .problem-kind h3").allTextContents()).filter((h) => !h.startsWith("Dropped"));
  const faults = [
    "Not valid JSON (2 · 2 undecided)",
    "Wrong or missing fields (2 · 2 undecided)",
    "Empty texts (1 · 1 undecided)",
    "Exact duplicates (21 · 21 undecided)",
    "Near-duplicates (10 · 10 undecided)",
    "Answers that share no word with their request (96 · 96 undecided)",
  ];
  // And, as the lesson says, nearly every story is longer than the default 64-token piece (the trainer cuts it).
  const [longer] = (await kinds()).splice(faults.length);
  assert.deepEqual((await kinds()).slice(0, faults.length), faults);
  const [, tooLong] = longer.match(/^Longer than the sequence length \((\d+) · \d+ undecided\)$/);
  assert.ok(Number(tooLong) > 0.9 * 319, longer);
  // An off-label line says which words its answer lacks.
  const offLabel = page.locator(".problem-kind", { hasText: "Answers that share no word" }).locator(".problem-message").first();
  assert.match(await offLabel.textContent(), /^the answer uses none of the request's words \([a-z]+, [a-z]+\): read it;/);
  // A split that does not keep near-duplicates together leaks some across it; grouping again mends it.
  const grouping = page.getByLabel("Keep each group of near-duplicates on one side of the split");
  await grouping.uncheck();
  await page.locator(".problem-kind h3", { hasText: "Near-duplicates across the split" }).waitFor();
  await grouping.check();
  await page.locator(".problem-kind h3", { hasText: "Near-duplicates across the split" }).waitFor({ state: "detached" });
  // Drop every flagged line, kind by kind.
  for (const fault of faults) {
    const kind = page.locator(".studio-problems .problem-kind").filter({ has: page.getByRole("heading", { name: fault }) });
    await kind.getByRole("button", { name: /^Drop all \d+ undecided$/ }).click();
    await kind.waitFor({ state: "detached" });
  }
  await page.locator(".studio-overview p", { hasText: "132 dropped, 0 left out until fixed or dropped." }).waitFor();

  // Back in the lesson: the learner's cleaning trains with the recordings' settings and is scored by the same check.
  await page.goBack();
  demo = page.locator('[data-demo="data-cleaning"] section.demo');
  await demo.waitFor();
  const button = demo.getByRole("button", { name: "Train", exact: true });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
  await button.click();
  await page.waitForFunction((b) => b.closest("fieldset").disabled, await button.elementHandle());
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 300_000 });
  assert.match(await demo.locator(".demo-status").textContent(), new RegExp(`^Finished after ${cleaned.settings.steps} steps`));
  await demo.locator(".task-result h4").waitFor({ timeout: 120_000 });
  // Dropping what the lesson's cleaning dropped gives its data and split (the studio splits the kept lines as the
  // trainer splits the cleaned file), so the run repeats the recording: the same pieces, and its score to a story.
  const [pieces, score] = await row("Your cleaning");
  const passed = Number(score.match(/^(\d) of 8 \(base model: 1\)$/)[1]);
  assert.equal(pieces, cleaned.training_sequences.toLocaleString("en-US"));
  assert.ok(Math.abs(passed - cleaned.task.passed) <= 1 && passed > asItCame.task.passed, `yours: ${score}; recorded: ${cleaned.task.passed}`);
  page.assertClean();
  await context.close();
});

test("instruction tuning: the recorded run's stories for unseen requests, each judged for its shape and for the request as the lesson reads them; the learner's run with the recording's settings learns the shape first", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "instruction-tuning");
  const read = (file) => JSON.parse(readFileSync(join(distDir, "datasets", file), "utf8"));
  const recorded = read("animal-place-instructions.instruction-tuning.recorded.json");
  const check = read("animal-place-instructions.check.json");
  assert.equal(recorded.settings.steps, 120);
  // The two verdicts, written here from the check file's words: the first sentence names one word of each list;
  // the story names every word the request's sample must contain.
  const named = (text, word) => new RegExp(`(^|[^a-z0-9])${word}([^a-z0-9]|$)`).test(text.toLowerCase());
  const shape = (text) => check.shape.first_sentence_names.every((words) => words.some((w) => named(text.split(/(?<=[.!?])/)[0], w)));
  const request = (sample, i) => check.samples[i].must_contain.every((w) => named(sample.text, w));
  const tally = (samples) => `Story shape ${samples.filter((s) => shape(s.text)).length} of 8, follows the instruction ${samples.filter(request).length} of 8`;
  for (const samples of [recorded.base_checked, recorded.tuned_checked]) samples.forEach((s, i) => assert.equal(s.passed, request(s, i), s.text));
  const summary = demo.locator(".demo-summary");
  await summary.getByText(/^Base model: /).waitFor({ timeout: 60_000 });
  assert.equal(await summary.textContent(), `Base model: ${tally(recorded.base_checked)}. After the recorded run: ${tally(recorded.tuned_checked)}.`);
  // The recording shows what the lesson teaches: the shape is learned before the request is followed.
  const count = (samples, judge) => samples.filter(judge).length;
  const [tunedShape, tunedRequest] = [count(recorded.tuned_checked, (s) => shape(s.text)), count(recorded.tuned_checked, request)];
  assert.ok(count(recorded.base_checked, (s) => shape(s.text)) === 0 && tunedShape > tunedRequest, `shape ${tunedShape}, request ${tunedRequest}`);
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  const quoted = `After ${recorded.settings.steps} steps: story shape ${tunedShape} of 8, follows the instruction ${tunedRequest} of 8.`;
  assert.ok(lessonText.includes(quoted), `the lesson says "${quoted}"`);
  // Each request's row: the base model's story and the tuned one, each with its two verdicts.
  const mark = (pass) => (pass ? "✓" : "✗");
  const verdicts = (s, i) => `${mark(shape(s.text))} shape · ${mark(request(s, i))} request`;
  const rows = async () => demo.locator(".instruction-stories tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll(".verdict")].map((v) => v.textContent)));
  assert.deepEqual(await rows(), recorded.base_checked.map((b, i) => [verdicts(b, i), verdicts(recorded.tuned_checked[i], i)]));

  // The learner's run, with the recording's settings.
  const button = demo.getByRole("button", { name: "Train", exact: true });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
  await button.click();
  await page.waitForFunction((b) => b.closest("fieldset").disabled, await button.elementHandle());
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 300_000 });
  assert.match(await demo.locator(".demo-status").textContent(), /^Finished after 120 steps/);
  await summary.getByText(/After your run: /).waitFor({ timeout: 120_000 });
  const [, shaped, followed] = (await summary.textContent()).match(/After your run: Story shape (\d) of 8, follows the instruction (\d) of 8\.$/);
  assert.ok(Number(shaped) >= Number(followed) && Number(shaped) >= 5, `yours: shape ${shaped}, request ${followed}`);
  page.assertClean();
  await context.close();
});

/**
 * A two-set comparison demo (`ui::demo::set_comparison`) against its build-time recordings: each recording's
 * verdicts equal the check file's, judged here independently (the answer's first sentence names every word); the
 * counts table shows the base model and both recordings, kind by kind; the answers table shows every probe's first
 * sentence with its verdict. Returns each recording's passes by kind, and reads the counts table again on demand.
 */
async function comparedRecordings(demo, stems, columns, steps) {
  const read = (file) => JSON.parse(readFileSync(join(distDir, "datasets", file), "utf8"));
  const check = read(`${stems[0]}.check.json`);
  assert.deepEqual(read(`${stems[1]}.check.json`), check, "both sets are asked the same probes");
  const runs = stems.map((stem) => read(`${stem}.recorded.json`));
  const named = (text, word) => new RegExp(`(^|[^a-z0-9])${word.toLowerCase()}([^a-z0-9]|$)`).test(text.toLowerCase());
  const first = (text) => text.split(/(?<=[.!?])/)[0];
  const right = (sample, i) => check.samples[i].must_contain.every((w) => named(first(sample.text), w));
  const passes = (samples) => check.kinds.map((kind) => samples.filter((s, i) => check.samples[i].kind === kind.key && right(s, i)).length);
  const sizes = check.kinds.map((kind) => check.samples.filter((s) => s.kind === kind.key).length);
  const counts = (samples) => [...passes(samples).map((n, k) => `${n} of ${sizes[k]}`), `${samples.filter(right).length} of ${samples.length}`];
  for (const run of runs) {
    assert.equal(run.settings.steps, steps);
    for (const samples of [run.base_checked, run.tuned_checked]) samples.forEach((s, i) => assert.equal(s.passed, right(s, i), s.text));
  }
  const table = demo.locator(".set-counts");
  await table.locator("tbody tr").first().waitFor({ timeout: 120_000 });
  const cells = async () => table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
  const [base, ...tuned] = [runs[0].base_checked, ...runs.map((run) => run.tuned_checked)].map(counts);
  assert.deepEqual(await cells(), base.map((b, row) => [b, tuned[0][row], tuned[1][row]]));
  assert.deepEqual((await table.locator("thead th").allTextContents()).slice(2), columns.map((c) => `${c} (recorded)`));
  assert.deepEqual(
    await demo.locator(".set-answers tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))),
    check.samples.map((_, i) => runs.map((run) => `${right(run.tuned_checked[i], i) ? "✓" : "✗"} ${first(run.tuned_checked[i].text).trim()}`)),
  );
  const byKind = (numbers) => Object.fromEntries(check.kinds.map((kind, k) => [kind.key, numbers[k]]));
  const column = async (c) => byKind((await cells()).map((row) => Number(row[c + 1].split(" ")[0])));
  return { base: byKind(passes(runs[0].base_checked)), recorded: runs.map((run) => byKind(passes(run.tuned_checked))), column, table };
}

/** Trains the comparison demo's set named `set` with the form's settings (the recording's) and waits for the run. */
async function trainOn(page, demo, set, other, steps) {
  await demo.getByRole("radio", { name: set }).check();
  const button = demo.getByRole("button", { name: "Train", exact: true });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
  await button.click();
  await page.waitForFunction((b) => b.closest("fieldset").disabled, await button.elementHandle());
  assert.ok(await demo.getByRole("radio", { name: other }).isDisabled(), "no switching sets mid-run");
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 300_000 });
  assert.match(await demo.locator(".demo-status").textContent(), new RegExp(`^Finished after ${steps} steps`));
}

test("domain facts: the town's facts trained as notes and as questions, recorded, each answer judged on its first sentence as the lesson reads them; the learner's run on the questions answers the trained question and not the reversed one", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "domain-facts");
  const columns = ["Trained on the notes", "Trained on the questions"];
  const { recorded, column, table } = await comparedRecordings(demo, ["town-notes", "town-questions"], columns, 120);
  // What the lesson reads in the recordings, quoted word for word.
  const [notes, questions] = recorded;
  assert.ok(questions.asked === 8 && questions.reversed <= 2 && notes.reversed <= 2, JSON.stringify({ notes, questions }));
  assert.ok(notes.finish > notes.asked, JSON.stringify({ notes, questions }));
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  for (const [set, got] of [["notes", notes], ["questions", questions]]) {
    const quoted = `Trained on the ${set}: as trained ${got.asked} of 8, in other words ${got.reworded} of 8, without “where” ${got["no-where"]} of 8, in reverse ${got.reversed} of 8, finishing the sentence ${got.finish} of 8.`;
    assert.ok(lessonText.includes(quoted), `the lesson says "${quoted}"`);
  }
  // The learner trains on the questions with the recording's settings; the notes' column keeps its recording.
  await trainOn(page, demo, "The town's facts (questions and answers)", "The town's notes (raw text)", 120);
  await table.getByText("Trained on the questions (your run)").waitFor({ timeout: 120_000 });
  assert.equal(await table.locator("thead th").nth(2).textContent(), "Trained on the notes (recorded)");
  const own = await column(1);
  assert.ok(own.asked >= 6 && own.reversed <= 2 && own.asked > own.reversed, `yours: ${JSON.stringify(own)}`);
  page.assertClean();
  await context.close();
});

test("skewed data: the same stories with stereotyped pronouns and with balanced ones, recorded, as the lesson reads them; the learner's run on the skewed stories says “she” for the nurse, the teacher and the cook and not for the pilot, the doctor and the farmer", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "skewed-data");
  const columns = ["Trained on the skewed stories", "Trained on the balanced stories"];
  const { base, recorded, column, table } = await comparedRecordings(demo, ["role-stories-skewed", "role-stories-balanced"], columns, 60);
  const [skewed, balanced] = recorded;
  // The skew in the data comes out in the stories; balanced data does not make one.
  assert.ok(skewed["he-roles"] <= 1 && skewed["she-roles"] >= 10, JSON.stringify(skewed));
  assert.ok(Math.abs(balanced["he-roles"] - balanced["she-roles"]) <= 4, JSON.stringify(balanced));
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  for (const [who, got] of [["The base model", base], ["Trained on the skewed stories", skewed], ["Trained on the balanced stories", balanced]]) {
    const quoted = `${who}: “she” for the pilot, the doctor or the farmer ${got["he-roles"]} of 12, for the nurse, the teacher or the cook ${got["she-roles"]} of 12.`;
    assert.ok(lessonText.includes(quoted), `the lesson says "${quoted}"`);
  }
  await trainOn(page, demo, "Stories about work, skewed", "Stories about work, balanced", 60);
  await table.getByText("Trained on the skewed stories (your run)").waitFor({ timeout: 120_000 });
  const own = await column(0);
  assert.ok(own["he-roles"] <= 2 && own["she-roles"] >= own["he-roles"] + 8, `yours: ${JSON.stringify(own)}`);
  page.assertClean();
  await context.close();
});

test("cost calculator: the quoted claim's sums as the lesson works them, volume and wrong answers, bad input, lesson 4's figures", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "cost-calculator");
  const large = demo.getByRole("group", { name: "Large model, prompted" });
  const tuned = demo.getByRole("group", { name: "Small model, fine-tuned" });
  const both = demo.getByRole("group", { name: "Both" });
  const payback = demo.locator(".cost-payback");
  const row = async (label) => (await demo.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name: label, exact: true }) }).locator("td").allTextContents());
  // The quoted claim (the preset it opens with): 1,000 tokens in and 200 out at $10 and at $1 per million, 90%
  // right each, 100,000 requests a month, $5,000 one-off.
  await payback.waitFor();
  assert.deepEqual(await row("Cost per 1,000 requests, tokens only"), ["$12.00", "$1.20"]);
  assert.deepEqual(await row("Cost per month"), ["$1,200.00", "$120.00"]);
  assert.equal(await payback.textContent(), "Paid back after about 4.6 months.");
  assert.match(await large.getByText("The claim's example price").first().textContent(), /no provider, model or date/);
  // A hundredth of the volume: $10.80 a month saved, 5,000 / 10.80 months.
  await both.getByLabel("Requests per month").fill("1000");
  assert.equal(await payback.textContent(), "Paid back after about 463 months (about 38.6 years).");
  await both.getByLabel("Requests per month").fill("100000");
  // Wrong answers at $0.50: equal accuracy changes nothing; ten points less makes it never pay.
  await both.getByLabel("Cost of one wrong answer ($)").fill("0.50");
  assert.equal(await payback.textContent(), "Paid back after about 4.6 months.");
  await tuned.getByLabel("Share of answers right (%)").fill("80");
  assert.deepEqual(await row("Cost per 1,000 including wrong answers"), ["$62.00", "$101.20"]);
  assert.deepEqual(await row("Cost per month"), ["$6,200.00", "$10,120.00"]);
  assert.equal(await payback.textContent(), "Never paid back: the fine-tuned column does not cost less per month.");
  assert.equal(await tuned.getByText("Your value").count(), 1, "an edited field says it is the learner's");
  // Bad input names itself and stops the sums.
  const right = large.getByLabel("Share of answers right (%)");
  await right.fill("ten");
  assert.equal(await right.getAttribute("aria-invalid"), "true");
  assert.ok(await large.getByText("✗ Enter a number, such as 1000 or 0.5.").isVisible());
  assert.equal(await payback.textContent(), "Fix the fields marked ✗ to see the sums.");
  // Lesson 4's recorded comparison: a worked example in front against the adapter, the same model and price.
  const compared = await page.evaluate(async () => (await fetch(new URL("/models/stories260K/instruction-adapter/compared.json", document.baseURI))).json());
  const of = (way) => compared.filter((s) => s.approach === way);
  const meanTokens = (way) => Math.round(of(way).reduce((sum, s) => sum + s.prompt_tokens, 0) / of(way).length);
  await demo.getByRole("button", { name: "Measured here (lesson 4)" }).click();
  assert.equal(await large.getByLabel("Tokens in per request").inputValue(), String(meanTokens("worked-example")));
  assert.equal(await tuned.getByLabel("Tokens in per request").inputValue(), String(meanTokens("adapter")));
  const share = (way) => (100 * of(way).filter((s) => s.sample.passed).length) / of(way).length;
  // The field shows the share to four decimals (20 of 24 is 83.3333).
  const shown = Number(await tuned.getByLabel("Share of answers right (%)").inputValue());
  assert.ok(Math.abs(shown - share("adapter")) < 1e-4, `${shown}% shown, ${share("adapter")}% recorded`);
  assert.equal(await tuned.getByText(/^Measured in lesson 4/).count(), 2);
  page.assertClean();
  await context.close();
});

test("layer map: the default run's count, presets and single cells, another model, a rank and full fine-tuning", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "layer-map");
  const figures = demo.locator(".layer-map-figures");
  const trainable = async () => Number((await figures.locator("strong").textContent()).match(/^([\d,]+) trainable/)[1].replaceAll(",", ""));
  // stories260K, LoRA r 8 on every linear layer: 5 layers × 8 × (q 64+64, k 64+32, v 64+32, o 64+64, gate and up
  // 64+172, down 172+64).
  await figures.waitFor();
  assert.equal(await trainable(), 5 * 8 * (128 + 96 + 96 + 128 + 3 * 236));
  assert.match(await figures.textContent(), /18% of the model's 260,032/);
  await demo.getByRole("button", { name: "Attention only" }).click();
  assert.equal(await trainable(), 5 * 8 * (128 + 96 + 96 + 128));
  const cell = demo.getByRole("button", { name: "Layer 1 q_proj" });
  assert.equal(await cell.getAttribute("aria-pressed"), "true");
  await cell.click();
  assert.equal(await cell.getAttribute("aria-pressed"), "false");
  assert.equal(await trainable(), 5 * 8 * (128 + 96 + 96 + 128) - 8 * 128);

  // Llama 3 8B opens on every linear layer; at rank 16 that is lesson 8's 41,943,040.
  await demo.getByLabel("Model").selectOption({ label: "Llama 3 8B" });
  await demo.getByRole("button", { name: "Layer 32 down_proj" }).waitFor();
  await slide(demo, "LoRA rank r", 16);
  assert.equal(await trainable(), 41_943_040);
  assert.match(await figures.textContent(), /0\.52% of the model's 8,030,261,248/);
  // Full fine-tuning of the same matrices: in × out each.
  await demo.getByLabel("Full fine-tuning of the chosen matrices").check();
  assert.equal(await trainable(), 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336));
  await demo.getByRole("button", { name: "Nothing" }).click();
  assert.equal(await trainable(), 0);
  page.assertClean();
  await context.close();
});

/** Two significant figures with thousands separators, as the page rounds a rate: 3417.2 → "3,400". */
function rate(value) {
  const magnitude = Math.max(10 ** (Math.floor(Math.log10(value)) - 1), 1);
  return (Math.round(value / magnitude) * magnitude).toLocaleString("en-US");
}

/** A Llama-shaped model's parameters and one layer's projections and activations, worked from its config here. */
function llama({ vocab, h, i, layers, heads, kv, tied }) {
  const kvDim = (h / heads) * kv;
  const projections = 2 * h * h + 2 * h * kvDim + 3 * h * i;
  const total = (tied ? 1 : 2) * vocab * h + layers * (projections + 2 * h) + h;
  // LoRA r 8 on all seven projections: r × (in + out) each.
  const adapters = layers * 8 * (2 * (h + h) + 2 * (h + kvDim) + 3 * (h + i));
  // Bytes a layer keeps a token under bf16 autocast, as autograd keeps them: the norms' 32-bit inputs and 1/rms,
  // q, k, v and the attention output, a 32-bit log-sum-exp a head, gate, up and the activation; and with LoRA r 8
  // on all seven projections, each adapter's 16-bit copy of its input (six of h, one of i) and its 8 values of A·x.
  const layerBytes = 8 * h + 8 + 2 * (2 * h + 2 * kvDim) + 4 * heads + 6 * i + 2 * (6 * h + i) + 7 * 2 * 8;
  return { vocab, h, layers, total, projections: layers * projections, adapters, layerBytes };
}

test("toolchains: the sizer's memory and time for Llama 3.1 8B on an L4 as worked from its config, checkpointing and QLoRA as the lesson reads them; the job written for each tool; the learner's run's pace in operations a second", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "toolchains");
  const sizer = demo.locator("section.demo-sizer");
  // Decimal units as the page writes them (numbers::format_bytes).
  const gb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${Math.round(bytes / 1e3)} KB` : `${bytes} bytes`);
  // The lesson reads the sizer's figures off this job: each must be what the sizer shows.
  const lessonText = (await page.locator("article.lesson").textContent()).replace(/\s+/g, " ");
  const quoted = (text) => assert.ok(lessonText.includes(text), `the lesson quotes ${text}`);
  const parts = async () => Object.fromEntries((await sizer.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [r.querySelector("th").textContent, r.querySelector("td").textContent]))));
  const verdict = () => sizer.locator("p[role=status]").textContent();
  // Meta's published config for Llama 3.1 8B.
  const model = llama({ vocab: 128256, h: 4096, i: 14336, layers: 32, heads: 32, kv: 8, tied: false });
  assert.equal(model.total, 8030261248);
  const tokens = 2048;
  const lora = {
    Weights: 2 * model.total, Adapters: 4 * model.adapters, Gradients: 4 * model.adapters, "Optimizer state": 8 * model.adapters,
    Activations: tokens * model.layers * model.layerBytes, Logits: tokens * model.vocab * 10,
  };
  const total = (memory) => Object.values(memory).reduce((a, b) => a + b, 0);
  const expect = (memory) => ({ ...Object.fromEntries(Object.entries(memory).map(([k, v]) => [k, gb(v)])), "In all": gb(total(memory)) });
  // It opens on Llama 3.1 8B, LoRA on a 16-bit base, one sequence of 2,048 tokens, on an L4.
  await sizer.locator("tbody").waitFor();
  assert.deepEqual(await parts(), expect(lora));
  assert.equal(await verdict(), `Does not fit on one NVIDIA L4 (24 GB): it needs about ${gb(total(lora))}, ${gb(total(lora) - 24e9)} more. To fit: turn on gradient checkpointing; store the base in 4 bits (QLoRA); shorten the sequences, or choose a GPU with more memory.`);
  const lessonRows = (await page.locator("article.lesson table tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()).join(" | "))));
  for (const [part, shown] of Object.entries(expect(lora))) assert.ok(lessonRows.includes(`${part} | ${shown}`), `the lesson's table has ${part} | ${shown}`);
  quoted(`It does not fit: ${gb(total(lora) - 24e9)} more`);
  // Checkpointing keeps each layer's input (2 bytes × hidden a token) and one layer in full; the job the download
  // writes checkpoints too.
  await sizer.getByLabel("Gradient checkpointing", { exact: true }).check();
  const checkpointed = { ...lora, Activations: tokens * (model.layers * 2 * model.h + model.layerBytes) };
  assert.deepEqual(await parts(), expect(checkpointed));
  assert.equal(await verdict(), `Fits on one NVIDIA L4 (24 GB): about ${gb(total(checkpointed))} of it.`);
  quoted(`The activations fall to ${gb(checkpointed.Activations)}, and the job fits: ${gb(total(checkpointed))} in all.`);
  // The time: 2,048 tokens at 6N (4N, and a forward pass again) at 35% of the L4's 121 trillion a second.
  const work = 6 * model.total;
  const step = (tokens * work) / (121e12 * 0.35);
  quoted(`${(work / 1e9).toFixed(2)} billion operations a token, half as much again, and about ${step.toFixed(2)} s a step`);
  assert.match(await sizer.textContent(), new RegExp(`A step reads 2,048 tokens at ${(work / 1e9).toFixed(2)} billion operations each: about ${step.toFixed(2)} s at 35% of the NVIDIA L4's 121 trillion operations a second \\(BF16, dense, the vendor's peak\\)\\. The run's 60 steps: about 2 min\\.`));
  // QLoRA: the projections in NF4 (4.127 bits), everything else still 2 bytes.
  await sizer.getByLabel("QLoRA on a 4-bit (NF4) base").check();
  const nf4Bits = 4 + 8 / 64 + 32 / (64 * 256);
  const qlora = { ...checkpointed, Weights: (model.projections * nf4Bits) / 8 + 2 * (model.total - model.projections) };
  assert.deepEqual(await parts(), expect(qlora));
  quoted(`With checkpointing it takes ${gb(total(qlora))}.`);
  quoted(`Only the Weights row changes: ${gb(qlora.Weights)},`);
  const file = (name) => demo.locator("details.job-file").filter({ has: page.locator("summary", { hasText: name }) });
  await file("tinytune.yaml").locator("summary").click();
  const yaml = await file("tinytune.yaml").locator("pre").textContent();
  for (const line of ["base_model: meta-llama/Llama-3.1-8B", "adapter: qlora", "load_in_4bit: true", "gradient_checkpointing: true", "sequence_len: 2048", "micro_batch_size: 1"]) {
    assert.ok(yaml.split("\n").includes(line), `${line} in\n${yaml}`);
  }
  await file("train_unsloth.py").locator("summary").click();
  assert.match(await file("train_unsloth.py").locator("pre").textContent(), /"load_in_4bit": True,\n    "full_finetuning": False,\n    "use_gradient_checkpointing": "unsloth",/);
  // Full fine-tuning on a 4-bit base is refused in every file; the sizer goes back to a 16-bit base for it.
  await sizer.getByLabel("Full fine-tuning (mixed precision)").check();
  await file("train_trl.py").locator("summary").click();
  assert.match(await file("train_trl.py").locator("pre").textContent(), /default="bf16"/);
  assert.equal((await parts())["Optimizer state"], gb(12 * model.total));
  // A sequence longer than the model reads is named with the model's context.
  const sequence = sizer.getByLabel("Tokens a sequence holds");
  await sequence.fill("200000");
  assert.ok(await sizer.getByText("✗ Enter a whole number from 16 to 131,072.").isVisible());
  assert.equal(await sizer.locator("tbody").count(), 0);
  await sequence.fill("2048");

  // The recorded run's pace: the median step after the first, worked from the recording.
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", "pip-the-purple-robot.recorded.json"), "utf8"));
  const rates = recorded.metrics.slice(1).map((m) => m.tokens_per_second).sort((a, b) => a - b);
  const middle = Math.floor(rates.length / 2);
  const median = rates.length % 2 ? rates[middle] : (rates[middle - 1] + rates[middle]) / 2;
  const throughput = demo.locator("section.demo-throughput");
  await throughput.getByText(/^The run recorded when this site was built/).waitFor({ timeout: 120_000 });
  assert.equal(await throughput.locator(".demo-recorded-note").textContent(), `The run recorded when this site was built, natively on the build machine's CPU: ${rate(median)} tokens a second. At about 1,000,000 operations a token (4 × its 260,032 weights), that is about ${rate((median * 4 * 260032) / 1e6)} million operations a second.`);
  // The learner's own run, on this tab's CPU: its pace, and the operations a second it makes at 4 × 260,032 a token.
  await demo.getByLabel("Steps", { exact: true }).fill("20");
  const button = demo.getByRole("button", { name: "Train", exact: true });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
  await button.click();
  const mine = throughput.getByText(/^Your run, on this tab's CPU/);
  await mine.waitFor({ timeout: 120_000 });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await button.elementHandle(), { timeout: 120_000 });
  const [, tokensShown, opsShown] = (await mine.textContent()).match(/^Your run, on this tab's CPU: ([\d,]+) tokens a second\. At about 1,000,000 operations a token \(4 × its 260,032 weights\), that is about ([\d,]+) million operations a second\.$/);
  const number = (text) => Number(text.replace(/,/g, ""));
  // Both figures are rounded to two places, so the product agrees to within their rounding.
  const ratio = (number(opsShown) * 1e6) / (number(tokensShown) * 4 * 260032);
  assert.ok(number(tokensShown) > 0 && Math.abs(ratio - 1) < 0.1, await mine.textContent());
  page.assertClean();
  await context.close();
});

/** The mixes table's rows: who mixed, each weight, the way, the rank and each check's count. */
async function mixRows(demo) {
  return demo.locator(".demo-table tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [tr.querySelector("th").textContent, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]),
  );
}

test("adapter mix: the recorded grid as the lesson reads it; the learner's cat mix repeats its row, linear differs in rank; the mix downloads and loads in PEFT", async () => {
  const python = process.env.TINYTUNE_PYTHON;
  const tinytune = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/tinytune/target"), "release", "tinytune");
  assert.ok(python, "TINYTUNE_PYTHON must point at the reference environment (tools/test.sh sets it)");
  const { page, context } = await openPage(site.browser, site.origin, { acceptDownloads: true });
  const demo = await openDemo(page, "adapter-mix");
  const recorded = JSON.parse(readFileSync(join(distDir, "models", "stories260K", "mixes.json"), "utf8"));
  const passed = (check) => check.samples.filter((s) => s.passed).length;
  const weight = (w) => (w === 0 ? "0" : `${w > 0 ? "+" : ""}${w.toFixed(2)}`);
  const rowOf = (label, mix) => [label, ...mix.weights.map(weight), mix.how, String(mix.rank), ...mix.checks.map((c) => `${passed(c)} of ${c.samples.length}`)];
  await demo.locator(".demo-table tbody tr").nth(8).waitFor();
  const shown = await mixRows(demo);
  assert.deepEqual(shown, recorded.map((mix, i) => rowOf(i === 0 ? "Recorded: the base model" : "Recorded", mix)));

  // What lesson 23 reads off the grid: each adapter alone does its own task; together, at full or half weight, the
  // two updates interfere and each check passes less than half as often as with its own adapter alone.
  const at = (a, b) => recorded.find((mix) => mix.weights[0] === a && mix.weights[1] === b);
  const [instructionAlone, pipAlone] = [passed(at(1, 0).checks[0]), passed(at(0, 1).checks[1])];
  assert.deepEqual(recorded[0].checks.map((c) => c.name), ["Follows the instruction", "Pip rate"]);
  assert.ok(instructionAlone >= 6 && pipAlone >= 5, `alone: ${instructionAlone} and ${pipAlone} of 8`);
  assert.ok(passed(at(0, 0).checks[0]) <= 2 && passed(at(0, 0).checks[1]) <= 1, "the base model does neither");
  for (const [a, b] of [[1, 1], [0.5, 0.5]]) {
    const [instruction, pip] = at(a, b).checks.map(passed);
    assert.ok(2 * instruction < instructionAlone && 2 * pip < pipAlone, `at ${a}, ${b}: ${instruction} and ${pip} of 8`);
  }
  assert.ok(recorded.every((mix) => mix.how === "cat" && mix.rank === 16), "cat stacks two rank-8 adapters");

  // The learner's mixes: linear at 1 and 1 (one rank, with cross terms), then cat at 1 and 1, which is the recorded row.
  const mix = demo.getByRole("button", { name: "Mix and check" });
  await page.waitForFunction((button) => !button.disabled, await mix.elementHandle(), { timeout: 120_000 });
  await slide(demo, "Instruction adapter", 1);
  await slide(demo, "Pip adapter", 1);
  await demo.getByLabel("Way to mix").selectOption("linear");
  await mix.click();
  await demo.locator(".demo-table tbody tr").nth(9).waitFor({ timeout: 120_000 });
  const linear = (await mixRows(demo))[9];
  assert.deepEqual(linear.slice(0, 5), ["Yours, 1", "+1.00", "+1.00", "linear", "8"]);
  await demo.getByLabel("Way to mix").selectOption("cat");
  await page.waitForFunction((button) => button.getAttribute("aria-disabled") !== "true", await mix.elementHandle());
  await mix.click();
  await demo.locator(".demo-table tbody tr").nth(10).waitFor({ timeout: 120_000 });
  assert.deepEqual((await mixRows(demo))[10], rowOf("Yours, 2", at(1, 1)), "the tab's mix writes what the build's did");
  await demo.getByText(/^The stories your latest mix wrote/).click();
  assert.equal(await demo.locator(".mix-samples .checked-samples li").count(), 16);

  // The download: the PEFT folder of the cat mix (r 16, scaling 1), its card naming both sources, and the GGUF files
  // with the Modelfile; PEFT loads it and gives the logits our CLI gives with it.
  const downloading = page.waitForEvent("download");
  await demo.getByRole("button", { name: "Download the mix (PEFT, GGUF, Modelfile)" }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "tinytune-mix.zip");
  const dir = mkdtempSync(join(tmpdir(), "tinytune-mix-"));
  await download.saveAs(join(dir, "mix.zip"));
  await demo.locator(".demo-status").getByText(/^Mix downloaded/).waitFor();
  execFileSync(python, ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", join(dir, "mix.zip"), dir]);
  const adapter = join(dir, "tinytune-mix");
  const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
  assert.deepEqual([config.r, config.lora_alpha, config.base_model_name_or_path], [16, 16, "stories260K"]);
  const card = readFileSync(join(adapter, "README.md"), "utf8");
  assert.match(card, /combination_type="cat"/);
  assert.match(card, /\| `models\/stories260K\/instruction-adapter\/` \| 1 \|\n\| `models\/stories260K\/pip-adapter\/` \| 1 \|/);
  assert.deepEqual(readdirSync(join(adapter, "gguf")).sort(), ["Modelfile", "RUN.md", "adapter.gguf", "merged.gguf", "model.gguf"]);
  assert.equal(readFileSync(join(adapter, "gguf", "Modelfile"), "utf8"), 'FROM ./model.gguf\nADAPTER ./adapter.gguf\nTEMPLATE "{{ .Prompt }}"\nPARAMETER stop "</s>"\n');
  const model = join(distDir, "models", "stories260K");
  const tokens = "1,403,407,261,378,365,294,306,287,366";
  const ours = JSON.parse(execFileSync(tinytune, ["logits", "--model", model, "--adapter", adapter, "--tokens", tokens]));
  const peft = JSON.parse(
    execFileSync(python, [join(import.meta.dirname, "..", "reference", "logits.py"), "--model", model, "--adapter", adapter, "--tokens", tokens]),
  );
  const maxDiff = (a, b) => Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])));
  assert.ok(maxDiff(ours, peft) <= 1e-4, `ours vs PEFT: ${maxDiff(ours, peft)}`);
  page.assertClean();
  await context.close();
});

/** The GRPO toy's table of the latest step (not the chart's table): each completion's group, text, reward and
 * advantage, as shown. */
async function grpoRows(demo) {
  const table = demo.getByRole("region", { name: /^Step \d+: every completion/ });
  return table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [tr.querySelector("th").textContent, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]),
  );
}

test("grpo toy: the recorded run as the lesson reads it (the reward climbs, the loss stays near 0); the learner's first two steps repeat it, completion for completion", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "grpo-toy");
  const recorded = JSON.parse(readFileSync(join(distDir, "models", "stories260K", "grpo.recorded.json"), "utf8"));
  const advantage = (a) => (Math.abs(a) < 0.005 ? "0" : `${a > 0 ? "+" : ""}${a.toFixed(2)}`);
  const rowsOf = (step) => step.groups.flatMap((group, g) => group.map((c, k) => [`${g + 1} · ${k + 1}`, c.text, String(c.reward), advantage(c.advantage)]));
  await demo.getByText(/^Recorded when this site was built/).waitFor();
  assert.deepEqual(await grpoRows(demo), rowsOf(recorded.at(-1)), "the recorded run's last step, every completion");

  // What lesson 22 reads off the recording: 20 steps of 2 groups of 8; the mean reward climbs from about 1 towards
  // 2; the loss is about 0 at every step; advantages sum to 0 in each group.
  assert.equal(recorded.length, 20);
  assert.ok(recorded.every((step) => step.groups.length === 2 && step.groups.every((g) => g.length === 8)));
  const [first, last] = [recorded[0].mean_reward, recorded.at(-1).mean_reward];
  assert.ok(first <= 1.3 && last >= 1.5, `mean reward ${first} to ${last}`);
  assert.ok(recorded.every((step) => Math.abs(step.loss) < 0.05), `losses ${recorded.map((s) => s.loss)}`);
  for (const group of recorded.flatMap((step) => step.groups)) {
    assert.ok(Math.abs(group.reduce((sum, c) => sum + c.advantage, 0)) < 1e-6);
  }
  const maxes = recorded[0].groups.flat().filter((c) => c.reward === 2).length;
  assert.ok(maxes <= 4, `at the start few first sentences end with Max: ${maxes} of 16`);

  // The learner's run, two steps: the same completions, rewards and advantages as the recording's first two steps.
  await demo.getByLabel("Steps", { exact: true }).fill("2");
  const train = demo.getByRole("button", { name: "Train with GRPO" });
  await page.waitForFunction((button) => !button.disabled, await train.elementHandle(), { timeout: 120_000 });
  await train.click();
  await demo.locator(".demo-status").getByText(/^GRPO finished: 2 steps/).waitFor({ timeout: 240_000 });
  await demo.getByText("Your run, step by step.").waitFor();
  assert.deepEqual(await grpoRows(demo), rowsOf(recorded[1]), "the tab's second step is the build's");
  page.assertClean();
  await context.close();
});

/** Wilson's 95% score interval of k of n, from its formula (the Rust one is checked against Newcombe's tables). */
function wilson(k, n) {
  const z = 1.959963984540054;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A share as the page writes it, "53%": Rust's {:.0} rounds an exact half to even (12.5 → 12). */
function pct(x) {
  const v = 100 * x;
  const tie = v - Math.floor(v) === 0.5;
  return `${tie ? Math.floor(v) + (Math.floor(v) % 2) : Math.round(v)}%`;
}

async function tableRows(demo, name) {
  return demo.getByRole("region", { name }).locator("tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [tr.querySelector("th").textContent, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]),
  );
}

test("eval bench: the recorded bench and judge as lesson 16 reads them; the learner's one-round bench repeats the recording's first round", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const demo = await openDemo(page, "eval-bench");
  const recorded = JSON.parse(readFileSync(join(distDir, "models", "stories260K", "evaluation.json"), "utf8"));
  const rowOf = (row, rounds) => {
    const counts = row.passed_per_round.slice(0, rounds);
    const [k, n] = [counts.reduce((a, b) => a + b, 0), 8 * counts.length];
    const [low, high] = wilson(k, n);
    return [row.model.name, row.held_out_loss.toFixed(3), Math.exp(row.held_out_loss).toFixed(2), `${k} of ${n}`,
      `${pct(k / n)} (${pct(low).slice(0, -1)}–${pct(high)})`, counts.join(", ")];
  };
  const benchTable = /held-out loss, and the task check/;
  await demo.getByText(/^Recorded when this site was built, with 8 rounds/).waitFor();
  assert.deepEqual(await tableRows(demo, benchTable), recorded.rows.map((row) => rowOf(row, 8)), "the recorded bench");

  // What lesson 16 reads off the recording.
  const [base, seed42, seed7] = recorded.rows;
  assert.equal(recorded.rows.length, 3);
  assert.equal(base.model.adapter, null);
  assert.match(seed42.model.name, /training seed 42/);
  assert.match(seed7.model.name, /training seed 7/);
  assert.equal(base.held_out_loss.toFixed(3), "1.899", "the base model's held-out loss, as lesson 14 starts from");
  assert.ok(seed42.held_out_loss < 0.5 && seed7.held_out_loss < 0.5 && Math.abs(seed42.held_out_loss - seed7.held_out_loss) < 0.05);
  assert.ok(base.passed_per_round.every((k) => k <= 1), `the base model: one story or none a round, ${base.passed_per_round}`);
  const interval = (row, rounds) => wilson(row.passed_per_round.slice(0, rounds).reduce((a, b) => a + b, 0), 8 * rounds);
  const overlap = ([a, b], [c, d]) => Math.max(0, Math.min(b, d) - Math.max(a, c));
  for (const adapter of [seed42, seed7]) {
    const rate = adapter.passed_per_round.reduce((a, b) => a + b, 0) / 64;
    assert.ok(rate >= 0.7 && rate <= 0.95, `between 70% and 95% of 64: ${rate}`);
    assert.ok(Math.max(...adapter.passed_per_round) - Math.min(...adapter.passed_per_round) >= 2, `rounds move by 2 or more: ${adapter.passed_per_round}`);
  }
  for (const rounds of [2, 8]) {
    const [a, b] = [interval(seed42, rounds), interval(seed7, rounds)];
    assert.ok(overlap(a, b) >= 0.5 * Math.min(a[1] - a[0], b[1] - b[0]), `the adapters overlap by most of their width at ${rounds} rounds: ${a} ${b}`);
  }
  const [low, high] = interval(base, 2);
  assert.ok(low < 0.02 && high >= 0.2 && high <= 0.4, `the base model at 2 rounds (prediction "base-interval"): ${low} to ${high}`);

  // The judge: always the story shown first, with a probability near 0.9; so hardly ever the same story twice.
  const judged = recorded.judged;
  assert.equal(judged.length, 8);
  const firsts = judged.flatMap((pair) => pair.picks_shown_first);
  assert.ok(firsts.filter((p) => p > 0.5).length >= 15 && firsts.every((p) => p > 0.75), `picks the first: ${firsts}`);
  const splits = judged.filter((pair) => pair.stories[0].passed !== pair.stories[1].passed);
  assert.ok(splits.length >= 5 && splits.filter((pair) => pair.stories[1].passed).length >= splits.length - 1, "the check splits most pairs, nearly always for the adapter");
  const picked = (pair, first) => (pair.picks_shown_first[first] > 0.5 ? first : 1 - first);
  const consistent = judged.filter((pair) => picked(pair, 0) === picked(pair, 1)).length;
  await demo.getByText(`It picked the story shown first in ${firsts.filter((p) => p > 0.5).length} of 16 verdicts, and the same story in both orders for ${consistent} of 8 pairs.`, { exact: false }).waitFor();
  const judgeRows = await tableRows(demo, /^Each pair: the stories as the task check judged them/);
  assert.deepEqual(judgeRows.map((row) => [row[0], row[3], row[4]]), judged.map((pair) => [pair.request, pct(pair.picks_shown_first[0]), pct(pair.picks_shown_first[1])]));

  // The learner's bench, one round on the CPU: the recording's first round, model for model, and its losses.
  await demo.getByLabel("Rounds of the task check").selectOption("1");
  const run = demo.getByRole("button", { name: "Run the bench" });
  await page.waitForFunction((button) => !button.disabled, await run.elementHandle(), { timeout: 120_000 });
  await run.click();
  await demo.getByText("Your bench, 1 round.").waitFor({ timeout: 240_000 });
  await page.waitForFunction((button) => !button.disabled, await run.elementHandle(), { timeout: 240_000 });
  assert.deepEqual(await tableRows(demo, benchTable), recorded.rows.map((row) => rowOf(row, 1)), "round 1 in the tab is the build's");
  page.assertClean();
  await context.close();
});

test("eval bench: the next lesson's demo loading sets an 8-round bench aside between stories on the CPU, rather than waiting for it to end", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await context.addInitScript(recordWorkerEvents);
  const demo = await openDemo(page, "eval-bench");
  await demo.getByLabel("Rounds of the task check").selectOption("8");
  const run = demo.getByRole("button", { name: "Run the bench" });
  await page.waitForFunction((button) => !button.disabled, await run.elementHandle(), { timeout: 120_000 });
  await run.click();
  await demo.getByText(/^Stories written: [1-9]/).waitFor({ timeout: 120_000 });
  // The next lesson's demo loads the model again (an Init), which the worker can only see between stories.
  const next = course.lessons[course.lessons.findIndex((l) => l.demos.includes("eval-bench")) + 1];
  assert.ok(next.demos.length > 0, `${next.slug} has a live element`);
  await page.getByRole("link", { name: `Next: ${next.title}` }).click();
  await answerPredictions(page);
  // Whatever happens to the bench, the new load ends with Ready: then read what the worker did with the bench.
  const readyAfterReload = () => {
    const events = window.__workerEvents.map((e) => e.event);
    const init = events.findIndex((e, i) => e.Init && events.slice(0, i).some((before) => before.Evaluate));
    return init >= 0 && events.slice(init).some((e) => e.Ready);
  };
  await page.waitForFunction(readyAfterReload, null, { timeout: 600_000 });
  const events = await page.evaluate(() => window.__workerEvents.map((e) => e.event));
  const { request_id: bench, rounds } = events.find((e) => e.Evaluate).Evaluate;
  assert.equal(rounds, 8);
  const answers = events.filter((e) => Object.values(e)[0]?.request_id === bench);
  assert.ok(answers.some((e) => e.SampleSetAside), "the worker set the bench aside for the new load");
  // Stories written once the page had posted the Init: the worker sees it after the story it is writing (and a
  // message or two may have been on their way), not after the rest of the model's 64, as it did when nothing in a
  // story yielded to its event loop on the CPU.
  const written = (list) => list.filter((e) => e.Evaluating?.request_id === bench).at(-1)?.Evaluating.written ?? 0;
  const init = events.findIndex((e, i) => e.Init && events.slice(0, i).some((before) => before.Evaluate));
  const [before, after] = [written(events.slice(0, init)), written(events)];
  assert.ok(after - before <= 3, `${after - before} stories written after the Init (${before} before it)`);
  page.assertClean();
  await context.close();
});

test("capstone: a shipped set's recorded run before and after, as lesson 24 reads it; a two-step run on the chosen data, its table and zip, kept for the completion page's recap", async () => {
  const { page, context } = await openPage(site.browser, site.origin, { acceptDownloads: true });
  const demo = await openDemo(page, "capstone");
  const beforeAfter = (run) => {
    const evals = run.metrics.filter((m) => m.eval_loss !== null && m.eval_loss !== undefined);
    const [first, last] = [evals[0], evals.at(-1)];
    const passes = (k, n) => { const [low, high] = wilson(k, n); return `${k} of ${n} (${pct(low).slice(0, -1)}–${pct(high)})`; };
    const rows = [
      ["Held-out loss", first.eval_loss.toFixed(3), last.eval_loss.toFixed(3)],
      ["Perplexity (e to the held-out loss)", Math.exp(first.eval_loss).toFixed(2), Math.exp(last.eval_loss).toFixed(2)],
      ["Drift: loss on the base model's own stories", first.reference_eval_loss.toFixed(3), last.reference_eval_loss.toFixed(3)],
    ];
    if (run.task) rows.push([`${run.task.name} (base model, then tuned)`, passes(run.task.base_passed, run.task.total), passes(run.task.passed, run.task.total)]);
    return { rows, first, last };
  };
  const recorded = (stem) => JSON.parse(readFileSync(join(distDir, "datasets", `${stem}.recorded.json`), "utf8"));

  // The Pip stories' recorded run, as lesson 24 reads it: the held-out loss falls by more than a third (prediction
  // "held-out-fall"), the drift rises (prediction "drift-direction"), Pip in most of 8 stories and none for the base.
  const pip = recorded("pip-the-purple-robot");
  const expected = beforeAfter(pip);
  await demo.getByText("277 examples train and 31 are held out", { exact: false }).waitFor({ timeout: 120_000 });
  assert.deepEqual(await tableRows(demo, /^The recorded run before and after/), expected.rows);
  assert.ok(expected.last.eval_loss < (2 / 3) * expected.first.eval_loss, "the held-out loss falls by more than a third");
  assert.ok(Math.abs(expected.first.eval_loss - 2.2) < 0.05 && Math.abs(expected.last.eval_loss - 1.35) < 0.05);
  assert.ok(expected.last.reference_eval_loss > expected.first.reference_eval_loss, "the drift rises");
  assert.ok(Math.abs(expected.first.reference_eval_loss - 1.57) < 0.05 && Math.abs(expected.last.reference_eval_loss - 2.04) < 0.05);
  assert.ok(pip.task.passed >= 5 && pip.task.base_passed === 0, `Pip in most stories, none for the base model: ${pip.task.passed}`);

  // The learner's data: the letters. Their recorded run replaces the Pip stories'; then two steps of their own.
  await demo.getByLabel("Data set", { exact: true }).selectOption({ label: "Letters home (raw text of a new domain)" });
  const letters = recorded("letters-home");
  await page.waitForFunction(
    ([caption, first]) => [...document.querySelectorAll("caption")].some((c) => c.textContent.startsWith(caption)) &&
      [...document.querySelectorAll("td")].some((td) => td.textContent === first),
    ["The recorded run before and after", beforeAfter(letters).rows[0][1]],
    { timeout: 120_000 },
  );
  assert.deepEqual(await tableRows(demo, /^The recorded run before and after/), beforeAfter(letters).rows);
  await demo.getByLabel("Steps", { exact: true }).fill("2");
  await demo.getByLabel("Warmup steps", { exact: true }).fill("1");
  const train = demo.getByRole("button", { name: "Train", exact: true });
  await page.waitForFunction((b) => !b.closest("fieldset").disabled, await train.elementHandle(), { timeout: 120_000 });
  await train.click();
  await demo.locator(".demo-status").getByText(/^Finished after 2 steps/).waitFor({ timeout: 240_000 });
  const own = await tableRows(demo, /^Your run before and after: losses at its first evaluation \(step 1\) and its last \(step 2\)/);
  assert.equal(own[0][1], beforeAfter(letters).rows[0][1], "with a warmup the first step changes nothing: the first evaluation is the base model's, as the recording's");
  const downloading = page.waitForEvent("download");
  await demo.getByRole("button", { name: "Download adapter" }).click();
  assert.equal((await downloading).suggestedFilename(), "tinytune-adapter.zip");

  // The completion page lists the capstone's run.
  await demo.getByRole("link", { name: "your recap" }).click();
  await page.getByRole("heading", { level: 1, name: "Your course so far" }).waitFor();
  const runs = await page.getByRole("region", { name: /^The runs this browser kept/ }).locator("tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [tr.querySelector("th").textContent, ...[...tr.querySelectorAll("td")].map((td) => td.textContent)]),
  );
  assert.equal(runs.length, 1);
  assert.match(runs[0][0], /^Capstone · /);
  assert.deepEqual(runs[0].slice(1, 3), ["Letters home (raw text of a new domain)", "2 steps"]);
  assert.equal(runs[0][3], `${own[0][1]} → ${own[0][2]}`);
  page.assertClean();
  await context.close();
});
