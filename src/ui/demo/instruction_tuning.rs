//! Instruction tuning, judged twice (lesson "Instruction-tune the tiny model"): the base model trained on requests
//! with stories that do as asked, then asked for stories about animal-and-place pairs it never trained on. Each
//! story is judged for the answers' shape (the first sentence names an animal and a place, any of the data's) and
//! for following the request (it names the animal and the place asked for), before and after: the recorded run
//! first, then the learner's with the recording's settings. The base model's stories are the recording's (the
//! same model, prompts and seeds).

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::reading::fetch_json;
use super::recorded::RunLossChart;
use super::run_controls::RunControls;
use super::table::ScrollingTable;
use super::{INSTRUCTIONS, STORIES_MODEL_URL};
use crate::protocol::{CheckedSample, RecordedRun, TaskCheck};
use crate::task::file_beside;

/// A story's two verdicts, as the table shows them.
fn verdicts(check: &TaskCheck, sample: &CheckedSample) -> String {
    let shape = check.shape.as_ref().map(|shape| shape.passes(&sample.text));
    let mark = |passed: bool| if passed { "✓" } else { "✗" };
    match shape {
        Some(shape) => format!("{} shape · {} request", mark(shape), mark(sample.passed)),
        None => format!("{} request", mark(sample.passed)),
    }
}

/// "Story shape 7 of 8, follows the instruction 4 of 8" for a set of judged stories.
fn tally(check: &TaskCheck, samples: &[CheckedSample]) -> String {
    let total = samples.len();
    let followed = samples.iter().filter(|s| s.passed).count();
    match &check.shape {
        Some(shape) => {
            let shaped = samples.iter().filter(|s| shape.passes(&s.text)).count();
            format!("{} {shaped} of {total}, {} {followed} of {total}", shape.name, check.name.to_lowercase())
        }
        None => format!("{} {followed} of {total}", check.name),
    }
}

#[component]
pub fn InstructionTuningDemo() -> impl IntoView {
    let instructions = &INSTRUCTIONS;
    let demo = LiveDemo::new("instruction-tuning", STORIES_MODEL_URL, &instructions.url());
    let state = demo.state;
    demo.load();

    let recorded = RwSignal::new(None::<RecordedRun>);
    fetch_json(file_beside(&instructions.url(), "instruction-tuning.recorded.json"), recorded);
    let initial = Signal::derive(move || recorded.with(|r| r.as_ref().map(|r| r.settings.clone())).unwrap_or_default());
    let check = Memo::new(move |_| state.with(|s| s.dataset.as_ref().and_then(|d| d.task.clone())));
    // The learner's stories once their run is checked, else the recording's; the base model's are the recording's.
    let tuned = Memo::new(move |_| {
        let own = state.with(|s| s.latest_run().filter(|run| run.task.is_some()).map(|run| run.checked.clone()));
        match own {
            Some(samples) => Some((samples, false)),
            None => recorded.with(|r| r.as_ref().map(|r| (r.tuned_checked.clone(), true))),
        }
    });
    let caption_id = demo.id("stories-caption");
    let caption = move || match tuned.with(|t| t.as_ref().map(|(_, recorded)| *recorded)) {
        Some(false) => "Stories for requests no run trained on: the base model (recorded) and yours",
        _ => "Stories for requests no run trained on: the base model and the recorded run",
    };
    let rows = move || {
        let (Some(check), Some(base), Some((tuned, _))) =
            (check.get(), recorded.with(|r| r.as_ref().map(|r| r.base_checked.clone())), tuned.get())
        else {
            return Vec::new();
        };
        base.into_iter()
            .zip(tuned)
            .map(|(before, after)| {
                view! {
                    <tr>
                        <th scope="row" class="demo-table-text">{before.prompt.clone()}</th>
                        <td class="demo-table-text"><span class="verdict">{verdicts(&check, &before)}</span>" "{before.text.clone()}</td>
                        <td class="demo-table-text"><span class="verdict">{verdicts(&check, &after)}</span>" "{after.text.clone()}</td>
                    </tr>
                }
            })
            .collect()
    };
    let summary = move || {
        let check = check.get()?;
        let base = recorded.with(|r| r.as_ref().map(|r| r.base_checked.clone()))?;
        let (tuned, was_recorded) = tuned.get()?;
        Some(format!(
            "Base model: {}. After {}: {}.",
            tally(&check, &base),
            if was_recorded { "the recorded run" } else { "your run" },
            tally(&check, &tuned)
        ))
    };

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: instruction-tune the base model"</h3>
            <p>
                "The data: requests for a story about an animal at a place, each with a story that does as asked. After \
                 the run, the model writes one story for each of 8 requests whose animal-and-place pairs never occur \
                 in the data. Each story is judged twice: does its first sentence have the training stories' shape, \
                 an animal and a place, and does it name the animal and the place that were asked for?"
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <RunControls demo initial />
            <RunLossChart demo recorded />
            <p class="demo-summary" aria-live="polite">{summary}</p>
            <ScrollingTable caption_id=caption_id caption=caption class="instruction-stories">
                <thead>
                    <tr>
                        <th scope="col">"Request"</th>
                        <th scope="col">"Base model"</th>
                        <th scope="col">"After tuning"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </ScrollingTable>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{CheckPrompt, ShapeCheck};

    fn sample(text: &str, passed: bool) -> CheckedSample {
        CheckedSample { prompt: "Write a story about a fox on the farm.".into(), text: text.into(), passed }
    }

    fn check(shape: bool) -> TaskCheck {
        TaskCheck {
            name: "Follows the instruction".into(),
            description: "d".into(),
            max_new_tokens: None,
            judge_first_sentence: false,
            kinds: Vec::new(),
            samples: vec![CheckPrompt {
                prompt: "p".into(),
                must_contain: vec!["fox".into(), "farm".into()],
                kind: None,
            }],
            shape: shape.then(|| ShapeCheck {
                name: "Story shape".into(),
                description: "d".into(),
                first_sentence_names: vec![vec!["fox".into(), "owl".into()], vec!["farm".into(), "park".into()]],
            }),
        }
    }

    #[test]
    fn each_story_is_judged_for_its_shape_and_for_the_request() {
        let (asked, other, neither) = (
            sample("A fox lived on the farm.", true),
            sample("One day, an owl went to the park.", false),
            sample("Lily was sad. A fox came to the farm.", true),
        );
        assert_eq!(verdicts(&check(true), &asked), "✓ shape · ✓ request");
        assert_eq!(verdicts(&check(true), &other), "✓ shape · ✗ request");
        assert_eq!(verdicts(&check(true), &neither), "✗ shape · ✓ request");
        assert_eq!(verdicts(&check(false), &other), "✗ request");
        assert_eq!(tally(&check(true), &[asked, other, neither]), "Story shape 2 of 3, follows the instruction 2 of 3");
    }
}
