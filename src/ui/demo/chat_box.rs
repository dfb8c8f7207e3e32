//! A chat box for an instruction model: the learner's message, answered by the base model and, once a run has
//! trained an adapter, by the model with it, side by side and streamed as they are written. The worker puts the
//! message through the model's chat template and stops at its end-of-turn token; temperature and top-p are the
//! learner's.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::field::Slider;
use super::live::LiveDemo;
use super::samples::SampleCard;
use crate::protocol::{RunId, SampleSettings, TrainingMethod};
use crate::ui::run_state::Sample;

/// New tokens a reply may take.
const MAX_REPLY_TOKENS: usize = 128;

#[component]
pub fn ChatBox(
    demo: LiveDemo,
    /// The run whose adapter answers beside the base model (the demo's latest).
    #[prop(into)]
    run: Signal<Option<RunId>>,
    /// The message the box opens with.
    opening: &'static str,
) -> impl IntoView {
    let state = demo.state;
    let message = RwSignal::new(opening.to_string());
    let temperature = RwSignal::new(0.7);
    let top_p = RwSignal::new(0.9);
    let base = RwSignal::new(None::<u32>);
    let tuned = RwSignal::new(None::<u32>);
    let loaded = move || state.with(|s| s.model.is_some());
    let adapter = move || {
        run.get().filter(|&id| state.with(|s| s.run(id).and_then(|r| r.trained_method()) == Some(TrainingMethod::Lora)))
    };
    let writing = move || {
        state.with(|s| {
            [base.get(), tuned.get()].iter().flatten().any(|id| matches!(s.samples.get(id), Some(Sample::Writing(_))))
        })
    };
    let send = move |ev: SubmitEvent| {
        ev.prevent_default();
        let prompt = message.get_untracked().trim().to_string();
        if prompt.is_empty() {
            return;
        }
        let sample = SampleSettings {
            prompt,
            max_new_tokens: MAX_REPLY_TOKENS,
            temperature: temperature.get_untracked(),
            top_p: top_p.get_untracked(),
            seed: 7,
        };
        base.set(Some(demo.generate(None, sample.clone(), 0.0)));
        tuned.set(untrack(adapter).map(|id| demo.generate(Some(id), sample, 1.0)));
    };
    let (message_id, hint_id) = (demo.id("chat-message"), demo.id("chat-hint"));

    view! {
        <form class="demo-form demo-chat" on:submit=send novalidate>
            <div class="field">
                <label for=message_id.clone()>"Your message"</label>
                <textarea
                    id=message_id.clone()
                    rows="4"
                    aria-describedby=hint_id.clone()
                    prop:value=move || message.get()
                    on:input=move |ev| message.set(event_target_value(&ev))
                ></textarea>
                <p class="hint" id=hint_id.clone()>
                    "Sent as one user turn through the model's chat template; the reply ends at its end-of-turn token "
                    "or after " {MAX_REPLY_TOKENS} " tokens."
                </p>
            </div>
            <Slider id=demo.id("chat-temperature") label="Temperature" value=temperature min=0.0 max=1.5 step=0.05
                shown=|t| if t == 0.0 { "0 (always the likeliest token)".to_string() } else { format!("{t:.2}") } />
            <Slider id=demo.id("chat-top-p") label="Top-p" value=top_p min=0.05 max=1.0 step=0.05
                shown=|p| format!("{p:.2}") />
            <p class="demo-actions">
                <button type="submit" disabled=move || !loaded() || writing() || message.with(|m| m.trim().is_empty())>
                    "Send"
                </button>
            </p>
        </form>
        <div class="demo-sample-grid">
            <SampleCard demo title="The model as it ships" request=base empty_hint="Send a message once the model has loaded." />
            <SampleCard
                demo
                title="With your adapter"
                request=tuned
                empty_hint="Train, then send again: the model with your adapter answers here."
            />
        </div>
    }
}
