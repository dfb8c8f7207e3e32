//! Reads `lessons/` and validates it into a `Course`. Runs in build.rs (so bad content fails the build with
//! file, line and what to fix) and in native tests; never in the browser.
//!
//! Layout of the folder:
//! - `course.toml`: `title`, `description`, and `[[parts]]` each with a `title` and `lessons` (lesson ids, in order);
//! - `<name>.md`: one lesson, TOML front matter between `+++` lines (`id`, `slug`, `title`, `minutes`,
//!   `objectives`), then Markdown (no raw HTML, no level-1 heading, internal links as `/learn/<slug>`);
//! - `<name>.quiz.toml`: the quiz of the lesson named by its `lesson` key, modelled on mdbook-quiz.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;
use toml::Spanned;

use super::demos::DemoKind;
use super::progress::{prediction_key, question_key};
use super::quiz::normalise_answer;
use super::schema::{Choice, Course, Lesson, LessonBlock, Part, Prediction, Question, QuestionKind, Quiz};

/// One problem in the content, pointing at the file and line to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// A file's text plus how to turn a byte offset into a line number in the original file.
struct SourceFile {
    path: PathBuf,
    text: String,
}

impl SourceFile {
    fn read(path: PathBuf) -> Result<Self, ContentError> {
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SourceFile { path, text }),
            Err(e) => {
                Err(ContentError { file: path, line: 1, message: format!("cannot read this file as UTF-8 text: {e}") })
            }
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ContentError {
        ContentError { file: self.path.clone(), line: self.line_of(offset), message: message.into() }
    }

    /// Parses `self.text[range]` as TOML, reporting syntax errors, unknown keys and missing keys at their line.
    fn parse_toml<T: serde::de::DeserializeOwned>(&self, range: Range<usize>) -> Result<T, ContentError> {
        toml::from_str(&self.text[range.clone()]).map_err(|e| {
            let offset = range.start + e.span().map_or(0, |span| span.start);
            self.error_at(offset, e.message().trim().to_string())
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    title: String,
    description: String,
    parts: Vec<PartEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartEntry {
    title: String,
    lessons: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Spanned<String>,
    slug: Spanned<String>,
    title: String,
    minutes: u32,
    objectives: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuizFile {
    #[allow(dead_code)] // read first, on its own, by `read_quiz_owner`; here so the key is allowed
    lesson: Spanned<String>,
    questions: Vec<Spanned<QuestionEntry>>,
}

/// Flat rather than a tagged enum so that every mistake can be reported at the question's own line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionEntry {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    prompt: String,
    context: String,
    choices: Option<Vec<Spanned<ChoiceEntry>>>,
    answers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceEntry {
    text: String,
    #[serde(default)]
    correct: bool,
    explanation: String,
}

#[derive(Default)]
struct KnownLessons {
    ids: Vec<String>,
    slugs: Vec<String>,
}

impl KnownLessons {
    /// Records the `id` and `slug` of a lesson file even when the rest of its front matter is wrong.
    fn salvage(&mut self, file: &SourceFile) {
        #[derive(Deserialize)]
        struct IdAndSlug {
            id: Option<String>,
            slug: Option<String>,
        }
        let front = file.text.split("+++").nth(1).unwrap_or_default();
        if let Ok(IdAndSlug { id, slug }) = toml::from_str(front) {
            self.ids.extend(id);
            self.slugs.extend(slug);
        }
    }
}

/// A lesson file whose front matter parsed; its body is rendered once every slug is known.
struct LessonSource {
    file: SourceFile,
    front: FrontMatter,
    body: Range<usize>,
}

/// Loads and validates the course in `lessons_dir`; image paths in lessons are checked against `public_dir`.
/// Returns every problem found, not just the first.
pub fn load_course(lessons_dir: &Path, public_dir: &Path) -> Result<Course, Vec<ContentError>> {
    let mut errors = Vec::new();
    let mut lesson_paths = Vec::new();
    let mut quiz_paths = Vec::new();
    match std::fs::read_dir(lessons_dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let path = entry.path();
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if name.ends_with(".quiz.toml") {
                    quiz_paths.push(path);
                } else if name.ends_with(".md") && name != "README.md" {
                    // README.md maps the source material's concepts to lessons: for authors, not a lesson.
                    lesson_paths.push(path);
                }
            }
        }
        Err(e) => {
            let message = format!("cannot read the lessons folder: {e}");
            return Err(vec![ContentError { file: lessons_dir.to_path_buf(), line: 1, message }]);
        }
    }
    lesson_paths.sort();
    quiz_paths.sort();

    let mut lessons: Vec<LessonSource> = Vec::new();
    // Ids and slugs of every lesson file, the broken ones included, so that a typo in one lesson's front matter
    // is reported once rather than again by every quiz, link and manifest entry that refers to it.
    let mut known = KnownLessons::default();
    for path in lesson_paths {
        match SourceFile::read(path) {
            Ok(file) => {
                known.salvage(&file);
                match read_front_matter(file) {
                    Ok(lesson) => lessons.push(lesson),
                    Err(e) => errors.push(e),
                }
            }
            Err(e) => errors.push(e),
        }
    }
    check_unique(&lessons, |l| &l.front.id, "lesson id", &mut errors);
    check_unique(&lessons, |l| &l.front.slug, "lesson slug", &mut errors);

    let links = LinkRules { slugs: &known.slugs, public_dir };

    // Lesson id → its quiz, or `None` when the quiz file exists but has errors (already reported).
    let mut quizzes: HashMap<String, Option<(PathBuf, Quiz)>> = HashMap::new();
    let mut patterns = Vec::new();
    for path in quiz_paths {
        let file = match SourceFile::read(path) {
            Ok(file) => file,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Some(lesson_id) = read_quiz_owner(&file, &known, &mut errors) else { continue };
        if let Some(Some((first, _))) = quizzes.get(&lesson_id) {
            let message = format!("lesson `{lesson_id}` already has a quiz in {}; merge the two", first.display());
            errors.push(file.error_at(0, message));
            continue;
        }
        let quiz =
            read_quiz(&file, &lesson_id, &links, &mut patterns, &mut errors).map(|quiz| (file.path.clone(), quiz));
        quizzes.insert(lesson_id, quiz);
    }

    let mut built: BTreeMap<String, Lesson> = BTreeMap::new();
    for source in &lessons {
        let id = source.front.id.get_ref().clone();
        let body = source.file.text[source.body.clone()].to_string();
        let mut body = render_blocks(&source.file, source.body.start, &body, &links, &mut errors);
        for block in &mut body {
            if let LessonBlock::Prediction(prediction) = block {
                prediction.key = prediction_key(&id, prediction);
            }
        }
        let quiz = quizzes.remove(&id);
        if quiz.is_none() {
            let stem = source.file.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let message = format!(
                "lesson `{id}` has no quiz: a lesson is complete when its quiz is passed, so add `{stem}.quiz.toml` \
                 beside it with `lesson = \"{id}\"`"
            );
            let line = source.line_of_front(source.front.id.span());
            errors.push(ContentError { file: source.file.path.clone(), line, message });
        }
        built.insert(
            id.clone(),
            Lesson {
                id,
                slug: source.front.slug.get_ref().clone(),
                title: source.front.title.clone(),
                minutes: source.front.minutes,
                objectives: source.front.objectives.clone(),
                body,
                quiz: quiz.flatten().map(|(_, quiz)| quiz),
            },
        );
    }

    errors.extend(predictable_answers(&patterns));
    let course = read_manifest(lessons_dir, &lessons, &known, &mut built, &mut errors);
    if errors.is_empty() {
        Ok(course.expect("a manifest without errors yields a course"))
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        errors.dedup();
        Err(errors)
    }
}

impl LessonSource {
    /// Front matter spans are relative to the TOML between the `+++` lines, which starts after the first line.
    fn body_offset_of_front(&self) -> usize {
        self.file.text.find('\n').map_or(0, |i| i + 1)
    }

    fn line_of_front(&self, span: Range<usize>) -> usize {
        self.file.line_of(span.start + self.body_offset_of_front())
    }
}

fn read_front_matter(file: SourceFile) -> Result<LessonSource, ContentError> {
    let missing = || {
        file.error_at(
            0,
            "a lesson starts with TOML front matter between `+++` lines (id, slug, title, minutes, objectives)",
        )
    };
    if !file.text.starts_with("+++\n") && !file.text.starts_with("+++\r\n") {
        return Err(missing());
    }
    let front_start = file.text.find('\n').map_or(0, |i| i + 1);
    let Some(close) = file.text[front_start..].find("\n+++").map(|i| front_start + i + 1) else {
        return Err(missing());
    };
    let body_start = file.text[close..].find('\n').map_or(file.text.len(), |i| close + i + 1);
    let front: FrontMatter = file.parse_toml(front_start..close)?;
    let slug = front.slug.get_ref();
    if !is_slug(slug) {
        let offset = front_start + front.slug.span().start;
        return Err(file.error_at(offset, format!("slug `{slug}` must be lower-case letters, digits and `-`")));
    }
    if front.objectives.is_empty() {
        return Err(file.error_at(front_start, "list at least one learning objective in `objectives`"));
    }
    Ok(LessonSource { body: body_start..file.text.len(), file, front })
}

fn check_unique(
    lessons: &[LessonSource],
    key: impl Fn(&LessonSource) -> &Spanned<String>,
    what: &str,
    errors: &mut Vec<ContentError>,
) {
    let mut seen: HashMap<&str, &LessonSource> = HashMap::new();
    for lesson in lessons {
        let value = key(lesson);
        if let Some(first) = seen.insert(value.get_ref(), lesson) {
            let line = lesson.line_of_front(value.span());
            let message = format!(
                "duplicate {what} `{}`: {} already uses it; pick another",
                value.get_ref(),
                first.file.path.display()
            );
            errors.push(ContentError { file: lesson.file.path.clone(), line, message });
        }
    }
}

fn read_quiz_owner(file: &SourceFile, known: &KnownLessons, errors: &mut Vec<ContentError>) -> Option<String> {
    #[derive(Deserialize)]
    struct Owner {
        lesson: Option<Spanned<String>>,
    }
    let owner: Owner = match file.parse_toml::<Owner>(0..file.text.len()) {
        Ok(owner) => owner,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let Some(lesson) = owner.lesson else {
        errors.push(file.error_at(0, "a quiz names its lesson: add `lesson = \"<lesson id>\"` at the top"));
        return None;
    };
    if !known.ids.contains(lesson.get_ref()) {
        let message = format!(
            "this quiz is for lesson `{}`, which does not exist (lesson ids: {})",
            lesson.get_ref(),
            known.ids.join(", ")
        );
        errors.push(file.error_at(lesson.span().start, message));
        return None;
    }
    Some(lesson.into_inner())
}

fn read_quiz(
    file: &SourceFile,
    lesson_id: &str,
    links: &LinkRules,
    patterns: &mut Vec<AnswerPattern>,
    errors: &mut Vec<ContentError>,
) -> Option<Quiz> {
    let quiz_file: QuizFile = match file.parse_toml(0..file.text.len()) {
        Ok(quiz) => quiz,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    if quiz_file.questions.len() < MIN_QUESTIONS {
        let count = quiz_file.questions.len();
        errors.push(file.error_at(
            0,
            format!(
                "this quiz has {count} question{}: a lesson's quiz needs at least {MIN_QUESTIONS}, one of them \
                 about what the learner's own run showed; add `[[questions]]`",
                if count == 1 { "" } else { "s" }
            ),
        ));
        if count == 0 {
            return None;
        }
    }
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut questions = Vec::new();
    for spanned in &quiz_file.questions {
        let at = spanned.span().start;
        let entry = spanned.get_ref();
        let line = file.line_of(at);
        if let Some(first_line) = seen_ids.insert(entry.id.clone(), line) {
            errors.push(
                file.error_at(at, format!("duplicate question id `{}` (first used on line {first_line})", entry.id)),
            );
        }
        if entry.context.trim().is_empty() {
            let message = format!("question `{}` has an empty `context`: say what the question is about", entry.id);
            errors.push(file.error_at(at, message));
        }
        let mut render = |text: &str| render_inline_markdown(file, at, text, links, errors);
        let prompt_html = render(&entry.prompt);
        let context_html = render(&entry.context);
        let kind = match (entry.kind.as_str(), &entry.choices, &entry.answers) {
            ("MultipleChoice", Some(choices), None) => {
                if choices.len() < 2 {
                    errors.push(file.error_at(at, format!("question `{}` needs at least two choices", entry.id)));
                }
                patterns.push(AnswerPattern {
                    file: file.path.clone(),
                    line,
                    id: entry.id.clone(),
                    correct: (0..choices.len()).filter(|&i| choices[i].get_ref().correct).collect(),
                    lengths: choices.iter().map(|c| c.get_ref().text.trim().chars().count()).collect(),
                });
                if !choices.iter().any(|c| c.get_ref().correct) {
                    let message = format!(
                        "question `{}` has no correct choice: mark at least one with `correct = true`",
                        entry.id
                    );
                    errors.push(file.error_at(at, message));
                }
                let choices = choices
                    .iter()
                    .map(|choice| {
                        let (at, choice) = (choice.span().start, choice.get_ref());
                        if choice.explanation.trim().is_empty() {
                            let message = format!(
                                "choice `{}` has an empty `explanation`: say why it is right, or why it is tempting \
                                 and wrong",
                                choice.text.trim()
                            );
                            errors.push(file.error_at(at, message));
                        }
                        Choice {
                            text_html: render_inline_markdown(file, at, &choice.text, links, errors),
                            correct: choice.correct,
                            explanation_html: render_inline_markdown(file, at, &choice.explanation, links, errors),
                        }
                    })
                    .collect();
                QuestionKind::MultipleChoice { choices }
            }
            ("ShortAnswer", None, Some(answers)) if answers.iter().any(|a| !normalise_answer(a).is_empty()) => {
                QuestionKind::ShortAnswer { answers: answers.iter().map(|a| normalise_answer(a)).collect() }
            }
            ("ShortAnswer", None, _) => {
                let message = format!("question `{}` has no answer: add `answers = [\"...\"]`", entry.id);
                errors.push(file.error_at(at, message));
                continue;
            }
            ("MultipleChoice", None, _) => {
                let message = format!("question `{}` has no choices: add `[[questions.choices]]` entries", entry.id);
                errors.push(file.error_at(at, message));
                continue;
            }
            ("MultipleChoice" | "ShortAnswer", _, _) => {
                let message = format!(
                    "question `{}`: a MultipleChoice question has `choices`, a ShortAnswer question has `answers`, \
                     not both",
                    entry.id
                );
                errors.push(file.error_at(at, message));
                continue;
            }
            (other, _, _) => {
                let message =
                    format!("question `{}` has unknown type `{other}`: use MultipleChoice or ShortAnswer", entry.id);
                errors.push(file.error_at(at, message));
                continue;
            }
        };
        let mut question = Question { id: entry.id.clone(), key: String::new(), prompt_html, context_html, kind };
        question.key = question_key(lesson_id, &question);
        questions.push(question);
    }
    Some(Quiz { questions })
}

/// Where a multiple-choice question's right answers are in its file, and how long each choice is: what a reader
/// could guess the answer from without reading.
struct AnswerPattern {
    file: PathBuf,
    line: usize,
    id: String,
    /// Indices of the right choices, in file order.
    correct: Vec<usize>,
    /// Characters in each choice's text.
    lengths: Vec<usize>,
}

impl AnswerPattern {
    fn error(&self, message: String) -> ContentError {
        ContentError { file: self.file.clone(), line: self.line, message: format!("question `{}`: {message}", self.id) }
    }

    /// The right choice is longer than every other one.
    fn right_is_longest(&self) -> bool {
        let [right] = self.correct[..] else { return false };
        self.lengths.iter().enumerate().all(|(i, &length)| i == right || length < self.lengths[right])
    }
}

/// Fewer single-answer questions than this say nothing about a pattern (three right answers in one place can be
/// chance); from this many on, the checks on them apply. Select-all questions are checked from two on.
const PATTERN_MIN_QUESTIONS: usize = 4;

/// The checks that keep a quiz from being passed without reading, over the whole course: the right answer of a
/// single-answer question is not in the same place (in the file) in more than half of them, nor the longest choice
/// in more than half; the right answers of select-all questions are not always the first ones. Each offending
/// question is reported at its line. (The page also shuffles choices per learner: `choice_order`.)
fn predictable_answers(patterns: &[AnswerPattern]) -> Vec<ContentError> {
    let mut errors = Vec::new();
    let single: Vec<&AnswerPattern> = patterns.iter().filter(|p| p.correct.len() == 1).collect();
    if single.len() >= PATTERN_MIN_QUESTIONS {
        let total = single.len();
        let mut at_position: BTreeMap<usize, Vec<&AnswerPattern>> = BTreeMap::new();
        for pattern in &single {
            at_position.entry(pattern.correct[0]).or_default().push(pattern);
        }
        for (position, same) in at_position.into_iter().filter(|(_, same)| same.len() * 2 > total) {
            for pattern in &same {
                errors.push(pattern.error(format!(
                    "the right answer is choice {} here and in {} of the course's {total} single-answer questions \
                     (more than half): put right answers in varied places",
                    position + 1,
                    same.len()
                )));
            }
        }
        let longest: Vec<&&AnswerPattern> = single.iter().filter(|p| p.right_is_longest()).collect();
        if longest.len() * 2 > total {
            for pattern in &longest {
                errors.push(pattern.error(format!(
                    "the right answer is the longest choice here and in {} of the course's {total} single-answer \
                     questions (more than half), so length gives it away: tighten it, or make a distractor as \
                     specific",
                    longest.len()
                )));
            }
        }
    }
    let several: Vec<&AnswerPattern> = patterns.iter().filter(|p| p.correct.len() > 1).collect();
    let is_prefix = |p: &&AnswerPattern| p.correct.iter().enumerate().all(|(i, &choice)| i == choice);
    if several.len() >= 2 && several.iter().all(is_prefix) {
        for pattern in &several {
            errors.push(pattern.error(format!(
                "the right answers are the first {} choices, as in every select-all question of the course: \
                 mix right and wrong choices",
                pattern.correct.len()
            )));
        }
    }
    errors
}

fn read_manifest(
    lessons_dir: &Path,
    lessons: &[LessonSource],
    known: &KnownLessons,
    built: &mut BTreeMap<String, Lesson>,
    errors: &mut Vec<ContentError>,
) -> Option<Course> {
    let file = match SourceFile::read(lessons_dir.join("course.toml")) {
        Ok(file) => file,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let manifest: ManifestFile = match file.parse_toml(0..file.text.len()) {
        Ok(manifest) => manifest,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut parts = Vec::new();
    for part in manifest.parts {
        let mut part_lessons = Vec::new();
        for id in part.lessons {
            match built.remove(id.get_ref()) {
                Some(lesson) => part_lessons.push(lesson),
                // Its file has errors of its own, already reported.
                None if known.ids.contains(id.get_ref())
                    && !lessons.iter().any(|l| l.front.id.get_ref() == id.get_ref()) => {}
                None => {
                    let message = if lessons.iter().any(|l| l.front.id.get_ref() == id.get_ref()) {
                        format!("lesson `{}` is listed twice; list each lesson once", id.get_ref())
                    } else {
                        format!("no lesson has id `{}`: check the `id` in the lesson's front matter", id.get_ref())
                    };
                    errors.push(file.error_at(id.span().start, message));
                }
            }
        }
        parts.push(Part { title: part.title, lessons: part_lessons });
    }
    for unlisted in built.keys() {
        let lesson = lessons.iter().find(|l| l.front.id.get_ref() == unlisted).expect("built from these lessons");
        let message = format!("lesson `{unlisted}` is not listed in course.toml: add it to a part's `lessons`");
        errors.push(ContentError {
            file: lesson.file.path.clone(),
            line: lesson.line_of_front(lesson.front.id.span()),
            message,
        });
    }
    Some(Course { title: manifest.title, description: manifest.description, parts })
}

/// The site's tools, which a lesson may link to besides other lessons (`[the data studio](/studio)`, with a query
/// too: `/playground?data=instructions`); `ui` routes them.
pub const TOOL_PAGES: [&str; 2] = ["/playground", "/studio"];

/// What a link or image in lesson content may point at.
struct LinkRules<'a> {
    slugs: &'a [String],
    public_dir: &'a Path,
}

impl LinkRules<'_> {
    fn check_link(&self, url: &str) -> Result<(), String> {
        if url.starts_with("https://")
            || url.starts_with("http://")
            || url.starts_with("mailto:")
            || url.starts_with('#')
        {
            return Ok(());
        }
        let path = url.split(['#', '?']).next().unwrap_or_default();
        if TOOL_PAGES.contains(&path) {
            return Ok(());
        }
        let Some(rest) = url.strip_prefix("/learn/") else {
            return Err(format!(
                "link `{url}`: link to a lesson as `/learn/<slug>`, to a tool ({}), or give a full https:// address",
                TOOL_PAGES.join(", ")
            ));
        };
        let slug = rest.split(['#', '?']).next().unwrap_or_default();
        if self.slugs.iter().any(|s| s == slug) {
            Ok(())
        } else {
            Err(format!("broken link `{url}`: no lesson has slug `{slug}` (slugs: {})", self.slugs.join(", ")))
        }
    }

    fn check_image(&self, url: &str) -> Result<(), String> {
        let Some(relative) = url.strip_prefix('/') else {
            return Err(format!("image `{url}`: images come from the site itself, as `/diagrams/<file>`"));
        };
        if relative.split('/').any(|part| part == "..") || !self.public_dir.join(relative).is_file() {
            return Err(format!(
                "image `{url}` not found: put the file at {}",
                self.public_dir.join(relative).display()
            ));
        }
        Ok(())
    }
}

/// The fewest questions a lesson's quiz may have.
pub const MIN_QUESTIONS: usize = 4;

/// A ```` ```predict ```` block: TOML with the prediction's `id`, its `question`, its `choices` and its `outcome`,
/// the number (from 1) of the choice the lesson's recorded run bore out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictionEntry {
    id: String,
    question: String,
    choices: Vec<String>,
    outcome: Option<usize>,
}

/// The fenced blocks that are not code: what they become in the lesson.
#[derive(Clone, Copy)]
enum Fence {
    Demo,
    Predict,
}

impl Fence {
    /// The fence a code block's info string names, if it is one of ours.
    fn named(info: &str) -> Option<Fence> {
        match info {
            "demo" => Some(Fence::Demo),
            "predict" => Some(Fence::Predict),
            _ => None,
        }
    }
}

/// Lower-case letters, digits and `-`, at least one: lesson slugs and prediction ids.
fn is_slug(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Renders lesson Markdown into HTML blocks split around ```` ```demo ```` and ```` ```predict ```` blocks,
/// refusing what would be unsafe or broken in the page, and sanitises the HTML. A demo needs a prediction before
/// it: the learner commits to a guess before the live element runs.
fn render_blocks(
    file: &SourceFile,
    base_offset: usize,
    markdown: &str,
    links: &LinkRules,
    errors: &mut Vec<ContentError>,
) -> Vec<LessonBlock> {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut blocks = Vec::new();
    let mut events = Vec::new();
    let mut fenced: Option<(usize, Fence, String)> = None;
    let mut prediction_ids: Vec<String> = Vec::new();
    for (event, range) in parser.into_offset_iter() {
        let at = base_offset + range.start;
        if let Some((_, _, text)) = &mut fenced {
            match event {
                Event::Text(more) => text.push_str(&more),
                Event::End(TagEnd::CodeBlock) => {
                    let (start, fence, text) = fenced.take().expect("inside a fenced block");
                    let block = match fence {
                        Fence::Demo => read_demo(file, start, text.trim(), !prediction_ids.is_empty(), errors),
                        Fence::Predict => read_prediction(file, start, &text, links, &mut prediction_ids, errors),
                    };
                    if let Some(block) = block {
                        blocks.push(LessonBlock::Html(html_of(std::mem::take(&mut events))));
                        blocks.push(block);
                    }
                }
                _ => {}
            }
            continue;
        }
        let problem = match &event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if Fence::named(info).is_some() => {
                fenced = Fence::named(info).map(|fence| (at, fence, String::new()));
                continue;
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                Some("raw HTML is not allowed in lessons: write it in Markdown".to_string())
            }
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) => {
                Some("level-1 heading: the lesson title comes from the front matter; start sections at `##`".into())
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.check_link(dest_url).err(),
            Event::Start(Tag::Image { dest_url, .. }) => links.check_image(dest_url).err(),
            _ => None,
        };
        if let Some(message) = problem {
            errors.push(file.error_at(at, message));
        }
        events.push(relative_to_base(event));
    }
    blocks.push(LessonBlock::Html(html_of(events)));
    blocks.retain(|block| !matches!(block, LessonBlock::Html(html) if html.trim().is_empty()));
    blocks
}

fn read_demo(
    file: &SourceFile,
    start: usize,
    name: &str,
    after_a_prediction: bool,
    errors: &mut Vec<ContentError>,
) -> Option<LessonBlock> {
    let Some(kind) = DemoKind::from_name(name) else {
        let names: Vec<&str> = DemoKind::ALL.iter().map(|kind| kind.name()).collect();
        errors.push(file.error_at(start, format!("unknown demo `{name}`: demos are {}", names.join(", "))));
        return None;
    };
    if !after_a_prediction {
        errors.push(file.error_at(
            start,
            format!(
                "demo `{name}` has no prediction before it: add a ```predict block above it (`id`, `question`, \
                 `choices`), so the learner commits to a guess before the run"
            ),
        ));
    }
    Some(LessonBlock::Demo(kind))
}

/// Reads a ```` ```predict ```` block that starts (its fence) at `start`; `ids` are those of the lesson's earlier
/// predictions. Its key is set once the lesson's id is known (`load_course`).
fn read_prediction(
    file: &SourceFile,
    start: usize,
    toml_text: &str,
    links: &LinkRules,
    ids: &mut Vec<String>,
    errors: &mut Vec<ContentError>,
) -> Option<LessonBlock> {
    // The TOML starts on the line after the fence.
    let line_in_block =
        |offset: usize| file.line_of(start) + 1 + toml_text[..offset.min(toml_text.len())].matches('\n').count();
    let error = |line: usize, message: String| ContentError { file: file.path.clone(), line, message };
    let entry: PredictionEntry = match toml::from_str(toml_text) {
        Ok(entry) => entry,
        Err(e) => {
            let line = line_in_block(e.span().map_or(0, |span| span.start));
            errors.push(error(line, format!("in this ```predict block: {}", e.message().trim())));
            return None;
        }
    };
    let line = file.line_of(start);
    let mut problems = Vec::new();
    if !is_slug(&entry.id) {
        problems.push(format!("prediction id `{}` must be lower-case letters, digits and `-`", entry.id));
    } else if ids.contains(&entry.id) {
        problems.push(format!("prediction id `{}` is used twice in this lesson; pick another", entry.id));
    }
    if entry.question.trim().is_empty() {
        problems.push(format!("prediction `{}` has no question", entry.id));
    }
    if entry.choices.len() < 2 || entry.choices.iter().any(|choice| choice.trim().is_empty()) {
        problems.push(format!("prediction `{}` needs at least two choices, none of them empty", entry.id));
    }
    let outcome = match entry.outcome {
        Some(n) if (1..=entry.choices.len()).contains(&n) => n - 1,
        Some(n) => {
            problems.push(format!(
                "prediction `{}`: outcome {n} is not one of its choices (1 to {})",
                entry.id,
                entry.choices.len()
            ));
            0
        }
        None => {
            problems.push(format!(
                "prediction `{}` has no outcome: add `outcome = N`, the number (from 1) of the choice the recorded run bore out",
                entry.id
            ));
            0
        }
    };
    ids.push(entry.id.clone());
    if !problems.is_empty() {
        errors.extend(problems.into_iter().map(|message| error(line, message)));
        return None;
    }
    let mut render = |text: &str| render_inline_markdown(file, start, text, links, errors);
    let question_html = render(&entry.question);
    let choices_html = entry.choices.iter().map(|choice| render(choice)).collect();
    Some(LessonBlock::Prediction(Prediction { id: entry.id, key: String::new(), question_html, choices_html, outcome }))
}

/// Lessons name the site's own pages and files from its root (`/learn/…`, `/diagrams/…`); the page gets them
/// relative (`learn/…`), so the browser resolves them against its `<base href>` and a site served under a sub-path
/// (`/tinytune/learn/…`) keeps working.
fn relative_to_base(event: Event<'_>) -> Event<'_> {
    fn relative(url: CowStr<'_>) -> CowStr<'_> {
        match url.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => CowStr::from(rest.to_string()),
            _ => url,
        }
    }
    match event {
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: relative(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: relative(dest_url), title, id })
        }
        other => other,
    }
}

fn html_of(events: Vec<Event>) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // Defence in depth: the checks above already refuse raw HTML, and this guarantees nothing unsafe gets through.
    // Then wide tables and code blocks, which scroll sideways on a narrow screen, become focusable, so the keyboard
    // can scroll them too (ammonia drops `tabindex`, so it is added after).
    ammonia::clean(&html).replace("<table>", r#"<table tabindex="0">"#).replace("<pre>", r#"<pre tabindex="0">"#)
}

/// Markdown for one short piece of quiz text (prompt, choice, explanation), without the wrapping paragraph.
/// Quiz TOML strings carry no source positions, so problems are reported at `offset`, the entry's line.
fn render_inline_markdown(
    file: &SourceFile,
    offset: usize,
    markdown: &str,
    links: &LinkRules,
    errors: &mut Vec<ContentError>,
) -> String {
    let mut scratch = Vec::new();
    let mut html = String::new();
    for block in render_blocks(file, 0, markdown, links, &mut scratch) {
        match block {
            LessonBlock::Html(part) => html.push_str(&part),
            LessonBlock::Demo(kind) => {
                scratch.push(file.error_at(0, format!("demo `{}` belongs in a lesson, not a quiz", kind.name())))
            }
            LessonBlock::Prediction(prediction) => scratch
                .push(file.error_at(0, format!("prediction `{}` belongs in a lesson, not a quiz", prediction.id))),
        }
    }
    errors.extend(scratch.into_iter().map(|e| ContentError { line: file.line_of(offset), ..e }));
    let trimmed = html.trim();
    match trimmed.strip_prefix("<p>").and_then(|rest| rest.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => trimmed.to_string(),
    }
}
