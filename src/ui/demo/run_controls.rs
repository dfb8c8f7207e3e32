//! A demo's controls for its runs, as every training demo shows them: the settings form (locked while the model
//! loads and while a run trains; Train starts a run), where the latest run is, the offer to resume an interrupted
//! one, and the demo's problems and notices.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::notices::Notices;
use super::resume_offer::ResumeOffer;
use super::run_progress::RunProgress;
use super::settings_form::{Controls, TrainingForm};
use crate::protocol::TrainSettings;

#[component]
pub fn RunControls(
    demo: LiveDemo,
    #[prop(default = Controls::Basic)] controls: Controls,
    /// The settings the form starts with (and takes again when they change); the site's defaults without.
    #[prop(optional, into)]
    initial: Option<Signal<TrainSettings>>,
) -> impl IntoView {
    let initial = initial.unwrap_or_else(|| Signal::stored(TrainSettings::default()));
    view! {
        <TrainingForm
            demo
            controls
            initial
            locked=demo.locked()
            on_train=move |settings| {
                demo.start(settings);
            }
        />
        <RunProgress demo run=demo.latest_run() />
        <ResumeOffer demo />
        <Notices demo />
    }
}
