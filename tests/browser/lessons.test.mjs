// The lessons' live elements, on the CPU in headless Chromium against the built dist/ (the first fine-tune has its
// own file, demo.test.mjs): the next-token bars (temperature, top-p, drawing a token), the tokens, the instruction
// adapter beside the base model, the four ways to one goal, each showing what was recorded at build time before the
// learner's own; the layer map's counts; and the cost calculator's sums, worked by hand in lesson 5.
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

test("approaches: the recorded comparison first, then the learner's own, equal to it sample for sample", async () => {
  const { page, context } = await openPage(browser, origin);
  const demo = await openDemo(page, "approaches");
  await demo.locator(".demo-recorded").waitFor();
  const recorded = await page.evaluate(async () => {
    const response = await fetch(new URL("/models/stories260K/instruction-adapter/compared.json", document.baseURI));
    return response.json();
  });
  const ways = [
    ["plain", "The request alone"],
    ["worked-example", "A worked example in front"],
    ["retrieved", "Retrieved examples in front"],
    ["adapter", "The instruction adapter"],
  ];
  // Eight held-out requests, three seeds each, for each way.
  assert.equal(recorded.length, 4 * 24);
  const of = (way) => recorded.filter((s) => s.approach === way);
  // Retrieval put two training examples about the same animal or the same place in front of each request.
  for (const sample of of("retrieved")) {
    const [, animal, place] = sample.sample.prompt.match(/about an? (\w+) (?:on|at|by|in) the (\w+)\./);
    assert.equal(sample.in_front.length, 2);
    assert.ok(sample.in_front.every((request) => request.includes(` ${animal} `) || request.includes(` ${place}.`)), sample.in_front.join(" | "));
  }
  // The lesson's claim: the adapter names both far more often than any way that only changes the prompt.
  const passed = (way) => of(way).filter((s) => s.sample.passed).length;
  for (const [way] of ways.slice(0, 3)) assert.ok(passed("adapter") >= passed(way) + 12, `${way}: ${passed(way)}`);

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
  assert.deepEqual(recordedSamples, recorded.map((s) => `${s.sample.prompt} ${s.sample.text.trimStart()}`));

  const score = demo.getByRole("button", { name: "Score the four ways" });
  await page.waitForFunction((button) => !button.disabled, await score.elementHandle(), { timeout: 120_000 });
  await score.click();
  await demo.locator(".demo-recorded").waitFor({ state: "detached" });
  await demo.getByText("Done: 96 samples written and judged.").waitFor({ timeout: 300_000 });
  assert.equal(await demo.locator("caption").textContent(), "Your comparison");
  assert.deepEqual(await rows(), table, "the learner's comparison repeats the recorded one: same model, seeds and code");
  assert.deepEqual(await samples(), recordedSamples);
  page.assertClean();
  await context.close();
});

test("cost calculator: the quoted claim's sums as the lesson works them, volume and wrong answers, bad input, lesson 4's figures", async () => {
  const { page, context } = await openPage(browser, origin);
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
  assert.equal(Number(await tuned.getByLabel("Share of answers right (%)").inputValue()), share("adapter"));
  assert.equal(await tuned.getByText(/^Measured in lesson 4/).count(), 2);
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
