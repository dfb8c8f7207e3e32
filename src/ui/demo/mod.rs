//! Live demos: the run layer's widgets (settings form, progress, loss chart, samples, download), each taking a
//! [`LiveDemo`] and knowing no particular demo, and the demos that lessons place with ```` ```demo ```` blocks
//! (the build checks their names against `course::content::KNOWN_DEMOS`). They talk to the trainer worker
//! through `super::trainer_client`.

mod backend;
mod chart;
mod chart_scale;
mod datasets;
mod download;
mod field;
mod first_lora;
mod live;
mod loading;
mod notices;
pub(crate) mod numbers;
mod recorded;
mod run_progress;
mod samples;
mod settings_form;
mod task_result;

pub use backend::BackendLine;
pub use chart::{run_losses, runs_loss, Loss, LossChart};
pub use datasets::{DatasetChoice, CHOICES, DATASETS, DATA_KEY, PIP_STORIES, STUDIO_DATASET};
pub use download::save_file;
pub use live::LiveDemo;
pub use loading::LoadingProgress;
pub use notices::Notices;
pub use run_progress::RunProgress;
pub use samples::Samples;
pub use settings_form::{Controls, TrainingForm};
pub use task_result::TaskResult;

use leptos::prelude::*;

/// The base model the live demos train, converted at build time and served by the site (relative to the site's
/// base, see `ui::site`).
pub const STORIES_MODEL_URL: &str = "models/stories260K/";

#[component]
pub fn Demo(name: String) -> impl IntoView {
    match name.as_str() {
        "first-lora" => view! { <first_lora::FirstLoraDemo /> }.into_any(),
        _ => view! { <p class="notice">{format!("The demo “{name}” is not part of this version of the course.")}</p> }
            .into_any(),
    }
}
