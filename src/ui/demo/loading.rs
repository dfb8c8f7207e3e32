//! What the page waits for before the demo can start: the trainer itself, then the model's and data's files.

use leptos::prelude::*;

use super::numbers::format_bytes;
use crate::protocol::FromWorker;
use crate::ui::trainer_client::{use_trainer, TrainerState};

/// One file's download, as the latest `Loading` event told it.
#[derive(Clone, Debug, PartialEq)]
struct FileProgress {
    file: String,
    loaded_bytes: u64,
    total_bytes: Option<u64>,
    from_cache: bool,
}

impl FileProgress {
    fn describe(&self) -> String {
        let FileProgress { file, loaded_bytes, total_bytes, from_cache } = self;
        match (from_cache, total_bytes) {
            (true, _) => format!("Loading {file} from the browser cache"),
            (false, Some(total)) => {
                format!("Downloading {file}: {} of {}", format_bytes(*loaded_bytes), format_bytes(*total))
            }
            (false, None) => format!("Downloading {file}: {}", format_bytes(*loaded_bytes)),
        }
    }
}

/// Shown until the model is ready; nothing once it is, or once the trainer has stopped.
#[component]
pub fn LoadingProgress(#[prop(into)] ready: Signal<bool>) -> impl IntoView {
    let trainer = use_trainer();
    let latest = RwSignal::new(None::<FileProgress>);
    trainer.on_event(move |event| {
        if let FromWorker::Loading { file, loaded_bytes, total_bytes, from_cache } = event {
            latest.set(Some(FileProgress {
                file: file.clone(),
                loaded_bytes: *loaded_bytes,
                total_bytes: *total_bytes,
                from_cache: *from_cache,
            }));
        }
    });
    move || {
        if ready.get() {
            return None;
        }
        Some(match (trainer.state().get(), latest.get()) {
            (TrainerState::Stopped(_), _) => return None,
            (TrainerState::Starting, _) => view! { <p class="demo-loading">"Loading the trainer…"</p> }.into_any(),
            (TrainerState::Running, None) => view! { <p class="demo-loading">"Preparing the model…"</p> }.into_any(),
            (TrainerState::Running, Some(progress)) => view! {
                <p class="demo-loading">
                    <progress
                        max=progress.total_bytes
                        value=progress.total_bytes.map(|_| progress.loaded_bytes)
                        aria-labelledby="first-lora-loading-text"
                    ></progress>
                    <span id="first-lora-loading-text">{progress.describe()}</span>
                </p>
            }
            .into_any(),
        })
    }
}
