// Shared set-up for the browser tests: serves dist/ the way a static host with an SPA fallback would, starts
// Debian's Chromium headless, and watches every page for console errors and requests to other origins.
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { before, after } from "node:test";
import sirv from "sirv";
import { chromium } from "playwright-core";
import { parse as parseToml } from "smol-toml";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const distDir = process.env.TINYTUNE_DIST ?? join(repoRoot, "dist");

export async function startServer() {
  // `single: true` answers unknown paths with index.html, as the deployed site must for /learn/<slug> deep links.
  const handler = sirv(distDir, { single: true, dev: true });
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** The sub-path the test command builds a second copy of the site for (`trunk build --public-url`). */
export const SUB_PATH = "/docs/tinytune/";
export const subPathDistDir = process.env.TINYTUNE_SUBPATH_DIST ?? join(repoRoot, "dist-subpath");

/**
 * Serves the sub-path build the way a plain static host does (GitHub Pages, an S3 bucket): files under SUB_PATH,
 * nothing elsewhere, no SPA rewrites; an unknown path gets the site's 404.html with status 404.
 */
export async function startSubPathServer() {
  const files = sirv(subPathDistDir, { dev: true });
  const notFound = readFileSync(join(subPathDistDir, "404.html"));
  const server = createServer((request, response) => {
    const answer404 = () => {
      response.statusCode = 404;
      response.setHeader("content-type", "text/html");
      response.end(notFound);
    };
    if (!request.url.startsWith(SUB_PATH)) return answer404();
    request.url = request.url.slice(SUB_PATH.length - 1);
    files(request, response, answer404);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // Without the networking flags Chromium floods the closed network with connection attempts.
    args: [
      "--no-sandbox",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      ...extraArgs,
    ],
  });
}

/**
 * The hooks most test files need: before their tests, the site served (by `serve`) and a headless Chromium; after
 * them, both closed. The returned object's `origin` and `browser` are set once the first hook has run.
 */
export function servedSite(serve = startServer) {
  const site = {};
  before(async () => {
    ({ server: site.server, origin: site.origin } = await serve());
    site.browser = await launchBrowser();
  });
  after(async () => {
    await site.browser?.close();
    site.server?.close();
  });
  return site;
}

/** A fresh page (fresh storage) that records console errors, page errors and requests leaving `origin`. */
export async function openPage(browser, origin, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = { consoleErrors: [], foreignRequests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") problems.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => problems.consoleErrors.push(String(error)));
  // The site's Content-Security-Policy: a violation (a blocked script, style, connection or worker) is an error.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) =>
      console.error(`Content-Security-Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`),
    );
  });
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== "data:" && url.protocol !== "blob:") {
      problems.foreignRequests.push(request.url());
    }
  });
  page.problems = problems;
  page.assertClean = () => {
    assert.deepEqual(problems.consoleErrors, [], "console errors");
    assert.deepEqual(problems.foreignRequests, [], "requests to other origins");
  };
  return { context, page };
}

/** The course as written in lessons/: titles, slugs and the right answers, read independently of the app. */
export function readCourse() {
  const lessonsDir = join(repoRoot, "lessons");
  const manifest = parseToml(readFileSync(join(lessonsDir, "course.toml"), "utf8"));
  const files = readdirSync(lessonsDir);
  const lessons = new Map();
  for (const file of files.filter((f) => f.endsWith(".md") && f !== "README.md")) {
    const text = readFileSync(join(lessonsDir, file), "utf8");
    const front = parseToml(text.split("+++")[1]);
    const demos = [...text.matchAll(/^```demo\n([a-z-]+)\n```$/gm)].map((match) => match[1]);
    const predictions = [...text.matchAll(/^```predict\n([\s\S]*?)\n```$/gm)].map((match) => parseToml(match[1]));
    lessons.set(front.id, { ...front, file, demos, predictions, hasPredictions: predictions.length > 0 });
  }
  for (const file of files.filter((f) => f.endsWith(".quiz.toml"))) {
    const quiz = parseToml(readFileSync(join(lessonsDir, file), "utf8"));
    lessons.get(quiz.lesson).questions = quiz.questions;
  }
  const ordered = manifest.parts.flatMap((part) => part.lessons.map((id) => lessons.get(id)));
  return { title: manifest.title, lessons: ordered };
}

/** The file index of each choice of each question, in the order the page shows them (the learner's own order). */
export async function shownChoiceOrder(page) {
  return page.locator("fieldset.question").evaluateAll((fieldsets) =>
    fieldsets.map((fieldset) => [...fieldset.querySelectorAll("input[type=radio], input[type=checkbox]")].map((input) => Number(input.value))),
  );
}

/** Commits a guess (the first choice) for every prediction on the page that has none yet: a lesson's demo opens
 * once the predictions before it are answered. */
export async function answerPredictions(page) {
  await page.locator("article.lesson h1").waitFor();
  const forms = page.locator("form.prediction");
  for (let i = 0; i < (await forms.count()); i++) {
    const form = forms.nth(i);
    if (await form.locator("fieldset").evaluate((el) => el.disabled)) continue;
    await form.locator("input").first().check();
    await form.getByRole("button", { name: "Commit to this guess" }).click();
    await form.locator("fieldset[disabled]").waitFor();
  }
}

/** Waits until the lesson's quiz is on screen and usable. */
export async function waitForQuiz(page) {
  await page.waitForSelector("form.quiz-form fieldset.question");
}

/**
 * Answers each question of `lesson` through the page: `pickRight(i)` says whether question i gets a right answer.
 * Uses the pointer (clicks and typing); the keyboard-only test drives it separately.
 */
export async function answerQuiz(page, lesson, pickRight = () => true) {
  const fieldsets = page.locator("fieldset.question");
  for (const [i, question] of lesson.questions.entries()) {
    const fieldset = fieldsets.nth(i);
    if (await fieldset.evaluate((el) => el.disabled)) continue;
    const right = pickRight(i);
    if (question.type === "ShortAnswer") {
      await fieldset.getByRole("textbox").fill(right ? question.answers[0] : "certainly not this");
      continue;
    }
    const several = question.choices.filter((c) => c.correct).length > 1;
    for (const [c, choice] of question.choices.entries()) {
      const choose = right ? !!choice.correct : !choice.correct && (several || c === question.choices.findIndex((x) => !x.correct));
      // The page shows choices in the learner's own order; each input's value is the choice's index in the file.
      if (choose) await fieldset.locator(`input[value="${c}"]`).check();
    }
  }
  await page.getByRole("button", { name: "Check answers" }).click();
}

/** Records what the page and the trainer worker post each other, parsed, in `window.__workerEvents` (an init script). */
export function recordWorkerEvents() {
  const Original = window.Worker;
  window.__workerEvents = [];
  const record = (data) => {
    const json = Array.isArray(data) ? data[0] : data;
    if (typeof json === "string") window.__workerEvents.push({ at: performance.now(), event: JSON.parse(json) });
  };
  window.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => record(event.data));
    }
    postMessage(data, ...rest) {
      record(data);
      super.postMessage(data, ...rest);
    }
  };
}
