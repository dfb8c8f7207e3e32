//! GRPO on the story model (lesson "ORPO, KTO and GRPO"): a fresh adapter, groups of completions of one prompt
//! scored by a rule anyone can check ([`crate::reward::SentenceRule`]), each completion's advantage against its
//! group, and a GRPO step on them, step after step. The learner picks the word the first sentence must end with,
//! the learning rate, β and the steps; the chart follows the mean reward, and the latest step's groups show every
//! completion with its reward and advantage. Until the learner trains, the run recorded with the defaults when the
//! site was built (`tinytune grpo`) is shown, labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::chart::{Marker, Series, StepChart};
use super::field::{Field, Slider};
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::protocol::ToWorker;
use crate::reward::{GrpoSettings, GrpoStep, SentenceRule};

/// The run `tinytune grpo` recorded with the default settings when the site was built.
const RECORDED_URL: &str = "models/stories260K/grpo.recorded.json";
/// The learning rates offered: the toy's default, the site's LoRA default (which degenerates), and a slower one.
const LEARNING_RATES: [f64; 3] = [1e-3, 3e-3, 1e-2];

/// The mean reward of each step, as a chart's one line.
fn reward_series(steps: &[GrpoStep]) -> Vec<Series> {
    vec![Series {
        label: "Mean reward".into(),
        explanation: Some(format!("over the step's completions, from 0 to {}", SentenceRule::MAX_REWARD)),
        class: "train".into(),
        dash: None,
        marker: Marker::None,
        points: steps.iter().map(|step| (step.step, step.mean_reward)).collect(),
    }]
}

/// An advantage as the table shows it, its sign always written.
fn advantage_text(advantage: f64) -> String {
    if advantage.abs() < 0.005 {
        "0".into()
    } else {
        format!("{advantage:+.2}")
    }
}

#[component]
pub fn GrpoToyDemo() -> impl IntoView {
    let demo = LiveDemo::new("grpo-toy", STORIES_MODEL_URL, &PIP_STORIES.url());
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<Vec<GrpoStep>>);
    fetch_json(RECORDED_URL.to_string(), recorded);

    let defaults = GrpoSettings::default();
    let ending = RwSignal::new(defaults.rule.ending.clone());
    let steps = RwSignal::new(defaults.steps.to_string());
    let beta = RwSignal::new(defaults.beta);
    let learning_rate = RwSignal::new(defaults.learning_rate);
    let submitted = RwSignal::new(false);
    let settings = Memo::new(move |_| {
        let defaults = GrpoSettings::default();
        let steps = steps.get().trim().parse().unwrap_or(0);
        let rule = SentenceRule { ending: ending.get().trim().to_string(), ..defaults.rule.clone() };
        GrpoSettings { rule, steps, beta: beta.get(), learning_rate: learning_rate.get(), ..defaults }
    });
    let problem = Signal::derive(move || settings.with(GrpoSettings::problem));
    let training = move || state.with(|s| s.grpo.as_ref().is_some_and(|run| run.training()));
    let ready = move || state.with(|s| s.model.is_some());
    let train = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if training() {
            demo.send(&ToWorker::StopGrpo);
        } else if problem.get_untracked().is_none() {
            demo.train_grpo(settings.get_untracked());
        }
    };
    // The learner's run once it has a step; the recording until then.
    let shown = Memo::new(move |_| {
        let own = state.with(|s| s.grpo.as_ref().filter(|run| !run.steps.is_empty()).map(|run| run.steps.clone()));
        own.map(|steps| (steps, false)).or_else(|| recorded.get().map(|steps| (steps, true)))
    });
    let series = Signal::derive(move || {
        shown.with(|shown| shown.as_ref().map(|(steps, _)| reward_series(steps))).unwrap_or_default()
    });
    let total_steps = Signal::derive(move || {
        state
            .with(|s| s.grpo.as_ref().map(|_| settings.with(|s| s.steps)))
            .or_else(|| shown.with(|shown| shown.as_ref().map(|(steps, _)| steps.len())))
            .unwrap_or(GrpoSettings::default().steps)
    });

    let (ending_id, steps_id, beta_id, rate_id) =
        (demo.id("ending"), demo.id("steps"), demo.id("beta"), demo.id("rate"));
    let caption_id = demo.id("groups-caption");
    view! {
        <section class="demo grpo-toy" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: GRPO with a rule for a reward"</h3>
            <p>
                {format!(
                    "Each step the story model, with a fresh LoRA adapter, writes {} groups of {} completions of “{}”. \
                     A rule scores each completion's first sentence: 1 point if it ends with your word, 1 point if it \
                     has at most {} words. Each completion's advantage is its reward against its group; then one GRPO \
                     step.",
                    defaults.groups, defaults.group_size, defaults.prompt, defaults.rule.max_words,
                )}
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Training" />
            <form class="demo-form" on:submit=train novalidate>
                <Field
                    id=ending_id
                    label="The word the first sentence must end with"
                    value=ending
                    kind="text"
                    error=Signal::derive(move || problem.get().filter(|p| p.contains("ending")))
                    reveal=submitted
                    disabled=Signal::derive(training)
                />
                <Field
                    id=steps_id
                    label="Steps"
                    value=steps
                    error=Signal::derive(move || problem.get().filter(|p| p.starts_with("steps")))
                    reveal=submitted
                    disabled=Signal::derive(training)
                />
                <div class="field">
                    <label for=rate_id.clone()>"Learning rate"</label>
                    <select id=rate_id disabled=training on:change=move |ev| {
                        if let Ok(rate) = event_target_value(&ev).parse() {
                            learning_rate.set(rate);
                        }
                    }>
                        {LEARNING_RATES.map(|rate| view! {
                            <option value=rate.to_string() selected=move || learning_rate.get() == rate>{rate.to_string()}</option>
                        })}
                    </select>
                </div>
                <Slider id=beta_id label="β, the KL leash" value=beta min=0.0 max=1.0 step=0.05 shown=|b| format!("{b:.2}") disabled=Signal::derive(training) />
                <p class="demo-actions">
                    <button type="submit" disabled=move || !ready()>
                        {move || if training() { "Stop" } else { "Train with GRPO" }}
                    </button>
                </p>
            </form>
            <Notices demo />
            {move || shown.get().map(|(steps, is_recorded)| {
                let last = steps.last().cloned();
                view! {
                    <p class="demo-recorded-label" role="status">
                        {if is_recorded {
                            "Recorded when this site was built, with the settings above as they start. Train to see your own."
                        } else {
                            "Your run, step by step."
                        }}
                    </p>
                    {last.map(|last| {
                        let per_group = last.groups.first().map_or(0, Vec::len);
                        view! {
                            <ScrollingTable
                                caption_id=caption_id.clone()
                                caption=move || format!("Step {}: every completion, its reward and its advantage in its group", last.step)
                            >
                                <thead>
                                    <tr>
                                        <th scope="col">"Group"</th>
                                        <th scope="col">"Completion"</th>
                                        <th scope="col">"Reward"</th>
                                        <th scope="col">"Advantage"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {last.groups.iter().enumerate().flat_map(|(g, group)| group.iter().enumerate().map(move |(k, c)| view! {
                                        <tr>
                                            <th scope="row">{format!("{} · {}", g + 1, k + 1)}</th>
                                            <td class="completion">{c.text.clone()}</td>
                                            <td>{c.reward.to_string()}</td>
                                            <td>{advantage_text(c.advantage)}</td>
                                        </tr>
                                    })).collect_view()}
                                </tbody>
                            </ScrollingTable>
                            <p class="hint">{format!("{per_group} completions a group; a group whose rewards are all equal has advantages of 0 and teaches nothing.")}</p>
                        }
                    })}
                }
            })}
            <StepChart
                demo
                title="Mean reward per step"
                series
                total_steps
                caption=Signal::derive(|| "Each step's mean reward".to_string())
                name="reward"
            />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reward::ScoredCompletion;

    #[test]
    fn the_chart_follows_each_steps_mean_reward_and_advantages_carry_their_sign() {
        let step = |step, mean_reward| GrpoStep {
            step,
            mean_reward,
            loss: 0.0,
            grad_norm: 0.0,
            groups: vec![vec![ScoredCompletion { text: "x".into(), reward: 1.0, advantage: 0.0 }]],
        };
        let series = reward_series(&[step(1, 1.0), step(2, 1.5)]);
        assert_eq!(series[0].points, [(1, 1.0), (2, 1.5)]);
        assert_eq!(
            (advantage_text(0.7071), advantage_text(-1.2), advantage_text(1e-9)),
            ("+0.71".into(), "-1.20".into(), "0".into())
        );
    }
}
