//! The course: lessons and quizzes as validated content, quiz grading, the order a learner sees choices in, and
//! the learner's progress.

pub mod choice_order;
pub mod demos;
pub mod progress;
pub mod quiz;
pub mod schema;

#[cfg(not(target_arch = "wasm32"))]
pub mod content;

pub use demos::DemoKind;
pub use schema::{Choice, Course, Lesson, LessonBlock, Part, Prediction, Question, QuestionKind, Quiz};

/// The course as validated by build.rs from `lessons/`. For the page alone: a native build leaves the text out, so
/// editing a lesson leaves the CLI byte for byte the same (its hash keys the build-time recordings,
/// `tools/site-model.sh`).
#[cfg(feature = "ui")]
pub fn embedded_course() -> Course {
    serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/course.json")))
        .expect("build.rs writes a course that reads back")
}
