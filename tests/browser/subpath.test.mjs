// The site served under a sub-path by a plain static host (no SPA rewrites, 404.html for unknown paths), as docs
// hosts serve projects: a deep link loads its lesson, the lesson's links and images stay under the sub-path, the
// trainer loads its model from there, and nothing is asked of the host's root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SUB_PATH, startSubPathServer, openPage, answerPredictions, servedSite } from "./harness.mjs";

const site = servedSite(startSubPathServer);

test("a deep link under a sub-path loads its lesson, its demo's model, and links that stay under the sub-path", async () => {
  const { page, context } = await openPage(site.browser, site.origin);
  const outside = [];
  const notFound = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (!path.startsWith(SUB_PATH)) outside.push(path);
  });
  page.on("response", (response) => response.status() === 404 && notFound.push(new URL(response.url()).pathname));
  const response = await page.goto(`${site.origin}${SUB_PATH}learn/your-first-lora-fine-tune`);
  assert.equal(response.status(), 404, "the host knows no such file: its 404.html is the app");
  await page.getByRole("heading", { level: 1, name: "Your first LoRA fine-tune" }).waitFor({ timeout: 60_000 });
  await answerPredictions(page);
  await page.getByText(/is ready to train on the CPU/).first().waitFor({ timeout: 120_000 });
  assert.equal(await page.getByRole("link", { name: "Playground" }).getAttribute("href"), `${SUB_PATH}playground`);

  // A link written in the lesson's Markdown as /learn/<slug> navigates inside the app, under the sub-path.
  await page.locator("article a[href^='learn/']").first().click();
  await page.waitForURL(new RegExp(`${SUB_PATH}learn/`));
  assert.notEqual(new URL(page.url()).pathname, `${SUB_PATH}learn/your-first-lora-fine-tune`);
  await page.getByRole("heading", { level: 1 }).waitFor();

  // The fine-tuning menu's diagram comes from the sub-path too.
  await page.goto(`${site.origin}${SUB_PATH}learn/the-fine-tuning-menu`);
  const diagram = page.locator("article img").first();
  await diagram.waitFor();
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await diagram.elementHandle());

  assert.deepEqual(outside, [], "every request stays under the sub-path");
  const deepLinks = [`${SUB_PATH}learn/your-first-lora-fine-tune`, `${SUB_PATH}learn/the-fine-tuning-menu`];
  assert.deepEqual(notFound, deepLinks, "only the deep links themselves are unknown to the host");
  // Chromium logs each 404 document as a failed resource; those two are expected, nothing else is.
  const failed = page.problems.consoleErrors.filter((e) => /status of 404/.test(e));
  assert.equal(failed.length, deepLinks.length);
  page.problems.consoleErrors = page.problems.consoleErrors.filter((e) => !/status of 404/.test(e));
  page.assertClean();
  await context.close();
});
