//! The training settings: what to train, LoRA's rank and alpha, learning rate, steps, batch size and seed, with
//! what the choice costs (parameters trained, memory) shown as it changes.

use leptos::ev::SubmitEvent;
use leptos::leptos_dom::helpers::request_animation_frame;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::field::Field;
use super::numbers::{format_bytes, format_count, format_percent, parse_positive, parse_whole};
use crate::protocol::{ModelShape, TrainSettings, TrainingMethod};

const MAX_LORA_RANK: u64 = 64;
const MAX_LORA_ALPHA: f64 = 1024.0;
const MAX_LEARNING_RATE: f64 = 1.0;
const MAX_STEPS: u64 = 1000;
const MAX_BATCH_SIZE: u64 = 64;
pub const MAX_SEED: u64 = 1_000_000;

const METHODS: [(TrainingMethod, &str, &str); 3] = [
    (TrainingMethod::Lora, "LoRA", "small adapters train beside the frozen weights"),
    (TrainingMethod::Full, "Full fine-tuning", "every weight trains"),
    (TrainingMethod::Frozen, "Frozen", "nothing trains: the baseline to compare with"),
];

#[component]
pub fn TrainingForm(
    #[prop(into)] model: Signal<Option<ModelShape>>,
    /// No changes while loading or while a run is in progress.
    #[prop(into)]
    locked: Signal<bool>,
    on_train: impl Fn(TrainSettings) + 'static,
) -> impl IntoView {
    let defaults = TrainSettings::default();
    let method = RwSignal::new(defaults.method);
    let lora_rank = RwSignal::new(defaults.lora_rank.to_string());
    let lora_alpha = RwSignal::new(defaults.lora_alpha.to_string());
    let learning_rate = RwSignal::new(defaults.learning_rate.to_string());
    let steps = RwSignal::new(defaults.steps.to_string());
    let batch_size = RwSignal::new(defaults.batch_size.to_string());
    let seed = RwSignal::new(defaults.seed.to_string());
    let attempted = RwSignal::new(false);
    let form = NodeRef::<leptos::html::Form>::new();

    let uses_lora = move || method.get() == TrainingMethod::Lora;
    // Rank and alpha count only for LoRA: the other methods ignore them, so they cannot be wrong.
    let rank_value =
        move || if uses_lora() { parse_whole(&lora_rank.get(), 1, MAX_LORA_RANK).map(Some) } else { Ok(None) };
    let alpha_value =
        move || if uses_lora() { parse_positive(&lora_alpha.get(), MAX_LORA_ALPHA).map(Some) } else { Ok(None) };
    let learning_rate_value = move || parse_positive(&learning_rate.get(), MAX_LEARNING_RATE);
    let steps_value = move || parse_whole(&steps.get(), 1, MAX_STEPS);
    let batch_size_value = move || parse_whole(&batch_size.get(), 1, MAX_BATCH_SIZE);
    let seed_value = move || parse_whole(&seed.get(), 0, MAX_SEED);

    let settings = Memo::new(move |_| {
        let defaults = TrainSettings::default();
        Some(TrainSettings {
            method: method.get(),
            lora_rank: rank_value().ok()?.map_or(defaults.lora_rank, |rank| rank as usize),
            lora_alpha: alpha_value().ok()?.unwrap_or(defaults.lora_alpha),
            learning_rate: learning_rate_value().ok()?,
            steps: steps_value().ok()? as usize,
            batch_size: batch_size_value().ok()? as usize,
            seed: seed_value().ok()?,
            ..defaults
        })
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        match settings.get_untracked() {
            Some(settings) => on_train(settings),
            None => request_animation_frame(move || {
                let first_invalid =
                    form.get_untracked().and_then(|form| form.query_selector("[aria-invalid]").ok().flatten());
                if let Some(input) = first_invalid.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = input.focus();
                }
            }),
        }
    };

    view! {
        <form class="demo-settings" on:submit=submit novalidate node_ref=form>
            <fieldset disabled=locked>
                <legend>"Training settings"</legend>
                <fieldset class="demo-method">
                    <legend>"What to train"</legend>
                    {METHODS.iter().map(|&(choice, name, explanation)| view! {
                        <label>
                            <input
                                type="radio"
                                name="first-lora-method"
                                prop:checked=move || method.get() == choice
                                on:change=move |_| method.set(choice)
                            />
                            <span><strong>{name}</strong> ": " {explanation}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <div class="demo-fields">
                    <Field
                        id="first-lora-rank" label="LoRA rank (r)" value=lora_rank min=1 max=MAX_LORA_RANK step="1"
                        error=Signal::derive(move || rank_value().err()) reveal=attempted
                        disabled=Signal::derive(move || !uses_lora())
                        hint="How wide each adapter is."
                    />
                    <Field
                        id="first-lora-alpha" label="LoRA alpha" value=lora_alpha min=0 step="any"
                        error=Signal::derive(move || alpha_value().err()) reveal=attempted
                        disabled=Signal::derive(move || !uses_lora())
                        hint="Adapters are scaled by alpha ÷ r."
                    />
                    <Field
                        id="first-lora-learning-rate" label="Learning rate" value=learning_rate min=0 step="any"
                        error=Signal::derive(move || learning_rate_value().err()) reveal=attempted
                        hint="For example 0.005 or 5e-3."
                    />
                    <Field
                        id="first-lora-steps" label="Steps" value=steps min=1 max=MAX_STEPS step="1"
                        error=Signal::derive(move || steps_value().err()) reveal=attempted
                    />
                    <Field
                        id="first-lora-batch-size" label="Batch size" value=batch_size min=1 max=MAX_BATCH_SIZE step="1"
                        error=Signal::derive(move || batch_size_value().err()) reveal=attempted
                        hint="Examples per step."
                    />
                    <Field
                        id="first-lora-seed" label="Seed" value=seed min=0 max=MAX_SEED step="1"
                        error=Signal::derive(move || seed_value().err()) reveal=attempted
                        hint="The same seed repeats a run exactly."
                    />
                </div>
                <TrainingCost model settings />
                <button type="submit">"Train"</button>
            </fieldset>
        </form>
    }
}

/// "Trains N of M parameters" and the memory it needs, for the settings as they stand.
#[component]
fn TrainingCost(model: Signal<Option<ModelShape>>, settings: Memo<Option<TrainSettings>>) -> impl IntoView {
    let describe = move || {
        let shape = model.get()?;
        let Some(settings) = settings.get() else {
            return Some(vec!["What this run would train appears once every setting is valid.".to_string()]);
        };
        let (trainable, total) = (shape.trainable_params(&settings), shape.total_params());
        let what_trains = match settings.method {
            TrainingMethod::Lora => format!(
                "Trains {} adapter parameters, {} as many as the model's {} weights, which stay frozen.",
                format_count(trainable),
                format_percent(trainable, total),
                format_count(total),
            ),
            TrainingMethod::Full => format!("Trains all {} parameters (100%).", format_count(total)),
            TrainingMethod::Frozen => format!("Trains none of the {} parameters (0%).", format_count(total)),
        };
        let memory = format!("About {} of memory.", format_bytes(shape.training_memory_bytes(&settings) as u64));
        Some(vec![what_trains, memory])
    };
    view! {
        <div class="demo-cost" aria-live="polite">
            {move || describe().map(|lines| lines.into_iter().map(|line| view! { <p>{line}</p> }).collect_view())}
        </div>
    }
}
