//! What the learner has achieved, as stored in the browser: versioned, keyed per question by a hash of the
//! question's content so that editing a question forgets only that question.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::schema::{Course, Lesson, Prediction, Question};

/// Bump when the stored shape changes, and teach `Progress::from_json` to read the old one.
pub const PROGRESS_VERSION: u32 = 2;

/// The browser-storage key progress lives under.
pub const STORAGE_KEY: &str = "tinytune.progress";

/// A stable key for a question: the hex SHA-256 (first 16 bytes) of its lesson id and its content.
/// `question.key` itself is left out, so the key can be computed for a question that does not have one yet.
pub fn question_key(lesson_id: &str, question: &Question) -> String {
    content_key(lesson_id, &Question { key: String::new(), ..question.clone() })
}

/// The same for a prediction, without its recorded outcome.
pub fn prediction_key(lesson_id: &str, prediction: &Prediction) -> String {
    content_key(lesson_id, &Prediction { key: String::new(), outcome: 0, ..prediction.clone() })
}

fn content_key(lesson_id: &str, content: &impl Serialize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(lesson_id.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(content).expect("course content always serialises"));
    hasher.finalize()[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// This learner's seed for the order of quiz choices (see `choice_order`): drawn once, kept so the order
    /// stays the same on every visit.
    pub quiz_seed: u64,
    /// Question key → whether the learner's last submitted answer was right.
    pub answers: BTreeMap<String, bool>,
    /// Prediction key → the index of the choice the learner committed to.
    pub predictions: BTreeMap<String, usize>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ProgressError {
    /// Stored by a newer Tinytune than this one: leave it alone rather than overwrite it.
    NewerVersion(u32),
    Unreadable(String),
}

impl std::fmt::Display for ProgressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProgressError::NewerVersion(v) => {
                write!(f, "saved progress is from a newer version of the course (format {v}); reload to update")
            }
            ProgressError::Unreadable(why) => write!(f, "saved progress could not be read ({why})"),
        }
    }
}

impl Progress {
    pub fn new(quiz_seed: u64) -> Self {
        Progress { version: PROGRESS_VERSION, quiz_seed, answers: BTreeMap::new(), predictions: BTreeMap::new() }
    }

    /// Reads stored progress. Formats older than `PROGRESS_VERSION` are upgraded, taking `fresh_seed` as the
    /// quiz seed they did not have; version 0 (before versioning) held nothing worth keeping.
    pub fn from_json(json: &str, fresh_seed: u64) -> Result<Self, ProgressError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let VersionOnly { version } =
            serde_json::from_str(json).map_err(|e| ProgressError::Unreadable(e.to_string()))?;
        #[derive(Deserialize)]
        struct Version1 {
            answers: BTreeMap<String, bool>,
        }
        let unreadable = |e: serde_json::Error| ProgressError::Unreadable(e.to_string());
        match version {
            0 => Ok(Progress::new(fresh_seed)),
            1 => {
                let Version1 { answers } = serde_json::from_str(json).map_err(unreadable)?;
                Ok(Progress { answers, ..Progress::new(fresh_seed) })
            }
            PROGRESS_VERSION => serde_json::from_str(json).map_err(|e| ProgressError::Unreadable(e.to_string())),
            newer => Err(ProgressError::NewerVersion(newer)),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("progress always serialises")
    }

    pub fn record(&mut self, question: &Question, correct: bool) {
        self.answers.insert(question.key.clone(), correct);
    }

    pub fn predict(&mut self, prediction: &Prediction, choice: usize) {
        self.predictions.insert(prediction.key.clone(), choice);
    }

    pub fn prediction(&self, prediction: &Prediction) -> Option<usize> {
        self.predictions.get(&prediction.key).copied()
    }

    pub fn is_answered_correctly(&self, question: &Question) -> bool {
        self.answers.get(&question.key).copied().unwrap_or(false)
    }

    /// A lesson is complete when its quiz is passed: every question answered correctly.
    pub fn is_lesson_complete(&self, lesson: &Lesson) -> bool {
        lesson.quiz.as_ref().is_some_and(|quiz| quiz.questions.iter().all(|q| self.is_answered_correctly(q)))
    }

    pub fn completed_lessons(&self, course: &Course) -> usize {
        course.lessons().filter(|lesson| self.is_lesson_complete(lesson)).count()
    }

    pub fn reset_lesson(&mut self, lesson: &Lesson) {
        for question in lesson.quiz.iter().flat_map(|quiz| &quiz.questions) {
            self.answers.remove(&question.key);
        }
        for prediction in lesson.predictions() {
            self.predictions.remove(&prediction.key);
        }
    }

    pub fn reset_all(&mut self) {
        self.answers.clear();
        self.predictions.clear();
    }

    /// Drops answers to questions the course no longer has (edited or removed ones).
    pub fn forget_unknown_questions(&mut self, course: &Course) {
        let known: std::collections::BTreeSet<&str> = course
            .lessons()
            .flat_map(|lesson| lesson.quiz.iter().flat_map(|quiz| &quiz.questions))
            .map(|question| question.key.as_str())
            .collect();
        self.answers.retain(|key, _| known.contains(key.as_str()));
        let predictions: std::collections::BTreeSet<&str> =
            course.lessons().flat_map(Lesson::predictions).map(|prediction| prediction.key.as_str()).collect();
        self.predictions.retain(|key, _| predictions.contains(key.as_str()));
    }
}

/// What the completion page recaps of one lesson: its quiz score and each prediction with the learner's guess.
#[derive(Debug, PartialEq)]
pub struct LessonRecap<'a> {
    pub lesson: &'a Lesson,
    /// Questions whose last answer was right, of all the quiz's.
    pub right: usize,
    pub questions: usize,
    /// Each prediction, and the choice the learner committed to (none if they did not).
    pub guesses: Vec<(&'a Prediction, Option<usize>)>,
}

impl Progress {
    /// Every lesson of `course`, in order, as the completion page recaps it.
    pub fn recap<'a>(&self, course: &'a Course) -> Vec<LessonRecap<'a>> {
        course
            .lessons()
            .map(|lesson| {
                let questions = lesson.quiz.iter().flat_map(|quiz| &quiz.questions);
                LessonRecap {
                    lesson,
                    right: questions.clone().filter(|q| self.is_answered_correctly(q)).count(),
                    questions: questions.count(),
                    guesses: lesson.predictions().map(|p| (p, self.prediction(p))).collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::schema::{Choice, Part, QuestionKind, Quiz};

    fn question(id: &str, prompt: &str) -> Question {
        let choices = vec![Choice { text_html: "a".into(), correct: true, explanation_html: "because".into() }];
        Question {
            id: id.into(),
            key: String::new(),
            prompt_html: prompt.into(),
            context_html: "context".into(),
            kind: QuestionKind::MultipleChoice { choices },
        }
    }

    fn lesson(id: &str, prompts: &[&str]) -> Lesson {
        let questions = prompts
            .iter()
            .enumerate()
            .map(|(i, prompt)| {
                let mut q = question(&format!("q{i}"), prompt);
                q.key = question_key(id, &q);
                q
            })
            .collect();
        Lesson {
            id: id.into(),
            slug: id.into(),
            title: id.into(),
            minutes: 1,
            objectives: vec![],
            body: vec![],
            quiz: Some(Quiz { questions }),
        }
    }

    fn course(lessons: Vec<Lesson>) -> Course {
        Course { title: "c".into(), description: "d".into(), parts: vec![Part { title: "p".into(), lessons }] }
    }

    fn answer_all(progress: &mut Progress, lesson: &Lesson) {
        for q in &lesson.quiz.as_ref().unwrap().questions {
            progress.record(q, true);
        }
    }

    #[test]
    fn question_key_changes_with_content_and_lesson_but_not_with_the_stored_key() {
        let original = question("q", "What is LoRA?");
        let key = question_key("lesson", &original);
        assert_eq!(key.len(), 32);
        assert_eq!(key, question_key("lesson", &Question { key: "anything".into(), ..original.clone() }));
        assert_ne!(key, question_key("lesson", &question("q", "What is LoRA, really?")));
        assert_ne!(key, question_key("other-lesson", &original));
        let mut new_explanation = original.clone();
        if let QuestionKind::MultipleChoice { choices } = &mut new_explanation.kind {
            choices[0].explanation_html = "a better reason".into();
        }
        assert_ne!(key, question_key("lesson", &new_explanation));
    }

    #[test]
    fn question_key_matches_an_independent_sha256() {
        // The key is the first 16 bytes of SHA-256 over "lesson id, NUL, the question as JSON with an empty key".
        let q = question("q", "p");
        let json = r#"{"id":"q","key":"","prompt_html":"p","context_html":"context","kind":{"MultipleChoice":{"choices":[{"text_html":"a","correct":true,"explanation_html":"because"}]}}}"#;
        let mut bytes = b"l\0".to_vec();
        bytes.extend_from_slice(json.as_bytes());
        let expected: String = Sha256::digest(&bytes)[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(question_key("l", &q), expected);
    }

    #[test]
    fn a_lesson_is_complete_only_when_every_question_is_right() {
        let lesson = lesson("one", &["a", "b"]);
        let questions = &lesson.quiz.as_ref().unwrap().questions;
        let mut progress = Progress::new(7);
        assert!(!progress.is_lesson_complete(&lesson));
        progress.record(&questions[0], true);
        progress.record(&questions[1], false);
        assert!(!progress.is_lesson_complete(&lesson));
        progress.record(&questions[1], true);
        assert!(progress.is_lesson_complete(&lesson));
    }

    #[test]
    fn editing_one_question_resets_only_that_question() {
        let before = lesson("one", &["a", "b"]);
        let mut progress = Progress::new(7);
        answer_all(&mut progress, &before);
        let after = lesson("one", &["a", "b, reworded"]);
        progress.forget_unknown_questions(&course(vec![after.clone()]));
        let questions = &after.quiz.as_ref().unwrap().questions;
        assert!(progress.is_answered_correctly(&questions[0]));
        assert!(!progress.is_answered_correctly(&questions[1]));
        assert!(!progress.is_lesson_complete(&after));
        assert_eq!(progress.answers.len(), 1);
    }

    #[test]
    fn resets_clear_one_lesson_or_everything() {
        let (first, second) = (lesson("one", &["a"]), lesson("two", &["b"]));
        let course = course(vec![first.clone(), second.clone()]);
        let mut progress = Progress::new(7);
        answer_all(&mut progress, &first);
        answer_all(&mut progress, &second);
        assert_eq!(progress.completed_lessons(&course), 2);
        progress.reset_lesson(&first);
        assert!(!progress.is_lesson_complete(&first));
        assert!(progress.is_lesson_complete(&second));
        progress.reset_all();
        assert_eq!(progress.completed_lessons(&course), 0);
    }

    #[test]
    fn a_committed_prediction_is_kept_until_its_lesson_is_reset_or_it_changes() {
        let prediction = |question: &str| {
            let mut p = Prediction {
                id: "drift".into(),
                key: String::new(),
                question_html: question.into(),
                choices_html: vec!["Rise".into(), "Fall".into()],
                outcome: 0,
            };
            p.key = prediction_key("one", &p);
            p
        };
        let mut with_prediction = lesson("one", &["a"]);
        with_prediction.body.push(crate::course::LessonBlock::Prediction(prediction("Will it rise?")));
        let mut progress = Progress::new(7);
        assert_eq!(progress.prediction(&prediction("Will it rise?")), None);
        progress.predict(&prediction("Will it rise?"), 1);
        assert_eq!(progress.prediction(&prediction("Will it rise?")), Some(1));
        let json = progress.to_json();
        assert_eq!(Progress::from_json(&json, 0).unwrap().prediction(&prediction("Will it rise?")), Some(1));

        // Reworded, it is another prediction: the old guess is forgotten with the old wording.
        assert_eq!(progress.prediction(&prediction("Will the drift rise?")), None);
        let mut reworded = with_prediction.clone();
        reworded.body = vec![crate::course::LessonBlock::Prediction(prediction("Will the drift rise?"))];
        let mut kept = progress.clone();
        kept.forget_unknown_questions(&course(vec![with_prediction.clone()]));
        assert_eq!(kept.predictions.len(), 1, "a prediction the course still has is kept");
        progress.forget_unknown_questions(&course(vec![reworded]));
        assert!(progress.predictions.is_empty());

        kept.reset_lesson(&with_prediction);
        assert!(kept.predictions.is_empty(), "resetting the lesson clears its predictions");
    }

    #[test]
    fn stored_progress_round_trips_with_its_version_and_quiz_seed() {
        let first = lesson("one", &["a"]);
        let mut progress = Progress::new(7);
        answer_all(&mut progress, &first);
        let json = progress.to_json();
        assert!(json.starts_with(r#"{"version":2,"quiz_seed":7,"#), "{json}");
        assert_eq!(Progress::from_json(&json, 99).unwrap(), progress, "the stored seed wins over a fresh one");
    }

    #[test]
    fn older_formats_upgrade_newer_ones_are_left_alone_and_garbage_is_reported() {
        assert_eq!(Progress::from_json(r#"{"version":0,"whatever":[1,2]}"#, 5).unwrap(), Progress::new(5));
        let upgraded = Progress::from_json(r#"{"version":1,"answers":{"abc":true}}"#, 5).unwrap();
        assert_eq!((upgraded.version, upgraded.quiz_seed), (PROGRESS_VERSION, 5), "version 1 had no quiz seed");
        assert_eq!(upgraded.answers, BTreeMap::from([("abc".to_string(), true)]), "and keeps its answers");
        assert_eq!(Progress::from_json(r#"{"version":3,"answers":{}}"#, 5), Err(ProgressError::NewerVersion(3)));
        assert!(matches!(Progress::from_json("not json", 5), Err(ProgressError::Unreadable(_))));
        assert!(matches!(Progress::from_json(r#"{"answers":{}}"#, 5), Err(ProgressError::Unreadable(_))));
        assert!(matches!(Progress::from_json(r#"{"version":1,"answers":[]}"#, 5), Err(ProgressError::Unreadable(_))));
        assert!(matches!(Progress::from_json(r#"{"version":2,"answers":{}}"#, 5), Err(ProgressError::Unreadable(_))));
    }

    #[test]
    fn the_recap_counts_right_answers_and_pairs_each_prediction_with_the_guess() {
        let mut first = lesson("one", &["a", "b", "c"]);
        let mut prediction = Prediction {
            id: "drift".into(),
            key: String::new(),
            question_html: "Will it rise?".into(),
            choices_html: vec!["Rise".into(), "Fall".into()],
            outcome: 0,
        };
        prediction.key = prediction_key("one", &prediction);
        first.body.push(crate::course::LessonBlock::Prediction(prediction.clone()));
        let second = lesson("two", &["d"]);
        let course = course(vec![first.clone(), second]);
        let mut progress = Progress::new(1);
        let questions = &first.quiz.as_ref().unwrap().questions;
        progress.record(&questions[0], true);
        progress.record(&questions[1], false);
        progress.predict(&prediction, 1);
        let recap = progress.recap(&course);
        assert_eq!(recap.len(), 2);
        assert_eq!((recap[0].right, recap[0].questions), (1, 3));
        assert_eq!(recap[0].guesses, [(&prediction, Some(1))]);
        assert_eq!((recap[1].right, recap[1].questions, recap[1].guesses.len()), (0, 1, 0));
    }
}
