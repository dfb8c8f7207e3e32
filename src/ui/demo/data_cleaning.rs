//! Cleaning pays (lesson "Cleaning, labelling and splitting"): the messy practice set trained as it came (its
//! unreadable lines dropped) and cleaned (every line the data studio flags dropped), both recorded when the site was
//! built, beside a run on the learner's own cleaning of it in the studio with the same settings, each scored by
//! the task check on requests no run trained on. A composition of the run layer's widgets.

use leptos::prelude::*;
use leptos_router::components::A;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::numbers::format_count;
use super::reading::fetch_json;
use super::run_controls::RunControls;
use super::samples::Samples;
use super::table::ScrollingTable;
use super::task_result::TaskResult;
use super::{MESSY, STORIES_MODEL_URL, STUDIO_DATASET};
use crate::protocol::{RecordedRun, TaskScore};
use crate::task::file_beside;
use crate::ui::site;

/// The recorded runs of the messy set, as `tools/site-model.sh` names them: (file variant, row label).
const RECORDED: [(&str, &str); 2] = [
    ("as-it-came", "As it came: only the unreadable lines dropped (recorded)"),
    ("cleaned", "Cleaned: every line the studio flags dropped (recorded)"),
];

/// A row's task score in words.
fn score_words(score: Option<&TaskScore>) -> String {
    score.map_or("no check".to_string(), |s| format!("{} of {} (base model: {})", s.passed, s.total, s.base_passed))
}

#[component]
pub fn DataCleaningDemo() -> impl IntoView {
    let demo = LiveDemo::new("data-cleaning", STORIES_MODEL_URL, &STUDIO_DATASET.url());
    let state = demo.state;
    demo.load();
    let latest_run = demo.latest_run();

    let recorded = RECORDED.map(|(variant, label)| {
        let run = RwSignal::new(None::<RecordedRun>);
        fetch_json(file_beside(&MESSY.url(), &format!("{variant}.recorded.json")), run);
        (label, run)
    });
    // The learner's run starts with the recordings' settings (the cleaned one's; both have the same).
    let cleaned = recorded[1].1;
    let initial = Signal::derive(move || cleaned.with(|r| r.as_ref().map(|r| r.settings.clone())).unwrap_or_default());
    // The learner's row, once per change of the state for both its cells.
    let own = Memo::new(move |_| {
        state.with(|s| {
            let run = s.latest_run()?;
            let pieces = run.training_sequences.map_or("…".to_string(), format_count);
            let score = if run.checking(s.dataset.as_ref()) {
                "checking…".to_string()
            } else {
                score_words(run.task.as_ref())
            };
            Some((pieces, score))
        })
    });
    let studio_href = site::href("/studio");
    let caption_id = demo.id("table-caption");

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: clean the messy set, then train on it"</h3>
            <p>
                {format!(
                    "The messy set ({}) is the instruction data set as a hasty export left it. Two runs of it were \
                     recorded when this site was built, with the settings below: one on every line a loader can \
                     read, one on what is left when every line the data studio flags is dropped. The task check \
                     asks for stories about 8 animal-and-place pairs no run trained on.",
                    MESSY.file
                )}
            </p>
            <ScrollingTable caption_id=caption_id.clone() caption=|| "The task check after each run">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        <th scope="col">"Trained on (pieces of 64 tokens)"</th>
                        <th scope="col">"Follows the instruction"</th>
                    </tr>
                </thead>
                <tbody>
                    {recorded.map(|(label, run)| view! {
                        <tr>
                            <th scope="row" class="demo-table-text">{label}</th>
                            <td>{move || run.with(|r| r.as_ref().map_or("loading…".to_string(), |r| format_count(r.training_sequences)))}</td>
                            <td>{move || run.with(|r| r.as_ref().map_or("loading…".to_string(), |r| score_words(r.task.as_ref())))}</td>
                        </tr>
                    }).collect_view()}
                    <tr>
                        <th scope="row" class="demo-table-text">"Your cleaning, trained in this tab"</th>
                        <td>{move || own.get().map_or("not trained yet".to_string(), |(pieces, _)| pieces)}</td>
                        <td>{move || own.get().map_or("not trained yet".to_string(), |(_, score)| score)}</td>
                    </tr>
                </tbody>
            </ScrollingTable>
            <p>
                "Your turn: "
                <A href=studio_href>"open the data studio"</A>
                {format!(
                    ", choose \u{201c}{}\u{201d} under Bring data (it replaces the data set you had there), and decide \
                     what to drop, keep or fix. Then come back and train on your cleaning here: it is scored by the same \
                     check.",
                    MESSY.title
                )}
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <RunControls demo initial />
            <TaskResult demo run=latest_run />
            <Samples demo run=latest_run />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_reads_as_passed_of_total_beside_the_base_model() {
        let score = TaskScore { name: "Follows the instruction".into(), passed: 4, base_passed: 1, total: 8 };
        assert_eq!(score_words(Some(&score)), "4 of 8 (base model: 1)");
        assert_eq!(score_words(None), "no check");
    }
}
