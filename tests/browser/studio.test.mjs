// The data studio in headless Chromium on the CPU backend, with the real trainer worker and model: a dropped file
// with known problems lists each one with its line; a broken line is fixed in place; the token view marks the
// trained tokens exactly as the native trainer's mask does (`tinytune tokens`); an HTML payload shows as text;
// the data set survives a reload and trains in the playground; a shipped data set counts the pieces the trainer
// cuts and a timed step gives the training time; and no request carries the data anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { openPage, distDir, servedSite } from "./harness.mjs";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MESSY = join(repoRoot, "tests/fixtures/studio/messy.jsonl");
// The CLI the test command built (it converts the site's model too).
const CLI = process.env.TINYTUNE_CLI ?? join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/tinytune/target"), "release/tinytune");

const site = servedSite();

/** The problems the page lists, as "line: kind heading" strings. */
async function listedProblems(page) {
  return page.locator(".studio-problems .problem-kind").evaluateAll((sections) =>
    sections.flatMap((section) => {
      const kind = section.querySelector("h3").textContent.replace(/ \(.*$/, "");
      return [...section.querySelectorAll(".problem-place")].map((place) => `${place.textContent.match(/^Line (\d+)/)[1]}: ${kind}`);
    }),
  );
}

async function openStudio(page) {
  await page.goto(`${site.origin}/studio`);
  // The file input is enabled once the model (and its tokenizer) is loaded and storage was looked at.
  await page.waitForFunction(() => {
    const input = document.querySelector(".studio-bring input[type=file]");
    return input && !input.disabled;
  }, null, { timeout: 120_000 });
}

async function dropFile(page, path, name) {
  const text = readFileSync(path, "utf8");
  const dataTransfer = await page.evaluateHandle(({ text, name }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], name, { type: "application/jsonl" }));
    return transfer;
  }, { text, name });
  await page.locator(".drop-zone").dispatchEvent("drop", { dataTransfer });
}

/** The entry view's tokens: each chip's own text (without the screen-reader words) and whether it is trained. */
async function chips(page) {
  return page.locator(".studio-entry .token-chips li").evaluateAll((items) =>
    items.map((li) => ({
      text: [...li.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(""),
      trained: li.classList.contains("trained"),
    })),
  );
}

async function showLine(page, line) {
  await page.getByLabel("Show the example on line").fill(String(line));
  await page.getByRole("button", { name: "Show", exact: true }).click();
  await page.locator(".studio-entry h2", { hasText: `Line ${line}` }).waitFor();
}

test("a dropped file's problems are listed by line, fixed in place, kept across a reload, and trained on", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  const sent = [];
  page.on("request", (request) => {
    if (request.method() !== "GET" || request.postData()) sent.push(`${request.method()} ${request.url()}`);
  });
  await openStudio(page);
  await dropFile(page, MESSY, "messy.jsonl");
  await page.locator(".studio-overview h2", { hasText: "messy.jsonl" }).waitFor({ timeout: 60_000 });

  // Each problem of the fixture (see tests/native/data_studio.rs for the same file natively).
  assert.deepEqual(await listedProblems(page), [
    "3: Not valid JSON",
    "4: Wrong or missing fields",
    "5: Empty texts",
    "6: Unknown roles or no assistant turn",
    "12: Unknown roles or no assistant turn",
    "7: Exact duplicates",
    "8: Near-duplicates",
    "11: Longer than the sequence length",
  ]);
  const cut = page.locator(".problem", { hasText: "Line 3" });
  assert.match(await cut.textContent(), /column \d+: not valid JSON .* is the line cut short\?/);

  // Fix line 3 in place: its problem goes, and it becomes an example.
  await page.getByRole("button", { name: "Show line 3" }).click();
  await page.getByLabel("Edit this example (one JSON object)").fill('{"text": "Once upon a time, the cat slept in the sun."}');
  await page.getByRole("button", { name: "Save this example" }).click();
  await page.waitForFunction(() => !document.querySelector(".studio-problems")?.textContent.includes("Not valid JSON"));
  // The problem list can change before the entry's tokens are drawn: wait for them rather than count at once (a
  // count right away found none once, in a warm run); a line never tokenized still fails here.
  await page.locator(".studio-entry .token-chips li").first().waitFor({ timeout: 30_000 });
  // Drop the exact duplicate.
  await page.getByRole("button", { name: "Drop line 7" }).click();
  await page.waitForFunction(() => document.querySelector(".studio-problems").textContent.includes("Dropped (1)"));

  // The HTML payload on line 10 shows as text, in the editor and in the tokens; nothing runs.
  await showLine(page, 10);
  assert.match(await page.getByLabel("Edit this example (one JSON object)").inputValue(), /<img src=x onerror=alert\(1\)>/);
  const payloadChips = (await chips(page)).map((c) => c.text).join("");
  assert.ok(payloadChips.includes("<img"), `the tokens show the payload literally: ${payloadChips}`);
  assert.equal(await page.locator("main img").count(), 0, "no <img> element was made from the data");
  assert.deepEqual(dialogs, [], "no script ran");

  // The token view marks trained and context tokens exactly as the native trainer does.
  const native = execFileSync(CLI, ["tokens", "--tokenizer", join(distDir, "models/stories260K/tokenizer.json"), "--data", MESSY], { encoding: "utf8" })
    .trim().split("\n").map((line) => JSON.parse(line));
  for (const line of [2, 9, 1]) {
    await showLine(page, line);
    const expected = native.find((example) => example.line === line);
    assert.deepEqual(await chips(page), expected.tokens.map((text, i) => ({ text, trained: expected.trained[i] })), `line ${line}`);
  }
  const last = (await chips(page)).at(-1);
  assert.deepEqual(last, { text: "</s>", trained: true }, "the trained span ends with the end-of-sequence token");

  // A reload keeps the data set, the fix and the drop.
  await page.reload();
  await page.locator(".studio-overview h2", { hasText: "messy.jsonl" }).waitFor({ timeout: 120_000 });
  const afterReload = await listedProblems(page);
  assert.ok(!afterReload.includes("3: Not valid JSON") && !afterReload.includes("7: Exact duplicates"), afterReload.join(", "));
  assert.match(await page.locator(".studio-problems").textContent(), /Dropped \(1\)/);

  // Train on it in the playground (a new page: the worker finds the data set in the browser's storage).
  const link = page.getByRole("link", { name: "Train on this in the playground" });
  // It opens with the sequence length the studio judged the lengths against, and follows it.
  assert.match(await link.getAttribute("href"), /\/playground\?method=lora&.*&seq=64&.*&data=studio$/);
  await page.getByLabel("Sequence length (tokens)").fill("96");
  await page.getByLabel("Sequence length (tokens)").dispatchEvent("change");
  await page.waitForFunction(
    () => [...document.querySelectorAll("a")].some((a) => a.textContent === "Train on this in the playground" && a.getAttribute("href").includes("&seq=96&")),
    null,
    { timeout: 60_000 },
  );
  await page.goto(`${site.origin}/playground?data=studio&steps=2&eval=1&warmup=0&batch=2`);
  await page.waitForFunction(() => {
    const fieldset = document.querySelector("section.playground .demo-settings > fieldset");
    return fieldset && !fieldset.disabled;
  }, null, { timeout: 120_000 });
  assert.match(await page.locator("section.playground").textContent(), /Your data set \(from the data studio\)/);
  await page.locator("section.playground").getByRole("button", { name: "Train", exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll("section.playground .run-list tbody tr").length === 1 &&
    !document.querySelector("section.playground .demo-settings > fieldset").disabled, null, { timeout: 120_000 });
  assert.match(await page.locator("section.playground .demo-status").textContent(), /Finished/);

  assert.deepEqual(sent, [], "no request sent anything");
  page.assertClean();
  await context.close();
});

test("a table whose header says nothing asks which column is which; the clean data downloads as TRL reads it", async () => {
  const { page, context } = await openPage(site.browser, site.origin, { acceptDownloads: true });
  await openStudio(page);
  await page.getByLabel("Or paste examples").fill("question one\tanswer one\nWhat is red?\tA colour.\nName a fruit.\tAn apple.\n");
  await page.getByLabel("Pasted text is").selectOption("tsv");
  await page.getByRole("button", { name: "Read the pasted text" }).click();
  await page.getByRole("heading", { name: "Which column is which in pasted.tsv?" }).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByRole("button", { name: "Read with these columns" }).isDisabled(), true);
  await page.getByLabel("`prompt` is in column").selectOption({ label: "1 (question one)" });
  await page.getByLabel("`response` is in column").selectOption({ label: "2 (answer one)" });
  await page.getByRole("button", { name: "Read with these columns" }).click();
  await page.locator(".studio-overview h2", { hasText: "pasted.tsv" }).waitFor({ timeout: 60_000 });
  assert.match(await page.locator(".studio-overview").textContent(), /2 entries: /);
  await showLine(page, 2);
  const trained = (await chips(page)).filter((c) => c.trained).map((c) => c.text).join("");
  assert.equal(trained.replaceAll("▁", " "), " A colour.</s>", "only the response and EOS are trained");

  // The clean data set downloads in the layout chosen: here TRL's conversational one.
  await page.getByLabel("Downloads are JSONL, one example per line, written").selectOption("Messages");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download the clean data set" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "pasted.clean.jsonl");
  const downloaded = readFileSync(await download.path(), "utf8");
  assert.equal(downloaded, [
    '{"messages":[{"role":"user","content":"What is red?"},{"role":"assistant","content":"A colour."}]}',
    '{"messages":[{"role":"user","content":"Name a fruit."},{"role":"assistant","content":"An apple."}]}',
    "",
  ].join("\n"));
  page.assertClean();
  await context.close();
});

test("a shipped data set opens in the studio with as many training pieces as the trainer cuts, and a timed step gives the training time", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await openStudio(page);
  await page.getByRole("button", { name: "Stories on request (instructions)" }).click();
  const lengths = page.locator(".studio-lengths");
  await lengths.waitFor({ timeout: 60_000 });
  // The studio counts the pieces the trainer cuts: the recorded run of the default settings trained on as many.
  const recorded = JSON.parse(readFileSync(join(distDir, "datasets", "animal-place-instructions.recorded.json"), "utf8"));
  const summary = await lengths.textContent();
  const [, pieces, steps] = summary.match(/They make ([\d,]+) training pieces of up to 65 tokens: ([\d,]+) steps of 8 pieces/);
  assert.equal(Number(pieces.replace(/,/g, "")), recorded.training_sequences, summary);
  assert.equal(Number(steps.replace(/,/g, "")), Math.ceil(recorded.training_sequences / 8));

  // Timing a step: the button waits while it measures, then the estimate names the step, the pass and the run.
  const time = page.getByRole("button", { name: "Time a training step on this device" });
  await time.click();
  const status = lengths.getByRole("status");
  await page.waitForFunction(() => document.querySelector(".studio-lengths [role=status]")?.textContent.startsWith("A step of"), null, {
    timeout: 120_000,
  });
  assert.equal(await time.isDisabled(), false, "measured: it can be asked again");
  const text = await status.textContent();
  const match = text.match(/^A step of 8 pieces of 65 tokens takes ([\d.]+) s on this device's CPU: one pass over the data \(([\d,]+) steps\) takes (?:about .+|under a second), the default run of 60 steps (?:about .+|under a second)\.$/);
  assert.ok(match, text);
  assert.ok(Number(match[1]) > 0, text);
  assert.equal(match[2], steps, "the pass is the summary's steps");
  page.assertClean();
  await context.close();
});

test("a 20 MB file is read off the main thread: the page shows progress and answers the learner while it reads", async () => {
  // 20 MB of prompt/response lines, made here with a fixed seed.
  const words = "once upon a time there was a little robot called pip who loved the red ball in the garden".split(" ");
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = [];
  let bytes = 0;
  while (bytes < 20_000_000) {
    const story = Array.from({ length: 20 + Math.floor(next() * 100) }, () => words[Math.floor(next() * words.length)]).join(" ");
    const line = JSON.stringify({ prompt: "Tell me a story.", response: story });
    lines.push(line);
    bytes += line.length + 1;
  }
  const dir = mkdtempSync(join(tmpdir(), "tinytune-studio-"));
  const path = join(dir, "twenty-megabytes.jsonl");
  writeFileSync(path, lines.join("\n") + "\n");

  const { page, context } = await openPage(site.browser, site.origin);
  await openStudio(page);
  // The longest gap between ticks of a 20 ms timer on the page's main thread, from now on (a figure, not judged).
  await page.evaluate(() => {
    window.longestGap = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      window.longestGap = Math.max(window.longestGap, now - last);
      last = now;
    }, 20);
  });
  const started = Date.now();
  await page.locator(".studio-bring input[type=file]").setInputFiles(path);
  // While the worker checks and tokenizes (its progress counts examples), the page takes the learner's typing
  // and has not got the report yet: the work is not on the page's thread.
  const status = page.locator(".studio-status");
  await status.getByText(/Checking and tokenizing: [\d,]+ of [\d,]+/).waitFor({ timeout: 60_000 });
  const progressShown = await status.textContent();
  await page.getByLabel("Or paste examples").fill("typed while the file is read");
  assert.equal(await page.getByLabel("Or paste examples").inputValue(), "typed while the file is read");
  assert.equal(await page.locator(".studio-overview").count(), 0, "the page answered before the report came");
  await page.locator(".studio-overview h2", { hasText: "twenty-megabytes.jsonl" }).waitFor({ timeout: 300_000 });
  const readMs = Date.now() - started;
  const longestGap = await page.evaluate(() => window.longestGap);
  assert.match(await page.locator(".studio-overview").textContent(), new RegExp(`${lines.length.toLocaleString("en")} entries`));
  console.log(`figure: studio — ${(bytes / 1e6).toFixed(1)} MB, ${lines.length} examples read, checked and tokenized in ${readMs} ms; longest main-thread gap ${longestGap.toFixed(0)} ms; progress: ${progressShown.trim()}`);
  page.assertClean();
  await context.close();
  rmSync(dir, { recursive: true, force: true });
});
