//! Preference tuning with DPO (lesson "Preference tuning with DPO"): the course's base model trained on preference
//! pairs, each a request with a chosen story that does as asked and a rejected one that does not, with β on a
//! slider. The reference model costs nothing: it is the same model with its adapters off. Charts follow the chosen
//! and rejected answers' implicit rewards and log-probabilities step by step, a line sums up the held-out pairs,
//! and the task check and samples show what the model now writes. A composition of the run layer's widgets.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::chart::{run_measures, Measure, StepChart};
use super::download::DownloadAdapter;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::numbers::format_count;
use super::recorded::{charted_run, shown_recorded_run, RecordedRunNote};
use super::run_controls::RunControls;
use super::samples::Samples;
use super::task_result::TaskResult;
use super::{PREFERENCES, STORIES_MODEL_URL};
use crate::protocol::{Rewards, StepMetrics};
use crate::settings::RunPreset;

/// The held-out pairs at the run's first evaluation and at its latest, in words; `None` before one.
fn held_out_summary(metrics: &[StepMetrics]) -> Option<String> {
    let evaluated: Vec<(usize, Rewards)> = metrics.iter().filter_map(|m| m.eval_rewards.map(|r| (m.step, r))).collect();
    let (&(first_step, first), &(last_step, last)) = (evaluated.first()?, evaluated.last()?);
    Some(format!(
        "On held-out pairs, requests it never trained on, at step {last_step}: the chosen story's reward is ahead in \
         {:.0}% of them; the model's log-probability of the chosen stories went from {:.1} to {:.1} (step \
         {first_step} to {last_step}), of the rejected ones from {:.1} to {:.1}.",
        100.0 * last.accuracy,
        first.chosen_log_prob,
        last.chosen_log_prob,
        first.rejected_log_prob,
        last.rejected_log_prob,
    ))
}

#[component]
pub fn PreferenceTuningDemo() -> impl IntoView {
    let demo = LiveDemo::new("preference-tuning", STORIES_MODEL_URL, &PREFERENCES.url());
    let state = demo.state;
    demo.load();

    let latest_run = demo.latest_run();
    let shown = Memo::new(move |_| state.with(|s| charted_run(s.latest_run(), shown_recorded_run(s))));
    let recorded = Signal::derive(move || state.with(|s| shown_recorded_run(s).cloned()));
    let of_run = move |what: &str| match recorded.with(Option::is_some) {
        true => format!("{what} at each step of the recorded run"),
        false => format!("{what} at each step"),
    };
    let chart = move |name: &'static str, title: &'static str, measures: &'static [Measure]| {
        view! {
            <StepChart
                demo
                name
                title
                series=Signal::derive(move || shown.with(|(metrics, _)| run_measures(measures, metrics)))
                total_steps=Signal::derive(move || shown.with(|(_, steps)| *steps))
                caption=Signal::derive(move || of_run(title))
            />
        }
    };

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: DPO on preference pairs"</h3>
            <p>
                "Each pair is a request with two stories: the chosen one is about the animal and the place asked \
                 for; the rejected one is the same story about another animal at another place. DPO trains the \
                 model's LoRA adapters to favour the chosen story over the rejected one, measured against the same \
                 model with its adapters off. It all runs in this tab."
                {move || state.with(|s| s.dataset.as_ref().map(|data| format!(
                    " It trains on {} pairs and holds {} back.",
                    format_count(data.training_examples),
                    format_count(data.held_out_examples),
                )))}
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <RunControls demo initial=Signal::stored(RunPreset::Preferences.settings()) />
            <RecordedRunNote demo recorded />
            {chart("rewards", "Implicit rewards", &Measure::REWARDS)}
            {chart("log-probs", "Log-probability of the answers", &Measure::LOG_PROBS)}
            <p class="demo-summary" aria-live="polite">{move || shown.with(|(metrics, _)| held_out_summary(metrics))}</p>
            <TaskResult demo run=latest_run />
            <Samples demo run=latest_run />
            <DownloadAdapter demo run=latest_run />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: usize, eval: Option<(f64, f64, f64)>) -> StepMetrics {
        let rewards = eval.map(|(accuracy, chosen_log_prob, rejected_log_prob)| Rewards {
            chosen: 0.0,
            rejected: 0.0,
            accuracy,
            chosen_log_prob,
            rejected_log_prob,
        });
        StepMetrics {
            step,
            loss: 0.69,
            eval_loss: None,
            reference_eval_loss: None,
            learning_rate: 1e-3,
            grad_norm: 1.0,
            tokens_per_second: 1.0,
            elapsed_seconds: 1.0,
            trainable_params: 1,
            total_params: 2,
            rewards: None,
            eval_rewards: rewards,
        }
    }

    #[test]
    fn the_held_out_line_compares_the_first_evaluation_with_the_latest() {
        assert_eq!(held_out_summary(&[step(1, None)]), None, "nothing before an evaluation");
        let metrics = [step(1, Some((0.0, -66.26, -69.36))), step(5, None), step(10, Some((0.9375, -81.5, -101.1)))];
        assert_eq!(
            held_out_summary(&metrics).unwrap(),
            "On held-out pairs, requests it never trained on, at step 10: the chosen story's reward is ahead in 94% \
             of them; the model's log-probability of the chosen stories went from -66.3 to -81.5 (step 1 to 10), \
             of the rejected ones from -69.4 to -101.1."
        );
    }
}
