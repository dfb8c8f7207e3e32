//! A run under way: its progress bar, step count, time left and speed, and the Pause/Resume and Stop buttons.

use leptos::prelude::*;
use web_sys::js_sys::Date;

use super::first_lora::{Run, RunPhase};
use super::numbers::{count_of, format_rate, format_time_left, seconds_left};
use crate::protocol::{FinishReason, FromWorker, StepMetrics, ToWorker};
use crate::ui::trainer_client::use_trainer;

/// Steps the time-left estimate looks back over: recent enough to follow a change of pace.
const RECENT_STEPS: usize = 10;

#[component]
pub fn RunProgress(
    #[prop(into)] run: Signal<Option<Run>>,
    #[prop(into)] metrics: Signal<Vec<StepMetrics>>,
) -> impl IntoView {
    let trainer = use_trainer();
    // (step, seconds) as each step arrived; a pause would distort the pace, so it starts again on resuming.
    let recent = RwSignal::new(Vec::<(usize, f64)>::new());
    trainer.on_event(move |event| match event {
        FromWorker::TrainingStarted { .. } | FromWorker::Resumed { .. } => recent.set(Vec::new()),
        FromWorker::Metrics(metrics) => recent.update(|recent| {
            recent.push((metrics.step, Date::now() / 1000.0));
            if recent.len() > RECENT_STEPS {
                recent.remove(0);
            }
        }),
        _ => {}
    });
    // Set from a click until the worker confirms it, so a second click cannot send the request twice. The buttons
    // say so with `aria-disabled` rather than `disabled`, which would throw the keyboard focus off them.
    let asked = RwSignal::new(false);
    let phase = Memo::new(move |_| run.get().map(|run| run.phase));
    Effect::new(move |_| {
        phase.track();
        asked.set(false);
    });

    let step = move || metrics.with(|metrics| metrics.last().map_or(0, |m| m.step));
    let summary = move || {
        let Some(run) = run.get() else { return String::new() };
        let total = run.total_steps;
        match run.phase {
            RunPhase::Starting => "Starting…".into(),
            RunPhase::Training => {
                let mut parts = vec![format!("Step {} of {total}", step())];
                parts.extend(recent.with(|recent| seconds_left(recent, total)).map(format_time_left));
                parts.extend(
                    metrics.with(|m| m.last().map(|m| format!("{} tokens/s", format_rate(m.tokens_per_second)))),
                );
                parts.join(" · ")
            }
            RunPhase::Paused => format!("Paused at step {} of {total}", step()),
            RunPhase::Finished { reason: FinishReason::Completed, step } => {
                format!("Finished after {}", count_of(step, "step"))
            }
            RunPhase::Finished { reason: FinishReason::Stopped, step } => format!("Stopped at step {step} of {total}"),
        }
    };
    let has_run = Memo::new(move |_| run.with(Option::is_some));
    let can_steer = Memo::new(move |_| matches!(phase.get(), Some(RunPhase::Training | RunPhase::Paused)));
    let paused = move || phase.get() == Some(RunPhase::Paused);
    let ask = move |message: ToWorker| {
        if !asked.get_untracked() {
            asked.set(true);
            trainer.send(&message);
        }
    };
    let aria_disabled = move || asked.get().then_some("true");

    view! {
        <Show when=move || has_run.get()>
            <div class="demo-run">
                <p>
                    <progress
                        max=move || run.get().map_or(0, |run| run.total_steps)
                        value=move || (phase.get() != Some(RunPhase::Starting)).then(step)
                        aria-labelledby="first-lora-run-summary"
                    ></progress>
                    <span id="first-lora-run-summary">{summary}</span>
                </p>
                <Show when=move || can_steer.get()>
                    <button
                        type="button"
                        aria-disabled=aria_disabled
                        on:click=move |_| ask(if paused() { ToWorker::Resume } else { ToWorker::Pause })
                    >
                        {move || if paused() { "Resume" } else { "Pause" }}
                    </button>
                    <button type="button" class="secondary" aria-disabled=aria_disabled on:click=move |_| ask(ToWorker::Stop)>
                        "Stop"
                    </button>
                </Show>
            </div>
        </Show>
    }
}
