//! The learner's progress as a reactive value, loaded from and saved to the browser's local storage.

use leptos::prelude::*;

use crate::course::choice_order::choice_order;
use crate::course::progress::{LessonRecap, Progress, ProgressError, STORAGE_KEY};
use crate::course::{Course, Lesson, Prediction, Question};

/// Where unreadable progress is moved before starting afresh, so a bug never destroys a learner's record.
const UNREADABLE_BACKUP_KEY: &str = "tinytune.progress.unreadable";

#[derive(Clone, Copy)]
pub struct ProgressStore {
    progress: RwSignal<Progress>,
    /// Set when saved progress could not be used or saving is impossible; shown at the top of every page.
    notice: RwSignal<Option<String>>,
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// A new learner's quiz seed (the order of quiz choices is shuffled per learner, see `quiz::choice_order`).
fn fresh_quiz_seed() -> u64 {
    // 53 random bits: as many as a JavaScript number holds, and plenty to tell learners apart.
    (js_sys::Math::random() * 2f64.powi(53)) as u64
}

pub fn provide_progress_store(course: &'static Course) {
    let notice = RwSignal::new(None);
    let seed = fresh_quiz_seed();
    let mut can_save = true;
    let stored = local_storage().map(|storage| storage.get_item(STORAGE_KEY).ok().flatten());
    let mut progress = match stored {
        None => {
            notice.set(Some("This browser does not allow saving, so progress will be lost on reload.".into()));
            can_save = false;
            Progress::new(seed)
        }
        Some(None) => Progress::new(seed),
        Some(Some(json)) => match Progress::from_json(&json, seed) {
            Ok(progress) => progress,
            Err(error @ ProgressError::NewerVersion(_)) => {
                can_save = false;
                notice.set(Some(format!("{error}. Until then, nothing you do here is saved.")));
                Progress::new(seed)
            }
            Err(error @ ProgressError::Unreadable(_)) => {
                if let Some(storage) = local_storage() {
                    let _ = storage.set_item(UNREADABLE_BACKUP_KEY, &json);
                }
                notice.set(Some(format!("{error}; starting afresh. A copy was kept under `{UNREADABLE_BACKUP_KEY}`.")));
                Progress::new(seed)
            }
        },
    };
    progress.forget_unknown_questions(course);
    let progress = RwSignal::new(progress);
    if can_save {
        Effect::new(move |_| {
            let json = progress.with(Progress::to_json);
            if local_storage().and_then(|storage| storage.set_item(STORAGE_KEY, &json).ok()).is_none() {
                notice.set(Some("Progress could not be saved (storage full or blocked).".into()));
            }
        });
    }
    provide_context(ProgressStore { progress, notice });
}

pub fn use_progress() -> ProgressStore {
    expect_context::<ProgressStore>()
}

impl ProgressStore {
    pub fn is_lesson_complete(&self, lesson: &Lesson) -> bool {
        self.progress.with(|p| p.is_lesson_complete(lesson))
    }

    pub fn is_answered_correctly(&self, question: &Question) -> bool {
        self.progress.with(|p| p.is_answered_correctly(question))
    }

    pub fn completed_lessons(&self, course: &Course) -> usize {
        self.progress.with(|p| p.completed_lessons(course))
    }

    /// The order this learner sees `question`'s choices in.
    pub fn choice_order(&self, question: &Question) -> Vec<usize> {
        self.progress.with_untracked(|p| choice_order(p.quiz_seed, question))
    }

    pub fn predict(&self, prediction: &Prediction, choice: usize) {
        self.progress.update(|p| p.predict(prediction, choice));
    }

    /// The choice the learner committed to, if any.
    pub fn prediction(&self, prediction: &Prediction) -> Option<usize> {
        self.progress.with(|p| p.prediction(prediction))
    }

    /// Every lesson's quiz score and guesses, for the completion page.
    pub fn recap<'a>(&self, course: &'a Course) -> Vec<LessonRecap<'a>> {
        self.progress.with(|p| p.recap(course))
    }

    pub fn record(&self, question: &Question, correct: bool) {
        self.progress.update(|p| p.record(question, correct));
    }

    pub fn reset_lesson(&self, lesson: &Lesson) {
        self.progress.update(|p| p.reset_lesson(lesson));
    }

    /// Clears everything and returns what was there, so the caller can offer an undo.
    pub fn reset_all(&self) -> Progress {
        let before = self.progress.get_untracked();
        self.progress.update(Progress::reset_all);
        before
    }

    pub fn restore(&self, earlier: Progress) {
        self.progress.set(earlier);
    }
}

#[component]
pub fn StorageNotice() -> impl IntoView {
    let notice = use_progress().notice;
    view! {
        <div role="status" class="storage-notice">
            {move || notice.get().map(|text| view! { <p class="notice">{text}</p> })}
        </div>
    }
}
