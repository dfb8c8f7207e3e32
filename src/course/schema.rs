//! The validated course as the app sees it: produced at build time from `lessons/` (see `content.rs`),
//! embedded in the UI bundle as JSON written by that same build, never from learner input.

use serde::{Deserialize, Serialize};

use super::demos::DemoKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Course {
    pub title: String,
    pub description: String,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub title: String,
    pub lessons: Vec<Lesson>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub minutes: u32,
    pub objectives: Vec<String>,
    /// The lesson text, rendered from Markdown at build time (raw HTML refused, the result sanitised), with
    /// the interactive demos placed where the Markdown's ```` ```demo ```` blocks were.
    pub body: Vec<LessonBlock>,
    pub quiz: Option<Quiz>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LessonBlock {
    Html(String),
    /// An interactive demo. It opens once the learner has answered every prediction before it.
    Demo(DemoKind),
    Prediction(Prediction),
}

/// A guess the learner commits to before a live demo runs: not graded, kept with their progress so that what the
/// run shows can be set against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub id: String,
    /// Hash of the lesson id and everything that defines the prediction (see `progress::content_key`): the
    /// learner's guess is stored under it.
    pub key: String,
    pub question_html: String,
    pub choices_html: Vec<String>,
    /// The choice the lesson's recorded run bore out, which the completion page sets the guess against. Not part
    /// of the key: correcting it keeps the learner's guess.
    pub outcome: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    pub questions: Vec<Question>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    /// Hash of everything that defines the question (see `progress::question_key`): progress is stored
    /// under it, so editing a question forgets only that question's answer.
    pub key: String,
    pub prompt_html: String,
    /// Shown after answering, whatever was chosen.
    pub context_html: String,
    pub kind: QuestionKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QuestionKind {
    /// One or several correct choices; several means the learner must pick exactly those.
    MultipleChoice { choices: Vec<Choice> },
    /// Accepted answers, already normalised with `quiz::normalise_answer`.
    ShortAnswer { answers: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub text_html: String,
    pub correct: bool,
    pub explanation_html: String,
}

impl Course {
    pub fn lessons(&self) -> impl Iterator<Item = &Lesson> {
        self.parts.iter().flat_map(|part| part.lessons.iter())
    }

    pub fn lesson_by_slug(&self, slug: &str) -> Option<&Lesson> {
        self.lessons().find(|lesson| lesson.slug == slug)
    }

    /// The lessons before and after `slug` in course order, across parts.
    pub fn neighbours(&self, slug: &str) -> (Option<&Lesson>, Option<&Lesson>) {
        let lessons: Vec<&Lesson> = self.lessons().collect();
        let Some(index) = lessons.iter().position(|lesson| lesson.slug == slug) else {
            return (None, None);
        };
        let previous = index.checked_sub(1).map(|i| lessons[i]);
        (previous, lessons.get(index + 1).copied())
    }
}

impl Lesson {
    pub fn predictions(&self) -> impl Iterator<Item = &Prediction> {
        self.body.iter().filter_map(|block| match block {
            LessonBlock::Prediction(prediction) => Some(prediction),
            _ => None,
        })
    }
}

impl QuestionKind {
    pub fn allows_several_answers(&self) -> bool {
        match self {
            QuestionKind::MultipleChoice { choices } => choices.iter().filter(|c| c.correct).count() > 1,
            QuestionKind::ShortAnswer { .. } => false,
        }
    }
}
