//! "Run it bigger": the demo's data set and a run's settings as a job for a larger model on real GPUs (a TRL + PEFT
//! script, an Unsloth script and an Axolotl config with the data as JSONL, [`crate::run_bigger`]), each file shown
//! on the page and all downloaded as a zip.

use leptos::prelude::*;

use super::download::save_when_ready;
use super::live::LiveDemo;
use crate::protocol::TrainSettings;
use crate::run_bigger::{shapes_used, JobTarget, Precision, Tool};

/// The model the job trains unless the learner names another: the base of the instruct model the course moves to.
const DEFAULT_BASE_MODEL: &str = "HuggingFaceTB/SmolLM2-135M";

/// The job a download writes unless the learner or the demo says otherwise: a 16-bit base, as most GPU jobs train.
pub fn default_target() -> JobTarget {
    JobTarget { base_model: DEFAULT_BASE_MODEL.into(), precision: Precision::Bf16, gradient_checkpointing: false }
}

#[component]
pub fn RunItBigger(
    demo: LiveDemo,
    /// The settings the job carries.
    #[prop(into)]
    settings: Signal<TrainSettings>,
    /// The model and the way it trains; a demo that sizes the job passes its own, whose precision and
    /// checkpointing its sizer sets (this form then names the model only).
    #[prop(optional)]
    target: Option<RwSignal<JobTarget>>,
) -> impl IntoView {
    let state = demo.state;
    // A demo that passes its target has its own controls for the base's precision and checkpointing (the sizer's);
    // this form then only names the model.
    let own_controls = target.is_none();
    let target = target.unwrap_or_else(|| RwSignal::new(default_target()));
    let link = NodeRef::<leptos::html::A>::new();
    let waiting = move || state.with(|s| s.job.is_waiting());
    save_when_ready(state, link, |s| &mut s.job, "job");
    let download = move |_| {
        let target = target.get_untracked();
        if target.base_model.is_empty() || target.base_model.contains(char::is_whitespace) {
            let message =
                "Name the Hugging Face model to train, as owner/name (for example HuggingFaceTB/SmolLM2-135M).";
            state.update(|s| s.problem = Some(message.into()));
        } else if !waiting() {
            demo.export_job(settings.get_untracked(), target);
        }
    };
    // A tool's file as the zip will hold it, or why there is none.
    let file = move |tool: Tool| {
        let (settings, target) = (settings.get(), target.get());
        let shapes = state
            .with(|s| s.dataset.as_ref().map(|d| shapes_used(&d.data_files, d.training_examples, &settings)))
            .unwrap_or_default();
        tool.config(&settings, &target, &shapes)
    };
    let (heading_id, hint_id, model_id, precision_id) =
        (demo.id("bigger-heading"), demo.id("bigger-hint"), demo.id("bigger-model"), demo.id("bigger-precision"));

    view! {
        <section class="demo-download" aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>"Run it bigger"</h4>
            <p class="hint" id=hint_id.clone()>
                "This data set's training examples and the latest run's settings (before the first run, the form's), "
                "as a job for a larger model on your own GPUs: a TRL + PEFT script (train_trl.py), an Unsloth script "
                "(train_unsloth.py) and an Axolotl config (tinytune.yaml), with the examples as JSONL and a README "
                "with the commands."
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
                    prop:value=move || target.with(|t| t.base_model.clone())
                    on:input=move |ev| target.update(|t| t.base_model = event_target_value(&ev).trim().to_string())
                />
            </div>
            {own_controls.then(|| view! {
            <div class="field">
                <label for=precision_id.clone()>"Base model's weights"</label>
                <select
                    id=precision_id
                    on:change=move |ev| {
                        if let Some(precision) = Precision::from_name(&event_target_value(&ev)) {
                            target.update(|t| t.precision = precision);
                        }
                    }
                >
                    {Precision::ALL.map(|precision| view! {
                        <option
                            value=precision.name()
                            selected=move || target.with(|t| t.precision == precision)
                        >
                            {precision.label()}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <CheckpointingBox
                target
                label="Gradient checkpointing: keep each layer's input only, and compute the rest again for the \
                       backward pass"
            />
            })}
            <button
                type="button"
                disabled=move || !state.with(|s| s.ready())
                // Not `disabled` while preparing: that would throw the keyboard focus off the button.
                aria-disabled=move || waiting().then_some("true")
                on:click=download
            >
                {move || if waiting() { "Preparing the job…" } else { "Download the job (TRL, Unsloth and Axolotl)" }}
            </button>
            <a node_ref=link hidden></a>
            // One fold per tool, made once: only its text follows the settings, so an opened file stays open.
            {Tool::ALL.map(|tool| view! {
                <details class="job-file">
                    <summary>{tool.file_name()}</summary>
                    {move || match file(tool) {
                        Ok(text) => view! { <pre tabindex="0">{text}</pre> }.into_any(),
                        Err(why) => view! { <p>{format!("No job for these settings: {why}.")}</p> }.into_any(),
                    }}
                </details>
            }).collect_view()}
        </section>
    }
}

/// Whether the job trains with gradient checkpointing: this form's and the job sizer's box for the same setting.
#[component]
pub fn CheckpointingBox(target: RwSignal<JobTarget>, label: &'static str) -> impl IntoView {
    view! {
        <label class="demo-checkbox">
            <input
                type="checkbox"
                prop:checked=move || target.with(|t| t.gradient_checkpointing)
                on:change=move |ev| target.update(|t| t.gradient_checkpointing = event_target_checked(&ev))
            />
            {label}
        </label>
    }
}
