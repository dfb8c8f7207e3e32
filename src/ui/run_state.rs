//! What one live demo knows: the trainer's loading progress, the model and data set it loaded, this demo's runs
//! with their metrics, samples and exports, and the status line and problem to show. The worker's events change it
//! only through [`apply`], a pure function, so every rule here is tested natively; the widgets read it and know
//! no particular demo.
//!
//! Several demos can share the page and the one worker: each keeps its own state, and events of runs or sample
//! requests that it did not start change nothing in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::demo::numbers::count_of;
use crate::protocol::{
    ApproachSample, BackendKind, BackendReport, BaseStorage, BenchRow, CheckedSample, DatasetSummary, DeviceReport,
    FinishReason, FromWorker, GrpoStep, Inspection, InterruptedRun, MixChecked, ModelShape, OneStep, ProjectionWeights,
    QuantizationTable, RunId, StepMetrics, TaskScore, TrainSettings, TrainingMethod,
};

/// A request whose answer replaces the last: the request this demo waits for, and the latest answer it had. An
/// answer to an older request, or to another demo's, is ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Awaited<T> {
    pub waiting: Option<u32>,
    pub latest: Option<T>,
}

impl<T> Default for Awaited<T> {
    fn default() -> Self {
        Awaited { waiting: None, latest: None }
    }
}

impl<T: Clone> Awaited<T> {
    fn answer(&mut self, request_id: u32, answer: &T) {
        if self.waiting == Some(request_id) {
            self.waiting = None;
            self.latest = Some(answer.clone());
        }
    }

    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Whether `request_id` is the awaited request; it is no longer awaited after this (it failed).
    fn fail(&mut self, request_id: u32) -> bool {
        let mine = self.waiting == Some(request_id);
        if mine {
            self.waiting = None;
        }
        mine
    }
}

/// The base model the worker loaded, on which backend.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedModel {
    pub backend: BackendReport,
    pub name: String,
    pub shape: ModelShape,
    pub storage: BaseStorage,
}

/// One file's download, as the latest `Loading` event told it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileProgress {
    pub file: String,
    pub loaded_bytes: u64,
    pub total_bytes: Option<u64>,
    pub from_cache: bool,
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

/// Where a run's adapter download stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    None,
    Preparing,
    /// The zip arrived and waits for the page to hand it to the browser.
    Ready {
        file_name: String,
        bytes: Arc<Vec<u8>>,
    },
    Saved {
        bytes: usize,
    },
}

/// Whether a run in progress is saved in the browser's storage, to resume after a reload.
#[derive(Clone, Debug, PartialEq)]
pub enum Saving {
    NotYet,
    Saved {
        step: usize,
    },
    /// Saving failed (the words say why); the run goes on, but a reload would lose it.
    Failed(String),
}

/// One training run, as far as the page knows.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub id: RunId,
    /// What the learner calls it: "Run 1", … until renamed.
    pub name: String,
    /// The data set's file name, e.g. `pip-the-purple-robot.jsonl`.
    pub dataset: String,
    pub settings: TrainSettings,
    pub phase: RunPhase,
    /// The pieces the data set was cut into at this run's sequence length, once training started.
    pub training_sequences: Option<usize>,
    pub metrics: Vec<StepMetrics>,
    /// The data set's task metric after the run, when it has one.
    pub task: Option<TaskScore>,
    /// The samples that metric counted (not kept in storage).
    pub checked: Vec<CheckedSample>,
    pub export: Export,
    /// Brought back from the browser's storage, or from before the model was loaded again: its metrics only,
    /// the worker may have no model for it.
    pub restored: bool,
    pub saving: Saving,
    /// An adapter the learner opened, not a run trained here: a model, no steps.
    pub opened: bool,
}

impl Run {
    pub fn in_progress(&self) -> bool {
        !matches!(self.phase, RunPhase::Finished { .. })
    }

    /// Finished, on a data set with a task metric, and still waiting for the worker's check.
    pub fn checking(&self, dataset: Option<&DatasetSummary>) -> bool {
        let has_task = dataset.is_some_and(|d| d.task.is_some() && d.name == self.dataset);
        !self.in_progress() && !self.restored && !self.opened && self.task.is_none() && has_task
    }

    /// The method the model now carries the result of: set once a run has ended after at least one step.
    pub fn trained_method(&self) -> Option<TrainingMethod> {
        match self.phase {
            RunPhase::Finished { step, .. } if (step > 0 || self.opened) && !self.restored => {
                Some(self.settings.method)
            }
            _ => None,
        }
    }

    pub fn latest_step(&self) -> usize {
        self.metrics.last().map_or(0, |m| m.step)
    }

    /// Seconds until the last step, at the pace of the last `recent` steps; `None` until two steps are known.
    pub fn seconds_left(&self, recent: usize) -> Option<f64> {
        let window = &self.metrics[self.metrics.len().saturating_sub(recent)..];
        let (first, last) = (window.first()?, window.last()?);
        if last.step <= first.step || last.elapsed_seconds <= first.elapsed_seconds {
            return None;
        }
        let per_step = (last.elapsed_seconds - first.elapsed_seconds) / (last.step - first.step) as f64;
        Some(self.settings.steps.saturating_sub(last.step) as f64 * per_step)
    }
}

/// A sample the page asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Sample {
    /// Being written: the text so far.
    Writing(String),
    Written(String),
    /// Left unfinished for a run or a new load (see [`FromWorker::SampleSetAside`]).
    SetAside,
    /// An error arrived instead; the demo's alert says what.
    Failed,
}

impl Sample {
    /// What a widget shows while a sample is written: the text so far and an ellipsis ("Writing…" before the
    /// first token).
    pub fn writing_label(so_far: &str) -> String {
        if so_far.is_empty() {
            "Writing…".into()
        } else {
            format!("{so_far}…")
        }
    }
}

/// A file the worker made for the page to save.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedFile {
    pub file_name: String,
    pub bytes: Arc<Vec<u8>>,
}

/// A `TrainGrpo` the page asked for: its steps so far, and once it ended, whether it was stopped early.
#[derive(Clone, Debug, PartialEq)]
pub struct GrpoRun {
    pub request_id: u32,
    pub steps: Vec<GrpoStep>,
    pub stopped: Option<bool>,
}

impl GrpoRun {
    pub fn training(&self) -> bool {
        self.stopped.is_none()
    }
}

/// A `Compare` the page asked for: its samples so far, and whether it ended before the last (set aside for a
/// run or a reload, or failed: the alert says why).
#[derive(Clone, Debug, PartialEq)]
pub struct Comparing {
    pub request_id: u32,
    pub samples: Vec<ApproachSample>,
    pub cut_short: bool,
}

/// An `Evaluate` the page asked for: the rows measured so far, the samples written of all, and whether it ended
/// before the last model (set aside for a run or a reload, or failed: the alert says why).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub request_id: u32,
    pub models: usize,
    pub rows: Vec<BenchRow>,
    pub written: usize,
    pub total: usize,
    pub cut_short: bool,
}

impl Evaluation {
    pub fn running(&self) -> bool {
        !self.cut_short && self.rows.len() < self.models
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunState {
    /// The data set this demo trains on; the worker may hold others for other demos.
    pub dataset_url: String,
    pub loading: Option<FileProgress>,
    pub model: Option<LoadedModel>,
    pub dataset: Option<DatasetSummary>,
    /// This demo's runs, oldest first.
    pub runs: Vec<Run>,
    /// Sample requests this demo sent, by request id.
    pub samples: BTreeMap<u32, Sample>,
    /// A shipped adapter this demo loaded (or is loading) as the model of a run id, and whether it is there.
    pub shipped_adapter: Option<(RunId, bool)>,
    /// The base model's reading of a text (`Inspect`).
    pub inspection: Awaited<Inspection>,
    /// One projection's weights (`ReadWeights`).
    pub weights: Awaited<ProjectionWeights>,
    /// One training step up close (`TakeOneStep`).
    pub one_step: Awaited<OneStep>,
    /// The base model stored in each quantization format, measured (`Quantize`).
    pub quantized: Awaited<QuantizationTable>,
    /// What the hardware preflight measured of this device (`Preflight`).
    pub preflight: Awaited<DeviceReport>,
    /// "Run it bigger"'s zip (`ExportJob`), until it is saved.
    pub job: Awaited<SavedFile>,
    /// The latest mix of adapters, checked (`Mix`).
    pub mix: Awaited<MixChecked>,
    /// Every mix checked so far, oldest first.
    pub mixes: Vec<MixChecked>,
    /// The latest mix's zip (`ExportMix`), until it is saved.
    pub mix_zip: Awaited<SavedFile>,
    /// The latest `Compare` this demo asked for, as far as it got.
    pub comparison: Option<Comparing>,
    /// The evaluation bench's latest request.
    pub evaluation: Option<Evaluation>,
    /// The latest `TrainGrpo` this demo asked for, as far as it got.
    pub grpo: Option<GrpoRun>,
    /// A run of this demo's data set saved in the browser's storage that did not finish, which the learner may
    /// resume.
    pub interrupted: Option<InterruptedRun>,
    /// The status line, read out politely by screen readers.
    pub status: String,
    /// What went wrong, shown as an alert until dismissed.
    pub problem: Option<String>,
}

impl RunState {
    pub fn new(dataset_url: impl Into<String>) -> RunState {
        RunState { dataset_url: dataset_url.into(), ..RunState::default() }
    }

    pub fn run(&self, id: RunId) -> Option<&Run> {
        self.runs.iter().find(|run| run.id == id)
    }

    fn run_mut(&mut self, id: RunId) -> Option<&mut Run> {
        self.runs.iter_mut().find(|run| run.id == id)
    }

    pub fn latest_run(&self) -> Option<&Run> {
        self.runs.last()
    }

    /// A run of this demo is starting, training or paused.
    pub fn busy(&self) -> bool {
        self.runs.iter().any(Run::in_progress)
    }

    /// The model and the data set are loaded: a run can start.
    pub fn ready(&self) -> bool {
        self.model.is_some() && self.dataset.is_some()
    }

    /// The demo trains on the data set at `url` from now on; the worker loads it once the model is there.
    pub fn use_dataset(&mut self, url: &str) {
        if self.dataset_url != url {
            self.dataset_url = url.to_string();
            self.dataset = None;
        }
    }

    /// Loading again (another backend, or after a failure) starts a new session: the finished runs stay, as
    /// metrics only (the worker's models of them may be gone), and a run in progress is forgotten.
    pub fn reload(&mut self) {
        let runs = std::mem::take(&mut self.runs)
            .into_iter()
            .filter(|run| !run.in_progress())
            .map(|run| Run { restored: true, export: Export::None, ..run })
            .collect();
        *self = RunState { runs, ..RunState::new(std::mem::take(&mut self.dataset_url)) };
    }

    /// The page sent `Start` for this run.
    pub fn start(&mut self, id: RunId, settings: TrainSettings) {
        let dataset = self.dataset.as_ref().map_or_else(String::new, |d| d.name.clone());
        self.add_run(id, settings, dataset);
    }

    /// The page sent `ResumeInterrupted` for the offered run, as run `id`; `false` when none was offered.
    pub fn resume_interrupted(&mut self, id: RunId) -> bool {
        let Some(interrupted) = self.interrupted.take() else { return false };
        self.add_run(id, interrupted.settings, interrupted.dataset_name);
        true
    }

    /// The page sent `OpenAdapter` for the adapter in `file`, as run `id`, named after the file.
    pub fn open_adapter(&mut self, id: RunId, file: &str) {
        self.add_run(id, TrainSettings::default(), String::new());
        if let Some(run) = self.run_mut(id) {
            run.name = file.to_string();
            run.opened = true;
        }
    }

    fn add_run(&mut self, id: RunId, settings: TrainSettings, dataset: String) {
        self.problem = None;
        let name = self.next_name();
        self.runs.push(Run {
            id,
            name,
            dataset,
            settings,
            phase: RunPhase::Starting,
            training_sequences: None,
            metrics: Vec::new(),
            task: None,
            checked: Vec::new(),
            export: Export::None,
            restored: false,
            saving: Saving::NotYet,
            opened: false,
        });
    }

    /// "Run N", one more than the highest such number so far.
    fn next_name(&self) -> String {
        let highest = self.runs.iter().filter_map(|run| run.name.strip_prefix("Run ")?.parse::<usize>().ok()).max();
        format!("Run {}", highest.unwrap_or(0) + 1)
    }

    /// Brings back a run kept in the browser's storage, as finished, under a fresh id.
    pub fn restore(&mut self, id: RunId, saved: SavedRun) {
        let step = saved.metrics.last().map_or(0, |m| m.step);
        self.runs.push(Run {
            id,
            name: saved.name,
            dataset: saved.dataset,
            settings: saved.settings,
            phase: RunPhase::Finished { reason: saved.reason, step },
            training_sequences: None,
            metrics: saved.metrics,
            task: saved.task,
            checked: Vec::new(),
            export: Export::None,
            restored: true,
            saving: Saving::NotYet,
            opened: false,
        });
    }

    pub fn rename(&mut self, id: RunId, name: &str) {
        if let (Some(run), false) = (self.run_mut(id), name.trim().is_empty()) {
            run.name = name.trim().to_string();
        }
    }

    /// Forgets a finished run; one in progress stays.
    pub fn remove(&mut self, id: RunId) {
        self.runs.retain(|run| run.id != id || run.in_progress());
    }

    /// The finished runs, as kept in storage and exported.
    pub fn saved_runs(&self) -> Vec<SavedRun> {
        self.runs
            .iter()
            // An opened adapter has nothing to keep but its model, which a reload loses.
            .filter(|run| !run.opened)
            .filter_map(|run| match run.phase {
                RunPhase::Finished { reason, .. } => Some(SavedRun {
                    name: run.name.clone(),
                    dataset: run.dataset.clone(),
                    settings: run.settings.clone(),
                    reason,
                    metrics: run.metrics.clone(),
                    task: run.task.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The page sent `Generate` with this id.
    pub fn request_adapter(&mut self, run: RunId) {
        self.shipped_adapter = Some((run, false));
    }

    /// The shipped adapter's run id, once it is loaded.
    pub fn loaded_adapter(&self) -> Option<RunId> {
        self.shipped_adapter.filter(|(_, loaded)| *loaded).map(|(run, _)| run)
    }

    /// Waits for the answer to `request_id` in `awaited` (one of this state's [`Awaited`] fields).
    pub fn request<T>(&mut self, request_id: u32, awaited: impl FnOnce(&mut RunState) -> &mut Awaited<T>) {
        self.problem = None;
        awaited(self).waiting = Some(request_id);
    }

    pub fn request_grpo(&mut self, request_id: u32) {
        self.problem = None;
        self.grpo = Some(GrpoRun { request_id, steps: Vec::new(), stopped: None });
    }

    /// The GRPO run this demo asked for under `request_id`, if that is still the latest.
    fn grpo_mut(&mut self, request_id: u32) -> Option<&mut GrpoRun> {
        self.grpo.as_mut().filter(|run| run.request_id == request_id)
    }

    pub fn request_comparison(&mut self, request_id: u32) {
        self.problem = None;
        self.comparison = Some(Comparing { request_id, samples: Vec::new(), cut_short: false });
    }

    /// The comparison this demo asked for under `request_id`, if that is still the latest.
    fn comparison_mut(&mut self, request_id: u32) -> Option<&mut Comparing> {
        self.comparison.as_mut().filter(|comparing| comparing.request_id == request_id)
    }

    /// Waits for an `Evaluate` of `models` models.
    pub fn request_evaluation(&mut self, request_id: u32, models: usize) {
        self.problem = None;
        self.evaluation =
            Some(Evaluation { request_id, models, rows: Vec::new(), written: 0, total: 0, cut_short: false });
    }

    /// The evaluation this demo asked for under `request_id`, if that is still the latest.
    fn evaluation_mut(&mut self, request_id: u32) -> Option<&mut Evaluation> {
        self.evaluation.as_mut().filter(|evaluation| evaluation.request_id == request_id)
    }

    pub fn request_sample(&mut self, request_id: u32) {
        self.samples.insert(request_id, Sample::Writing(String::new()));
    }

    /// The page sent `ExportAdapter` for this run.
    pub fn request_export(&mut self, id: RunId) {
        if let Some(run) = self.run_mut(id) {
            run.export = Export::Preparing;
        }
    }

    /// The page handed the zip to the browser.
    pub fn export_saved(&mut self, id: RunId) {
        if let Some(run) = self.run_mut(id) {
            if let Export::Ready { bytes, .. } = &run.export {
                run.export = Export::Saved { bytes: bytes.len() };
            }
        }
    }

    /// The trainer stopped for good: the model and any run in progress go with it.
    pub fn trainer_stopped(&mut self) {
        self.model = None;
        for run in self.runs.iter_mut().filter(|run| run.in_progress()) {
            run.phase = RunPhase::Finished { reason: FinishReason::Stopped, step: run.latest_step() };
        }
    }
}

/// A finished run as the browser keeps it and as it is exported: its name, data set, settings, every step's
/// metrics and the task metric. Runs kept before a field existed read it as empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    pub name: String,
    #[serde(default)]
    pub dataset: String,
    pub settings: TrainSettings,
    pub reason: FinishReason,
    pub metrics: Vec<StepMetrics>,
    #[serde(default)]
    pub task: Option<TaskScore>,
}

/// Every step of every run as CSV, one row per run and step, for a spreadsheet or pandas. The task metric (samples
/// passed after the run, by the base model, and checked) repeats on each row of its run.
pub fn runs_csv(runs: &[SavedRun]) -> String {
    let quoted = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let number = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    let whole = |value: Option<usize>| value.map(|v| v.to_string()).unwrap_or_default();
    let mut csv = String::from(
        "run,dataset,settings,task_passed,task_base_passed,task_samples,step,loss,eval_loss,reference_eval_loss,\
         learning_rate,grad_norm\n",
    );
    for run in runs {
        let settings = run.settings.to_query();
        let task = run.task.as_ref();
        for m in &run.metrics {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{}\n",
                quoted(&run.name),
                quoted(&run.dataset),
                quoted(&settings),
                whole(task.map(|t| t.passed)),
                whole(task.map(|t| t.base_passed)),
                whole(task.map(|t| t.total)),
                m.step,
                m.loss,
                number(m.eval_loss),
                number(m.reference_eval_loss),
                m.learning_rate,
                m.grad_norm
            ));
        }
    }
    csv
}

fn finish_status(reason: FinishReason, step: usize) -> String {
    match reason {
        FinishReason::Completed => format!("Finished after {}", count_of(step, "step")),
        FinishReason::Stopped => format!("Stopped at step {step}"),
    }
}

/// Changes `state` as `event` says. Events of runs and requests this demo did not start change nothing.
pub fn apply(state: &mut RunState, event: &FromWorker) {
    match event {
        FromWorker::Listening => {}
        // The data studio's events are its own (see `ui::studio::state`).
        FromWorker::StudioProgress { .. }
        | FromWorker::StudioNeedsMapping { .. }
        | FromWorker::StudioReport(_)
        | FromWorker::StudioEntry(_)
        | FromWorker::StudioEmpty
        | FromWorker::StudioFile { .. }
        | FromWorker::StudioPace { .. }
        | FromWorker::StudioError { .. } => {}
        FromWorker::Loading { file, loaded_bytes, total_bytes, from_cache } => {
            state.loading = Some(FileProgress {
                file: file.clone(),
                loaded_bytes: *loaded_bytes,
                total_bytes: *total_bytes,
                from_cache: *from_cache,
            });
        }
        FromWorker::Ready { backend, model_name, model, storage } => {
            state.status = match backend.kind {
                BackendKind::WebGpu => format!("{model_name} is ready to train on WebGPU"),
                BackendKind::Cpu => format!("{model_name} is ready to train on the CPU"),
            };
            state.model = Some(LoadedModel {
                backend: backend.clone(),
                name: model_name.clone(),
                shape: *model,
                storage: *storage,
            });
        }
        FromWorker::DatasetLoaded(summary) if summary.url == state.dataset_url => {
            state.dataset = Some((**summary).clone())
        }
        FromWorker::DatasetLoaded(_) => {}
        FromWorker::TrainingStarted { run, total_steps, training_sequences, .. } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.phase == RunPhase::Starting) {
                run.phase = RunPhase::Training;
                run.settings.steps = *total_steps;
                run.training_sequences = Some(*training_sequences);
                state.status = "Training started".into();
            }
        }
        FromWorker::Metrics { run, metrics } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.metrics.push(metrics.clone());
            }
        }
        FromWorker::Checkpointed { run, step } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.saving = Saving::Saved { step: *step };
            }
        }
        FromWorker::CheckpointFailed { run, message } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.saving = Saving::Failed(message.clone());
            }
        }
        FromWorker::Interrupted(offer) => {
            state.interrupted = offer.clone().filter(|offer| offer.dataset_url == state.dataset_url);
        }
        FromWorker::Paused { run, step } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.phase = RunPhase::Paused;
                state.status = format!("Paused at step {step}");
            }
        }
        FromWorker::Resumed { run, .. } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.phase = RunPhase::Training;
                state.status = "Resumed".into();
            }
        }
        FromWorker::Finished { run, reason, step } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.in_progress()) {
                run.phase = RunPhase::Finished { reason: *reason, step: *step };
                state.status = finish_status(*reason, *step);
                if let Some(task) = state.dataset.as_ref().and_then(|d| d.task.as_ref()) {
                    state.status +=
                        &format!("; checking “{}” on {}", task.name, count_of(task.samples.len(), "sample"));
                }
            }
        }
        FromWorker::TaskChecked { run, score, samples } => {
            if let Some(run) = state.run_mut(*run) {
                if let RunPhase::Finished { reason, step } = run.phase {
                    run.task = Some(score.clone());
                    run.checked = samples.clone();
                    state.status = format!(
                        "{}. “{}”: {} of {} samples pass (the base model: {})",
                        finish_status(reason, step),
                        score.name,
                        score.passed,
                        score.total,
                        score.base_passed
                    );
                }
            }
        }
        FromWorker::Sample { request_id, text, .. } => {
            if let Some(sample) = state.samples.get_mut(request_id) {
                *sample = Sample::Written(text.clone());
            }
        }
        FromWorker::AdapterOpened { run, name, settings, .. } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.opened && run.in_progress()) {
                run.phase = RunPhase::Finished { reason: FinishReason::Completed, step: 0 };
                run.settings = settings.clone();
                state.status = format!("Opened {name}: its samples are below, and a run can train on from it");
            }
        }
        FromWorker::AdapterLoaded { run } => {
            if let Some((id, loaded)) = &mut state.shipped_adapter {
                *loaded |= id == run;
            }
        }
        FromWorker::Inspected(inspection) => state.inspection.answer(inspection.request_id, inspection),
        FromWorker::Preflight { request_id, report } => state.preflight.answer(*request_id, report),
        FromWorker::SampleProgress { request_id, text } => {
            if let Some(sample @ Sample::Writing(_)) = state.samples.get_mut(request_id) {
                *sample = Sample::Writing(text.clone());
            }
        }
        FromWorker::Weights { request_id, weights } => state.weights.answer(*request_id, weights),
        FromWorker::OneStepTaken { request_id, step } => state.one_step.answer(*request_id, step),
        FromWorker::Quantized { request_id, table } => state.quantized.answer(*request_id, table),
        FromWorker::Zip { request_id, file_name, bytes } => {
            let file = SavedFile { file_name: file_name.clone(), bytes: Arc::new(bytes.clone()) };
            state.job.answer(*request_id, &file);
            state.mix_zip.answer(*request_id, &file);
        }
        FromWorker::GrpoStepped { request_id, step } => {
            if let Some(run) = state.grpo_mut(*request_id) {
                run.steps.push(step.clone());
                state.status = format!("GRPO step {}: mean reward {:.2}", step.step, step.mean_reward);
            }
        }
        FromWorker::GrpoFinished { request_id, stopped } => {
            if let Some(run) = state.grpo_mut(*request_id) {
                run.stopped = Some(*stopped);
                let steps = run.steps.len();
                state.status = match stopped {
                    true => format!("GRPO stopped after {}", count_of(steps, "step")),
                    false => format!("GRPO finished: {}", count_of(steps, "step")),
                };
            }
        }
        FromWorker::Mixed { request_id, mix } => {
            if state.mix.waiting == Some(*request_id) {
                state.mixes.push(mix.clone());
            }
            state.mix.answer(*request_id, mix);
        }
        FromWorker::Compared { request_id, sample } => {
            if let Some(comparing) = state.comparison_mut(*request_id) {
                comparing.samples.push(sample.clone());
            }
        }
        FromWorker::Evaluating { request_id, written, total } => {
            if let Some(evaluation) = state.evaluation_mut(*request_id) {
                (evaluation.written, evaluation.total) = (*written, *total);
            }
        }
        FromWorker::Evaluated { request_id, row } => {
            if let Some(evaluation) = state.evaluation_mut(*request_id) {
                evaluation.rows.push(row.clone());
            }
        }
        FromWorker::SampleSetAside { request_id } => {
            if let Some(evaluation) = state.evaluation_mut(*request_id) {
                evaluation.cut_short = true;
            }
            if let Some(sample) = state.samples.get_mut(request_id) {
                *sample = Sample::SetAside;
            }
            if let Some(comparing) = state.comparison_mut(*request_id) {
                comparing.cut_short = true;
            }
        }
        FromWorker::AdapterZip { run, file_name, bytes } => {
            if let Some(run) = state.run_mut(*run).filter(|run| run.export == Export::Preparing) {
                run.export = Export::Ready { file_name: file_name.clone(), bytes: Arc::new(bytes.clone()) };
            }
        }
        FromWorker::Error { run, request_id, message } => {
            let mine = match (run, request_id) {
                (Some(run), _) => state.run(*run).is_some() || state.shipped_adapter.is_some_and(|(id, _)| id == *run),
                (None, Some(request)) => {
                    // Each awaited request stops waiting for an answer that will not come.
                    let awaited = [
                        state.inspection.fail(*request),
                        state.weights.fail(*request),
                        state.one_step.fail(*request),
                        state.quantized.fail(*request),
                        state.job.fail(*request),
                        state.mix.fail(*request),
                        state.mix_zip.fail(*request),
                        state.preflight.fail(*request),
                    ];
                    let grpo = state.grpo_mut(*request).map(|run| run.stopped = Some(true)).is_some();
                    awaited.contains(&true)
                        || grpo
                        || state.samples.contains_key(request)
                        || state.comparison_mut(*request).is_some()
                        || state.evaluation_mut(*request).is_some()
                }
                // Loading errors concern every demo on the page.
                (None, None) => true,
            };
            if !mine {
                return;
            }
            if let Some(sample) = request_id.and_then(|id| state.samples.get_mut(&id)) {
                *sample = Sample::Failed;
            }
            if let Some(comparing) = request_id.and_then(|id| state.comparison_mut(id)) {
                comparing.cut_short = true;
            }
            if let Some(evaluation) = request_id.and_then(|id| state.evaluation_mut(id)) {
                evaluation.cut_short = true;
            }
            if let Some(id) = run {
                // A refused `Start` means no run began; errors during a run end it only through `Finished`.
                state.runs.retain(|run| !(run.id == *id && run.phase == RunPhase::Starting));
                if let Some(run) = state.run_mut(*id).filter(|run| run.export == Export::Preparing) {
                    run.export = Export::None;
                }
            }
            state.problem = Some(message.clone());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::{BackendKind, TaskCheck};

    pub(crate) fn metrics(step: usize, elapsed_seconds: f64) -> StepMetrics {
        StepMetrics {
            step,
            loss: 3.0 - step as f64 / 10.0,
            eval_loss: None,
            reference_eval_loss: None,
            learning_rate: 1e-2,
            grad_norm: 1.0,
            tokens_per_second: 2000.0,
            elapsed_seconds,
            trainable_params: 10,
            total_params: 100,
            rewards: None,
            eval_rewards: None,
        }
    }

    fn started(state: &mut RunState, id: RunId) {
        state.start(id, TrainSettings::default());
        apply(
            state,
            &FromWorker::TrainingStarted {
                run: id,
                total_steps: 60,
                training_sequences: 1063,
                trainable_params: 10,
                total_params: 100,
            },
        );
    }

    fn interrupted(dataset_url: &str) -> InterruptedRun {
        InterruptedRun {
            model_url: "models/m/".into(),
            dataset_url: dataset_url.into(),
            dataset_name: "pip.jsonl".into(),
            settings: TrainSettings { steps: 30, ..TrainSettings::default() },
            training_sequences: 40,
            metrics: (1..=10).map(|step| metrics(step, step as f64)).collect(),
        }
    }

    #[test]
    fn an_interrupted_run_is_offered_on_its_own_data_set_and_resumed_as_a_new_run() {
        let mut other = RunState::new("/other.jsonl");
        apply(&mut other, &FromWorker::Interrupted(Some(interrupted("/pip.jsonl"))));
        assert_eq!(other.interrupted, None, "a demo on another data set does not offer it");
        assert!(!other.resume_interrupted(3));

        let mut state = RunState::new("/pip.jsonl");
        apply(&mut state, &FromWorker::Interrupted(Some(interrupted("/pip.jsonl"))));
        assert_eq!(state.interrupted.as_ref().map(InterruptedRun::step), Some(10));
        assert!(state.resume_interrupted(3));
        assert_eq!(state.interrupted, None);
        let run = state.run(3).unwrap();
        assert_eq!((run.phase, run.settings.steps, run.dataset.as_str()), (RunPhase::Starting, 30, "pip.jsonl"));
        // The worker replays the saved steps after `TrainingStarted`, then carries on.
        let (training_sequences, trainable_params, total_params) = (40, 10, 100);
        let begun =
            FromWorker::TrainingStarted { run: 3, total_steps: 30, training_sequences, trainable_params, total_params };
        apply(&mut state, &begun);
        for step in 1..=11 {
            apply(&mut state, &FromWorker::Metrics { run: 3, metrics: metrics(step, step as f64) });
        }
        assert_eq!((state.run(3).unwrap().phase, state.run(3).unwrap().latest_step()), (RunPhase::Training, 11));

        // A run the worker cannot resume never began; the offer goes when the worker says there is none.
        let mut refused = RunState::new("/pip.jsonl");
        apply(&mut refused, &FromWorker::Interrupted(Some(interrupted("/pip.jsonl"))));
        refused.resume_interrupted(4);
        let message = "the saved run cannot be resumed: the data set changed since the run was saved".to_string();
        apply(&mut refused, &FromWorker::Error { run: Some(4), request_id: None, message: message.clone() });
        assert!(refused.runs.is_empty());
        assert_eq!(refused.problem, Some(message));
        apply(&mut state, &FromWorker::Interrupted(None));
        assert_eq!(state.interrupted, None);
    }

    #[test]
    fn an_opened_adapter_is_a_run_with_a_model_and_no_steps_that_is_not_kept_in_storage() {
        let mut state = RunState::new("/d.jsonl");
        state.dataset = Some(DatasetSummary {
            url: "/d.jsonl".into(),
            name: "d.jsonl".into(),
            training_examples: 1,
            held_out_examples: 1,
            task: Some(TaskCheck {
                name: "Pip rate".into(),
                description: String::new(),
                max_new_tokens: None,
                judge_first_sentence: false,
                kinds: Vec::new(),
                samples: Vec::new(),
                shape: None,
            }),
            recorded: None,
            data_files: Vec::new(),
        });
        state.open_adapter(5, "my-adapter.zip");
        assert!(state.busy(), "nothing starts while it opens");
        let settings = TrainSettings { lora_rank: 4, ..TrainSettings::default() };
        let opened = FromWorker::AdapterOpened { run: 5, name: "my-adapter.zip".into(), settings, base_model: None };
        apply(&mut state, &opened);
        let run = state.run(5).unwrap();
        assert_eq!((run.name.as_str(), run.settings.lora_rank), ("my-adapter.zip", 4));
        assert_eq!(run.trained_method(), Some(TrainingMethod::Lora), "its samples use the adapter");
        assert!(!run.checking(state.dataset.as_ref()), "no task check comes for it");
        assert!(state.saved_runs().is_empty(), "a reload loses its model, so it is not kept");

        state.open_adapter(6, "broken.zip");
        let message = "adapter_model.safetensors has no tensor …".to_string();
        apply(&mut state, &FromWorker::Error { run: Some(6), request_id: None, message: message.clone() });
        assert!(state.run(6).is_none());
        assert_eq!(state.problem, Some(message));
    }

    #[test]
    fn a_run_says_where_it_was_saved_and_why_saving_failed() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        assert_eq!(state.run(1).unwrap().saving, Saving::NotYet);
        apply(&mut state, &FromWorker::Checkpointed { run: 1, step: 10 });
        assert_eq!(state.run(1).unwrap().saving, Saving::Saved { step: 10 });
        let message = "the browser's storage for this site is full".to_string();
        apply(&mut state, &FromWorker::CheckpointFailed { run: 1, message: message.clone() });
        assert_eq!(state.run(1).unwrap().saving, Saving::Failed(message));
        assert!(state.run(1).unwrap().in_progress(), "the run goes on");
        apply(&mut state, &FromWorker::Checkpointed { run: 2, step: 10 });
        assert_eq!(state.runs.len(), 1, "another demo's run changes nothing here");
    }

    #[test]
    fn a_run_goes_from_starting_through_training_and_pause_to_finished() {
        let mut state = RunState::new("/d.jsonl");
        state.start(1, TrainSettings::default());
        assert!(state.busy());
        assert_eq!(state.run(1).unwrap().phase, RunPhase::Starting);
        apply(
            &mut state,
            &FromWorker::TrainingStarted {
                run: 1,
                total_steps: 60,
                training_sequences: 1063,
                trainable_params: 10,
                total_params: 100,
            },
        );
        assert_eq!(state.run(1).unwrap().phase, RunPhase::Training);
        assert_eq!(state.run(1).unwrap().training_sequences, Some(1063));
        apply(&mut state, &FromWorker::Metrics { run: 1, metrics: metrics(1, 0.25) });
        apply(&mut state, &FromWorker::Paused { run: 1, step: 1 });
        assert_eq!((state.run(1).unwrap().phase, state.status.as_str()), (RunPhase::Paused, "Paused at step 1"));
        apply(&mut state, &FromWorker::Resumed { run: 1, step: 1 });
        assert_eq!(state.run(1).unwrap().phase, RunPhase::Training);
        apply(&mut state, &FromWorker::Finished { run: 1, reason: FinishReason::Completed, step: 1 });
        let run = state.run(1).unwrap();
        assert_eq!(run.phase, RunPhase::Finished { reason: FinishReason::Completed, step: 1 });
        assert_eq!(run.trained_method(), Some(TrainingMethod::Lora));
        assert_eq!(state.status, "Finished after 1 step");
        assert!(!state.busy());
    }

    #[test]
    fn events_of_runs_and_requests_this_demo_did_not_start_change_nothing() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        let before = state.clone();
        for event in [
            FromWorker::Metrics { run: 2, metrics: metrics(1, 0.1) },
            FromWorker::Paused { run: 2, step: 1 },
            FromWorker::Finished { run: 2, reason: FinishReason::Stopped, step: 3 },
            FromWorker::Sample { request_id: 9, adapter_scale: 1.0, text: "Pip".into() },
            FromWorker::AdapterZip { run: 2, file_name: "a.zip".into(), bytes: vec![1] },
            FromWorker::Error { run: Some(2), request_id: None, message: "not ours".into() },
            FromWorker::Error { run: None, request_id: Some(9), message: "not ours".into() },
        ] {
            apply(&mut state, &event);
        }
        assert_eq!(state, before);
    }

    #[test]
    fn metrics_after_a_run_ended_are_ignored() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        apply(&mut state, &FromWorker::Finished { run: 1, reason: FinishReason::Stopped, step: 0 });
        apply(&mut state, &FromWorker::Metrics { run: 1, metrics: metrics(1, 0.1) });
        assert!(state.run(1).unwrap().metrics.is_empty());
        assert_eq!(state.run(1).unwrap().trained_method(), None, "a run of no steps trained nothing");
    }

    #[test]
    fn a_refused_start_forgets_the_run_and_shows_the_problem() {
        let mut state = RunState::new("/d.jsonl");
        state.start(4, TrainSettings::default());
        apply(&mut state, &FromWorker::Error { run: Some(4), request_id: None, message: "too long".into() });
        assert!(state.runs.is_empty());
        assert_eq!(state.problem.as_deref(), Some("too long"));
        state.start(5, TrainSettings::default());
        assert_eq!(state.problem, None, "starting again clears the old problem");
    }

    #[test]
    fn a_sample_grows_as_it_is_written_and_a_late_progress_does_not_undo_it() {
        let mut state = RunState::new("/d.jsonl");
        state.request_sample(1);
        assert_eq!(state.samples[&1], Sample::Writing(String::new()));
        apply(&mut state, &FromWorker::SampleProgress { request_id: 1, text: "Hi".into() });
        apply(&mut state, &FromWorker::SampleProgress { request_id: 1, text: "Hi Ngozi".into() });
        assert_eq!(state.samples[&1], Sample::Writing("Hi Ngozi".into()));
        apply(&mut state, &FromWorker::Sample { request_id: 1, adapter_scale: 0.0, text: "Hi Ngozi,".into() });
        apply(&mut state, &FromWorker::SampleProgress { request_id: 1, text: "Hi".into() });
        assert_eq!(state.samples[&1], Sample::Written("Hi Ngozi,".into()));
        apply(&mut state, &FromWorker::SampleProgress { request_id: 7, text: "other demo".into() });
        assert!(!state.samples.contains_key(&7));
    }

    #[test]
    fn only_the_awaited_preflight_is_kept() {
        let limits = crate::protocol::DeviceLimits { gpu: Err("none".into()), device_memory_gb: None };
        let report = |cpu_flops| crate::protocol::DeviceReport { limits: limits.clone(), cpu_flops };
        let mut state = RunState::new("/d.jsonl");
        state.request(2, |s| &mut s.preflight);
        apply(&mut state, &FromWorker::Preflight { request_id: 1, report: report(1.0) });
        assert!(state.preflight.is_waiting() && state.preflight.latest.is_none());
        apply(&mut state, &FromWorker::Preflight { request_id: 2, report: report(2.0) });
        assert_eq!(state.preflight.latest, Some(report(2.0)));
    }

    #[test]
    fn samples_are_filled_by_request_id_and_fail_only_on_their_own_error() {
        let mut state = RunState::new("/d.jsonl");
        state.request_sample(1);
        state.request_sample(2);
        apply(&mut state, &FromWorker::Sample { request_id: 2, adapter_scale: 0.0, text: "Once".into() });
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(1), message: "no".into() });
        assert_eq!(state.samples[&1], Sample::Failed);
        assert_eq!(state.samples[&2], Sample::Written("Once".into()));
    }

    #[test]
    fn only_the_awaited_inspection_is_kept_and_its_error_ends_the_wait() {
        let inspection = |request_id| Inspection {
            request_id,
            text: "Once".into(),
            tokens: Vec::new(),
            next_logits: vec![0.0, 1.0],
            likely: Vec::new(),
        };
        let mut state = RunState::new("/d.jsonl");
        state.request(4, |s| &mut s.inspection);
        apply(&mut state, &FromWorker::Inspected(inspection(3)));
        assert_eq!(state.inspection, Awaited { waiting: Some(4), latest: None }, "an older answer is ignored");
        apply(&mut state, &FromWorker::Inspected(inspection(4)));
        assert_eq!(state.inspection, Awaited { waiting: None, latest: Some(inspection(4)) });
        state.request(5, |s| &mut s.inspection);
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(5), message: "not ready".into() });
        assert_eq!((state.inspection.waiting, state.problem.as_deref()), (None, Some("not ready")));
    }

    #[test]
    fn a_shipped_adapter_is_ready_once_loaded_and_its_error_is_this_demos() {
        let mut state = RunState::new("/d.jsonl");
        state.request_adapter(7);
        apply(&mut state, &FromWorker::AdapterLoaded { run: 6 });
        assert_eq!(state.loaded_adapter(), None, "another demo's adapter");
        apply(&mut state, &FromWorker::AdapterLoaded { run: 7 });
        assert_eq!(state.loaded_adapter(), Some(7));
        let mut failing = RunState::new("/d.jsonl");
        failing.request_adapter(8);
        apply(&mut failing, &FromWorker::Error { run: Some(8), request_id: None, message: "no file".into() });
        assert_eq!(failing.problem.as_deref(), Some("no file"));
    }

    #[test]
    fn only_the_awaited_weights_are_kept_and_their_error_ends_the_wait() {
        use crate::low_rank::ProjectionWeights;
        use crate::settings::Projection;
        let weights = |layer| ProjectionWeights {
            layer,
            projection: Projection::QProj,
            rows: 1,
            cols: 1,
            weight: vec![0.5],
            adapter: None,
        };
        let mut state = RunState::new("/d.jsonl");
        state.request(2, |s| &mut s.weights);
        apply(&mut state, &FromWorker::Weights { request_id: 1, weights: weights(0) });
        assert_eq!(state.weights, Awaited { waiting: Some(2), latest: None }, "an older answer is ignored");
        apply(&mut state, &FromWorker::Weights { request_id: 2, weights: weights(3) });
        assert_eq!((state.weights.waiting, state.weights.latest.as_ref().map(|w| w.layer)), (None, Some(3)));
        state.request(4, |s| &mut s.weights);
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(4), message: "no layer 9".into() });
        assert_eq!((state.weights.waiting, state.problem.as_deref()), (None, Some("no layer 9")));
    }

    #[test]
    fn the_job_zip_lands_only_for_the_awaited_request_and_an_error_ends_the_wait() {
        let mut state = RunState::new("data.jsonl");
        let zip =
            |request_id| FromWorker::Zip { request_id, file_name: "tinytune-job.zip".into(), bytes: vec![80, 75] };
        state.request(4, |s| &mut s.job);
        apply(&mut state, &zip(3));
        assert!(state.job.is_waiting() && state.job.latest.is_none(), "an older request's zip is ignored");
        apply(&mut state, &zip(4));
        let saved = state.job.latest.clone().expect("the awaited zip");
        assert_eq!((saved.file_name.as_str(), saved.bytes.as_slice()), ("tinytune-job.zip", &[80u8, 75][..]));
        assert!(!state.job.is_waiting());
        state.request(5, |s| &mut s.job);
        let message = "load data.jsonl before exporting it".to_string();
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(5), message: message.clone() });
        assert!(!state.job.is_waiting(), "the failed request is no longer awaited");
        assert_eq!(state.problem.as_deref(), Some(message.as_str()));
    }

    #[test]
    fn each_awaited_mix_is_kept_in_order_and_its_zip_goes_to_the_mix_not_the_job() {
        use crate::mix::{CheckedTask, Combination};
        let mut state = RunState::new("data.jsonl");
        let mixed = |request_id, weight| FromWorker::Mixed {
            request_id,
            mix: MixChecked {
                weights: vec![weight, 1.0],
                how: Combination::Cat,
                rank: 16,
                checks: vec![CheckedTask { name: "Pip rate".into(), samples: Vec::new() }],
            },
        };
        state.request(1, |s| &mut s.mix);
        apply(&mut state, &mixed(1, 0.5));
        state.request(3, |s| &mut s.mix);
        apply(&mut state, &mixed(2, 9.0));
        assert_eq!(state.mixes.len(), 1, "an answer nobody waits for is not a mix of this demo's");
        apply(&mut state, &mixed(3, -1.0));
        let weights: Vec<f64> = state.mixes.iter().map(|mix| mix.weights[0]).collect();
        assert_eq!(weights, [0.5, -1.0]);
        assert_eq!(state.mix.latest.as_ref().map(|mix| mix.weights[0]), Some(-1.0));
        state.request(4, |s| &mut s.mix_zip);
        apply(&mut state, &FromWorker::Zip { request_id: 4, file_name: "tinytune-mix.zip".into(), bytes: vec![80] });
        assert_eq!(state.mix_zip.latest.map(|file| file.file_name), Some("tinytune-mix.zip".into()));
        assert!(state.job.latest.is_none());
    }

    #[test]
    fn an_evaluation_gathers_its_own_rows_runs_until_the_last_and_stops_on_its_error() {
        use crate::evaluation::BenchedModel;
        let row = |request_id, name: &str| FromWorker::Evaluated {
            request_id,
            row: BenchRow {
                model: BenchedModel { name: name.into(), adapter: None },
                held_out_loss: 1.9,
                passed_per_round: vec![1, 0],
                prompts: 8,
                first_round: Vec::new(),
            },
        };
        let mut state = RunState::new("/d.jsonl");
        state.request_evaluation(2, 2);
        apply(&mut state, &FromWorker::Evaluating { request_id: 2, written: 5, total: 32 });
        apply(&mut state, &row(2, "Base model"));
        apply(&mut state, &row(1, "older"));
        let evaluation = state.evaluation.clone().unwrap();
        assert_eq!((evaluation.written, evaluation.total, evaluation.rows.len()), (5, 32, 1));
        assert!(evaluation.running());
        apply(&mut state, &row(2, "Adapter"));
        assert!(!state.evaluation.as_ref().unwrap().running(), "both models measured");
        state.request_evaluation(3, 2);
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(3), message: "no check".into() });
        assert!(!state.evaluation.as_ref().unwrap().running());
        assert_eq!(state.problem.as_deref(), Some("no check"), "its error is this demo's");
        state.request_evaluation(4, 1);
        apply(&mut state, &FromWorker::SampleSetAside { request_id: 4 });
        assert!(state.evaluation.as_ref().unwrap().cut_short);
    }

    #[test]
    fn a_comparison_gathers_its_own_samples_and_knows_when_it_was_cut_short() {
        use crate::approach::Approach;
        let sample = |request_id, index| FromWorker::Compared {
            request_id,
            sample: ApproachSample {
                approach: Approach::Plain,
                index,
                prompt_tokens: 20,
                in_front: Vec::new(),
                sample: CheckedSample { prompt: "Write.".into(), text: "Once".into(), passed: false },
            },
        };
        let mut state = RunState::new("/d.jsonl");
        state.request_comparison(2);
        apply(&mut state, &sample(2, 0));
        apply(&mut state, &sample(1, 5));
        let comparing = state.comparison.clone().unwrap();
        assert_eq!(comparing.samples.iter().map(|s| s.index).collect::<Vec<_>>(), [0], "an older request's is ignored");
        apply(&mut state, &FromWorker::SampleSetAside { request_id: 2 });
        assert!(state.comparison.as_ref().unwrap().cut_short);
        assert_eq!(state.problem, None);
        state.request_comparison(3);
        assert!(!state.comparison.as_ref().unwrap().cut_short && state.comparison.as_ref().unwrap().samples.is_empty());
        apply(&mut state, &FromWorker::Error { run: None, request_id: Some(3), message: "no adapter".into() });
        assert!(state.comparison.as_ref().unwrap().cut_short);
        assert_eq!(state.problem.as_deref(), Some("no adapter"), "its error is this demo's");
    }

    #[test]
    fn a_sample_set_aside_is_no_problem() {
        let mut state = RunState::new("/d.jsonl");
        state.request_sample(3);
        apply(&mut state, &FromWorker::SampleSetAside { request_id: 3 });
        assert_eq!(state.samples[&3], Sample::SetAside);
        assert_eq!(state.problem, None, "setting a sample aside for a run is not an error");
    }

    #[test]
    fn an_adapter_zip_waits_until_saved_and_then_only_its_size_is_kept() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        apply(&mut state, &FromWorker::AdapterZip { run: 1, file_name: "a.zip".into(), bytes: vec![1, 2] });
        assert_eq!(state.run(1).unwrap().export, Export::None, "a zip nobody asked for is dropped");
        state.request_export(1);
        apply(&mut state, &FromWorker::AdapterZip { run: 1, file_name: "a.zip".into(), bytes: vec![1, 2] });
        assert!(matches!(&state.run(1).unwrap().export, Export::Ready { file_name, .. } if file_name == "a.zip"));
        state.export_saved(1);
        assert_eq!(state.run(1).unwrap().export, Export::Saved { bytes: 2 });
    }

    #[test]
    fn runs_are_named_in_order_renamed_removed_when_finished_and_restored_without_a_model() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        started(&mut state, 2);
        assert_eq!(state.runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Run 1", "Run 2"]);
        state.rename(1, "  rank 16 ");
        state.rename(2, "   ");
        assert_eq!((state.run(1).unwrap().name.as_str(), state.run(2).unwrap().name.as_str()), ("rank 16", "Run 2"));
        state.remove(2);
        assert!(state.run(2).is_some(), "a run in progress is not removed");
        apply(&mut state, &FromWorker::Metrics { run: 2, metrics: metrics(1, 0.1) });
        apply(&mut state, &FromWorker::Finished { run: 2, reason: FinishReason::Completed, step: 1 });
        let saved = state.saved_runs();
        assert_eq!(saved.len(), 1, "only finished runs are kept");
        state.remove(2);
        assert!(state.run(2).is_none());
        state.restore(7, saved[0].clone());
        let restored = state.run(7).unwrap();
        assert_eq!(restored.phase, RunPhase::Finished { reason: FinishReason::Completed, step: 1 });
        assert_eq!(restored.trained_method(), None, "the worker has no model for a restored run");
        started(&mut state, 8);
        assert_eq!(state.run(8).unwrap().name, "Run 3");
        state.reload();
        assert_eq!(state.runs.len(), 1, "loading again keeps the finished run and forgets those in progress");
        assert!(state.runs.iter().all(|run| run.restored));
        assert_eq!(state.dataset_url, "/d.jsonl");
    }

    #[test]
    fn the_csv_has_a_row_per_run_and_step_with_names_quoted() {
        let run = SavedRun {
            name: "rank \"16\", fast".into(),
            dataset: "pip.jsonl".into(),
            settings: TrainSettings::default(),
            reason: FinishReason::Completed,
            metrics: vec![metrics(1, 0.1), StepMetrics { eval_loss: Some(2.5), ..metrics(2, 0.2) }],
            task: Some(TaskScore { name: "Pip rate".into(), passed: 6, base_passed: 1, total: 8 }),
        };
        let csv = runs_csv(&[run]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "run,dataset,settings,task_passed,task_base_passed,task_samples,step,loss,eval_loss,reference_eval_loss,\
             learning_rate,grad_norm"
        );
        assert!(lines[1].starts_with("\"rank \"\"16\"\", fast\",\"pip.jsonl\",\"method=lora&r=8&"), "{}", lines[1]);
        assert!(lines[1].ends_with("\",6,1,8,1,2.9,,,0.01,1"), "{}", lines[1]);
        assert!(lines[2].ends_with("\",6,1,8,2,2.8,2.5,,0.01,1"), "{}", lines[2]);
        assert_eq!(lines.len(), 3);
        let before_tasks = r#"[{"name": "Run 1", "settings": {}, "reason": "Completed", "metrics": []}]"#
            .replace("{}", &serde_json::to_string(&TrainSettings::default()).unwrap());
        let old: Vec<SavedRun> = serde_json::from_str(&before_tasks).expect("runs stored before tasks still read");
        assert_eq!((old[0].dataset.as_str(), &old[0].task), ("", &None));
    }

    #[test]
    fn a_finished_run_waits_for_its_task_check_and_keeps_the_score() {
        let mut state = RunState::new("/pip.jsonl");
        let task = TaskCheck {
            name: "Pip rate".into(),
            description: "share of stories about Pip".into(),
            max_new_tokens: None,
            judge_first_sentence: false,
            kinds: Vec::new(),
            samples: vec![
                crate::task::CheckPrompt {
                    prompt: "Once".into(),
                    must_contain: vec!["Pip".into()],
                    kind: None
                };
                8
            ],
            shape: None,
        };
        let summary = DatasetSummary {
            url: "/pip.jsonl".into(),
            name: "pip.jsonl".into(),
            training_examples: 9,
            held_out_examples: 1,
            task: Some(task),
            recorded: None,
            data_files: Vec::new(),
        };
        apply(&mut state, &FromWorker::DatasetLoaded(Box::new(summary)));
        started(&mut state, 1);
        assert_eq!(state.run(1).unwrap().dataset, "pip.jsonl", "a run records its data set");
        apply(&mut state, &FromWorker::Finished { run: 1, reason: FinishReason::Completed, step: 60 });
        assert!(state.run(1).unwrap().checking(state.dataset.as_ref()));
        assert_eq!(state.status, "Finished after 60 steps; checking “Pip rate” on 8 samples");
        let samples = vec![CheckedSample { prompt: "Once".into(), text: " Pip was".into(), passed: true }];
        let score = TaskScore { name: "Pip rate".into(), passed: 6, base_passed: 0, total: 8 };
        apply(&mut state, &FromWorker::TaskChecked { run: 1, score: score.clone(), samples: samples.clone() });
        let run = state.run(1).unwrap();
        assert_eq!((run.task.as_ref(), &run.checked), (Some(&score), &samples));
        assert!(!run.checking(state.dataset.as_ref()));
        assert_eq!(state.status, "Finished after 60 steps. “Pip rate”: 6 of 8 samples pass (the base model: 0)");
        assert_eq!(state.saved_runs()[0].task, Some(score), "the score is kept with the run");
        state.use_dataset("/letters.txt");
        assert_eq!((state.dataset_url.as_str(), state.dataset.is_none()), ("/letters.txt", true));
        assert!(!state.run(1).unwrap().checking(state.dataset.as_ref()));
    }

    #[test]
    fn time_left_follows_the_pace_of_the_recent_steps() {
        let mut state = RunState::new("/d.jsonl");
        started(&mut state, 1);
        apply(&mut state, &FromWorker::Metrics { run: 1, metrics: metrics(1, 1.0) });
        assert_eq!(state.run(1).unwrap().seconds_left(10), None);
        for step in 2..=10 {
            apply(&mut state, &FromWorker::Metrics { run: 1, metrics: metrics(step, step as f64 * 0.5) });
        }
        // 0.5 s a step, 50 steps to go.
        assert_eq!(state.run(1).unwrap().seconds_left(5), Some(25.0));
    }

    #[test]
    fn ready_needs_the_model_and_the_data_set_and_a_lost_trainer_ends_the_run() {
        let mut state = RunState::new("/d.jsonl");
        let backend = BackendReport { kind: BackendKind::Cpu, adapter_name: None, fallback_reason: None };
        let shape = crate::protocol::tests::STORIES260K;
        apply(
            &mut state,
            &FromWorker::Ready { backend, model_name: "stories260K".into(), model: shape, storage: BaseStorage::F32 },
        );
        assert_eq!(state.status, "stories260K is ready to train on the CPU");
        assert!(!state.ready());
        let summary = DatasetSummary {
            url: "/d.jsonl".into(),
            name: "d.jsonl".into(),
            training_examples: 277,
            held_out_examples: 31,
            task: None,
            recorded: None,
            data_files: Vec::new(),
        };
        let other = DatasetSummary { url: "/other.jsonl".into(), ..summary.clone() };
        apply(&mut state, &FromWorker::DatasetLoaded(Box::new(other)));
        assert!(!state.ready(), "another demo's data set is not this one's");
        apply(&mut state, &FromWorker::DatasetLoaded(Box::new(summary)));
        assert!(state.ready());
        started(&mut state, 1);
        apply(&mut state, &FromWorker::Metrics { run: 1, metrics: metrics(1, 0.1) });
        state.trainer_stopped();
        assert!(!state.ready());
        assert_eq!(state.run(1).unwrap().phase, RunPhase::Finished { reason: FinishReason::Stopped, step: 1 });
    }
}
