// Accessibility and narrow screens, on every page a learner reaches: the home page, each lesson with its predictions
// committed, its demo open and its quiz, the playground, the data studio, the completion page (with those
// predictions) and the embeddable QLoRA demo. axe-core (Deque's rules engine, the one behind the axe browser
// extension) checks each in the light and the dark theme: any violation of a WCAG 2.x A or AA rule fails, named with
// the elements it found. Then at 320 px wide nothing may scroll sideways, a lesson with every quiz explanation shown.
// One visit a page for all three: each lesson's visit starts the trainer worker and loads the model, most of the
// cost of a walk over the course.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { openPage, readCourse, answerPredictions, answerQuiz, servedSite } from "./harness.mjs";

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

test("every page passes axe's WCAG A/AA rules in the light and the dark theme, and is usable at 320 px wide", async () => {
  const wide = { width: 1024, height: 900 };
  const { page, context } = await openPage(site.browser, site.origin, { colorScheme: "light", viewport: wide });
  const found = [];
  const scan = async (where) => {
    // The site follows the system's theme unless the learner picks one: switched here without a reload.
    for (const colorScheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme });
      found.push(...(await violations(page)).map((line) => `${where}, ${colorScheme} theme: ${line}`));
    }
    await page.emulateMedia({ colorScheme: "light" });
  };
  const narrow = [];
  // At 320 px (before `showAll` runs, so with what it reveals); the next visit starts wide again.
  const checkNarrow = async (where, showAll = async () => {}) => {
    await page.setViewportSize({ width: 320, height: 640 });
    await showAll();
    if (!(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth))) narrow.push(where);
    await page.setViewportSize(wide);
  };

  await page.goto(`${site.origin}/`);
  await page.locator(".lesson-list a").first().waitFor();
  await scan("/");
  await checkNarrow("/");
  for (const lesson of course.lessons) {
    const where = `/learn/${lesson.slug}`;
    await page.goto(`${site.origin}${where}`);
    await answerPredictions(page);
    if (lesson.demos.length > 0) {
      await page.locator("section.demo").first().waitFor();
      await page.waitForFunction(() => !document.querySelector("[role=progressbar]"), null, { timeout: 60_000 });
    }
    await page.waitForSelector("form.quiz-form fieldset.question");
    await scan(where);
    await checkNarrow(`${where} with every explanation shown`, async () => {
      await answerQuiz(page, lesson, () => false);
      await page.getByRole("button", { name: "Show answers" }).click();
    });
  }
  for (const path of ["/playground", "/studio", "/complete"]) {
    await page.goto(`${site.origin}${path}`);
    await page.locator("h1").waitFor();
    await scan(path);
    await checkNarrow(path);
  }
  await page.goto(`${site.origin}/embed/qlora-chat`);
  await page.locator(".demo-preflight tbody tr").first().waitFor({ timeout: 60_000 });
  await scan("/embed/qlora-chat");
  await checkNarrow("/embed/qlora-chat");
  assert.deepEqual(found, [], `${found.length} violations:\n${found.join("\n")}`);
  assert.deepEqual(narrow, [], "these pages scroll sideways at 320 px wide");
  page.assertClean();
  await context.close();
});
