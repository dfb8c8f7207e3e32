// The lessons' live elements, on the CPU in headless Chromium against the built dist/ (the first fine-tune has its
// own file, demo.test.mjs): the next-token bars (temperature, top-p, drawing a token), the tokens, the instruction
// adapter beside the base model, each showing what was recorded at build time before the learner's own; and the
// layer map's counts.
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openPage, readCourse, answerPredictions } from "./harness.mjs";

const course = readCourse();
let server, origin, browser;

before(async () => {
  ({ server, origin } = await startServer());
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Opens the lesson that holds `name`'s demo, commits its predictions and returns the demo's section. */
async function openDemo(page, name) {
  const lesson = course.lessons.find((l) => l.demos.includes(name));
  assert.ok(lesson, `a lesson places the ${name} demo`);
  await page.goto(`${origin}/learn/${lesson.slug}`);
  await answerPredictions(page);
  const demo = page.locator("section.demo");
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
  const { page, context } = await openPage(browser, origin);
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
  const { page, context } = await openPage(browser, origin);
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
  const { page, context } = await openPage(browser, origin);
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
  await page.waitForFunction(() => ![...document.querySelectorAll(".demo-continuation")].some((p) => p.textContent === "Writing…"), null, { timeout: 120_000 });
  assert.deepEqual(await pair(), recorded, "the learner's pair for the first request repeats the recorded one: same settings, same code");

  // The learner's own request: written by both, with no check to judge it.
  await demo.getByLabel("Request").selectOption({ label: "Your own request…" });
  await demo.getByLabel("Your request").fill("Write a story about a dog in the park.");
  await write.click();
  await page.waitForFunction(() => [...document.querySelectorAll(".demo-continuation")].every((p) => p.textContent !== "Writing…"), null, { timeout: 120_000 });
  const own = await pair();
  assert.deepEqual(own.map((card) => [card.prompt, card.verdict]), [
    ["Write a story about a dog in the park.", null],
    ["Write a story about a dog in the park.", null],
  ]);
  assert.ok(own.every((card) => card.text.length > 0));
  page.assertClean();
  await context.close();
});

test("layer map: the default run's count, presets and single cells, another model, a rank and full fine-tuning", async () => {
  const { page, context } = await openPage(browser, origin);
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
