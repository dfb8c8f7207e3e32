//! QLoRA on a real instruction model in the tab: SmolLM2-135M-Instruct, served 4-bit as its GGUF ships, checked
//! by the hardware preflight before anything downloads, then chatted with, QLoRA-tuned on a shop's support
//! replies, chatted with again beside the model as it ships, and its adapter downloaded (a PEFT folder for
//! `HuggingFaceTB/SmolLM2-135M-Instruct`). The page's address may change the run's settings as the playground's
//! does (`/embed/qlora-chat?steps=60`), over [`TrainSettings::smollm2_support`].

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::backend::BackendLine;
use super::chat_box::ChatBox;
use super::download::DownloadAdapter;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::{Notices, SettingProblems};
use super::numbers::format_bytes;
use super::preflight::Preflight;
use super::reading::fetch_json;
use super::recorded::{RecordedRunNote, RunLossChart};
use super::run_progress::RunProgress;
use super::task_result::TaskResult;
use super::SUPPORT_REPLIES;
use crate::preflight::BaseStorage;
use crate::protocol::{ModelManifest, ModelShape, RecordedRun, TrainSettings};

/// SmolLM2-135M-Instruct's folder in the site's build output (`tools/site-model.sh`).
pub const SMOLLM2_MODEL_URL: &str = "models/SmolLM2-135M-Instruct/";

/// A customer's message the model never trained on, in the data set's style.
const OPENING: &str =
    "Hi, the zip on the rain jacket I bought from you last month has come apart. Can you help?\n— Priya";

#[component]
pub fn QloraChatDemo() -> impl IntoView {
    let demo = LiveDemo::new("qlora-chat", SMOLLM2_MODEL_URL, &SUPPORT_REPLIES.url());
    let state = demo.state;
    let (settings, problems) =
        TrainSettings::from_query_over(TrainSettings::smollm2_support(), &use_location().search.get_untracked());
    let load_asked = RwSignal::new(false);
    // The folder's manifest says how big the download is, before the learner asks for it.
    let manifest = RwSignal::new(None::<ModelManifest>);
    fetch_json(format!("{SMOLLM2_MODEL_URL}manifest.json"), manifest);
    let download_size = move || {
        manifest.with(|m| m.as_ref().map(|m| format!(" ({})", format_bytes(m.files.values().map(|f| f.bytes).sum()))))
    };
    // The run recorded when the site was built, fetched at once (the worker would read it only once the model is
    // loaded) and shown until the learner's own run starts.
    let fetched_recording = RwSignal::new(None::<RecordedRun>);
    fetch_json(RecordedRun::url_beside(&SUPPORT_REPLIES.url()), fetched_recording);
    let recorded = Signal::derive(move || state.with(|s| s.runs.is_empty()).then(|| fetched_recording.get()).flatten());
    let latest_run = demo.latest_run();
    let load = move |_| {
        load_asked.set(true);
        demo.load();
    };
    let train = {
        let settings = settings.clone();
        move |_| {
            demo.start(settings.clone());
        }
    };

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: a real assistant, QLoRA-tuned in this tab"</h3>
            <p>
                "SmolLM2-135M-Instruct is a small general assistant (135 million parameters, Apache-2.0). Here its \
                 weights stay in 4 bits, as its GGUF file ships, and LoRA adapters train on top of them: QLoRA. The \
                 data: 375 replies from a made-up outdoor shop's support team, each greeting the customer by name and \
                 signing off the same way."
            </p>
            <SettingProblems problems />
            <Preflight demo shape=ModelShape::SMOLLM2_135M storage=BaseStorage::FourBit settings=Signal::stored(settings) />
            <p class="demo-actions">
                <button type="button" on:click=load disabled=move || load_asked.get()>
                    "Load SmolLM2-135M-Instruct" {download_size}
                </button>
            </p>
            {move || load_asked.get().then(|| view! {
                <LoadingProgress demo />
                <BackendLine demo />
            })}
            <ChatBox demo run=latest_run opening=OPENING />
            <p class="demo-actions">
                <button type="button" on:click=train disabled=demo.locked()>
                    "QLoRA-tune on the support replies"
                </button>
            </p>
            <RunProgress demo run=latest_run />
            <Notices demo />
            <RecordedRunNote demo recorded first_check=true />
            <RunLossChart demo recorded />
            <TaskResult demo run=latest_run />
            <DownloadAdapter demo run=latest_run />
        </section>
    }
}
