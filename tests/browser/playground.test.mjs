// The playground in headless Chromium on the CPU backend (no WebGPU flag), with the real trainer worker and
// model: runs overlaid on one chart, training examples and a replay share, DPO from its preset, a copied link that repeats a run exactly, a bad value in the address, runs
// kept across a reload, a run interrupted by a reload and resumed, a run that cannot be saved, and "Run it
// bigger"'s download against the CLI's export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPage, servedSite, distDir } from "./harness.mjs";

const site = servedSite();

const SHORT_RUN = "steps=3&eval=1&warmup=0&batch=4";

function playground(page) {
  return page.locator("section.playground");
}

async function open(page, query) {
  await page.goto(`${site.origin}/playground?${query}`);
  await playground(page).getByText(/^Training on/).first().waitFor({ timeout: 120_000 });
  await playground(page).getByRole("button", { name: "Train", exact: true }).waitFor();
  await waitUntilReady(page);
}

/** The model and the chosen data set are loaded: the form takes a run. */
async function waitUntilReady(page) {
  // Right after a reload the form is not there yet: not ready, rather than an error.
  await page.waitForFunction(() => document.querySelector("section.playground .demo-settings > fieldset")?.disabled === false, null, {
    timeout: 120_000,
  });
}

async function train(page, finishedRuns) {
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  await page.waitForFunction(
    (n) => document.querySelectorAll("section.playground .run-list tbody tr").length >= n &&
      !document.querySelector("section.playground .demo-settings > fieldset").disabled,
    finishedRuns,
    { timeout: 240_000 },
  );
}

/** The chart's table: the header's column names, and each row's cells as shown. */
async function chartTable(page) {
  const table = playground(page).locator(".demo-chart table");
  const header = await table.locator("thead th").allTextContents();
  const rows = await table.locator("tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((cell) => cell.textContent.trim())),
  );
  return { header, rows };
}

test("two runs are overlaid on one chart, with a legend entry and a table column each", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, SHORT_RUN);
  await train(page, 1);
  await playground(page).getByLabel("LoRA rank", { exact: true }).fill("2");
  await train(page, 2);
  assert.deepEqual(await playground(page).locator(".chart-legend li strong").allTextContents(), ["Run 1", "Run 2"]);
  const { header, rows } = await chartTable(page);
  assert.deepEqual(header, ["Step", "Run 1", "Run 2"]);
  assert.equal(rows.length, 3);
  assert.ok(rows.every((row) => row.length === 3 && row.slice(1).every((cell) => Number.isFinite(Number(cell)))));
  const differs = await playground(page).locator(".run-list tbody tr").nth(1).locator("td").first().textContent();
  assert.equal(differs, "r=2", "the run list says what sets the second run apart");
  page.assertClean();
  await context.close();
});

test("runs on two data sets: the run list names the data set and each run's task metric beside the base model's", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, SHORT_RUN);
  await train(page, 1);
  const taskCell = (row) => playground(page).locator(".run-list tbody tr").nth(row).locator("td").nth(4);
  await page.waitForFunction(() => !/checking/.test(document.querySelector("section.playground .run-list tbody tr td:nth-of-type(5)").textContent));
  assert.match(await taskCell(0).textContent(), /^Pip rate: [0-8]\/8 \([0-8]\)$/);

  await playground(page).getByLabel("Data set", { exact: true }).selectOption("letters");
  await waitUntilReady(page);
  await train(page, 2);
  await playground(page).locator(".task-result h4").getByText(/^Writes a letter: [0-8] of 8$/).waitFor({ timeout: 60_000 });
  assert.match(await taskCell(1).textContent(), /^Writes a letter: [0-8]\/8 \([0-8]\)$/);
  const differs = await playground(page).locator(".run-list tbody tr").nth(1).locator("td").first().textContent();
  assert.equal(differs, "data=letters", "the run list says the second run trained on other data");
  assert.match(page.url(), /&data=letters$/, "the address names the data set");
  assert.match(await playground(page).getByLabel("Link to these settings").inputValue(), /&data=letters$/);
  await playground(page).locator(".task-result summary").click();
  assert.equal(await playground(page).locator(".checked-samples li").count(), 8, "the counted samples are shown");
  page.assertClean();
  await context.close();
});

test("training examples and a replay share: read from the address, checked in the form, and trained with; the run list and the link say so", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, `${SHORT_RUN}&examples=all&replay=0`);
  const form = playground(page);
  const examples = form.getByLabel("Training examples", { exact: true });
  const replay = form.getByLabel("Replay share", { exact: true });
  assert.deepEqual([await examples.inputValue(), await replay.inputValue()], ["all", "0"]);
  await train(page, 1);
  // Out of range, each field says what it takes, and nothing trains.
  await examples.fill("many");
  await replay.fill("0.95");
  await form.getByRole("button", { name: "Train", exact: true }).click();
  await form.getByText("Training examples must be a whole number from 1 to 100000. Or “all”.").waitFor();
  await form.getByText("Replay share must be a number from 0 to 0.9.").waitFor();
  assert.equal(await form.locator(".run-list tbody tr").count(), 1);
  // The first 8 stories with a fifth of the pieces the base model's own: a run of its own.
  await examples.fill("8");
  await replay.fill("0.2");
  await train(page, 2);
  const differs = await form.locator(".run-list tbody tr").nth(1).locator("td").first().textContent();
  assert.equal(differs, "examples=8, replay=0.2", "the run list says what sets the second run apart");
  assert.match(await form.getByLabel("Link to these settings").inputValue(), /&examples=8&replay=0\.2&/);
  const { rows } = await chartTable(page);
  assert.notEqual(rows.at(-1)[1], rows.at(-1)[2], "other pieces, another loss");
  // Replay mixes into next-token training, not DPO: the form says so.
  await form.getByRole("button", { name: "Preference tuning (DPO)", exact: true }).click();
  await replay.fill("0.2");
  await form.getByText("Replay mixes the base model's stories into next-token training; DPO trains on preference pairs: set the replay share to 0.").waitFor();
  page.assertClean();
  await context.close();
});

test("DPO from its preset: refused on data without pairs, with what to do; trained on the preference pairs from ln 2; turned off by its box", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, SHORT_RUN);
  await playground(page).getByRole("button", { name: "Preference tuning (DPO)", exact: true }).click();
  const box = playground(page).getByLabel(/^DPO: prefer each pair's chosen answer/);
  assert.equal(await box.isChecked(), true);
  assert.equal(await playground(page).getByLabel("DPO β", { exact: true }).inputValue(), "0.1");
  await playground(page).getByLabel("Steps", { exact: true }).fill("3");
  await playground(page).getByLabel("Warmup steps", { exact: true }).fill("0");
  const status = playground(page).locator(".demo-status");
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  await playground(page).locator(".demo-alert").getByText(/this data set has none: choose a preference data set, or turn DPO off/).waitFor({ timeout: 60_000 });

  await playground(page).getByLabel("Data set", { exact: true }).selectOption("preferences");
  await waitUntilReady(page);
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  await status.getByText(/^Finished after 3 steps/).waitFor({ timeout: 120_000 });
  const { rows } = await chartTable(page);
  assert.equal(rows[0][rows[0].length - 1], Math.LN2.toFixed(4), "a DPO run's first loss is ln 2");
  assert.match(await playground(page).getByLabel("Link to these settings").inputValue(), /&dpo=0\.1&data=preferences$/);

  // Off: no β, and the next run trains on the chosen answers (next-token loss), its link saying so.
  await box.uncheck();
  assert.equal(await playground(page).getByLabel("DPO β", { exact: true }).count(), 0, "no β without DPO");
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  // The second run's column, filled in once its first step is done, and the run finished.
  await page.waitForFunction(() => /^\d/.test(document.querySelector("section.playground .demo-chart tbody tr td:nth-of-type(2)")?.textContent ?? ""), null, { timeout: 120_000 });
  await waitUntilReady(page);
  assert.match(await playground(page).getByLabel("Link to these settings").inputValue(), /&dpo=off&data=preferences$/);
  const next = (await chartTable(page)).rows[0];
  assert.ok(Number(next[2]) > 1, `next-token training starts at the model's loss, not ln 2: ${next}`);
  await context.close();
});

test("a link copied from the playground repeats the same loss rows in a fresh browser context", async () => {
  const first = await openPage(site.browser, site.origin);
  await open(first.page, `${SHORT_RUN}&seed=5&lr=0.02&schedule=linear&targets=all-linear`);
  await train(first.page, 1);
  await first.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: site.origin });
  const linkField = playground(first.page).locator(".copy-field").filter({ hasText: "Link to these settings" });
  await linkField.getByRole("button", { name: "Copy" }).click();
  await linkField.getByRole("status").getByText("Copied.").waitFor();
  const link = await first.page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, await playground(first.page).getByLabel("Link to these settings").inputValue());
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/playground\?method=lora&/);
  assert.match(link, /seed=5/);
  assert.match(link, /targets=q_proj%2Ck_proj%2Cv_proj%2Co_proj%2Cgate_proj%2Cup_proj%2Cdown_proj/);
  const expected = (await chartTable(first.page)).rows;
  first.page.assertClean();
  await first.context.close();

  const second = await openPage(site.browser, site.origin);
  await second.page.goto(link);
  await playground(second.page).getByText(/^Training on/).first().waitFor({ timeout: 120_000 });
  await second.page.waitForFunction(() => !document.querySelector("section.playground .demo-settings > fieldset").disabled, null, {
    timeout: 120_000,
  });
  await train(second.page, 1);
  assert.deepEqual((await chartTable(second.page)).rows, expected);
  second.page.assertClean();
  await second.context.close();
});

test("an invalid value in the address is named with its range, and the default is used", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, "r=500&lr=fast&steps=7&data=recipes");
  const alert = await page.getByRole("alert").first().textContent();
  assert.match(alert, /`data=recipes` in the address: the data set is one of pip, instructions, letters, preferences, studio; using pip\./);
  assert.match(alert, /`r=500` in the address: LoRA rank must be a whole number from 1 to 64; using the default, 8\./);
  assert.match(alert, /`lr=fast` in the address: Learning rate must be a number above 0, at most 1/);
  assert.equal(await playground(page).getByLabel("LoRA rank", { exact: true }).inputValue(), "8");
  assert.equal(await playground(page).getByLabel("Steps", { exact: true }).inputValue(), "7", "valid values are kept");
  page.assertClean();
  await context.close();
});

test("finished runs survive a reload", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, SHORT_RUN);
  await train(page, 1);
  const before = (await chartTable(page)).rows;
  await page.reload();
  await playground(page).locator(".run-list tbody tr").first().waitFor({ timeout: 60_000 });
  assert.equal(await playground(page).locator(".run-list tbody tr").count(), 1);
  assert.equal(await playground(page).locator(".run-name").inputValue(), "Run 1");
  assert.deepEqual((await chartTable(page)).rows, before);
  page.assertClean();
  await context.close();
});

/** The finished runs the playground keeps in the browser's storage, with every step's metrics. */
async function savedRuns(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("tinytune.playground.runs") ?? "[]"));
}

test("a run interrupted by a reload resumes from its save and gives the loss rows of the run never interrupted", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  // Dropout, warmup and held-out evaluations: what resuming must restore besides the weights.
  await open(page, "steps=40&eval=5&warmup=3&batch=4&dropout=0.1&seed=3&lr=0.01");
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  await playground(page).getByText(/^Saved in this browser at step \d+: after a reload it resumes from there\.$/).waitFor({ timeout: 120_000 });
  await playground(page).getByRole("button", { name: "Pause", exact: true }).click();
  const paused = Number((await playground(page).getByText(/^Paused at step \d+ of 40$/).textContent()).match(/step (\d+)/)[1]);
  // Pausing saves too.
  await playground(page).getByText(`Saved in this browser at step ${paused}: after a reload it resumes from there.`).waitFor();
  await page.reload();

  const offer = playground(page).locator(".demo-resume");
  await offer.getByText(`It is saved in this browser at step ${paused} of 40`, { exact: false }).waitFor({ timeout: 120_000 });
  await waitUntilReady(page);
  await offer.getByRole("button", { name: "Resume the run" }).click();
  await page.waitForFunction(() => JSON.parse(localStorage.getItem("tinytune.playground.runs") ?? "[]").length === 1, null, {
    timeout: 240_000,
  });
  assert.equal(await offer.count(), 0, "the offer is gone once the run is resumed");
  await waitUntilReady(page);
  await train(page, 2);
  const [resumed, whole] = (await savedRuns(page)).map((run) => run.metrics);
  assert.equal(resumed.length, 40, "the resumed run holds every step, the saved ones and those after");
  assert.equal(whole.length, 40);
  for (const [index, row] of resumed.entries()) {
    const other = whole[index];
    assert.equal(row.step, index + 1);
    assert.equal(row.learning_rate, other.learning_rate, `step ${row.step}: learning rate`);
    assert.ok(Math.abs(row.loss - other.loss) <= 1e-5, `step ${row.step}: loss ${row.loss} resumed, ${other.loss} uninterrupted`);
    assert.equal(row.eval_loss === null, other.eval_loss === null);
    if (row.eval_loss !== null) assert.ok(Math.abs(row.eval_loss - other.eval_loss) <= 1e-5, `step ${row.step}: held-out loss`);
  }
  // Nothing is left to resume: the run finished.
  await page.reload();
  await waitUntilReady(page);
  assert.equal(await playground(page).locator(".demo-resume").count(), 0);
  page.assertClean();
  await context.close();
});

test("a run that cannot be saved (storage full) says so and trains on in memory", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin, quotaSize: 1 });
  await open(page, "steps=40&eval=10&warmup=0&batch=4");
  await playground(page).getByRole("button", { name: "Train", exact: true }).click();
  // Pausing saves, so the failure shows while the run waits: the message cannot come and go between two looks.
  await playground(page).getByText(/^Step \d+ of 40/).waitFor({ timeout: 120_000 });
  await playground(page).getByRole("button", { name: "Pause", exact: true }).click();
  await playground(page).getByText(/^Paused at step \d+ of 40$/).waitFor();
  await playground(page)
    .getByRole("alert")
    .getByText(/^⚠ This run cannot be saved in this browser: the browser's storage for this site is full.*It goes on here/)
    .waitFor({ timeout: 60_000 });
  await playground(page).getByRole("button", { name: "Resume", exact: true }).click();
  // Right after a reload the form is not there yet: not ready, rather than an error.
  await page.waitForFunction(() => document.querySelector("section.playground .demo-settings > fieldset")?.disabled === false, null, {
    timeout: 120_000,
  });
  assert.equal((await chartTable(page)).rows.length, 40, "every step ran");
  await context.close();
});

test("an adapter PEFT wrote opens in the playground, samples beside the base model, and a run trains on from it", async () => {
  const python = process.env.TINYTUNE_PYTHON;
  assert.ok(python, "TINYTUNE_PYTHON must point at the reference environment (tools/test.sh sets it)");
  const dir = mkdtempSync(join(tmpdir(), "tinytune-open-"));
  const model = join(distDir, "models", "stories260K");
  const written = JSON.parse(execFileSync(python, [join(import.meta.dirname, "..", "reference", "peft_adapter.py"), "--model", model, "--out", join(dir, "peft-adapter")]));
  const { page, context } = await openPage(site.browser, site.origin);
  await open(page, "steps=4&eval=2&warmup=0&batch=4");
  const picker = playground(page).getByLabel("Open an adapter");

  // Not an adapter: the message names the file, and nothing else changes.
  await picker.setInputFiles({ name: "notes.zip", mimeType: "application/zip", buffer: Buffer.from("PK not really a zip") });
  await playground(page).getByRole("alert").getByText(/notes\.zip is not a zip file that can be read/).waitFor({ timeout: 60_000 });
  assert.equal(await playground(page).locator(".run-list tbody tr").count(), 0);
  await playground(page).getByRole("button", { name: "Dismiss" }).click();

  await picker.setInputFiles(written.zip);
  await playground(page).getByText("Opened peft-adapter.zip: LoRA rank 4, alpha 8, on q_proj, v_proj, down_proj.", { exact: false }).waitFor({ timeout: 60_000 });
  // Opened, it is the latest run: the samples compare it with the base model.
  await page.waitForFunction(() => document.querySelectorAll("section.playground .demo-sample-grid .demo-sample-text").length === 2, null, { timeout: 120_000 });
  const texts = await playground(page).locator(".demo-sample-grid .demo-sample-text").allTextContents();
  assert.notEqual(texts[0], texts[1], "the opened adapter writes otherwise than the base model");

  await playground(page).getByLabel("Train the next run on from this adapter", { exact: false }).check();
  assert.equal(await playground(page).getByLabel("LoRA rank", { exact: true }).inputValue(), "4", "the form takes the adapter's rank");
  await train(page, 1);
  const rows = (await savedRuns(page)).map((run) => run.settings.lora_rank);
  assert.deepEqual(rows, [4], "the run trained on from the adapter is kept; the opened adapter is not");
  page.assertClean();
  await context.close();
});

test("Run it bigger downloads the data set and the settings as the CLI's TRL and Unsloth scripts and Axolotl config, byte for byte, and shows each file", async () => {
  const python = process.env.TINYTUNE_PYTHON;
  const tinytune = join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/tinytune/target"), "release", "tinytune");
  assert.ok(python, "TINYTUNE_PYTHON must point at the reference environment (tools/test.sh sets it)");
  const settings = "r=16&alpha=32&steps=300&loss=prompts-too&schedule=linear";
  const { page, context } = await openPage(site.browser, site.origin, { acceptDownloads: true });
  await open(page, `${settings}&data=instructions`);
  const model = playground(page).getByLabel("Hugging Face model to train");
  await model.fill("");
  await playground(page).getByRole("button", { name: "Download the job (TRL, Unsloth and Axolotl)" }).click();
  await playground(page).getByRole("alert").getByText(/Name the Hugging Face model to train/).waitFor();
  await model.fill("my-org/my-model");
  const downloading = page.waitForEvent("download");
  await playground(page).getByRole("button", { name: "Download the job (TRL, Unsloth and Axolotl)" }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "tinytune-job.zip");
  const dir = mkdtempSync(join(tmpdir(), "tinytune-job-"));
  await download.saveAs(join(dir, "job.zip"));
  await playground(page).getByText(/^Job downloaded/).waitFor();
  execFileSync(python, ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", join(dir, "job.zip"), dir]);
  const job = join(dir, "tinytune-job");
  const data = join(distDir, "datasets", "animal-place-instructions.jsonl");
  for (const format of ["axolotl", "trl", "unsloth"]) {
    const cli = join(dir, `cli-${format}`);
    execFileSync(tinytune, ["export", "--format", format, "--data", data, "--settings", settings, "--base-model", "my-org/my-model", "--out", cli], { stdio: "ignore" });
    for (const file of readdirSync(cli)) {
      assert.ok(readFileSync(join(job, file)).equals(readFileSync(join(cli, file))), `${file} differs from the CLI's`);
    }
  }
  assert.deepEqual(readdirSync(job).sort(), ["README.md", "tinytune.yaml", "tinytune_data.py", "train.prompt-completion.jsonl", "train_trl.py", "train_unsloth.py"]);
  assert.match(readFileSync(join(job, "tinytune.yaml"), "utf8"), /^base_model: my-org\/my-model$/m);
  // The page shows each tool's file as the zip holds it.
  for (const file of ["train_trl.py", "train_unsloth.py", "tinytune.yaml"]) {
    const shown = playground(page).locator("details.job-file").filter({ has: page.locator("summary", { hasText: file }) });
    await shown.locator("summary").click();
    assert.equal(await shown.locator("pre").textContent(), readFileSync(join(job, file), "utf8"), `${file} as shown`);
  }
  // An opened file stays open while the learner edits the job, and its text follows the edit.
  const yaml = playground(page).locator("details.job-file").filter({ has: page.locator("summary", { hasText: "tinytune.yaml" }) });
  await model.fill("my-org/other-model");
  await yaml.locator("pre", { hasText: "base_model: my-org/other-model" }).waitFor();
  assert.equal(await yaml.evaluate((details) => details.open), true, "the opened file is still open");
  page.assertClean();
  await context.close();
});
