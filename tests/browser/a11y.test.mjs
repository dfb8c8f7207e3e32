// Accessibility, checked by axe-core (Deque's rules engine, the one behind the axe browser extension) on every page
// a learner reaches: the home page, each lesson with its predictions committed, its demo open and its quiz, the
// playground, the data studio, the completion page (with those predictions) and the embeddable QLoRA demo, in the light and the dark theme. Any violation of a
// WCAG 2.x A or AA rule fails, named with the elements it found.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { openPage, readCourse, answerPredictions, servedSite } from "./harness.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const course = readCourse();
const site = servedSite();

/** axe's WCAG 2.x A and AA violations on the page as it is now: rule, impact and the elements, one line each. */
async function violations(page) {
  // Through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    });
    return result.violations.flatMap((v) => v.nodes.map((node) => `${v.impact} ${v.id}: ${v.help} — ${node.target.join(" ")}`));
  });
}

for (const scheme of ["light", "dark"]) {
  test(`no WCAG A/AA violations on any page, ${scheme} theme`, async () => {
    const { page, context } = await openPage(site.browser, site.origin, { colorScheme: scheme, viewport: { width: 1024, height: 900 } });
    const found = [];
    const check = async (where) => found.push(...(await violations(page)).map((line) => `${where}: ${line}`));

    await page.goto(`${site.origin}/`);
    await page.locator("h1").waitFor();
    await check("/");
    for (const lesson of course.lessons) {
      await page.goto(`${site.origin}/learn/${lesson.slug}`);
      await answerPredictions(page);
      if (lesson.demos.length > 0) {
        await page.locator("section.demo").first().waitFor();
        // Whatever a demo shows before the learner acts: the model loaded, the recording drawn.
        await page.waitForFunction(() => !document.querySelector("[role=progressbar]"), null, { timeout: 60_000 });
      }
      await page.waitForSelector("form.quiz-form fieldset.question");
      await check(`/learn/${lesson.slug}`);
    }
    for (const path of ["/playground", "/studio", "/complete"]) {
      await page.goto(`${site.origin}${path}`);
      await page.locator("h1").waitFor();
      await check(path);
    }
    // The embeddable QLoRA demo, its preflight measured (nothing loads before the learner asks).
    await page.goto(`${site.origin}/embed/qlora-chat`);
    await page.locator(".demo-preflight tbody tr").first().waitFor({ timeout: 60_000 });
    await check("/embed/qlora-chat");
    assert.deepEqual(found, [], `${found.length} violations:\n${found.join("\n")}`);
    page.assertClean();
    await context.close();
  });
}
