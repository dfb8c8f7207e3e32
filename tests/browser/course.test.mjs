// The course shell in headless Chromium, against the built dist/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, readCourse, waitForQuiz, answerQuiz, answerPredictions, shownChoiceOrder, servedSite } from "./harness.mjs";

const course = readCourse();
const [firstLesson, secondLesson] = course.lessons;
const site = servedSite();

async function fresh(options) {
  return openPage(site.browser, site.origin, options);
}

async function visitLesson(page, lesson) {
  await page.goto(`${site.origin}/learn/${lesson.slug}`);
  await waitForQuiz(page);
}

test("home lists every lesson in course order, with overall progress, and does not load the trainer", async () => {
  const { page, context } = await fresh();
  const requested = [];
  page.on("request", (request) => requested.push(new URL(request.url()).pathname));
  await page.goto(site.origin);
  await page.getByRole("heading", { level: 1, name: course.title }).waitFor();
  const links = await page.locator(".lesson-list a").allTextContents();
  assert.deepEqual(links, course.lessons.map((l) => l.title));
  assert.match(await page.locator("#overall-progress-text").textContent(), new RegExp(`^0 of ${course.lessons.length} lessons complete$`));
  assert.equal(await page.title(), `${course.title} · Tinytune`);
  await page.waitForLoadState("networkidle");
  assert.deepEqual(requested.filter((path) => /worker|models|datasets/.test(path)), [], "the trainer loads only with a demo");
  page.assertClean();
  await context.close();
});

test("a deep link loads that lesson, titles the page and focuses its heading", async () => {
  const { page, context } = await fresh();
  await page.goto(`${site.origin}/learn/${secondLesson.slug}`);
  const heading = page.getByRole("heading", { level: 1, name: secondLesson.title });
  await heading.waitFor();
  assert.equal(await page.title(), `${secondLesson.title} · Tinytune`);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");
  // Following "next" moves focus to the new lesson's heading too.
  await page.getByRole("link", { name: new RegExp(`^Next: ${escape(course.lessons[2].title)}`) }).click();
  await page.getByRole("heading", { level: 1, name: course.lessons[2].title }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), course.lessons[2].title);
  assert.equal(new URL(page.url()).pathname, `/learn/${course.lessons[2].slug}`);
  page.assertClean();
  await context.close();
});

test("an unknown address shows the not-found page", async () => {
  const { page, context } = await fresh();
  await page.goto(`${site.origin}/learn/no-such-lesson`);
  await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
  await page.goto(`${site.origin}/nowhere/at/all`);
  await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
  assert.equal(await page.title(), "Page not found · Tinytune");
  page.assertClean();
  await context.close();
});

test("a wrong answer shows its explanation and only the wrong questions can be retried", async () => {
  const { page, context } = await fresh();
  await visitLesson(page, firstLesson);
  const wrongIndex = firstLesson.questions.findIndex((q) => q.type === "MultipleChoice" && q.choices.filter((c) => c.correct).length === 1);
  const question = firstLesson.questions[wrongIndex];
  await answerQuiz(page, firstLesson, (i) => i !== wrongIndex);

  const fieldset = page.locator("fieldset.question").nth(wrongIndex);
  const feedback = fieldset.locator('[role="status"]');
  await feedback.getByText("✗ Not quite").waitFor();
  const chosenWrong = question.choices.find((c) => !c.correct);
  assert.ok((await feedback.textContent()).includes(plain(chosenWrong.explanation)), "the chosen option's explanation is shown");
  const total = firstLesson.questions.length;
  assert.match(await page.locator(".quiz-summary").textContent(), new RegExp(`^${total - 1} of ${total} correct`));
  assert.equal(await page.locator(".lesson-status").first().textContent(), "Not complete");

  await page.getByRole("button", { name: "Retry wrong questions" }).click();
  for (let i = 0; i < total; i++) {
    const disabled = await page.locator("fieldset.question").nth(i).evaluate((el) => el.disabled);
    assert.equal(disabled, i !== wrongIndex, `question ${i + 1} ${i === wrongIndex ? "is open again" : "stays answered"}`);
  }
  assert.equal(await page.locator("fieldset.question").nth(wrongIndex).locator("input:checked").count(), 0, "the wrong answer is cleared");
  await answerQuiz(page, firstLesson);
  await page.locator(".quiz-summary").getByText("lesson complete").waitFor();
  page.assertClean();
  await context.close();
});

test("showing the answers reveals every choice's explanation without completing the lesson", async () => {
  const { page, context } = await fresh();
  await visitLesson(page, firstLesson);
  await answerQuiz(page, firstLesson, () => false);
  await page.getByRole("button", { name: "Show answers" }).click();
  const explanations = await page.locator(".choice-explanation").count();
  const choices = firstLesson.questions.reduce((n, q) => n + (q.choices?.length ?? 1), 0);
  assert.equal(explanations, choices);
  assert.equal(await page.locator(".lesson-status").first().textContent(), "Not complete");
  page.assertClean();
  await context.close();
});

test("right answers complete the lesson, and progress survives a reload", async () => {
  const { page, context } = await fresh();
  await visitLesson(page, firstLesson);
  await answerQuiz(page, firstLesson);
  await page.locator(".quiz-summary").getByText(`All ${firstLesson.questions.length} correct: lesson complete`).waitFor();
  assert.equal(await page.locator(".lesson-status").first().textContent(), "✓ Complete");
  // Once passed, every choice's explanation is visible.
  assert.ok((await page.locator(".choice-explanation").count()) >= firstLesson.questions.length);

  await page.reload();
  await waitForQuiz(page);
  assert.equal(await page.locator(".lesson-status").first().textContent(), "✓ Complete");
  assert.equal(await page.locator("fieldset.question:not([disabled])").count(), 0, "a passed quiz stays passed");
  await page.goto(site.origin);
  await page.locator("#overall-progress-text").getByText(`1 of ${course.lessons.length} lessons complete`).waitFor();
  const statuses = await page.locator(".lesson-list .lesson-status").allTextContents();
  assert.deepEqual(statuses, course.lessons.map((_, i) => (i === 0 ? "✓ Complete" : "Not complete")));
  page.assertClean();
  await context.close();
});

test("the lesson and course reset buttons clear progress, and the course reset can be undone", async () => {
  const { page, context } = await fresh();
  for (const lesson of [firstLesson, secondLesson]) {
    await visitLesson(page, lesson);
    await answerQuiz(page, lesson);
    await page.locator(".quiz-summary").getByText("lesson complete").waitFor();
  }
  await page.getByRole("button", { name: "Reset this lesson's progress" }).click();
  assert.equal(await page.locator(".lesson-status").first().textContent(), "Not complete");
  assert.equal(await page.locator("fieldset.question:disabled").count(), 0, "the quiz starts again");
  await page.reload();
  await waitForQuiz(page);
  assert.equal(await page.locator(".lesson-status").first().textContent(), "Not complete", "the reset was saved");

  await page.goto(site.origin);
  await page.locator("#overall-progress-text").getByText("1 of").waitFor();
  await page.getByRole("button", { name: "Reset all progress" }).click();
  await page.locator("#overall-progress-text").getByText("0 of").waitFor();
  await page.getByRole("button", { name: "Undo" }).click();
  await page.locator("#overall-progress-text").getByText("1 of").waitFor();
  await page.getByRole("button", { name: "Reset all progress" }).click();
  await page.reload();
  await page.locator("#overall-progress-text").getByText("0 of").waitFor();
  page.assertClean();
  await context.close();
});

test("a quiz can be answered with the keyboard alone", async () => {
  const { page, context } = await fresh();
  await visitLesson(page, secondLesson);
  const firstInput = page.locator("fieldset.question input").first();
  // Tab from the focused heading through the lesson's links until the first quiz control has focus.
  for (let presses = 0; presses < 200 && !(await firstInput.evaluate((el) => el === document.activeElement)); presses++) {
    await page.keyboard.press("Tab");
  }
  const shown = await shownChoiceOrder(page);
  for (const [i, question] of secondLesson.questions.entries()) {
    if (i > 0) await page.keyboard.press("Tab"); // into the next question
    if (question.type === "ShortAnswer") {
      await page.keyboard.type(question.answers[0]);
      continue;
    }
    // The choices as the page shows them.
    const choices = shown[i].map((c) => question.choices[c]);
    const several = choices.filter((c) => c.correct).length > 1;
    if (several) {
      for (const [c, choice] of choices.entries()) {
        if (c > 0) await page.keyboard.press("Tab");
        if (choice.correct) await page.keyboard.press("Space");
      }
    } else {
      const right = choices.findIndex((c) => c.correct);
      // Arrow keys move and select within a radio group; Space selects the first.
      if (right === 0) await page.keyboard.press("Space");
      for (let step = 0; step < right; step++) await page.keyboard.press("ArrowDown");
    }
  }
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Check answers");
  await page.keyboard.press("Enter");
  await page.locator(".quiz-summary").getByText("lesson complete").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.className), "quiz-summary", "focus moves to the result");
  page.assertClean();
  await context.close();
});

test("each learner sees the choices in an order of their own, the same after a reload", async () => {
  const first = await fresh();
  await visitLesson(first.page, firstLesson);
  const order = await shownChoiceOrder(first.page);
  const questions = firstLesson.questions;
  assert.equal(order.length, questions.length);
  for (const [i, question] of questions.entries()) {
    const count = question.choices?.length ?? 0;
    assert.deepEqual([...order[i]].sort((a, b) => a - b), [...Array(count).keys()], `question ${i + 1} shows each choice once`);
  }
  await first.page.reload();
  await waitForQuiz(first.page);
  assert.deepEqual(await shownChoiceOrder(first.page), order, "the same order after a reload");
  first.page.assertClean();
  await first.context.close();

  // Other learners (fresh browser profiles) see other orders, and the right answer is not always shown first:
  // with four or more questions of four choices, the chance of any one order repeating for eight learners is nil.
  const orders = [order];
  for (let learner = 0; learner < 7; learner++) {
    const { page, context } = await fresh();
    await visitLesson(page, firstLesson);
    orders.push(await shownChoiceOrder(page));
    page.assertClean();
    await context.close();
  }
  assert.equal(new Set(orders.map((o) => JSON.stringify(o))).size, orders.length, "every learner has an order of their own");
  const single = [...questions.entries()].filter(([, q]) => q.choices?.filter((c) => c.correct).length === 1);
  const rightShownFirst = orders.flatMap((o) => single.map(([i, q]) => q.choices[o[i][0]].correct));
  // About a quarter by chance; half would take a near-impossible run of luck.
  assert.ok(rightShownFirst.filter(Boolean).length < rightShownFirst.length / 2, `right answer shown first: ${rightShownFirst}`);
});

test("a lesson's demo opens only once its predictions are committed, and the guesses are kept", async () => {
  const lesson = course.lessons.find((l) => l.hasPredictions);
  const { page, context } = await fresh();
  const requested = [];
  page.on("request", (request) => requested.push(new URL(request.url()).pathname));
  await visitLesson(page, lesson);
  const predictions = page.locator("form.prediction");
  const count = await predictions.count();
  assert.ok(count >= 1);
  await page.locator(".demo-locked").waitFor();
  assert.equal(await page.locator(".demo").count(), 0, "the demo waits for the predictions");
  assert.deepEqual(requested.filter((path) => /worker|models/.test(path)), [], "and does not load the trainer yet");

  const first = predictions.first();
  await first.getByRole("button", { name: "Commit to this guess" }).click();
  await first.getByRole("status").getByText("Choose one of the answers first.").waitFor();
  for (let i = 0; i < count; i++) {
    const form = predictions.nth(i);
    await form.locator('input[value="1"]').check();
    await form.getByRole("button", { name: "Commit to this guess" }).click();
    await form.getByRole("status").getByText(/kept with your progress/).waitFor();
  }
  await page.locator(".demo").first().waitFor();
  assert.equal(await page.locator(".demo-locked").count(), 0);

  await page.reload();
  await waitForQuiz(page);
  await page.locator(".demo").first().waitFor();
  for (let i = 0; i < count; i++) {
    const form = predictions.nth(i);
    assert.ok(await form.locator("fieldset").evaluate((el) => el.disabled), `prediction ${i + 1} stays committed`);
    assert.ok(await form.locator('input[value="1"]').isChecked(), `prediction ${i + 1} shows the guess`);
  }

  await page.getByRole("button", { name: "Reset this lesson's progress" }).click();
  assert.ok(!(await predictions.first().locator("fieldset").evaluate((el) => el.disabled)), "a lesson reset clears the guesses");
  assert.equal(await page.locator(".demo").count(), 1, "and leaves the demo open for the rest of the visit");
  page.assertClean();
  await context.close();
});

test("finishing every lesson shows the completion page", async () => {
  const { page, context } = await fresh();
  for (const lesson of course.lessons) {
    await visitLesson(page, lesson);
    await answerQuiz(page, lesson);
  }
  await page.getByRole("link", { name: /completion page/ }).click();
  await page.getByRole("heading", { level: 1, name: "You finished the course" }).waitFor();
  page.assertClean();
  await context.close();
});

test("the completion page recaps quiz scores and each guess against the recorded run's outcome, and prints", async () => {
  const { page, context } = await fresh();
  const lesson = course.lessons.find((l) => l.predictions.length >= 2);
  await visitLesson(page, lesson);
  // The first guess is the recorded outcome, the second is not.
  const [hit, miss] = lesson.predictions;
  const guesses = [hit.outcome - 1, miss.outcome === 1 ? 1 : 0];
  const forms = page.locator("form.prediction");
  for (const [i, guess] of guesses.entries()) {
    await forms.nth(i).locator(`input[value="${guess}"]`).check();
    await forms.nth(i).getByRole("button", { name: "Commit to this guess" }).click();
    await forms.nth(i).locator("fieldset[disabled]").waitFor();
  }
  await answerQuiz(page, lesson);
  await page.goto(site.origin);
  await page.getByRole("link", { name: "Your recap so far: quiz scores, predictions and runs" }).click();
  await page.getByRole("heading", { level: 1, name: "Your course so far" }).waitFor();
  const total = course.lessons.reduce((n, l) => n + l.predictions.length, 0);
  await page.getByText(`You committed to 2 of ${total} predictions; 1 matched what the recorded run showed.`).waitFor();
  const scores = await page.getByRole("region", { name: /^Each lesson's quiz/ }).locator("tbody tr").evaluateAll((rows) => rows.map((tr) => [tr.querySelector("th").textContent, tr.querySelector("td").textContent]));
  assert.deepEqual(scores, course.lessons.map((l) => [l.title, `${l === lesson ? l.questions.length : 0} of ${l.questions.length}`]));
  const rows = page.getByRole("region", { name: /^Each prediction/ }).locator("tbody tr");
  assert.equal(await rows.count(), total);
  const before = course.lessons.slice(0, course.lessons.indexOf(lesson)).reduce((n, l) => n + l.predictions.length, 0);
  const cells = (i) => rows.nth(before + i).locator("td").allTextContents();
  const plain = (markdown) => markdown.replaceAll("`", "").replaceAll("**", "");
  assert.deepEqual(await cells(0), [`✓ ${plain(hit.choices[guesses[0]])}`, plain(hit.choices[hit.outcome - 1])]);
  assert.deepEqual(await cells(1), [`✗ ${plain(miss.choices[guesses[1]])}`, plain(miss.choices[miss.outcome - 1])]);
  assert.deepEqual(await rows.nth(before + 2).locator("td").first().textContent(), "Not made", "a guess not made says so");
  await page.getByText("No runs are kept in this browser yet.", { exact: false }).waitFor();
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
  await page.getByRole("button", { name: "Print this recap" }).click();
  assert.equal(await page.evaluate(() => window.printed), 1);
  page.assertClean();
  await context.close();
});

test("the theme follows the system and a chosen theme is remembered", async () => {
  const { page, context } = await fresh({ colorScheme: "dark" });
  await page.goto(site.origin);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.getByLabel("Theme").waitFor();
  const darkByDefault = await background();
  await page.getByLabel("Theme").selectOption("light");
  assert.notEqual(await background(), darkByDefault);
  await page.reload();
  await page.getByLabel("Theme").waitFor();
  assert.equal(await page.getByLabel("Theme").inputValue(), "light");
  assert.notEqual(await background(), darkByDefault);
  page.assertClean();
  await context.close();
});

test("size and speed figures (printed, not judged)", async () => {
  const { page, context } = await fresh();
  const started = Date.now();
  await page.goto(`${site.origin}/learn/${firstLesson.slug}`);
  await page.locator("fieldset.question input").first().waitFor({ state: "visible" });
  const wallMs = Date.now() - started;
  const sinceNavigationMs = await page.evaluate(() => Math.round(performance.now()));
  console.log(`figure: time from navigation to an interactive lesson: ${sinceNavigationMs} ms in-page (${wallMs} ms wall)`);
  page.assertClean();
  await context.close();
});

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The visible text of a short piece of Markdown (enough for the emphasis and code used in quizzes). */
function plain(markdown) {
  return markdown.replace(/[*_`]/g, "").trim().slice(0, 60);
}
