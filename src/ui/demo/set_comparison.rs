//! Two data sets that differ in one way, each trained on and asked the same probes (their shared task check, with
//! kinds): a table of how many answers of each kind pass, for the base model and a run on each set, and every
//! probe's answer, the part the check judges. Both runs are recorded at build time and shown side by side; the
//! learner chooses the set their next run trains on, and their latest run on each set replaces its recording. The
//! base model's answers are the recording's (the same model, prompts and seeds). A composition of the run layer's
//! widgets; the lessons' demos give it their sets and words ("Domain text vs new facts", "Bias and safety").

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::reading::fetch_json;
use super::recorded::RunLossChart;
use super::run_controls::RunControls;
use super::table::ScrollingTable;
use super::DatasetChoice;
use crate::protocol::{CheckedSample, RecordedRun, TaskCheck};

/// One of the two sets: the data set, and its column's heading ("Trained on the notes").
#[derive(Clone, Copy)]
pub struct ComparedSet {
    pub dataset: &'static DatasetChoice,
    pub column: &'static str,
}

/// A column's answers: the learner's latest checked run on the set, else the set's recording (`true`).
type Answers = Option<(Vec<CheckedSample>, bool)>;

/// "3 of 8" for each of the check's kinds, then the total.
fn counts(check: &TaskCheck, answers: &[CheckedSample]) -> Vec<String> {
    let passed = answers.iter().filter(|a| a.passed).count();
    let by_kind = check.passed_by_kind(answers).into_iter().map(|(_, passed, total)| format!("{passed} of {total}"));
    by_kind.chain([format!("{passed} of {}", answers.len())]).collect()
}

/// One answer as the details table shows it: its verdict and the part the check judged.
fn judged(check: &TaskCheck, answer: &CheckedSample) -> String {
    let mark = if answer.passed { "✓" } else { "✗" };
    format!("{mark} {}", check.judged_part(&answer.text).trim())
}

/// What the tables say: their captions and their first columns' headings.
#[derive(Clone, Copy)]
pub struct ComparisonWords {
    /// Of the counts table: "Answers whose first sentence is right, by the way the question was asked".
    pub counts_caption: &'static str,
    /// Its first column, the kinds: "Asked".
    pub kinds_heading: &'static str,
    /// Of the answers table: "Each answer's first sentence, the part the check judges".
    pub answers_caption: &'static str,
    /// Its first column, the probes: "Question or opening".
    pub probes_heading: &'static str,
}

#[component]
pub fn SetComparison(demo: LiveDemo, sets: [ComparedSet; 2], words: ComparisonWords) -> impl IntoView {
    let state = demo.state;
    let recorded = sets.map(|set| {
        let run = RwSignal::new(None::<RecordedRun>);
        fetch_json(RecordedRun::url_beside(&set.dataset.url()), run);
        run
    });
    // The set the next run trains on: the one the demo's state loads.
    let chosen =
        Memo::new(move |_| state.with(|s| sets.iter().position(|set| set.dataset.url() == s.dataset_url).unwrap_or(0)));
    let initial = Signal::derive(move || {
        recorded[chosen.get()].with(|r| r.as_ref().map(|r| r.settings.clone())).unwrap_or_default()
    });
    let check = Memo::new(move |_| state.with(|s| s.dataset.as_ref().and_then(|d| d.task.clone())));
    let base = Memo::new(move |_| recorded[0].with(|r| r.as_ref().map(|r| r.base_checked.clone())));
    let columns: [Memo<Answers>; 2] = std::array::from_fn(|i| {
        Memo::new(move |_| {
            let own = state.with(|s| {
                let mut runs = s.runs.iter().rev();
                runs.find(|run| run.dataset == sets[i].dataset.file && run.task.is_some())
                    .map(|run| run.checked.clone())
            });
            match own {
                Some(answers) => Some((answers, false)),
                None => recorded[i].with(|r| r.as_ref().map(|r| (r.tuned_checked.clone(), true))),
            }
        })
    });
    let heading = move |i: usize| {
        let whose = match columns[i].with(|c| c.as_ref().map(|(_, recorded)| *recorded)) {
            Some(false) => "your run",
            _ => "recorded",
        };
        format!("{} ({whose})", sets[i].column)
    };
    let count_rows = move || {
        let (Some(check), Some(base)) = (check.get(), base.get()) else { return Vec::new() };
        let base = counts(&check, &base);
        let [first, second] = columns.map(|c| c.get().map(|(answers, _)| counts(&check, &answers)));
        let names = check.kinds.iter().map(|kind| {
            let example = check.samples.iter().find(|s| s.kind.as_deref() == Some(kind.key.as_str()));
            format!("{}: “{}”", kind.name, example.map_or("", |s| s.prompt.as_str()))
        });
        let names: Vec<String> = names.chain([format!("All {}", check.samples.len())]).collect();
        let cell =
            |counts: &Option<Vec<String>>, row: usize| counts.as_ref().map_or("…".to_string(), |c| c[row].clone());
        (names.into_iter().enumerate())
            .map(|(row, name)| {
                view! {
                    <tr>
                        <th scope="row" class="demo-table-text">{name}</th>
                        <td>{base[row].clone()}</td>
                        <td>{cell(&first, row)}</td>
                        <td>{cell(&second, row)}</td>
                    </tr>
                }
            })
            .collect()
    };
    let answer_rows = move || {
        let Some(check) = check.get() else { return Vec::new() };
        let [first, second] = columns.map(|c| c.get().map(|(answers, _)| answers).unwrap_or_default());
        let cell =
            |answers: &[CheckedSample], row: usize| answers.get(row).map_or(String::new(), |a| judged(&check, a));
        (check.samples.iter().enumerate())
            .map(|(row, probe)| {
                view! {
                    <tr>
                        <th scope="row" class="demo-table-text">{probe.prompt.clone()}</th>
                        <td class="demo-table-text">{cell(&first, row)}</td>
                        <td class="demo-table-text">{cell(&second, row)}</td>
                    </tr>
                }
            })
            .collect()
    };
    let choice_name = demo.id("set");

    view! {
        <LoadingProgress demo />
        <BackendLine demo />
        <fieldset disabled=move || state.with(|s| s.busy())>
            <legend>"Your next run trains on"</legend>
            {sets.into_iter().enumerate().map(|(i, set)| {
                let hint = demo.id(&format!("set-{i}-hint"));
                view! {
                    <label>
                        <input
                            type="radio"
                            name=choice_name.clone()
                            aria-describedby=hint.clone()
                            prop:checked=move || chosen.get() == i
                            on:change=move |_| demo.use_dataset(&set.dataset.url())
                        />
                        " "{set.dataset.title}
                    </label>
                    <p class="hint" id=hint>{set.dataset.about}</p>
                }
            }).collect_view()}
        </fieldset>
        <RunControls demo initial />
        <RunLossChart demo recorded=Signal::derive(move || recorded[chosen.get()].get()) />
        <ScrollingTable caption_id=demo.id("counts-caption") caption=move || words.counts_caption class="set-counts">
            <thead>
                <tr>
                    <th scope="col">{words.kinds_heading}</th>
                    <th scope="col">"Base model"</th>
                    <th scope="col">{move || heading(0)}</th>
                    <th scope="col">{move || heading(1)}</th>
                </tr>
            </thead>
            <tbody>{count_rows}</tbody>
        </ScrollingTable>
        <ScrollingTable caption_id=demo.id("answers-caption") caption=move || words.answers_caption class="set-answers">
            <thead>
                <tr>
                    <th scope="col">{words.probes_heading}</th>
                    <th scope="col">{move || heading(0)}</th>
                    <th scope="col">{move || heading(1)}</th>
                </tr>
            </thead>
            <tbody>{answer_rows}</tbody>
        </ScrollingTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{CheckPrompt, ProbeKind};

    fn check() -> TaskCheck {
        let probe = |prompt: &str, word: &str, kind: &str| CheckPrompt {
            prompt: prompt.into(),
            must_contain: vec![word.into()],
            kind: Some(kind.into()),
        };
        TaskCheck {
            name: "Knows where they live".into(),
            description: "d".into(),
            max_new_tokens: None,
            judge_first_sentence: true,
            kinds: vec![
                ProbeKind { key: "asked".into(), name: "Asked as trained".into() },
                ProbeKind { key: "reversed".into(), name: "Asked in reverse".into() },
            ],
            samples: vec![
                probe("Where does Bo live?", "mill", "asked"),
                probe("Who lives by the old mill?", "Bo", "reversed"),
            ],
            shape: None,
        }
    }

    #[test]
    fn the_counts_are_per_kind_then_all_and_an_answer_shows_what_was_judged() {
        let check = check();
        let answers = check.judge(vec![" Bo lives by the old mill. Kit is a fox.".into(), " Kit lives there.".into()]);
        assert_eq!(counts(&check, &answers), ["1 of 1", "0 of 1", "1 of 2"]);
        assert_eq!(judged(&check, &answers[0]), "✓ Bo lives by the old mill.");
        assert_eq!(judged(&check, &answers[1]), "✗ Kit lives there.");
    }
}
