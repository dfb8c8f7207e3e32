//! What the model writes, before and after training, side by side: the base model (adapter scale 0), the
//! fine-tuned one (scale 1; during a run, the model so far, sampled again at every evaluation), and a blend at the
//! strength the learner picks. Same prompt and seed for each, so the differences come from training.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::field::Field;
use super::live::LiveDemo;
use crate::protocol::{RunId, SampleSettings, TrainingMethod};
use crate::settings::SEED;
use crate::ui::run_state::{Run, RunPhase, Sample};

#[component]
pub fn Samples(
    demo: LiveDemo,
    /// The run whose model is sampled (the demo's latest).
    #[prop(into)]
    run: Signal<Option<RunId>>,
) -> impl IntoView {
    let state = demo.state;
    let defaults = SampleSettings::default();
    let prompt = RwSignal::new(defaults.prompt);
    let seed = RwSignal::new(defaults.seed.to_string());
    let attempted = RwSignal::new(false);
    // The request each card shows.
    let base = RwSignal::new(None::<u32>);
    let tuned = RwSignal::new(None::<u32>);
    let blended = RwSignal::new(None::<u32>);
    let strength = RwSignal::new(0.5);
    let blended_strength = RwSignal::new(0.5);
    // Set while the fine-tuned sample comes from a run still in progress.
    let tuned_at_step = RwSignal::new(None::<usize>);

    let ready = Memo::new(move |_| state.with(|s| s.ready()));
    let current = Memo::new(move |_| run.get().and_then(|id| state.with(|s| s.run(id).cloned())));
    let trained = Memo::new(move |_| current.with(|run| run.as_ref().and_then(Run::trained_method)));
    let training = move || current.with_untracked(|run| run.as_ref().is_some_and(Run::in_progress));
    let can_blend = move || trained.get() == Some(TrainingMethod::Lora) && ready.get();

    let prompt_error = Signal::derive(move || {
        prompt.with(|p| p.trim().is_empty()).then(|| "Write a few words for the model to continue.".to_string())
    });
    let seed_value = move || SEED.parse(&seed.get()).map(|seed| seed as u64);
    let sample_settings = move || {
        let seed = seed_value().ok()?;
        prompt_error.get_untracked().is_none().then(|| SampleSettings {
            prompt: prompt.get_untracked(),
            seed,
            ..Default::default()
        })
    };
    let writing = move |slot: RwSignal<Option<u32>>| {
        slot.get_untracked()
            .is_some_and(|id| state.with_untracked(|s| matches!(s.samples.get(&id), Some(Sample::Writing(_)))))
    };
    let request = move |slot: RwSignal<Option<u32>>, adapter_scale: f64, sample: SampleSettings| {
        slot.set(Some(demo.generate(run.get_untracked(), sample, adapter_scale)));
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
            let step = current.with_untracked(|run| run.as_ref().map(Run::latest_step));
            request_tuned(sample, step);
        } else if let Some(method) = trained.get_untracked() {
            request_tuned(sample.clone(), None);
            if method == TrainingMethod::Lora && blended.get_untracked().is_some() {
                request(blended, blended_strength.get_untracked(), sample);
            }
        }
    };

    // Once loaded (again), the fine-tuned cards start empty and the base model writes.
    Effect::new(move |_| {
        if ready.get() {
            untrack(|| {
                tuned.set(None);
                tuned_at_step.set(None);
                blended.set(None);
                generate();
            });
        }
    });
    // The held-out loss was just measured: a good moment to see what the model writes so far.
    let evaluated_step = Memo::new(move |_| {
        current.with(|run| {
            run.as_ref().and_then(|run| run.metrics.iter().rev().find(|m| m.eval_loss.is_some()).map(|m| m.step))
        })
    });
    Effect::new(move |_| {
        if let Some(step) = evaluated_step.get() {
            if training() && !writing(tuned) {
                if let Some(sample) = untrack(sample_settings) {
                    request_tuned(sample, Some(step));
                }
            }
        }
    });
    // Also after a run stopped before its first step: the base model's sample may have been set aside for it.
    let finished_step = Memo::new(move |_| {
        current.with(|run| match run.as_ref().map(|run| run.phase) {
            Some(RunPhase::Finished { step, .. }) => Some(step),
            _ => None,
        })
    });
    Effect::new(move |_| {
        if finished_step.get().is_some() {
            untrack(generate);
        }
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
    let strength_id = demo.id("strength");
    let strength_hint_id = demo.id("strength-hint");
    let heading_id = demo.id("samples-heading");

    view! {
        <section class="demo-samples" aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>"What it writes"</h4>
            <form class="demo-sample-form" on:submit=submit novalidate>
                <fieldset disabled=move || !ready.get()>
                    <legend>"Sample settings"</legend>
                    <div class="demo-fields">
                        <Field id=demo.id("prompt") label="Prompt" kind="text" value=prompt error=prompt_error reveal=attempted />
                        <Field
                            id=demo.id("sample-seed") label="Sample seed" value=seed setting=SEED
                            error=Signal::derive(move || seed_value().err()) reveal=attempted
                            hint="The same seed gives the same text, so differences come from training."
                        />
                    </div>
                    <button type="submit">"Generate"</button>
                </fieldset>
            </form>
            <div class="demo-sample-grid">
                <SampleCard demo title="Base model" request=base empty_hint="Waiting for the model to load." />
                <SampleCard
                    demo
                    title=Signal::derive(move || match tuned_at_step.get() {
                        Some(step) => format!("Fine-tuned so far (step {step})"),
                        None => "Fine-tuned".into(),
                    })
                    request=tuned
                    empty_hint="Train first: this is the model with what it learned."
                />
            </div>
            <div class="demo-blend">
                <label for=strength_id.clone()>"Adapter strength"</label>
                <input
                    id=strength_id.clone()
                    type="range"
                    min="0"
                    max="1"
                    step="0.1"
                    aria-describedby=strength_hint_id.clone()
                    aria-valuetext=move || format!("{:.1} times the adapter", strength.get())
                    prop:value=move || strength.get().to_string()
                    disabled=move || !can_blend()
                    on:input=move |ev| strength.set(event_target_value(&ev).parse().unwrap_or(0.5))
                    on:change=move |_| blend()
                />
                <span class="demo-strength-value" aria-hidden="true">{move || format!("{:.1}×", strength.get())}</span>
                <p class="hint" id=strength_hint_id.clone()>
                    "After a LoRA run: 0 is the base model, 1 the fully fine-tuned one. Letting go of the slider writes a blended sample."
                </p>
            </div>
            <SampleCard
                demo
                title=Signal::derive(move || format!("Blended ({:.1}×)", blended_strength.get()))
                request=blended
                empty_hint="Move the slider after a LoRA run."
            />
        </section>
    }
}

#[component]
pub(super) fn SampleCard(
    demo: LiveDemo,
    #[prop(into)] title: Signal<String>,
    request: RwSignal<Option<u32>>,
    empty_hint: &'static str,
) -> impl IntoView {
    let sample = move || request.get().and_then(|id| demo.state.with(|s| s.samples.get(&id).cloned()));
    view! {
        <div class="demo-sample" aria-live="polite" aria-busy=move || matches!(sample(), Some(Sample::Writing(_))).then_some("true")>
            <h5>{title}</h5>
            {move || match sample() {
                None => view! { <p class="hint">{empty_hint}</p> }.into_any(),
                Some(Sample::Writing(so_far)) if so_far.is_empty() => {
                    view! { <p class="hint">"Writing…"</p> }.into_any()
                }
                Some(Sample::Writing(so_far)) => view! { <p class="demo-sample-text">{so_far}"…"</p> }.into_any(),
                Some(Sample::Written(text)) => view! { <p class="demo-sample-text">{text}</p> }.into_any(),
                Some(Sample::SetAside) => {
                    view! { <p class="hint">"Set aside for the run: written again when it ends."</p> }.into_any()
                }
                Some(Sample::Failed) => view! { <p class="hint">"Nothing written: see the problem above."</p> }.into_any(),
            }}
        </div>
    }
}
