//! The first fine-tuning demo: LoRA-train stories260K on stories about Pip the purple robot in the trainer
//! worker, watch the losses, compare what the model writes before and after, and keep the adapter.
//!
//! This component owns what its parts share (the loaded model, the run, its metrics, the status line); each part
//! listens to the worker events that only it needs.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::download::DownloadAdapter;
use super::loading::LoadingProgress;
use super::loss_chart::LossChart;
use super::numbers::{count_of, format_count};
use super::prediction::{saved_prediction, Prediction};
use super::run_progress::RunProgress;
use super::samples::Samples;
use super::settings_form::TrainingForm;
use crate::protocol::{
    BackendChoice, BackendKind, BackendReport, FinishReason, FromWorker, ModelShape, StepMetrics, ToWorker,
    TrainSettings, TrainingMethod,
};
use crate::ui::trainer_client::{use_trainer, TrainerState};

const MODEL_URL: &str = "/models/stories260K/";
const DATASET_URL: &str = "/datasets/pip-the-purple-robot.jsonl";

/// What the worker reported once the base model and the data were loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedModel {
    pub backend: BackendReport,
    pub shape: ModelShape,
    pub training_examples: usize,
    pub held_out_examples: usize,
}

/// One training run, as far as the page knows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    pub method: TrainingMethod,
    pub total_steps: usize,
    pub phase: RunPhase,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunPhase {
    /// `Start` is sent; the worker has not confirmed it yet.
    Starting,
    Training,
    Paused,
    Finished {
        reason: FinishReason,
        step: usize,
    },
}

impl Run {
    pub fn in_progress(&self) -> bool {
        !matches!(self.phase, RunPhase::Finished { .. })
    }

    /// The method the model now carries the result of: set once a run has ended after at least one step.
    pub fn trained_method(&self) -> Option<TrainingMethod> {
        match self.phase {
            RunPhase::Finished { step, .. } if step > 0 => Some(self.method),
            _ => None,
        }
    }
}

/// The demo's two voices: a status line that screen readers read out politely, and an alert for what went wrong.
#[derive(Clone, Copy)]
pub struct Notices {
    pub status: RwSignal<String>,
    pub problem: RwSignal<Option<String>>,
}

#[component]
pub fn FirstLoraDemo() -> impl IntoView {
    let trainer = use_trainer();
    let loaded = RwSignal::new(None::<LoadedModel>);
    let run = RwSignal::new(None::<Run>);
    let metrics = RwSignal::new(Vec::<StepMetrics>::new());
    let notices = Notices { status: RwSignal::new(String::new()), problem: RwSignal::new(None) };
    let backend_choice = RwSignal::new(BackendChoice::Auto);
    let prediction = saved_prediction();

    // Loading again (another backend, or after a failure) starts a new session: the old run's adapter is gone.
    let load = move || {
        loaded.set(None);
        run.set(None);
        metrics.set(Vec::new());
        let backend = backend_choice.get_untracked();
        trainer.send(&ToWorker::Init { backend, model_url: MODEL_URL.into(), dataset_url: DATASET_URL.into() });
    };
    let start_training = move |settings: TrainSettings| {
        notices.problem.set(None);
        metrics.set(Vec::new());
        run.set(Some(Run { method: settings.method, total_steps: settings.steps, phase: RunPhase::Starting }));
        trainer.send(&ToWorker::Start(settings));
    };
    // Events of a run this page did not start (one left over from an earlier visit) change nothing.
    let advance_run = move |phase: RunPhase| {
        let mut advanced = false;
        run.update(|run| {
            if let Some(run) = run.as_mut().filter(|run| run.in_progress()) {
                run.phase = phase;
                advanced = true;
            }
        });
        advanced
    };

    trainer.on_event(move |event| {
        let say = |text: String| notices.status.set(text);
        match event {
            FromWorker::Ready { backend, model, training_examples, held_out_examples } => {
                say(match backend.kind {
                    BackendKind::WebGpu => "The model is ready to train on WebGPU".into(),
                    BackendKind::Cpu => "The model is ready to train on the CPU".into(),
                });
                loaded.set(Some(LoadedModel {
                    backend: backend.clone(),
                    shape: *model,
                    training_examples: *training_examples,
                    held_out_examples: *held_out_examples,
                }));
            }
            FromWorker::TrainingStarted { total_steps, .. } => {
                run.update(|run| {
                    if let Some(run) = run.as_mut().filter(|run| run.phase == RunPhase::Starting) {
                        run.total_steps = *total_steps;
                    }
                });
                if advance_run(RunPhase::Training) {
                    say("Training started".into());
                }
            }
            FromWorker::Metrics(step) => {
                if run.with_untracked(|run| run.is_some_and(|run| run.in_progress())) {
                    metrics.update(|metrics| metrics.push(step.clone()));
                }
            }
            FromWorker::Paused { step } => {
                if advance_run(RunPhase::Paused) {
                    say(format!("Paused at step {step}"));
                }
            }
            FromWorker::Resumed { .. } => {
                if advance_run(RunPhase::Training) {
                    say("Resumed".into());
                }
            }
            FromWorker::Finished { reason, step } => {
                if advance_run(RunPhase::Finished { reason: *reason, step: *step }) {
                    say(match reason {
                        FinishReason::Completed => format!("Finished after {}", count_of(*step, "step")),
                        FinishReason::Stopped => format!("Stopped at step {step}"),
                    });
                }
            }
            FromWorker::Error { message } => {
                // A refused `Start` means no run began; errors during a run end it only through `Finished`.
                if run.with_untracked(|run| run.is_some_and(|run| run.phase == RunPhase::Starting)) {
                    run.set(None);
                }
                notices.problem.set(Some(message.clone()));
            }
            FromWorker::Listening
            | FromWorker::Loading { .. }
            | FromWorker::Sample { .. }
            | FromWorker::AdapterZip { .. } => {}
        }
    });
    load();

    // A trainer that stopped for good takes the model and any run with it.
    Effect::new(move |_| {
        if matches!(trainer.state().get(), TrainerState::Stopped(_)) {
            loaded.set(None);
            let step = metrics.with_untracked(|metrics| metrics.last().map_or(0, |m| m.step));
            advance_run(RunPhase::Finished { reason: FinishReason::Stopped, step });
        }
    });
    // Leaving the page mid-run stops the run, so the shared worker is free for the next demo.
    on_cleanup(move || {
        if run.try_with_untracked(|run| run.is_some_and(|run| run.in_progress())) == Some(true) {
            trainer.send(&ToWorker::Stop);
        }
    });

    let is_ready = Signal::derive(move || loaded.with(Option::is_some));
    let in_progress = Signal::derive(move || run.with(|run| run.is_some_and(|run| run.in_progress())));
    let latest_step = Signal::derive(move || metrics.with(|metrics| metrics.last().map_or(0, |m| m.step)));
    let total_steps = Signal::derive(move || run.with(|run| run.map_or(0, |run| run.total_steps)));
    let adapter_ready =
        Signal::derive(move || run.with(|run| run.and_then(|run| run.trained_method())) == Some(TrainingMethod::Lora));

    view! {
        <section class="demo" aria-labelledby="first-lora-title">
            <h3 id="first-lora-title">"Try it: fine-tune a tiny model"</h3>
            <p>
                "Fine-tune stories260K, a story-writing model with 260,032 parameters, on short stories about "
                "Pip the purple robot. It all runs in this tab."
                {move || loaded.get().map(|model| format!(
                    " There are {} training stories; {} more are held out to test on.",
                    format_count(model.training_examples),
                    format_count(model.held_out_examples),
                ))}
            </p>
            <LoadingProgress ready=is_ready />
            <BackendLine
                backend=Signal::derive(move || loaded.get().map(|model| model.backend))
                choice=backend_choice
                locked=in_progress
                on_change=load
            />
            <Prediction text=prediction />
            <TrainingForm
                model=Signal::derive(move || loaded.get().map(|model| model.shape))
                locked=Signal::derive(move || !is_ready.get() || in_progress.get())
                on_train=start_training
            />
            <RunProgress run metrics />
            <p class="demo-status" role="status">{move || notices.status.get()}</p>
            {move || match trainer.state().get() {
                TrainerState::Stopped(reason) => Some(view! {
                    <div class="demo-alert" role="alert">
                        <p>"⚠ " {format!("The trainer stopped: {reason}.")}</p>
                        <p>"Reload the page to start it again. Your prediction is kept."</p>
                    </div>
                }),
                _ => None,
            }}
            {move || notices.problem.get().map(|message| view! {
                <div class="demo-alert" role="alert">
                    <p>"⚠ " {message}</p>
                    {move || (!is_ready.get() && trainer.state().get() == TrainerState::Running).then(|| view! {
                        <button type="button" on:click=move |_| {
                            notices.problem.set(None);
                            load();
                        }>"Try loading again"</button>
                    })}
                    <button type="button" class="secondary" on:click=move |_| notices.problem.set(None)>
                        "Dismiss"
                    </button>
                </div>
            })}
            <LossChart metrics total_steps />
            <Samples ready=is_ready run step=latest_step prediction />
            <DownloadAdapter available=Signal::derive(move || adapter_ready.get() && is_ready.get()) notices />
        </section>
    }
}
