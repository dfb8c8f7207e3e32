//! The recorded run of the demo's data set (made with the demo's settings when the site was built, see
//! `tinytune record`): what a reader whose device is slow, or who has not trained yet, sees in place of their own
//! run. Labelled as recorded, and gone once the demo has a run of its own.

use leptos::prelude::*;

use super::chart::{run_losses, StepChart};
use super::live::LiveDemo;
use super::numbers::count_of;
use crate::protocol::{RecordedRun, StepMetrics};
use crate::ui::run_state::{Run, RunState};

/// The recorded run to show in place of the learner's: while this demo has no run yet.
pub fn shown_recorded_run(state: &RunState) -> Option<&RecordedRun> {
    if state.runs.is_empty() {
        state.dataset.as_ref()?.recorded.as_ref()
    } else {
        None
    }
}

/// The note on `recorded` (what the demo shows in place of a run of the learner's, if anything): its settings, its
/// task score, and a sample from the base model and from the tuned one: the default prompt's, or with
/// `first_check`, the replies to the task check's first message (an instruction model's samples).
/// A chart's run: the learner's latest, else the recorded one shown in its place; its metrics and length.
pub fn charted_run(latest: Option<&Run>, recorded: Option<&RecordedRun>) -> (Vec<StepMetrics>, usize) {
    match (latest, recorded) {
        (None, Some(recorded)) => (recorded.metrics.clone(), recorded.settings.steps),
        (run, _) => run.map_or((Vec::new(), 0), |run| (run.metrics.clone(), run.settings.steps)),
    }
}

/// One run's losses at each step (training, held-out, drift from the base model): the demo's latest run, or
/// `recorded` until the learner has one; the caption says which.
#[component]
pub fn RunLossChart(demo: LiveDemo, #[prop(into)] recorded: Signal<Option<RecordedRun>>) -> impl IntoView {
    let state = demo.state;
    let shown = Memo::new(move |_| {
        let latest = state.with(|s| s.latest_run().cloned());
        recorded.with(|r| charted_run(latest.as_ref(), r.as_ref()))
    });
    let caption = move || match state.with(|s| s.runs.is_empty()) && recorded.with(Option::is_some) {
        true => "Losses at each step of the recorded run".to_string(),
        false => "Losses at each step".to_string(),
    };
    view! {
        <StepChart
            demo
            name="losses"
            title="Loss"
            series=Signal::derive(move || shown.with(|(metrics, _)| run_losses(metrics)))
            total_steps=Signal::derive(move || shown.with(|(_, steps)| *steps))
            caption=Signal::derive(caption)
        />
    }
}

/// What a recorded run trained on, and what the charts show of it.
fn trained_on(recorded: &RecordedRun) -> String {
    let (units, seq_len) = (recorded.training_sequences, recorded.settings.seq_len);
    match recorded.settings.dpo_beta {
        // A DPO run's sequences are its pairs' two answers.
        Some(beta) => format!(
            "{} (each answer cut to {seq_len} tokens), with β = {beta}. The charts below show its rewards and \
             log-probabilities.",
            count_of(units / 2, "preference pair")
        ),
        None => format!("{} of {seq_len} tokens. The chart below shows its losses.", count_of(units, "piece")),
    }
}

#[component]
pub fn RecordedRunNote(
    demo: LiveDemo,
    #[prop(into)] recorded: Signal<Option<RecordedRun>>,
    #[prop(optional)] first_check: bool,
) -> impl IntoView {
    let heading_id = demo.id("recorded-title");
    move || {
        recorded.with(|recorded| {
            let recorded = recorded.clone()?;
            let (prompt, base_sample, tuned_sample) =
                match (first_check, recorded.base_checked.first(), recorded.tuned_checked.first()) {
                    (true, Some(base), Some(tuned)) => {
                        (Some(base.prompt.clone()), base.text.clone(), tuned.text.clone())
                    }
                    _ => (None, recorded.base_sample.clone(), recorded.tuned_sample.clone()),
                };
            let task = recorded.task.as_ref().map(|task| {
                format!(
                    " {}: {} of {} samples pass the data set's check afterwards (the base model's: {}).",
                    task.name, task.passed, task.total, task.base_passed
                )
            });
            Some(view! {
                <section class="demo-recorded" aria-labelledby=heading_id.clone()>
                    <h4 id=heading_id.clone()>"A recorded run"</h4>
                    <p>
                        {format!(
                            "Made when this site was built, with the settings this demo starts with: {} on {}",
                            count_of(recorded.settings.steps, "step"),
                            trained_on(&recorded),
                        )}
                        {task}
                        " Train to replace it with your own run."
                    </p>
                    {prompt.map(|prompt| view! {
                        <figure>
                            <figcaption>"Asked"</figcaption>
                            <blockquote class="demo-recorded-prompt">{prompt}</blockquote>
                        </figure>
                    })}
                    <div class="demo-recorded-samples">
                        <figure>
                            <figcaption>"The base model wrote"</figcaption>
                            <blockquote>{base_sample}</blockquote>
                        </figure>
                        <figure>
                            <figcaption>"After the recorded run, the model wrote"</figcaption>
                            <blockquote>{tuned_sample}</blockquote>
                        </figure>
                    </div>
                </section>
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DatasetSummary, FromWorker, TrainSettings};
    use crate::ui::run_state::apply;

    fn recorded() -> RecordedRun {
        RecordedRun {
            settings: TrainSettings::default(),
            training_sequences: 1063,
            metrics: Vec::new(),
            task: None,
            base_sample: "Once upon a time, Lily".into(),
            tuned_sample: "Once upon a time, Pip".into(),
            base_checked: Vec::new(),
            tuned_checked: Vec::new(),
        }
    }

    fn loaded(recorded: Option<RecordedRun>) -> RunState {
        let mut state = RunState::new("/pip.jsonl");
        let summary = DatasetSummary {
            url: "/pip.jsonl".into(),
            name: "pip.jsonl".into(),
            training_examples: 277,
            held_out_examples: 31,
            task: None,
            recorded,
            data_files: Vec::new(),
        };
        apply(&mut state, &FromWorker::DatasetLoaded(Box::new(summary)));
        state
    }

    #[test]
    fn a_dpo_run_is_counted_in_pairs_and_a_next_token_run_in_pieces() {
        assert_eq!(trained_on(&recorded()), "1,063 pieces of 64 tokens. The chart below shows its losses.");
        let settings = TrainSettings { dpo_beta: Some(0.1), ..TrainSettings::default() };
        let dpo = RecordedRun { settings, training_sequences: 520, ..recorded() };
        assert_eq!(
            trained_on(&dpo),
            "260 preference pairs (each answer cut to 64 tokens), with β = 0.1. The charts below show its rewards \
             and log-probabilities."
        );
    }

    #[test]
    fn the_recorded_run_shows_until_the_demo_has_a_run_of_its_own() {
        let mut state = loaded(Some(recorded()));
        assert_eq!(shown_recorded_run(&state), Some(&recorded()));
        state.start(1, TrainSettings::default());
        assert_eq!(shown_recorded_run(&state), None, "gone as soon as a run starts");
        assert_eq!(shown_recorded_run(&loaded(None)), None, "a data set without one shows none");
        assert_eq!(shown_recorded_run(&RunState::new("/pip.jsonl")), None, "nor does one not loaded yet");
    }
}
