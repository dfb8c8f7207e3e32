//! A run under way: its progress bar, step count, time left and speed, the Pause/Resume and Stop buttons, and
//! whether it is saved in the browser (to resume after a reload). Once the run ends this goes away: the demo's
//! status line says how it ended.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::numbers::{format_rate, format_time_left};
use crate::protocol::{RunId, ToWorker};
use crate::ui::run_state::{Run, RunPhase, Saving};

/// Steps the time-left estimate looks back over: recent enough to follow a change of pace.
const RECENT_STEPS: usize = 10;

fn summary(run: &Run) -> String {
    let (step, total) = (run.latest_step(), run.settings.steps);
    match run.phase {
        RunPhase::Starting => "Starting…".into(),
        RunPhase::Training => {
            let mut parts = vec![format!("Step {step} of {total}")];
            parts.extend(run.seconds_left(RECENT_STEPS).map(format_time_left));
            parts.extend(run.metrics.last().map(|m| format!("{} tokens/s", format_rate(m.tokens_per_second))));
            parts.join(" · ")
        }
        RunPhase::Paused => format!("Paused at step {step} of {total}"),
        RunPhase::Finished { .. } => String::new(),
    }
}

#[component]
pub fn RunProgress(demo: LiveDemo, #[prop(into)] run: Signal<Option<RunId>>) -> impl IntoView {
    let state = demo.state;
    let current = Memo::new(move |_| run.get().and_then(|id| state.with(|s| s.run(id).cloned())));
    let phase = Memo::new(move |_| current.with(|run| run.as_ref().map(|run| run.phase)));
    // Set from a click until the worker confirms it, so a second click cannot send the request twice. The buttons
    // say so with `aria-disabled` rather than `disabled`, which would throw the keyboard focus off them.
    let asked = RwSignal::new(false);
    Effect::new(move |_| {
        phase.track();
        asked.set(false);
    });
    let in_progress = move || current.with(|run| run.as_ref().is_some_and(Run::in_progress));
    let can_steer = move || matches!(phase.get(), Some(RunPhase::Training | RunPhase::Paused));
    let paused = move || phase.get() == Some(RunPhase::Paused);
    let ask = move |message: fn(RunId) -> ToWorker| {
        if let (false, Some(id)) = (asked.get_untracked(), run.get_untracked()) {
            asked.set(true);
            demo.send(&message(id));
        }
    };
    let aria_disabled = move || asked.get().then_some("true");
    let summary_id = demo.id("run-summary");

    view! {
        <Show when=in_progress>
            <div class="demo-run">
                <p>
                    <progress
                        max=move || current.with(|run| run.as_ref().map_or(0, |run| run.settings.steps))
                        value=move || current.with(|run| run.as_ref().filter(|run| run.phase != RunPhase::Starting).map(Run::latest_step))
                        aria-labelledby=summary_id.clone()
                    ></progress>
                    <span id=summary_id.clone()>{move || current.with(|run| run.as_ref().map(summary))}</span>
                </p>
                <Show when=can_steer>
                    <button
                        type="button"
                        aria-disabled=aria_disabled
                        on:click=move |_| ask(if paused() { |run| ToWorker::Resume { run } } else { |run| ToWorker::Pause { run } })
                    >
                        {move || if paused() { "Resume" } else { "Pause" }}
                    </button>
                    <button type="button" class="secondary" aria-disabled=aria_disabled on:click=move |_| ask(|run| ToWorker::Stop { run })>
                        "Stop"
                    </button>
                </Show>
                {move || current.with(|run| run.as_ref().map(|run| run.saving.clone())).map(|saving| match saving {
                    Saving::NotYet => None,
                    Saving::Saved { step } => Some(view! {
                        <p class="hint">{format!("Saved in this browser at step {step}: after a reload it resumes from there.")}</p>
                    }.into_any()),
                    Saving::Failed(why) => Some(view! {
                        <p class="demo-alert" role="alert">
                            {format!("⚠ This run cannot be saved in this browser: {why}. It goes on here, but a reload or a lost GPU would lose it.")}
                        </p>
                    }.into_any()),
                })}
            </div>
        </Show>
    }
}
