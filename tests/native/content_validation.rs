//! Bad lesson content must fail with the file and line to fix; the real course must validate.

use std::path::{Path, PathBuf};

use tinytune::course::content::{load_course, ContentError};
use tinytune::course::{DemoKind, LessonBlock, QuestionKind};

const MINIMAL: &str = "tests/fixtures/minimal-course";

/// Copies the course at `root` into a scratch folder and applies `edit(file name, text) -> new text` to each file.
fn course_with(root: &str, edit: impl Fn(&str, &str) -> String) -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let lessons = scratch.path().join("lessons");
    std::fs::create_dir(&lessons).unwrap();
    for entry in std::fs::read_dir(Path::new(root).join("lessons")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(lessons.join(&name), edit(&name, &text)).unwrap();
    }
    (scratch, lessons)
}

fn minimal_course_with(edit: impl Fn(&str, &str) -> String) -> (tempfile::TempDir, PathBuf) {
    course_with(MINIMAL, edit)
}

/// The errors for the course at `root` after `edit`, as the build prints them (file name, line, message).
fn errors_in(root: &str, edit: impl Fn(&str, &str) -> String) -> Vec<String> {
    let (_scratch, lessons) = course_with(root, edit);
    let public = Path::new(root).join("public");
    match load_course(&lessons, &public) {
        Ok(_) => vec![],
        // Paths are made relative to the scratch folder so the assertions read like the build's output.
        Err(errors) => errors
            .iter()
            .map(|e| {
                let file = e.file.file_name().unwrap().to_string_lossy();
                format!("{file}:{}: {}", e.line, e.message)
            })
            .collect(),
    }
}

fn errors_for(edit: impl Fn(&str, &str) -> String) -> Vec<String> {
    errors_in(MINIMAL, edit)
}

fn assert_one_error(errors: &[String], expected_start: &str, expected_words: &str) {
    assert_eq!(errors.len(), 1, "expected exactly one error, got {errors:#?}");
    assert!(errors[0].starts_with(expected_start), "expected `{expected_start}…`, got `{}`", errors[0]);
    assert!(errors[0].contains(expected_words), "expected `{expected_words}` in `{}`", errors[0]);
}

fn replace_in(file: &'static str, from: &'static str, to: &'static str) -> impl Fn(&str, &str) -> String {
    move |name, text| if name == file { text.replacen(from, to, 1) } else { text.to_string() }
}

#[test]
fn minimal_course_fixture_is_valid() {
    let course = load_course(&Path::new(MINIMAL).join("lessons"), &Path::new(MINIMAL).join("public")).unwrap();
    let slugs: Vec<&str> = course.lessons().map(|l| l.slug.as_str()).collect();
    assert_eq!(slugs, ["intro", "next-steps"]);
    let intro = course.lesson_by_slug("intro").unwrap();
    let [LessonBlock::Html(body)] = intro.body.as_slice() else { panic!("{:?}", intro.body) };
    assert!(body.contains("<h2>Start here</h2>"));
    assert!(body.contains(r#"href="learn/next-steps""#), "site links are relative to the page's base: {body}");
    let quiz = intro.quiz.as_ref().unwrap();
    assert_eq!(quiz.questions[1].prompt_html, "Name the <strong>method</strong>.");
    assert_eq!(
        quiz.questions[1].kind,
        QuestionKind::ShortAnswer { answers: vec!["lora".into(), "low-rank adaptation".into()] }
    );
}

#[test]
fn broken_lesson_fixture_fails_with_file_and_line() {
    let root = Path::new("tests/fixtures/broken-lesson");
    let errors: Vec<ContentError> = load_course(&root.join("lessons"), &root.join("public")).unwrap_err();
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(rendered.len(), 1, "{rendered:#?}");
    assert!(
        rendered[0].starts_with("tests/fixtures/broken-lesson/lessons/01-broken.md:6: unknown field `objective`"),
        "{rendered:#?}"
    );
}

#[test]
fn unknown_front_matter_key_is_reported_at_its_line() {
    let errors = errors_for(replace_in("02-next.md", "minutes = 3\n", "minutes = 3\ncolour = \"red\"\n"));
    assert_one_error(&errors, "02-next.md:6:", "unknown field `colour`");
}

#[test]
fn unknown_quiz_key_is_reported_at_its_line() {
    let errors = errors_for(replace_in("01-intro.quiz.toml", "correct = true\n", "correct = true\nhint = \"x\"\n"));
    assert_one_error(&errors, "01-intro.quiz.toml:12:", "unknown field `hint`");
}

#[test]
fn duplicate_lesson_id_names_both_files() {
    let errors = errors_for(replace_in("02-next.md", "id = \"next\"", "id = \"intro\""));
    // The second file is wrong; and its quiz and the manifest then point at a lesson that is not there.
    assert!(
        errors.iter().any(|e| e.starts_with("02-next.md:2: duplicate lesson id `intro`") && e.contains("01-intro.md")),
        "{errors:#?}"
    );
}

#[test]
fn a_quiz_needs_four_questions() {
    let three = |name: &str, text: &str| match name {
        // The last question of the fixture's quiz, dropped.
        "01-intro.quiz.toml" => text[..text.rfind("[[questions]]").unwrap()].to_string(),
        _ => text.to_string(),
    };
    assert_one_error(
        &errors_for(three),
        "01-intro.quiz.toml:1:",
        "this quiz has 3 questions: a lesson's quiz needs at least 4",
    );
}

#[test]
fn missing_answer_fails_for_both_question_types() {
    let no_correct_choice = |name: &str, text: &str| {
        if name == "02-next.quiz.toml" {
            text.replace("correct = true\n", "")
        } else {
            text.to_string()
        }
    };
    assert_one_error(&errors_for(no_correct_choice), "02-next.quiz.toml:3:", "no correct choice");

    let errors = errors_for(replace_in("01-intro.quiz.toml", "answers = [\"LoRA\", \"low-rank adaptation\"]\n", ""));
    assert_one_error(&errors, "01-intro.quiz.toml:18:", "has no answer");
}

#[test]
fn broken_internal_link_is_reported_at_its_line() {
    let errors = errors_for(replace_in("01-intro.md", "/learn/next-steps", "/learn/next-step"));
    assert_one_error(&errors, "01-intro.md:11:", "no lesson has slug `next-step`");
}

#[test]
fn a_link_to_a_tool_passes_and_a_link_to_any_other_site_page_is_refused() {
    assert_eq!(
        errors_for(replace_in("01-intro.md", "/learn/next-steps", "/playground?data=letters")),
        Vec::<String>::new()
    );
    let errors = errors_for(replace_in("01-intro.md", "/learn/next-steps", "/studios"));
    assert_one_error(
        &errors,
        "01-intro.md:11:",
        "link `/studios`: link to a lesson as `/learn/<slug>`, to a tool (/playground, /studio)",
    );
}

#[test]
fn missing_image_is_reported() {
    let errors = errors_for(replace_in("01-intro.md", "/diagrams/box.svg", "/diagrams/circle.svg"));
    assert_one_error(&errors, "01-intro.md:13:", "image `/diagrams/circle.svg` not found");
}

#[test]
fn quiz_for_a_missing_lesson_fails() {
    let errors = errors_for(|name, text| {
        let text = text.to_string();
        match name {
            "02-next.quiz.toml" => text.replace("lesson = \"next\"", "lesson = \"nxt\""),
            _ => text,
        }
    });
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("02-next.quiz.toml:1: this quiz is for lesson `nxt`, which does not exist")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.starts_with("02-next.md:2: lesson `next` has no quiz")), "{errors:#?}");
}

#[test]
fn raw_html_and_level_one_headings_are_refused() {
    let errors = errors_for(replace_in("02-next.md", "Back to", "# Title\n\n<script>alert(1)</script>\n\nBack to"));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("02-next.md:9: level-1 heading"), "{errors:#?}");
    assert!(errors[1].starts_with("02-next.md:11: raw HTML is not allowed"), "{errors:#?}");
}

#[test]
fn manifest_must_list_every_lesson_and_only_real_ones() {
    let errors = errors_for(replace_in("course.toml", "[\"intro\", \"next\"]", "[\"intro\", \"later\"]"));
    assert!(errors.iter().any(|e| e.starts_with("course.toml:6: no lesson has id `later`")), "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.starts_with("02-next.md:2: lesson `next` is not listed in course.toml")),
        "{errors:#?}"
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let errors = errors_for(|name, text| match name {
        "01-intro.md" => text.replace("/learn/next-steps", "/learn/nowhere"),
        "02-next.md" => text.replace("/learn/intro#", "/learn/elsewhere#"),
        _ => text.to_string(),
    });
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn the_real_course_validates_and_each_quiz_explains_every_choice() {
    let course = load_course(Path::new("lessons"), Path::new("public")).unwrap_or_else(|errors| {
        panic!(
            "lessons/ has content errors:\n{}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        )
    });
    assert!(course.lessons().count() >= 3);
    for lesson in course.lessons() {
        let quiz = lesson.quiz.as_ref().expect("every lesson has a quiz");
        for question in &quiz.questions {
            assert!(!question.context_html.is_empty(), "{}/{} has no context", lesson.slug, question.id);
            if let QuestionKind::MultipleChoice { choices } = &question.kind {
                assert!(choices.iter().all(|c| !c.explanation_html.is_empty()), "{}/{}", lesson.slug, question.id);
            }
        }
    }
}

/// Lesson 2 of the minimal course with `blocks` (Markdown) inserted before its last paragraph.
fn next_lesson_with(blocks: impl Into<String>) -> impl Fn(&str, &str) -> String {
    let blocks = blocks.into();
    move |file, text| {
        if file == "02-next.md" {
            text.replace("Back to", &format!("{blocks}\n\nBack to"))
        } else {
            text.to_string()
        }
    }
}

const PREDICT: &str =
    "Before.\n\n```predict\nid = \"drift\"\nquestion = \"Will the *drift* rise?\"\nchoices = [\"Rise\", \"Fall\"]\noutcome = 1\n```";

#[test]
fn a_prediction_and_a_demo_split_the_lesson_and_the_prediction_is_keyed_to_its_content() {
    let (_scratch, lessons) = minimal_course_with(next_lesson_with(format!("{PREDICT}\n\n```demo\nfirst-lora\n```")));
    let course = load_course(&lessons, &Path::new(MINIMAL).join("public")).unwrap();
    let lesson = course.lesson_by_slug("next-steps").unwrap();
    let [LessonBlock::Html(before), LessonBlock::Prediction(prediction), LessonBlock::Demo(name), LessonBlock::Html(after)] =
        lesson.body.as_slice()
    else {
        panic!("{:?}", lesson.body)
    };
    assert!(before.contains("Before.") && after.contains("Back to"), "{:?}", lesson.body);
    assert_eq!(*name, DemoKind::FirstLora);
    assert_eq!(
        (prediction.id.as_str(), prediction.question_html.as_str(), prediction.choices_html.clone()),
        ("drift", "Will the <em>drift</em> rise?", vec!["Rise".to_string(), "Fall".to_string()])
    );
    assert_eq!(prediction.key.len(), 32, "a hex hash");
    assert_eq!(prediction.outcome, 0, "`outcome = 1` is the first choice");
    assert_eq!(lesson.predictions().count(), 1);
}

#[test]
fn a_demo_needs_a_known_name_and_a_prediction_before_it() {
    assert_one_error(
        &errors_for(next_lesson_with("```demo\nfirst-lora\n```")),
        "02-next.md:9:",
        "demo `first-lora` has no prediction before it: add a ```predict block above it",
    );
    let unknown = errors_for(next_lesson_with(format!("{PREDICT}\n\n```demo\nsecond-lora\n```")));
    assert_one_error(&unknown, "02-next.md:18:", "unknown demo `second-lora`");
}

#[test]
fn a_broken_prediction_is_reported_at_its_line() {
    let bad_toml = "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"x\", \"y\"\n```";
    let errors = errors_for(next_lesson_with(bad_toml));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("02-next.md:12: in this ```predict block:"), "{errors:#?}");

    let unknown_key =
        "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"x\", \"y\"]\nanswer = 1\noutcome = 1\n```";
    assert_one_error(&errors_for(next_lesson_with(unknown_key)), "02-next.md:13:", "unknown field `answer`");

    let one_choice = "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"only\"]\noutcome = 1\n```";
    assert_one_error(&errors_for(next_lesson_with(one_choice)), "02-next.md:9:", "needs at least two choices");

    let twice = "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"x\", \"y\"]\noutcome = 1\n```\n\n```predict\nid = \"a\"\nquestion = \"R?\"\nchoices = [\"x\", \"y\"]\noutcome = 2\n```";
    assert_one_error(&errors_for(next_lesson_with(twice)), "02-next.md:16:", "prediction id `a` is used twice");

    // The completion page sets each guess against the choice the recorded run bore out: every prediction names it.
    let no_outcome = "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"x\", \"y\"]\n```";
    assert_one_error(
        &errors_for(next_lesson_with(no_outcome)),
        "02-next.md:9:",
        "prediction `a` has no outcome: add `outcome = N`, the number (from 1) of the choice the recorded run bore out",
    );
    let past_the_end = "```predict\nid = \"a\"\nquestion = \"Q?\"\nchoices = [\"x\", \"y\"]\noutcome = 3\n```";
    assert_one_error(
        &errors_for(next_lesson_with(past_the_end)),
        "02-next.md:9:",
        "prediction `a`: outcome 3 is not one of its choices (1 to 2)",
    );
}

const PREDICTABLE: &str = "tests/fixtures/predictable-quiz";

#[test]
fn a_quiz_whose_right_answers_are_first_longest_or_a_prefix_fails_at_each_question() {
    let errors = errors_in(PREDICTABLE, |_, text| text.to_string());
    let quiz = "01-guessable.quiz.toml";
    let mut expected = Vec::new();
    for (i, line) in [3, 26, 49, 72, 95].into_iter().enumerate() {
        let question = format!("{quiz}:{line}: question `single-{}`: ", i + 1);
        expected.push(format!(
            "{question}the right answer is choice 1 here and in 5 of the course's 5 single-answer questions (more \
             than half): put right answers in varied places"
        ));
        expected.push(format!(
            "{question}the right answer is the longest choice here and in 5 of the course's 5 single-answer \
             questions (more than half), so length gives it away: tighten it, or make a distractor as specific"
        ));
    }
    for (i, line) in [118, 138].into_iter().enumerate() {
        expected.push(format!(
            "{quiz}:{line}: question `several-{}`: the right answers are the first 2 choices, as in every \
             select-all question of the course: mix right and wrong choices",
            i + 1
        ));
    }
    assert_eq!(errors, expected);
}

#[test]
fn varied_places_and_lengths_pass_and_each_check_fires_on_its_own() {
    // Moves question n's right answer to place n mod 4 (places 1, 2, 3, 4, 1: no place has more than half) and
    // makes three of the five right answers no longer than a distractor.
    let varied = |_: &str, text: &str| {
        let mut out = String::new();
        for (n, question) in text.split("[[questions]]").enumerate() {
            if n > 0 {
                out.push_str("[[questions]]");
            }
            let mut parts: Vec<String> = question.split("[[questions.choices]]").map(str::to_string).collect();
            if (1..=5).contains(&n) {
                parts[1..].rotate_right((n - 1) % 4);
                if n <= 3 {
                    for part in &mut parts[1..] {
                        *part = part.replace("A short mistake", "A long, confident and carefully worded mistake");
                    }
                }
            }
            if n == 7 {
                parts[1..].rotate_right(1);
            }
            out.push_str(&parts.join("[[questions.choices]]"));
        }
        out
    };
    assert_eq!(errors_in(PREDICTABLE, varied), Vec::<String>::new());

    // Only the lengths: every right answer first again, but three of five not the longest.
    let same_place_only =
        |_: &str, text: &str| text.replacen("A short mistake", "A long, confident and carefully worded mistake", 3);
    let errors = errors_in(PREDICTABLE, same_place_only);
    assert_eq!(errors.len(), 5 + 2, "{errors:#?}");
    assert!(errors.iter().filter(|e| e.contains("is choice 1 here")).count() == 5, "{errors:#?}");

    // Fewer than four single-answer questions and one select-all question: too few to call a pattern.
    let few = |name: &str, text: &str| {
        let questions: Vec<&str> = text.split("[[questions]]").collect();
        match name {
            "01-guessable.quiz.toml" => {
                [questions[0], questions[1], questions[2], questions[3], questions[6]].join("[[questions]]")
            }
            _ => text.to_string(),
        }
    };
    assert_eq!(errors_in(PREDICTABLE, few), Vec::<String>::new());
}

#[test]
fn every_choice_is_explained_and_every_question_has_a_context() {
    let errors = errors_for(replace_in(
        "01-intro.quiz.toml",
        r#"explanation = "There is a second lesson.""#,
        r#"explanation = " ""#,
    ));
    assert_one_error(&errors, "01-intro.quiz.toml:14:", "choice `None` has an empty `explanation`");
    let errors =
        errors_for(replace_in("01-intro.quiz.toml", r#"context = "The manifest fixes the order.""#, r#"context = """#));
    assert_one_error(&errors, "01-intro.quiz.toml:3:", "question `which` has an empty `context`");
}
