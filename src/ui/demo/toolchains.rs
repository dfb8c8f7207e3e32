//! From a run in the tab to a job on a real GPU (lesson "Toolchains"): train the tiny model and measure how fast
//! this device trained it; size the same settings as a job for a published model on a datasheet GPU; and write the
//! job for TRL, Unsloth and Axolotl. The sizer and "Run it bigger" share one job target, so the files are those of
//! the job sized.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::job_sizer::{JobSizer, Sizer};
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::run_bigger::{default_target, RunItBigger};
use super::run_controls::RunControls;
use super::throughput::Throughput;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::protocol::TrainSettings;
use crate::run_bigger::JobTarget;
use crate::sizing::MODELS;

#[component]
pub fn ToolchainsDemo() -> impl IntoView {
    let demo = LiveDemo::new("toolchains", STORIES_MODEL_URL, &PIP_STORIES.url());
    let state = demo.state;
    demo.load();
    // The run's settings the job starts from: the latest run's, before the first the site's defaults (the form's).
    let base =
        Signal::derive(move || state.with(|s| s.latest_run().map(|run| run.settings.clone())).unwrap_or_default());
    let target = RwSignal::new(JobTarget { base_model: MODELS[1].hub_id.to_string(), ..default_target() });
    let sizer = RwSignal::new(Sizer::default());
    // The job "Run it bigger" writes: the sized one, or while a number is wrong, the run's settings as they are.
    let job_settings = Signal::derive(move || {
        let base = base.get();
        sizer.with(|s| s.job(&base, &target.get())).map_or(base, |job| job.settings)
    });

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: measure, size, write the job"</h3>
            <p>
                "Train the tiny model on the Pip stories and see how fast this device trains it. Then size the same \
                 settings as a job for a real model on a real GPU, and download it for the tool you use."
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <RunControls demo initial=Signal::stored(TrainSettings::default()) />
            <Throughput demo run=demo.latest_run() />
            <JobSizer demo base target sizer />
            <RunItBigger demo settings=job_settings target />
        </section>
    }
}
