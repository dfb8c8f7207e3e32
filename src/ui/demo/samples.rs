//! What the model writes, before and after training, side by side: the base model (adapter scale 0), the
//! fine-tuned one (scale 1; during a run, the model so far, sampled again at every evaluation), and a blend at the
//! strength the learner picks. Same prompt and seed for each, so the differences come from training.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::field::Field;
use super::first_lora::Run;
use super::numbers::parse_whole;
use super::settings_form::MAX_SEED;
use crate::protocol::{FromWorker, SampleSettings, ToWorker, TrainingMethod};
use crate::ui::trainer_client::use_trainer;

/// One sample's place on the page.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Empty,
    /// Only a `Sample` with this id fills it, so a late answer to an older request is dropped.
    Writing {
        request_id: u32,
    },
    Written(String),
    /// An error arrived instead; the demo's alert says what.
    Failed,
}

#[component]
pub fn Samples(
    #[prop(into)] ready: Signal<bool>,
    #[prop(into)] run: Signal<Option<Run>>,
    /// The latest step of the run, to say when a sample taken during training is from.
    #[prop(into)]
    step: Signal<usize>,
    #[prop(into)] prediction: Signal<String>,
) -> impl IntoView {
    let trainer = use_trainer();
    let defaults = SampleSettings::default();
    let prompt = RwSignal::new(defaults.prompt);
    let seed = RwSignal::new(defaults.seed.to_string());
    let attempted = RwSignal::new(false);
    let base = RwSignal::new(Slot::Empty);
    let tuned = RwSignal::new(Slot::Empty);
    let blended = RwSignal::new(Slot::Empty);
    let strength = RwSignal::new(0.5);
    let blended_strength = RwSignal::new(0.5);
    // Set while the fine-tuned sample comes from a run still in progress.
    let tuned_at_step = RwSignal::new(None::<usize>);

    let prompt_error = Signal::derive(move || {
        prompt.with(|p| p.trim().is_empty()).then(|| "Write a few words for the model to continue.".to_string())
    });
    let seed_value = move || parse_whole(&seed.get(), 0, MAX_SEED);
    let trained = Signal::derive(move || run.with(|run| run.and_then(|run| run.trained_method())));
    let training = move || run.with_untracked(|run| run.is_some_and(|run| run.in_progress()));
    let can_blend = move || trained.get() == Some(TrainingMethod::Lora) && ready.get();

    let request = move |slot: RwSignal<Slot>, adapter_scale: f64, sample: SampleSettings| {
        let request_id = trainer.next_request_id();
        slot.set(Slot::Writing { request_id });
        trainer.send(&ToWorker::Generate { request_id, sample, adapter_scale });
    };
    let sample_settings = move || {
        let seed = seed_value().ok()?;
        prompt_error.get_untracked().is_none().then(|| SampleSettings {
            prompt: prompt.get_untracked(),
            seed,
            ..Default::default()
        })
    };
    let request_tuned = move |sample: SampleSettings, at_step: Option<usize>| {
        tuned_at_step.set(at_step);
        request(tuned, 1.0, sample);
    };
    // The base model always; the fine-tuned one once something trains; the blend again if there is one.
    let generate = move || {
        let Some(sample) = untrack(sample_settings) else {
            attempted.set(true);
            return;
        };
        request(base, 0.0, sample.clone());
        if training() {
            request_tuned(sample, Some(step.get_untracked()));
        } else if let Some(method) = trained.get_untracked() {
            request_tuned(sample.clone(), None);
            if method == TrainingMethod::Lora && blended.get_untracked() != Slot::Empty {
                request(blended, blended_strength.get_untracked(), sample);
            }
        }
    };

    trainer.on_event(move |event| match event {
        FromWorker::Ready { .. } => {
            tuned.set(Slot::Empty);
            tuned_at_step.set(None);
            blended.set(Slot::Empty);
            generate();
        }
        // The held-out loss was just measured: a good moment to see what the model writes so far.
        FromWorker::Metrics(metrics)
            if metrics.eval_loss.is_some() && training() && !matches!(tuned.get_untracked(), Slot::Writing { .. }) =>
        {
            if let Some(sample) = untrack(sample_settings) {
                request_tuned(sample, Some(metrics.step));
            }
        }
        // The demo subscribed before its parts, so here the run already reads as finished.
        FromWorker::Finished { step, .. } if *step > 0 => generate(),
        FromWorker::Sample { request_id, text, .. } => {
            for slot in [base, tuned, blended] {
                if slot.with_untracked(|slot| *slot == Slot::Writing { request_id: *request_id }) {
                    slot.set(Slot::Written(text.clone()));
                }
            }
        }
        // Errors do not say which request failed, so every pending sample stops waiting.
        FromWorker::Error { .. } => {
            for slot in [base, tuned, blended] {
                if matches!(slot.get_untracked(), Slot::Writing { .. }) {
                    slot.set(Slot::Failed);
                }
            }
        }
        _ => {}
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        generate();
    };
    let blend = move || {
        let Some(sample) = sample_settings() else {
            attempted.set(true);
            return;
        };
        let scale = strength.get_untracked();
        blended_strength.set(scale);
        request(blended, scale, sample);
    };

    view! {
        <section class="demo-samples" aria-labelledby="first-lora-samples-heading">
            <h4 id="first-lora-samples-heading">"What it writes"</h4>
            <form class="demo-sample-form" on:submit=submit novalidate>
                <fieldset disabled=move || !ready.get()>
                    <legend>"Sample settings"</legend>
                    <div class="demo-fields">
                        <Field id="first-lora-prompt" label="Prompt" kind="text" value=prompt error=prompt_error reveal=attempted />
                        <Field
                            id="first-lora-sample-seed" label="Sample seed" value=seed min=0 max=MAX_SEED step="1"
                            error=Signal::derive(move || seed_value().err()) reveal=attempted
                            hint="The same seed gives the same text, so differences come from training."
                        />
                    </div>
                    <button type="submit">"Generate"</button>
                </fieldset>
            </form>
            <div class="demo-sample-grid">
                <SampleCard title="Base model" sample=base empty_hint="Waiting for the model to load." />
                <SampleCard
                    title=Signal::derive(move || match tuned_at_step.get() {
                        Some(step) => format!("Fine-tuned so far (step {step})"),
                        None => "Fine-tuned".into(),
                    })
                    sample=tuned
                    empty_hint="Train first: this is the model with what it learned."
                />
                <Show when=move || trained.get().is_some() && prediction.with(|p| !p.trim().is_empty())>
                    <div class="demo-sample demo-your-prediction">
                        <h5>"Your prediction"</h5>
                        <p class="demo-sample-text">{prediction}</p>
                    </div>
                </Show>
            </div>
            <div class="demo-blend">
                <label for="first-lora-strength">"Adapter strength"</label>
                <input
                    id="first-lora-strength"
                    type="range"
                    min="0"
                    max="1"
                    step="0.1"
                    aria-describedby="first-lora-strength-hint"
                    aria-valuetext=move || format!("{:.1} times the adapter", strength.get())
                    prop:value=move || strength.get().to_string()
                    disabled=move || !can_blend()
                    on:input=move |ev| strength.set(event_target_value(&ev).parse().unwrap_or(0.5))
                    on:change=move |_| blend()
                />
                <span class="demo-strength-value" aria-hidden="true">{move || format!("{:.1}×", strength.get())}</span>
                <p class="hint" id="first-lora-strength-hint">
                    "After a LoRA run: 0 is the base model, 1 the fully fine-tuned one. Letting go of the slider writes a blended sample."
                </p>
            </div>
            <SampleCard
                title=Signal::derive(move || format!("Blended ({:.1}×)", blended_strength.get()))
                sample=blended
                empty_hint="Move the slider after a LoRA run."
            />
        </section>
    }
}

#[component]
fn SampleCard(#[prop(into)] title: Signal<String>, sample: RwSignal<Slot>, empty_hint: &'static str) -> impl IntoView {
    view! {
        <div class="demo-sample" aria-live="polite" aria-busy=move || matches!(sample.get(), Slot::Writing { .. }).then_some("true")>
            <h5>{title}</h5>
            {move || match sample.get() {
                Slot::Empty => view! { <p class="hint">{empty_hint}</p> }.into_any(),
                Slot::Writing { .. } => view! { <p class="hint">"Writing…"</p> }.into_any(),
                Slot::Written(text) => view! { <p class="demo-sample-text">{text}</p> }.into_any(),
                Slot::Failed => view! { <p class="hint">"Nothing written: see the problem above."</p> }.into_any(),
            }}
        </div>
    }
}
