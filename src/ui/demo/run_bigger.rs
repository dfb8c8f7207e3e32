//! "Run it bigger": the demo's data set and a run's settings as a job for a larger model on real GPUs (an Axolotl
//! config and a TRL + PEFT script with the data as JSONL, [`crate::run_bigger`]), downloaded as a zip.

use leptos::prelude::*;

use super::download::save_file;
use super::live::LiveDemo;
use super::numbers::format_bytes;
use crate::protocol::TrainSettings;

/// The model the job trains unless the learner names another: the base of the instruct model the course moves to.
const DEFAULT_BASE_MODEL: &str = "HuggingFaceTB/SmolLM2-135M";

#[component]
pub fn RunItBigger(
    demo: LiveDemo,
    /// The settings the job carries.
    #[prop(into)]
    settings: Signal<TrainSettings>,
) -> impl IntoView {
    let state = demo.state;
    let base_model = RwSignal::new(DEFAULT_BASE_MODEL.to_string());
    let link = NodeRef::<leptos::html::A>::new();
    let waiting = move || state.with(|s| s.job.is_waiting());
    // The zip arrived: hand it to the browser once.
    Effect::new(move |_| {
        let Some(file) = state.with(|s| s.job.latest.clone()) else { return };
        let Some(link) = link.get_untracked() else { return };
        let saved = save_file(&link, &file.file_name, "application/zip", &file.bytes);
        state.update(|s| {
            s.job.latest = None;
            match saved {
                Ok(()) => s.status = format!("Job downloaded ({})", format_bytes(file.bytes.len() as u64)),
                Err(_) => s.problem = Some("The browser would not save the job's zip file.".into()),
            }
        });
    });
    let download = move |_| {
        let model = base_model.get_untracked().trim().to_string();
        if model.is_empty() || model.contains(char::is_whitespace) {
            let message =
                "Name the Hugging Face model to train, as owner/name (for example HuggingFaceTB/SmolLM2-135M).";
            state.update(|s| s.problem = Some(message.into()));
        } else if !waiting() {
            demo.export_job(settings.get_untracked(), model);
        }
    };
    let (heading_id, hint_id, model_id) = (demo.id("bigger-heading"), demo.id("bigger-hint"), demo.id("bigger-model"));

    view! {
        <section class="demo-download" aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>"Run it bigger"</h4>
            <p class="hint" id=hint_id.clone()>
                "This data set's training examples and the latest run's settings (before the first run, the form's), "
                "as a job for a larger model on your own GPUs: an Axolotl config (tinytune.yaml) and a TRL + PEFT "
                "script (train_trl.py), with the examples as JSONL and a README with the commands."
            </p>
            // The job's scripts do supervised fine-tuning only: say so rather than hand over another method's job.
            {move || settings.with(|s| s.dpo_beta.is_some()).then(|| view! {
                <p class="demo-alert" role="status">
                    "These settings train with DPO, and the job does not: its scripts train on each pair's chosen \
                     answer (supervised fine-tuning). For DPO on a larger model, use TRL's DPOTrainer as the lesson \
                     “Preference tuning with DPO” shows."
                </p>
            })}
            <div class="field">
                <label for=model_id.clone()>"Hugging Face model to train"</label>
                <input
                    id=model_id
                    type="text"
                    spellcheck="false"
                    aria-describedby=hint_id.clone()
                    prop:value=base_model
                    on:input=move |ev| base_model.set(event_target_value(&ev))
                />
            </div>
            <button
                type="button"
                disabled=move || !state.with(|s| s.ready())
                // Not `disabled` while preparing: that would throw the keyboard focus off the button.
                aria-disabled=move || waiting().then_some("true")
                on:click=download
            >
                {move || if waiting() { "Preparing the job…" } else { "Download the job (Axolotl and TRL)" }}
            </button>
            <a node_ref=link hidden></a>
        </section>
    }
}
