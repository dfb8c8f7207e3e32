//! The capstone (lesson "Capstone: your data, start to finish"): the whole pipeline on one data set the learner
//! chooses, their own from the data studio or a shipped one. The data and its split; a run from a preset or
//! settings of their own, charted; the run before and after (held-out loss, perplexity, drift, the task check with
//! intervals) beside samples; and the adapter to take home, or the job for a bigger machine. Until the learner
//! trains on a shipped set, its recorded run is shown. Finished runs are kept in the browser's storage
//! ([`Journal::Capstone`]) for the completion page's recap. A composition of the run layer's widgets.

use leptos::prelude::*;
use leptos_router::components::A;

use super::backend::BackendLine;
use super::before_after::BeforeAfter;
use super::dataset_select::DatasetSelect;
use super::download::DownloadAdapter;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::numbers::{count_of, format_count};
use super::recorded::{shown_recorded_run, RecordedRunNote, RunLossChart};
use super::run_bigger::RunItBigger;
use super::run_controls::RunControls;
use super::samples::Samples;
use super::settings_form::{Controls, Presets};
use super::task_result::TaskResult;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::settings::TrainSettings;
use crate::ui::run_journal::Journal;
use crate::ui::site;

#[component]
pub fn CapstoneDemo() -> impl IntoView {
    let demo = LiveDemo::new("capstone", STORIES_MODEL_URL, &PIP_STORIES.url());
    let state = demo.state;
    demo.load();
    let storage_problem = Journal::Capstone.keep(demo);
    let dataset = RwSignal::new(&PIP_STORIES);
    let settings = RwSignal::new(TrainSettings::default());
    let latest_run = demo.latest_run();
    let recorded = Signal::derive(move || state.with(|s| shown_recorded_run(s).cloned()));
    let split = move || {
        state.with(|s| {
            s.dataset.as_ref().map(|data| {
                format!(
                    "{} train and {} are held out: no step trains on them, and the held-out loss is measured on them.",
                    count_of(data.training_examples, "example"),
                    format_count(data.held_out_examples),
                )
            })
        })
    };
    view! {
        <section class="demo capstone" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Your data, start to finish"</h3>
            <LoadingProgress demo />
            <BackendLine demo />
            <h4>"1. Your data"</h4>
            <DatasetSelect demo dataset>
                " "
                <A href=site::href("/studio")>"Open the data studio"</A>
                " to bring, check and clean your own."
            </DatasetSelect>
            <p>{split}</p>
            <h4>"2. Your run"</h4>
            <Presets demo settings />
            <RunControls demo controls=Controls::All initial=settings />
            {move || storage_problem.get().map(|message| view! { <p class="demo-alert" role="alert">"⚠ " {message}</p> })}
            <RecordedRunNote demo recorded />
            <RunLossChart demo recorded />
            <h4>"3. Evaluate"</h4>
            <BeforeAfter demo recorded />
            <TaskResult demo run=latest_run />
            <Samples demo run=latest_run />
            <h4>"4. Take it home"</h4>
            <p>
                "Each finished run here is kept in this browser for "
                <A href=site::href("/complete")>"your recap"</A>
                ", with your predictions and quiz scores."
            </p>
            <DownloadAdapter demo run=latest_run />
            <RunItBigger demo settings=Signal::derive(move || state.with(|s| s.latest_run().map(|run| run.settings.clone())).unwrap_or_else(|| settings.get())) />
        </section>
    }
}
