//! The run layer on the page: one [`LiveDemo`] per live element. It holds the demo's [`RunState`] (changed only by
//! [`apply`] as the worker's events arrive), sends the demo's requests to the shared worker, and gives each of the
//! demo's widgets its element ids. Widgets take a `LiveDemo` and read its state; they know no particular demo.

use leptos::prelude::*;

use crate::protocol::{
    BackendChoice, BenchedModel, Combination, GrpoSettings, Lineup, MixSource, Projection, RunId, SampleSettings,
    ToWorker, TrainSettings,
};
use crate::run_bigger::JobTarget;
use crate::ui::run_state::{apply, RunState};
use crate::ui::trainer_client::{use_trainer, TrainerClient, TrainerState};

#[derive(Clone, Copy)]
pub struct LiveDemo {
    pub state: RwSignal<RunState>,
    pub trainer: TrainerClient,
    /// Where the learner wants the model to run: WebGPU when there is one, or the CPU.
    pub backend: RwSignal<BackendChoice>,
    prefix: StoredValue<String>,
    model_url: StoredValue<String>,
}

impl LiveDemo {
    /// A demo named `name` (the stem of its element ids) training on the model at `model_url` with the data set
    /// at `dataset_url`. Events reach its state until the calling component leaves the page; leaving mid-run
    /// stops the run, so the shared worker is free for the next demo.
    pub fn new(name: &'static str, model_url: &str, dataset_url: &str) -> LiveDemo {
        let trainer = use_trainer();
        let state = RwSignal::new(RunState::new(dataset_url));
        trainer.on_event(move |event| state.update(|state| apply(state, event)));
        let demo = LiveDemo {
            state,
            trainer,
            backend: RwSignal::new(BackendChoice::Auto),
            prefix: StoredValue::new(trainer.id_prefix(name)),
            model_url: StoredValue::new(model_url.to_string()),
        };
        // The data set loads once the model has: a failed model load then shows its own message, not a second one.
        let wants_dataset = Memo::new(move |_| state.with(|s| s.model.is_some() && s.dataset.is_none()));
        Effect::new(move |_| {
            if wants_dataset.get() {
                let url = state.with_untracked(|s| s.dataset_url.clone());
                trainer.send(&ToWorker::LoadDataset { url });
            }
        });
        // A trainer that stopped for good takes the model and any run with it.
        Effect::new(move |_| {
            if matches!(trainer.state().get(), TrainerState::Stopped(_)) {
                state.update(RunState::trainer_stopped);
            }
        });
        on_cleanup(move || {
            trainer.forget_prefix(name);
            let running: Vec<RunId> = state
                .try_with_untracked(|state| state.runs.iter().filter(|r| r.in_progress()).map(|r| r.id).collect())
                .unwrap_or_default();
            for run in running {
                trainer.send(&ToWorker::Stop { run });
            }
            let grpo = state.try_with_untracked(|state| state.grpo.as_ref().is_some_and(|run| run.training()));
            if grpo.unwrap_or(false) {
                trainer.send(&ToWorker::StopGrpo);
            }
        });
        demo
    }

    /// The demo's latest run, which its widgets show.
    pub fn latest_run(&self) -> Signal<Option<RunId>> {
        let state = self.state;
        Signal::derive(move || state.with(|s| s.latest_run().map(|run| run.id)))
    }

    /// True until the model and data set are loaded, and while a run trains: the settings cannot change then.
    pub fn locked(&self) -> Signal<bool> {
        let state = self.state;
        Signal::derive(move || state.with(|s| !s.ready() || s.busy()))
    }

    /// `"{prefix}-{part}"`: an element id unique on the page.
    pub fn id(&self, part: &str) -> String {
        format!("{}-{part}", self.prefix.with_value(String::clone))
    }

    /// Loads the model on the chosen backend, then the demo's data set; anything loaded before is forgotten by the
    /// page.
    pub fn load(&self) {
        self.state.update(RunState::reload);
        let backend = self.backend.get_untracked();
        self.trainer.send(&ToWorker::Init { backend, model_url: self.model_url.get_value() });
    }

    /// The learner chose where the model runs: load it there.
    pub fn choose_backend(&self, backend: BackendChoice) {
        self.backend.set(backend);
        self.load();
    }

    /// Trains on the data set at `url` from the next run on; the worker loads it (once) when the model is there.
    pub fn use_dataset(&self, url: &str) {
        self.state.update(|state| state.use_dataset(url));
    }

    pub fn start(&self, settings: TrainSettings) -> RunId {
        self.start_from(settings, None)
    }

    /// Starts a run whose adapter begins as the model of `from` (an opened adapter) rather than fresh.
    pub fn start_from(&self, settings: TrainSettings, from: Option<RunId>) -> RunId {
        let run = self.trainer.next_run_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.start(run, settings.clone()));
        self.trainer.send(&ToWorker::Start { run, dataset_url, settings, from });
        run
    }

    /// Opens the PEFT adapter in `files` (name, bytes) as a new run's model; the state's run says when it is.
    pub fn open_adapter(&self, files: Vec<(String, Vec<u8>)>) {
        let run = self.trainer.next_run_id();
        let label = match files.as_slice() {
            [(name, _)] => name.clone(),
            files => files.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(" + "),
        };
        self.state.update(|state| state.open_adapter(run, &label));
        let (names, sizes) = files.iter().map(|(name, bytes)| (name.clone(), bytes.len())).unzip();
        let bytes = files.into_iter().flat_map(|(_, bytes)| bytes).collect();
        self.trainer.send(&ToWorker::OpenAdapter { run, names, sizes, bytes });
    }

    /// Carries on the run the worker offered (saved in the browser's storage and interrupted) as a new run.
    pub fn resume_interrupted(&self) {
        let run = self.trainer.next_run_id();
        if self.state.try_update(|state| state.resume_interrupted(run)).unwrap_or(false) {
            self.trainer.send(&ToWorker::ResumeInterrupted { run });
        }
    }

    /// Forgets the run the worker offered to resume.
    pub fn discard_interrupted(&self) {
        self.state.update(|state| state.interrupted = None);
        self.trainer.send(&ToWorker::DiscardInterrupted);
    }

    pub fn send(&self, message: &ToWorker) {
        self.trainer.send(message);
    }

    /// Asks for a sample of `run`'s model (the base model without one) and returns the request's id, under which
    /// the state will hold the text.
    pub fn generate(&self, run: Option<RunId>, sample: SampleSettings, adapter_scale: f64) -> u32 {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request_sample(request_id));
        self.trainer.send(&ToWorker::Generate { request_id, run, sample, adapter_scale });
        request_id
    }

    /// Asks the worker to measure this device for the hardware preflight (nothing downloads); the answer lands in
    /// the state's `preflight`.
    pub fn preflight(&self) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request(request_id, |s| &mut s.preflight));
        self.trainer.send(&ToWorker::Preflight { request_id });
    }

    /// Asks how the base model reads `text` followed by the tokens `then`; the answer lands in the state's
    /// `inspection`.
    pub fn inspect(&self, text: String, then: Vec<u32>) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request(request_id, |s| &mut s.inspection));
        self.trainer.send(&ToWorker::Inspect { request_id, text, then });
    }

    /// Asks for one projection's weights off `run`'s model (the base model's without one); the answer lands in
    /// the state's `weights`.
    pub fn read_weights(&self, run: Option<RunId>, layer: usize, projection: Projection) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request(request_id, |s| &mut s.weights));
        self.trainer.send(&ToWorker::ReadWeights { request_id, run, layer, projection });
    }

    /// Asks for one training step up close with `settings` on training sequence `sequence` (from 0) of the demo's
    /// data set; the answer lands in the state's `one_step`.
    pub fn take_one_step(&self, sequence: usize, settings: TrainSettings) {
        let request_id = self.trainer.next_request_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.request(request_id, |s| &mut s.one_step));
        self.trainer.send(&ToWorker::TakeOneStep { request_id, dataset_url, sequence, settings });
    }

    /// Asks for the base model stored in each quantization format and measured on the demo's data set's held-out
    /// split; the answer lands in the state's `quantized`.
    pub fn quantize(&self) {
        let request_id = self.trainer.next_request_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.request(request_id, |s| &mut s.quantized));
        self.trainer.send(&ToWorker::Quantize { request_id, dataset_url });
    }

    /// Asks for "Run it bigger"'s job: the demo's data set and `settings` for `target`; the zip lands in the
    /// state's `job`.
    pub fn export_job(&self, settings: TrainSettings, target: JobTarget) {
        let request_id = self.trainer.next_request_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.request(request_id, |s| &mut s.job));
        self.trainer.send(&ToWorker::ExportJob { request_id, dataset_url, settings, target });
    }

    /// Asks for the adapters at `sources`' URLs mixed `how` and checked on the task checks at `checks`; the answer
    /// lands in the state's `mix` (and `mixes`).
    pub fn mix(&self, sources: Vec<MixSource>, how: Combination, checks: Vec<String>) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request(request_id, |s| &mut s.mix));
        self.trainer.send(&ToWorker::Mix { request_id, sources, how, checks });
    }

    /// Starts the GRPO toy with `settings`; its steps land in the state's `grpo`.
    pub fn train_grpo(&self, settings: GrpoSettings) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request_grpo(request_id));
        self.trainer.send(&ToWorker::TrainGrpo { request_id, settings });
    }

    /// Asks for the latest mix as a zip; it lands in the state's `mix_zip`.
    pub fn export_mix(&self) {
        let request_id = self.trainer.next_request_id();
        self.state.update(|state| state.request(request_id, |s| &mut s.mix_zip));
        self.trainer.send(&ToWorker::ExportMix { request_id });
    }

    /// Asks for the evaluation bench of `models` at `rounds` on the demo's data set; its rows land in the state's
    /// `evaluation`.
    pub fn evaluate(&self, models: Vec<BenchedModel>, rounds: usize) {
        let request_id = self.trainer.next_request_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.request_evaluation(request_id, models.len()));
        self.trainer.send(&ToWorker::Evaluate { request_id, dataset_url, models, rounds });
    }

    /// Asks for the comparison of `lineup`'s ways to the demo's data set's task check ([`crate::approach`]), with
    /// `run`'s model for the adapter's ways; the samples land in the state's `comparison`.
    pub fn compare(&self, run: RunId, lineup: Lineup) {
        let request_id = self.trainer.next_request_id();
        let dataset_url = self.state.with_untracked(|state| state.dataset_url.clone());
        self.state.update(|state| state.request_comparison(request_id));
        self.trainer.send(&ToWorker::Compare { request_id, dataset_url, run, lineup });
    }

    /// Loads the adapter folder the site serves at `url` once the model is loaded, and again after each reload.
    pub fn use_shipped_adapter(&self, url: &'static str) {
        let (demo, state) = (*self, self.state);
        let wanted = Memo::new(move |_| state.with(|s| s.model.is_some() && s.shipped_adapter.is_none()));
        Effect::new(move |_| {
            if wanted.get() {
                demo.load_adapter(url);
            }
        });
    }

    /// Loads the adapter folder the site serves at `url` as the model of a new run id, which samples then name.
    fn load_adapter(&self, url: &str) {
        let run = self.trainer.next_run_id();
        self.state.update(|state| state.request_adapter(run));
        self.trainer.send(&ToWorker::LoadAdapter { run, url: url.to_string() });
    }

    pub fn export(&self, run: RunId) {
        self.state.update(|state| state.request_export(run));
        self.trainer.send(&ToWorker::ExportAdapter { run });
    }
}
