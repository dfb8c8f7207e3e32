//! "Open adapter": a PEFT LoRA adapter the learner brings — a zip of its folder, or its `adapter_config.json` and
//! `adapter_model.safetensors` — checked against the base model and opened as a run of its own, which the demo's
//! samples then show beside the base model, and which the next run can train on from. The files stay in the tab.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::Uint8Array;

use super::live::LiveDemo;
use crate::protocol::{RunId, TrainSettings};
use crate::settings::names_of;
use crate::ui::run_state::Run;

#[component]
pub fn OpenAdapter(
    demo: LiveDemo,
    /// The opened adapter the next run starts from, if the learner chose to.
    train_from: RwSignal<Option<RunId>>,
    /// Called with the adapter's LoRA settings when the learner chooses to train on from it.
    #[prop(into)]
    on_train_from: Callback<TrainSettings>,
) -> impl IntoView {
    let state = demo.state;
    let (file_id, hint_id, from_id) = (demo.id("adapter-file"), demo.id("adapter-hint"), demo.id("adapter-from"));
    let locked = move || state.with(|s| !s.ready() || s.busy());
    let opened =
        Memo::new(move |_| state.with(|s| s.runs.iter().rev().find(|run| run.opened && !run.in_progress()).cloned()));
    // An adapter that is no longer there cannot be trained on from.
    Effect::new(move |_| {
        let latest = opened.with(|run| run.as_ref().map(|run| run.id));
        if train_from.get_untracked().is_some() && train_from.get_untracked() != latest {
            train_from.set(None);
        }
    });
    let on_pick = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        let files: Vec<web_sys::File> =
            input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default();
        // The same file picked again must fire `change` again.
        input.set_value("");
        leptos::task::spawn_local(async move {
            let mut read = Vec::with_capacity(files.len());
            for file in files {
                match JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => read.push((file.name(), Uint8Array::new(&buffer).to_vec())),
                    Err(_) => {
                        let problem = format!("{} could not be read: the browser refused the file", file.name());
                        state.update(|s| s.problem = Some(problem));
                        return;
                    }
                }
            }
            demo.open_adapter(read);
        });
    };
    let describe = |run: &Run| {
        let s = &run.settings;
        format!(
            "Opened {}: LoRA rank {}, alpha {}{}, on {}. The samples below now compare it with the base model.",
            run.name,
            s.lora_rank,
            s.lora_alpha,
            if s.use_rslora { " (rsLoRA)" } else { "" },
            names_of(&s.lora_targets)
        )
    };

    view! {
        <section class="open-adapter" aria-labelledby=file_id.clone()>
            <div class="field">
                <label for=file_id.clone()>"Open an adapter"</label>
                <input
                    id=file_id.clone()
                    type="file"
                    multiple
                    accept=".zip,.json,.safetensors,.bin"
                    aria-describedby=hint_id.clone()
                    disabled=locked
                    on:change=on_pick
                />
                <p class="hint" id=hint_id>
                    "A PEFT LoRA adapter for this model, from this site or from PEFT: a zip of its folder, or its "
                    "adapter_config.json and adapter_model.safetensors together. It is checked before it loads, and "
                    "stays in this tab."
                </p>
            </div>
            {move || opened.get().map(|run| {
                let id = run.id;
                let settings = run.settings.clone();
                view! {
                    <p>{describe(&run)}</p>
                    <label class="demo-checkbox">
                        <input
                            id=from_id.clone()
                            type="checkbox"
                            disabled=locked
                            prop:checked=move || train_from.get() == Some(id)
                            on:change=move |ev| {
                                let chosen = event_target_checked(&ev);
                                train_from.set(chosen.then_some(id));
                                if chosen {
                                    on_train_from.run(settings.clone());
                                }
                            }
                        />
                        "Train the next run on from this adapter (its rank, alpha and targets)"
                    </label>
                }
            })}
        </section>
    }
}
