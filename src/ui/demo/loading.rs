//! What the page waits for before a demo can start: the trainer itself, then the model's and data's files.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::numbers::format_bytes;
use crate::ui::run_state::FileProgress;
use crate::ui::trainer_client::TrainerState;

fn describe(progress: &FileProgress) -> String {
    let FileProgress { file, loaded_bytes, total_bytes, from_cache } = progress;
    match (from_cache, total_bytes) {
        (true, _) => format!("Loading {file} from the browser cache"),
        (false, Some(total)) => {
            format!("Downloading {file}: {} of {}", format_bytes(*loaded_bytes), format_bytes(*total))
        }
        (false, None) => format!("Downloading {file}: {}", format_bytes(*loaded_bytes)),
    }
}

/// Shown until the model and data are ready; nothing once they are, or once the trainer has stopped.
#[component]
pub fn LoadingProgress(demo: LiveDemo) -> impl IntoView {
    let state = demo.state;
    let text_id = demo.id("loading-text");
    move || {
        if state.with(|s| s.ready()) {
            return None;
        }
        Some(match (demo.trainer.state().get(), state.with(|s| s.loading.clone())) {
            (TrainerState::Stopped(_), _) => return None,
            (TrainerState::Starting, _) => view! { <p class="demo-loading">"Loading the trainer…"</p> }.into_any(),
            (TrainerState::Running, None) => view! { <p class="demo-loading">"Preparing the model…"</p> }.into_any(),
            (TrainerState::Running, Some(progress)) => view! {
                <p class="demo-loading">
                    <progress
                        max=progress.total_bytes
                        value=progress.total_bytes.map(|_| progress.loaded_bytes)
                        aria-labelledby=text_id.clone()
                    ></progress>
                    <span id=text_id.clone()>{describe(&progress)}</span>
                </p>
            }
            .into_any(),
        })
    }
}
