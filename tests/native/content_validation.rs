//! Bad lesson content must fail with the file and line to fix; the real course must validate.

use std::path::{Path, PathBuf};

use tinytune::course::content::{load_course, ContentError};
use tinytune::course::{LessonBlock, QuestionKind};

const MINIMAL: &str = "tests/fixtures/minimal-course";

/// Copies the minimal course into a scratch folder and applies `edit(file name, text) -> new text` to each file.
fn minimal_course_with(edit: impl Fn(&str, &str) -> String) -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let lessons = scratch.path().join("lessons");
    std::fs::create_dir(&lessons).unwrap();
    for entry in std::fs::read_dir(Path::new(MINIMAL).join("lessons")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(lessons.join(&name), edit(&name, &text)).unwrap();
    }
    (scratch, lessons)
}

fn errors_for(edit: impl Fn(&str, &str) -> String) -> Vec<String> {
    let (_scratch, lessons) = minimal_course_with(edit);
    let public = Path::new(MINIMAL).join("public");
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
        assert!(quiz.questions.len() >= 4, "{} has {} questions", lesson.slug, quiz.questions.len());
        for question in &quiz.questions {
            assert!(!question.context_html.is_empty(), "{}/{} has no context", lesson.slug, question.id);
            if let QuestionKind::MultipleChoice { choices } = &question.kind {
                assert!(choices.iter().all(|c| !c.explanation_html.is_empty()), "{}/{}", lesson.slug, question.id);
            }
        }
    }
}

#[test]
fn a_demo_block_splits_the_lesson_and_unknown_demos_fail() {
    let with_demo = |name: &'static str| {
        move |file: &str, text: &str| {
            if file == "02-next.md" {
                text.replace("Back to", &format!("Before.\n\n```demo\n{name}\n```\n\nBack to"))
            } else {
                text.to_string()
            }
        }
    };
    let (_scratch, lessons) = minimal_course_with(with_demo("first-lora"));
    let course = load_course(&lessons, &Path::new(MINIMAL).join("public")).unwrap();
    let blocks = &course.lesson_by_slug("next-steps").unwrap().body;
    assert!(
        matches!(blocks.as_slice(), [LessonBlock::Html(before), LessonBlock::Demo(name), LessonBlock::Html(after)]
        if before.contains("Before.") && name == "first-lora" && after.contains("Back to")),
        "{blocks:?}"
    );

    assert_one_error(&errors_for(with_demo("second-lora")), "02-next.md:11:", "unknown demo `second-lora`");
}
