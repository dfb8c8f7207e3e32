//! A run's task metric: how many of the data set's check samples pass after the run and with the base model, and
//! the samples themselves, so the learner judges a run by what the model now does as well as by its loss.

use leptos::prelude::*;

use super::live::LiveDemo;
use crate::protocol::{CheckedSample, RunId};

#[component]
pub fn TaskResult(demo: LiveDemo, #[prop(into)] run: Signal<Option<RunId>>) -> impl IntoView {
    let state = demo.state;
    let heading_id = demo.id("task-title");
    move || {
        state.with(|s| {
            let run = s.run(run.get()?)?;
            if run.checking(s.dataset.as_ref()) {
                return Some(view! { <p class="hint">"Checking what the model now writes…"</p> }.into_any());
            }
            let score = run.task.clone()?;
            let dataset = s.dataset.as_ref().filter(|d| d.name == run.dataset);
            let description = dataset.and_then(|d| d.task.as_ref()).map(|task| task.description.clone());
            let samples = run.checked.clone();
            Some(
                view! {
                    <section class="task-result" aria-labelledby=heading_id.clone()>
                        <h4 id=heading_id.clone()>{format!("{}: {} of {}", score.name, score.passed, score.total)}</h4>
                        <p>
                            {format!(
                                "{} of {} samples written by {} pass the check; the base model's pass {}.",
                                score.passed, score.total, run.name, score.base_passed
                            )}
                            {description.map(|d| format!(" {d}"))}
                        </p>
                        {(!samples.is_empty()).then(|| view! {
                            <details>
                                <summary>"The samples it counted"</summary>
                                <CheckedSamples samples />
                            </details>
                        })}
                    </section>
                }
                .into_any(),
            )
        })
    }
}

/// Each sample a check counted: whether it passes, its prompt and what the model wrote after it.
#[component]
pub fn CheckedSamples(samples: Vec<CheckedSample>) -> impl IntoView {
    view! {
        <ol class="checked-samples">
            {samples.into_iter().map(|sample| view! {
                <li>
                    <strong>{if sample.passed { "✓ passes: " } else { "✗ does not pass: " }}</strong>
                    <q>{sample.prompt}</q>
                    " …"
                    {sample.text}
                </li>
            }).collect_view()}
        </ol>
    }
}
