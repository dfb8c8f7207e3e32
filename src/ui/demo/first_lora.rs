//! The first fine-tuning demo (lesson “Your first LoRA fine-tune”): LoRA-train the course's base model on stories about
//! Pip the purple robot in the trainer worker, watch the losses, compare what the model writes before and after, and
//! keep the adapter. A composition of the run layer's widgets; what it trains on is the two URLs below.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::download::DownloadAdapter;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::numbers::{count_of, format_count};
use super::recorded::{shown_recorded_run, RecordedRunNote, RunLossChart};
use super::run_controls::RunControls;
use super::samples::Samples;
use super::task_result::TaskResult;
use super::{PIP_STORIES, STORIES_MODEL_URL};

#[component]
pub fn FirstLoraDemo() -> impl IntoView {
    let demo = LiveDemo::new("first-lora", STORIES_MODEL_URL, &PIP_STORIES.url());
    let state = demo.state;
    demo.load();

    let latest_run = demo.latest_run();
    let recorded = Signal::derive(move || state.with(|s| shown_recorded_run(s).cloned()));

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: fine-tune a tiny model"</h3>
            <p>
                {move || state.with(|s| match &s.model {
                    Some(model) => format!(
                        "Fine-tune {}, a story-writing model with {} parameters, on short stories about Pip the \
                         purple robot. It all runs in this tab.",
                        model.name,
                        format_count(model.shape.total_params()),
                    ),
                    None => "Fine-tune a small story-writing model on short stories about Pip the purple robot. \
                             It all runs in this tab."
                        .into(),
                })}
                {move || state.with(|s| s.dataset.as_ref().map(|data| format!(
                    " It trains on {} stories and tests on {} more that it never trains on.",
                    format_count(data.training_examples),
                    format_count(data.held_out_examples),
                )))}
                {move || state.with(|s| s.latest_run().and_then(|run| run.training_sequences.map(|pieces| format!(
                    " This run cuts the training stories into {} of {} tokens.",
                    count_of(pieces, "piece"),
                    run.settings.seq_len,
                ))))}
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <RunControls demo />
            <RecordedRunNote demo recorded />
            <RunLossChart demo recorded />
            <TaskResult demo run=latest_run />
            <Samples demo run=latest_run />
            <DownloadAdapter demo run=latest_run />
        </section>
    }
}
