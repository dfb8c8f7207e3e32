//! The messages between the page and the trainer worker, and the arithmetic both sides share.
//!
//! Data flows one way: a demo sends [`ToWorker`] messages; the worker answers with [`FromWorker`] events. Both
//! travel as JSON through `postMessage`; bytes (an adapter's zip) travel beside the JSON as a transferred
//! `ArrayBuffer`, never inside it (see [`FromWorker::payload`]). This module knows no DOM and no tensors, so the
//! UI bundle can use it without linking Burn.
//!
//! One worker serves every demo on a page. It holds one base model (`Init`: the worker picks a backend and loads
//! the model, reporting `Loading` progress, then `Ready`) and any number of data sets (`LoadDataset` →
//! `DatasetLoaded`, tokenized once and cut to each run's sequence length). Runs are named by the page: `Start`
//! with a fresh [`RunId`] → `TrainingStarted`, one `Metrics` per step (`Pause`, `Resume` and `Stop` take effect
//! between steps) → `Finished`, then `TaskChecked` when the data set declares a task metric. One run trains at a
//! time; a finished run's model stays for samples and export. `Generate` → `SampleProgress` as it writes →
//! `Sample`, and `ExportAdapter` → `AdapterZip`, at any time after `Ready`; `Preflight` → `Preflight` at any time.
//! Anything that goes wrong → `Error`, naming the run or request it belongs to, and the worker stays usable.
//!
//! The data studio's messages start with `Studio`: the learner's file goes in with `StudioOpen` (its bytes
//! transferred beside the JSON), is read, judged and tokenized in the worker (`StudioProgress`), and comes back as
//! a `StudioReport`; each decision, edit or setting answers with a new report. The worker keeps the data set in
//! the browser's storage, so `StudioRestore` after a reload finds it again, and trains on it as the data set
//! [`STUDIO_DATASET_URL`].

use serde::{Deserialize, Serialize};

pub use crate::approach::{ApproachSample, Lineup};
pub use crate::dataset::review::{Decision, ProblemAt, SplitSettings};
pub use crate::dataset::{ColumnMapping, Format, Layout, ProblemKind, TablePreview};
pub use crate::evaluation::{BenchRow, BenchedModel};
pub use crate::low_rank::ProjectionWeights;
pub use crate::mix::{Combination, MixChecked, MixSource};
pub use crate::one_step::OneStep;
pub use crate::preflight::{BaseStorage, DeviceLimits, DeviceReport};
pub use crate::quantize::QuantizationTable;
pub use crate::reward::{GrpoSettings, GrpoStep};
use crate::run_bigger::{DataFile, JobTarget};
use crate::settings::Choice;
pub use crate::settings::{Projection, TrainSettings, TrainingMethod};
pub use crate::task::{CheckedSample, TaskCheck, TaskScore};

/// Names a run across the page and the worker; the page picks it, unique for the worker's lifetime.
pub type RunId = u32;

/// Where the learner wants training to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendChoice {
    /// WebGPU when the browser offers a usable adapter, else the CPU.
    Auto,
    Cpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

/// What the worker chose, and why when it is not the GPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    pub kind: BackendKind,
    /// The GPU adapter's name as the browser reports it (vendor, architecture, description).
    pub adapter_name: Option<String>,
    /// Why the CPU is used, in words a learner can act on; `None` when the learner chose the CPU or WebGPU runs.
    pub fallback_reason: Option<String>,
}

/// A model folder's `manifest.json`, written at build time beside the files: what the model is called, where it
/// comes from, and each file's hash (the worker caches files by it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    /// The name people know the model by, e.g. `stories260K`.
    pub model: String,
    pub files: std::collections::BTreeMap<String, ManifestFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub sha256: String,
    pub bytes: u64,
}

/// How to sample text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleSettings {
    pub prompt: String,
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: f64,
    pub seed: u64,
}

impl Default for SampleSettings {
    fn default() -> Self {
        SampleSettings { prompt: "Once upon a time".into(), max_new_tokens: 60, temperature: 0.8, top_p: 0.9, seed: 7 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Choose a backend and load the base model: a Hugging Face folder served at `model_url`, with a
    /// `manifest.json`. Repeating it with the same backend and URL reuses what is loaded.
    Init {
        backend: BackendChoice,
        model_url: String,
    },
    /// Read and tokenize a data set (JSONL or text at `url`), once; later runs on it reuse the tokens.
    LoadDataset {
        url: String,
    },
    Start {
        run: RunId,
        dataset_url: String,
        settings: TrainSettings,
        /// The adapter (one the learner opened) whose factors the run starts from instead of fresh ones; its rank,
        /// alpha and targets must be `settings`'.
        #[serde(default)]
        from: Option<RunId>,
    },
    Pause {
        run: RunId,
    },
    Resume {
        run: RunId,
    },
    Stop {
        run: RunId,
    },
    /// Carry on the run saved in the browser's storage (the one `Interrupted` offered) as `run`: answered like
    /// `Start`, from the saved step on.
    ResumeInterrupted {
        run: RunId,
    },
    /// Forget the run saved in the browser's storage: answered with `Interrupted(None)`.
    DiscardInterrupted,
    /// Open a PEFT adapter the learner brought — `names[i]` of `sizes[i]` bytes, one after another in `bytes`: a
    /// zip of its folder, or its files — checked against the base model ([`crate::adapter_import`]) and loaded as
    /// the model of `run`: answered with `AdapterOpened`.
    OpenAdapter {
        run: RunId,
        names: Vec<String>,
        sizes: Vec<usize>,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// Sample from the base model plus `run`'s adapter scaled by `adapter_scale` (0: the base model, 1: the
    /// fine-tuned one). Without a run, or for a run that trained nothing yet, it samples the base model.
    Generate {
        request_id: u32,
        run: Option<RunId>,
        sample: SampleSettings,
        adapter_scale: f64,
    },
    ExportAdapter {
        run: RunId,
    },
    /// Measure this device for the hardware preflight ([`crate::preflight`]) without loading anything: answered
    /// with `Preflight`.
    Preflight {
        request_id: u32,
    },
    /// Load a LoRA adapter the site ships (a PEFT folder at `url`: `adapter_config.json`,
    /// `adapter_model.safetensors`) onto the base model, as the model of `run`: `Generate` with that run samples
    /// it. Answered with `AdapterLoaded`.
    LoadAdapter {
        run: RunId,
        url: String,
    },
    /// Score `lineup`'s ways to the task check of the data set at `dataset_url` (loaded, with a check), with
    /// `run`'s model for the adapter's ways ([`crate::approach`]): answered with one `Compared` per sample, in
    /// [`crate::approach::Comparison::plan`]'s order, or `SampleSetAside` if a run or a reload cuts in.
    Compare {
        request_id: u32,
        dataset_url: String,
        run: RunId,
        lineup: Lineup,
    },
    /// The evaluation bench ([`crate::evaluation`]) on the data set at `dataset_url` (loaded, with a check): each of
    /// `models` (its adapter a PEFT folder's URL, none for the base model) on the held-out loss and `rounds` rounds
    /// of the task check: answered with `Evaluating` as samples are written and one `Evaluated` per model, or
    /// `SampleSetAside` if a run or a reload cuts in.
    Evaluate {
        request_id: u32,
        dataset_url: String,
        models: Vec<BenchedModel>,
        rounds: usize,
    },
    /// Mix the adapter folders the site serves at `sources`' URLs with their weights, `how` (as PEFT's
    /// `add_weighted_adapter`, [`crate::combine`]), load the mix on the base model and run the task check at each
    /// of `checks` (`.check.json` URLs) on it ([`crate::mix::check_mix`]): answered with `Mixed`. The mix stays
    /// for `ExportMix`.
    Mix {
        request_id: u32,
        sources: Vec<MixSource>,
        how: Combination,
        checks: Vec<String>,
    },
    /// The GRPO toy ([`crate::reward`]) with `settings`, on a fresh adapter: answered with one `GrpoStepped` per
    /// step, then `GrpoFinished`. Loading the model again or starting a run stops it after the step in hand.
    TrainGrpo {
        request_id: u32,
        settings: GrpoSettings,
    },
    /// Stop the GRPO toy after the completion in hand.
    StopGrpo,
    /// The latest mix as a zip: the PEFT folder, and for llama.cpp and Ollama the GGUF files and a Modelfile, as
    /// "Download adapter" writes them: answered with `Zip`.
    ExportMix {
        request_id: u32,
    },
    /// "Run it bigger": the training split of the data set at `dataset_url` (loaded) and `settings` as a job for
    /// `target` on bigger machines ([`crate::run_bigger`]): answered with `Zip`.
    ExportJob {
        request_id: u32,
        dataset_url: String,
        settings: TrainSettings,
        target: JobTarget,
    },
    /// Read one projection's weights, and its adapter's, off `run`'s model (the base model without a run): answered
    /// with `Weights`.
    ReadWeights {
        request_id: u32,
        run: Option<RunId>,
        layer: usize,
        projection: Projection,
    },
    /// Take one training step with `settings` (as [`crate::one_step::step_settings`] takes them) from the base
    /// model on training sequence `sequence` of the data set at `dataset_url` (loaded), and read back what it
    /// did: answered with `OneStepTaken`.
    TakeOneStep {
        request_id: u32,
        dataset_url: String,
        sequence: usize,
        settings: TrainSettings,
    },
    /// Store every projection of the base model in each quantization format at each block size and measure the
    /// held-out loss on the held-out split of the data set at `dataset_url` (loaded) ([`crate::quantize`]):
    /// answered with `Quantized`.
    Quantize {
        request_id: u32,
        dataset_url: String,
    },
    /// Read `text` with the base model, followed by the tokens `then` (ids, appended exactly as drawn): answered
    /// with `Inspected`, the tokens and the distribution of the token after them.
    Inspect {
        request_id: u32,
        text: String,
        then: Vec<u32>,
    },
    /// Read a data set the learner brought (picked, dropped or pasted), replacing the studio's current one. A
    /// table without a `mapping` is read with the columns its header suggests, or answered with
    /// `StudioNeedsMapping`.
    StudioOpen {
        file_name: String,
        format: Format,
        mapping: Option<ColumnMapping>,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// Open a shipped data set (its address) in the studio, to look inside it.
    StudioOpenUrl {
        url: String,
    },
    /// Find the data set the studio kept in the browser's storage: a `StudioReport`, or `StudioEmpty`.
    StudioRestore,
    /// Decide for these entries (indices into the data set).
    StudioDecide {
        entries: Vec<usize>,
        decision: Decision,
    },
    /// Decide for every entry with an open problem of this kind.
    StudioDecideKind {
        kind: ProblemKind,
        decision: Decision,
    },
    /// Replace an entry's JSONL line (fix it in place).
    StudioEdit {
        entry: usize,
        source: String,
    },
    StudioSettings(StudioSettings),
    /// The entry on (or starting before) this line of the file, in full with its tokens: answered with
    /// `StudioEntry`.
    StudioShowLine {
        line: usize,
    },
    /// The cleaned data set as JSONL: answered with `StudioFile`.
    StudioDownload {
        part: DownloadPart,
        layout: Layout,
    },
    /// Forget the studio's data set, here and in the browser's storage.
    StudioClose,
    /// Time training steps on the studio's data set with `settings` on the worker's backend: answered with
    /// `StudioPace`, for the studio's training-time estimate.
    StudioMeasurePace {
        settings: TrainSettings,
    },
}

/// The address the worker answers `LoadDataset` and `Start` with the studio's data set for: its usable examples,
/// split as the studio shows.
pub const STUDIO_DATASET_URL: &str = "studio:your-data-set";

/// How the studio splits and measures the data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudioSettings {
    pub split: SplitSettings,
    /// The sequence length examples are measured against (the playground's setting).
    pub seq_len: usize,
}

impl Default for StudioSettings {
    fn default() -> Self {
        StudioSettings { split: SplitSettings::default(), seq_len: TrainSettings::default().seq_len }
    }
}

/// Which examples a download holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadPart {
    /// Every usable example, in file order.
    All,
    Train,
    HeldOut,
}

/// A problem as the page lists it, with what the learner decided for its entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemRow {
    pub at: ProblemAt,
    pub decision: Decision,
    /// The entry was edited in the studio.
    pub edited: bool,
}

/// How many problems of a kind there are, and how many of those the learner has not decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: ProblemKind,
    pub total: usize,
    pub open: usize,
}

/// Token counts of the training examples, and their lengths as a histogram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenStats {
    /// Tokens of the training examples, and how many of those are targets (trained on).
    pub tokens: usize,
    pub trained_tokens: usize,
    /// The training pieces of `seq_len + 1` tokens the examples are cut into.
    pub pieces: usize,
    pub longest: usize,
    /// `histogram[i]` examples have `i * bin_tokens ..< (i + 1) * bin_tokens` tokens.
    pub histogram: Vec<usize>,
    pub bin_tokens: usize,
}

/// Whether the studio's data set survives a reload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kept {
    /// Saved in the browser's storage.
    Saved,
    /// Only in this tab's memory: why, in words a learner can act on.
    InMemory(String),
}

/// The studio's data set as the learner's decisions leave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudioReport {
    pub file_name: String,
    pub format: Format,
    pub settings: StudioSettings,
    pub entries: usize,
    pub train: usize,
    pub held_out: usize,
    pub dropped: usize,
    /// (entry, line) of the dropped entries, at most [`PROBLEMS_PER_KIND`] of them, for the learner to undo.
    pub dropped_entries: Vec<(usize, usize)>,
    /// Entries that are not examples yet (a blocking problem) and not dropped: left out until fixed or dropped.
    pub blocked: usize,
    pub kinds: Vec<KindCount>,
    /// The problems, at most [`PROBLEMS_PER_KIND`] of each kind, in file order.
    pub problems: Vec<ProblemRow>,
    pub tokens: TokenStats,
    pub kept: Kept,
}

/// How many problems of each kind a report lists (the counts cover all of them).
pub const PROBLEMS_PER_KIND: usize = 200;

/// One token as the vocabulary writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenPiece {
    pub id: u32,
    /// The token's text (`▁Once`; a special token's name, e.g. `</s>`; a byte as `<0x0A>`).
    pub text: String,
    /// BOS, EOS and other special tokens.
    pub special: bool,
}

impl TokenPiece {
    /// The byte a byte-fallback token stands for (`<0xE2>`), for a character the vocabulary has no token for.
    pub fn byte(&self) -> Option<u8> {
        let hex = self.text.strip_prefix("<0x")?.strip_suffix('>')?;
        (hex.len() == 2).then(|| u8::from_str_radix(hex, 16).ok()).flatten()
    }
}

/// One token of an example as the model sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenChip {
    #[serde(flatten)]
    pub piece: TokenPiece,
    /// Whether the model is trained to predict it (loss mask); otherwise it is only context.
    pub trained: bool,
}

/// A text read by the base model (`ToWorker::Inspect`): its tokens, and what the model expects next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub request_id: u32,
    /// The text the tokens decode to (the asked text, with any appended tokens).
    pub text: String,
    /// BOS, then the text's tokens.
    pub tokens: Vec<TokenPiece>,
    /// The logits for the next token, indexed by token id (turned into probabilities by `crate::sampling`).
    pub next_logits: Vec<f32>,
    /// The most likely next tokens, most likely first ([`LIKELY_TOKENS`] of them).
    pub likely: Vec<TokenPiece>,
}

/// How many of the most likely next tokens an [`Inspection`] names.
pub const LIKELY_TOKENS: usize = 10;

/// One entry in full: its line, what it is, its problems, and (for an example) its tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudioEntryView {
    pub entry: usize,
    pub line: usize,
    pub source: String,
    pub decision: Decision,
    /// `Some(true)` held out, `Some(false)` trained on, `None` not used.
    pub held_out: Option<bool>,
    /// The example's shape in words, when it is one.
    pub shape: Option<String>,
    pub problems: Vec<ProblemAt>,
    pub tokens: Vec<TokenChip>,
}

/// One optimizer step, as plain data for charts and logs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// 1-based.
    pub step: usize,
    pub loss: f64,
    /// Loss on the held-out split of the fine-tuning data, when evaluated this step.
    pub eval_loss: Option<f64>,
    /// Loss on held-out text of the base model's own kind, when evaluated: rising means forgetting.
    pub reference_eval_loss: Option<f64>,
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    pub tokens_per_second: f64,
    /// Seconds spent training so far (steps and evaluations, not pauses): the pace for time-left estimates.
    pub elapsed_seconds: f64,
    pub trainable_params: usize,
    pub total_params: usize,
    /// A preference-tuning (DPO) step's implicit rewards; `None` for next-token training.
    #[serde(default)]
    pub rewards: Option<Rewards>,
    /// The same on the held-out preference pairs, when the step evaluated (TRL's `eval_rewards/…`).
    #[serde(default)]
    pub eval_rewards: Option<Rewards>,
}

/// A DPO step's pairs, averaged: the implicit rewards β · (log π − log π_ref) and the policy's log π of each
/// answer (TRL logs the same as `rewards/…` and `logps/…`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rewards {
    pub chosen: f64,
    pub rejected: f64,
    /// The share of pairs whose chosen answer had the higher reward.
    pub accuracy: f64,
    pub chosen_log_prob: f64,
    pub rejected_log_prob: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    Completed,
    Stopped,
}

/// What a data set holds, counted both ways a learner meets it: examples (stories, conversations) as written,
/// and the fixed-length pieces a run trains on, which depend on the run's sequence length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    pub url: String,
    /// The file name, e.g. `pip-the-purple-robot.jsonl`.
    pub name: String,
    pub training_examples: usize,
    pub held_out_examples: usize,
    /// The data set's task metric, when a `.check.json` sits beside it.
    pub task: Option<TaskCheck>,
    /// A run with the default settings made when the site was built, when a `.recorded.json` sits beside it.
    pub recorded: Option<RecordedRun>,
    /// The shapes of its training examples, as a job for a bigger model writes them (one file each), each with
    /// the position of its first example ([`crate::run_bigger::shapes`]).
    #[serde(default)]
    pub data_files: Vec<(DataFile, usize)>,
}

/// A run of a shipped data set with the default settings, made by the CLI when the site is built (`tinytune
/// record`, the same run the worker makes), so that a reader whose device is slow still sees a result: shown,
/// labelled as recorded, until they train themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRun {
    pub settings: TrainSettings,
    /// The pieces the data set was cut into at the settings' sequence length.
    pub training_sequences: usize,
    pub metrics: Vec<StepMetrics>,
    /// The data set's task metric after the run, when it has one.
    pub task: Option<TaskScore>,
    /// What the base model and the fine-tuned one write for the default sample (`SampleSettings::default()`).
    pub base_sample: String,
    pub tuned_sample: String,
    /// The task check's samples, judged: the base model's and the fine-tuned one's, in the check's order (empty
    /// without a check).
    #[serde(default)]
    pub base_checked: Vec<CheckedSample>,
    #[serde(default)]
    pub tuned_checked: Vec<CheckedSample>,
}

/// A run saved in the browser's storage that did not finish: the page was reloaded or closed, the tab crashed, or
/// the GPU was lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterruptedRun {
    /// The model and data set it trained on.
    pub model_url: String,
    pub dataset_url: String,
    pub dataset_name: String,
    pub settings: TrainSettings,
    pub training_sequences: usize,
    /// The metrics of every step up to the saved one.
    pub metrics: Vec<StepMetrics>,
}

impl InterruptedRun {
    /// The step it was saved at.
    pub fn step(&self) -> usize {
        self.metrics.last().map_or(0, |m| m.step)
    }
}

impl RecordedRun {
    /// Where the recorded run of the data set at `dataset_url` lives: `…/pip.jsonl` → `…/pip.recorded.json`.
    pub fn url_beside(dataset_url: &str) -> String {
        crate::task::file_beside(dataset_url, "recorded.json")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is listening. Messages posted before this would be lost while its WebAssembly starts, so the
    /// page holds them until it hears this.
    Listening,
    /// Download progress of one file of the base model or data; `from_cache` when no network was needed.
    Loading {
        file: String,
        loaded_bytes: u64,
        total_bytes: Option<u64>,
        from_cache: bool,
    },
    Ready {
        backend: BackendReport,
        model_name: String,
        model: ModelShape,
        /// How the base's weights are held: 4-bit for a GGUF model (QLoRA's base), else f32.
        storage: BaseStorage,
    },
    DatasetLoaded(Box<DatasetSummary>),
    TrainingStarted {
        run: RunId,
        total_steps: usize,
        /// The training pieces this run cuts the data set into, at its sequence length.
        training_sequences: usize,
        trainable_params: usize,
        total_params: usize,
    },
    Metrics {
        run: RunId,
        metrics: StepMetrics,
    },
    Paused {
        run: RunId,
        step: usize,
    },
    Resumed {
        run: RunId,
        step: usize,
    },
    Finished {
        run: RunId,
        reason: FinishReason,
        step: usize,
    },
    /// The run's state at `step` is saved in the browser's storage: a reload, a crash or a lost GPU resumes it
    /// from there.
    Checkpointed {
        run: RunId,
        step: usize,
    },
    /// The run could not be saved (storage full, blocked or gone); it goes on in memory.
    CheckpointFailed {
        run: RunId,
        message: String,
    },
    /// The run saved in the browser's storage that did not finish, which `ResumeInterrupted` carries on; `None`
    /// when there is none (any more). Sent when the model is ready, and when a run ends.
    Interrupted(Option<InterruptedRun>),
    /// After `Finished`, for a data set with a task metric: how many check samples the run's model passes, and
    /// how many the base model does, with the samples themselves.
    TaskChecked {
        run: RunId,
        score: TaskScore,
        samples: Vec<CheckedSample>,
    },
    Sample {
        request_id: u32,
        adapter_scale: f64,
        text: String,
    },
    /// The text of a sample being written, so far (sent after every token, so the page shows it as it grows).
    SampleProgress {
        request_id: u32,
        text: String,
    },
    /// A sample left unfinished because a message that should not wait for it arrived (a run to start, the model
    /// to load again): on an emulated GPU a sample takes minutes. The page asks again when it wants one.
    SampleSetAside {
        request_id: u32,
    },
    Inspected(Inspection),
    Preflight {
        request_id: u32,
        report: DeviceReport,
    },
    Weights {
        request_id: u32,
        weights: ProjectionWeights,
    },
    OneStepTaken {
        request_id: u32,
        step: OneStep,
    },
    Quantized {
        request_id: u32,
        table: QuantizationTable,
    },
    /// How far an `Evaluate` is: `written` samples of `total`, over all its models.
    Evaluating {
        request_id: u32,
        written: usize,
        total: usize,
    },
    /// One model of an `Evaluate`, measured.
    Evaluated {
        request_id: u32,
        row: BenchRow,
    },
    /// One sample of a `Compare`, judged.
    Compared {
        request_id: u32,
        sample: ApproachSample,
    },
    AdapterLoaded {
        run: RunId,
    },
    /// The adapter `OpenAdapter` brought is loaded as the model of `run`: its LoRA settings (the rest at their
    /// defaults), and the base model its config names.
    AdapterOpened {
        run: RunId,
        name: String,
        settings: TrainSettings,
        base_model: Option<String>,
    },
    /// A zip of the PEFT adapter folder plus a model card. The bytes cross as a transferred `ArrayBuffer`
    /// beside the JSON, not inside it.
    AdapterZip {
        run: RunId,
        file_name: String,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// One step of a `TrainGrpo`: its groups, rewards and advantages.
    GrpoStepped {
        request_id: u32,
        step: GrpoStep,
    },
    /// A `TrainGrpo` ended: after all its steps, or `stopped` early.
    GrpoFinished {
        request_id: u32,
        stopped: bool,
    },
    /// A mix `Mix` asked for, checked.
    Mixed {
        request_id: u32,
        mix: MixChecked,
    },
    /// A zip a request asked for: `ExportJob`'s job (the data files, the TRL and Unsloth scripts with their shared
    /// module, the Axolotl config and a README), or `ExportMix`'s adapter.
    Zip {
        request_id: u32,
        file_name: String,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// The studio reads, judges or tokenizes a data set: `done` of `total` (bytes or examples) in `stage`.
    StudioProgress {
        stage: String,
        done: u64,
        total: u64,
    },
    /// A table whose header does not say which column is which: the page asks the learner.
    StudioNeedsMapping {
        file_name: String,
        format: Format,
        preview: TablePreview,
    },
    StudioReport(StudioReport),
    StudioEntry(StudioEntryView),
    /// The browser's storage holds no studio data set.
    StudioEmpty,
    /// A download: the bytes cross beside the JSON, like an adapter's.
    StudioFile {
        file_name: String,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// How long one training step takes on this device with the settings measured.
    StudioPace {
        seconds_per_step: f64,
        backend: BackendKind,
        settings: TrainSettings,
    },
    /// The studio could not do what was asked; its data set stays as it was.
    StudioError {
        message: String,
    },
    /// What went wrong, and what it belongs to: a run (which then ends with `Finished`, or never started), a
    /// sample request, or neither (loading).
    Error {
        run: Option<RunId>,
        request_id: Option<u32>,
        message: String,
    },
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    /// The bytes that travel beside the JSON, if the message has any.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            ToWorker::StudioOpen { bytes, .. } | ToWorker::OpenAdapter { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// Reads a message from its JSON and the bytes that came with it.
    pub fn from_message(json: &str, payload: Option<Vec<u8>>) -> Result<Self, String> {
        with_payload(json, payload, "for the worker", |message| match message {
            ToWorker::StudioOpen { bytes, .. } | ToWorker::OpenAdapter { bytes, .. } => Some(bytes),
            _ => None,
        })
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    /// The bytes that travel beside the JSON, if the event has any.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            FromWorker::AdapterZip { bytes, .. }
            | FromWorker::Zip { bytes, .. }
            | FromWorker::StudioFile { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// Reads an event from its JSON and the bytes that came with it.
    pub fn from_message(json: &str, payload: Option<Vec<u8>>) -> Result<Self, String> {
        with_payload(json, payload, "from the worker", |event| match event {
            FromWorker::AdapterZip { bytes, .. }
            | FromWorker::Zip { bytes, .. }
            | FromWorker::StudioFile { bytes, .. } => Some(bytes),
            _ => None,
        })
    }
}

/// A message read from its JSON, with `payload` put where `slot` says its bytes go: an error when bytes come
/// with a message that takes none, or a message that takes bytes comes without.
fn with_payload<T: serde::de::DeserializeOwned>(
    json: &str,
    payload: Option<Vec<u8>>,
    direction: &str,
    slot: impl FnOnce(&mut T) -> Option<&mut Vec<u8>>,
) -> Result<T, String> {
    let mut message: T = serde_json::from_str(json).map_err(|e| format!("unreadable message {direction}: {e}"))?;
    match (slot(&mut message), payload) {
        (Some(bytes), Some(payload)) => *bytes = payload,
        (Some(_), None) => return Err(format!("a message {direction} came without its bytes")),
        (None, Some(_)) => return Err(format!("bytes came {direction} with a message that takes none")),
        (None, None) => {}
    }
    Ok(message)
}

/// The sizes that decide parameter counts and memory (a Llama model's `config.json`, in brief).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    /// The context: the most tokens the model reads at once.
    pub max_position_embeddings: usize,
    /// Whether the classifier reuses the embedding table (stories260K, SmolLM2) or has its own (Llama 3 8B).
    pub tie_word_embeddings: bool,
    /// Whether the query, key and value projections add a bias (Qwen2.5; Llama's do not).
    #[serde(default)]
    pub attention_bias: bool,
}

impl ModelShape {
    /// SmolLM2-135M, from its published `config.json`.
    pub const SMOLLM2_135M: ModelShape = ModelShape {
        vocab_size: 49_152,
        hidden_size: 576,
        intermediate_size: 1_536,
        num_hidden_layers: 30,
        num_attention_heads: 9,
        num_key_value_heads: 3,
        max_position_embeddings: 8_192,
        tie_word_embeddings: true,
        attention_bias: false,
    };

    /// Llama 3 8B, from Meta's published `config.json` (Llama 3.1 8B has the same shape, with a context of 131,072).
    pub const LLAMA3_8B: ModelShape = ModelShape {
        vocab_size: 128_256,
        hidden_size: 4_096,
        intermediate_size: 14_336,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        max_position_embeddings: 8_192,
        tie_word_embeddings: false,
        attention_bias: false,
    };

    /// Llama 3.1 8B: Llama 3 8B's shape with a longer context (Meta's published `config.json`).
    pub const LLAMA31_8B: ModelShape = ModelShape { max_position_embeddings: 131_072, ..ModelShape::LLAMA3_8B };

    /// Llama 3.1 70B, from Meta's published `config.json`.
    pub const LLAMA31_70B: ModelShape = ModelShape {
        vocab_size: 128_256,
        hidden_size: 8_192,
        intermediate_size: 28_672,
        num_hidden_layers: 80,
        num_attention_heads: 64,
        num_key_value_heads: 8,
        max_position_embeddings: 131_072,
        tie_word_embeddings: false,
        attention_bias: false,
    };

    /// Mistral 7B v0.3, from Mistral AI's published `config.json`.
    pub const MISTRAL_7B: ModelShape = ModelShape {
        vocab_size: 32_768,
        hidden_size: 4_096,
        intermediate_size: 14_336,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        max_position_embeddings: 32_768,
        tie_word_embeddings: false,
        attention_bias: false,
    };

    /// Qwen2.5 7B, from Qwen's published `config.json`.
    pub const QWEN25_7B: ModelShape = ModelShape {
        vocab_size: 152_064,
        hidden_size: 3_584,
        intermediate_size: 18_944,
        num_hidden_layers: 28,
        num_attention_heads: 28,
        num_key_value_heads: 4,
        max_position_embeddings: 131_072,
        tie_word_embeddings: false,
        attention_bias: true,
    };

    /// `[in, out]` of a projection.
    pub fn projection_dims(&self, projection: Projection) -> (usize, usize) {
        let kv = self.hidden_size / self.num_attention_heads * self.num_key_value_heads;
        let (h, i) = (self.hidden_size, self.intermediate_size);
        match projection {
            Projection::QProj | Projection::OProj => (h, h),
            Projection::KProj | Projection::VProj => (h, kv),
            Projection::GateProj | Projection::UpProj => (h, i),
            Projection::DownProj => (i, h),
        }
    }

    /// A LoRA adapter's weights on one projection: r·(in + out). Counts are `u64`: a large model's pass the
    /// browser's 32-bit `usize`.
    pub fn adapter_params(&self, projection: Projection, rank: usize) -> u64 {
        let (i, o) = self.projection_dims(projection);
        (rank * (i + o)) as u64
    }

    /// A projection's own weights: in·out.
    pub fn projection_params(&self, projection: Projection) -> u64 {
        let (i, o) = self.projection_dims(projection);
        i as u64 * o as u64
    }

    /// Every layer's projection weights together.
    pub fn projection_params_all_layers(&self) -> u64 {
        self.num_hidden_layers as u64 * Projection::ALL.iter().map(|&p| self.projection_params(p)).sum::<u64>()
    }

    /// Every weight of the model: the embedding table, each layer's projections (with the query, key and value
    /// biases where it has them) and two norms, the final norm, and the classifier unless it is tied to the
    /// embeddings.
    pub fn total_params(&self) -> u64 {
        let (layers, hidden) = (self.num_hidden_layers as u64, self.hidden_size as u64);
        let biases = if self.attention_bias {
            [Projection::QProj, Projection::KProj, Projection::VProj]
                .into_iter()
                .map(|p| self.projection_dims(p).1 as u64)
                .sum::<u64>()
        } else {
            0
        };
        let tables = if self.tie_word_embeddings { 1 } else { 2 };
        tables * self.vocab_size as u64 * hidden
            + self.projection_params_all_layers()
            + layers * (2 * hidden + biases)
            + hidden
    }

    /// Bytes the pretrained weights take on the device: all f32, or with `four_bit` every layer's projections as
    /// QLoRA keeps them (`q4_linear`: 4-bit codes packed in 32-bit words, and an f32 scale and minimum per block of
    /// 32 weights, 6 bits a weight) and the rest (embedding, norms, an untied classifier) f32.
    pub fn base_bytes(&self, four_bit: bool) -> u64 {
        let projections = self.projection_params_all_layers();
        let f32_bytes = 4 * self.total_params();
        if four_bit {
            f32_bytes - 4 * projections + projections / 2 + 2 * 4 * projections / 32
        } else {
            f32_bytes
        }
    }

    /// The weights that train under `settings`: the adapters' r·(in + out) per adapted projection for LoRA.
    pub fn trainable_params(&self, settings: &TrainSettings) -> u64 {
        match settings.method {
            TrainingMethod::Frozen => 0,
            TrainingMethod::Full => self.total_params(),
            TrainingMethod::Lora => {
                let per_layer: u64 =
                    settings.lora_targets.iter().map(|&t| self.adapter_params(t, settings.lora_rank)).sum();
                self.num_hidden_layers as u64 * per_layer
            }
        }
    }

    /// A rough training-memory estimate in bytes under `settings`, on a base in f32 or (`four_bit`, QLoRA) with
    /// 4-bit projections; see [`ModelShape::memory_bytes`].
    pub fn training_memory_bytes(&self, settings: &TrainSettings, four_bit: bool) -> u64 {
        let trainable = self.trainable_params(settings);
        // LoRA's trainable weights are new ones beside the model's; full fine-tuning trains the model's own.
        let added = if settings.method == TrainingMethod::Lora { trainable } else { 0 };
        // Accumulation runs micro-batches one after another: activations are those of one micro-batch.
        self.memory_bytes(four_bit, added, trainable, settings.batch_size, settings.seq_len)
    }

    /// A rough training-memory estimate in bytes: the model's weights ([`ModelShape::base_bytes`]) and `added`
    /// new ones (LoRA's, f32), plus an f32 gradient and AdamW's two moments for each of the `trainable` weights,
    /// plus the activations a step keeps for the backward pass of a batch of `b` sequences of `s` tokens (attention
    /// scores dominate).
    pub fn memory_bytes(&self, four_bit: bool, added: u64, trainable: u64, b: usize, s: usize) -> u64 {
        let optimizer = 3 * trainable;
        let (b, s) = (b as u64, s as u64);
        let (hidden, intermediate, heads) =
            (self.hidden_size as u64, self.intermediate_size as u64, self.num_attention_heads as u64);
        let per_layer_activations = b * s * (8 * hidden + 3 * intermediate) + 3 * b * heads * s * s;
        let activations = self.num_hidden_layers as u64 * per_layer_activations + 3 * b * s * self.vocab_size as u64;
        self.base_bytes(four_bit) + 4 * (added + optimizer + activations)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// stories260K's shape, for the tests of code that reads one.
    pub(crate) const STORIES260K: ModelShape = ModelShape {
        vocab_size: 512,
        hidden_size: 64,
        intermediate_size: 172,
        num_hidden_layers: 5,
        num_attention_heads: 8,
        num_key_value_heads: 4,
        max_position_embeddings: 512,
        tie_word_embeddings: true,
        attention_bias: false,
    };

    #[test]
    fn stories260k_has_the_published_parameter_count() {
        // SOURCE.md: 260,032 parameters (tied classifier).
        assert_eq!(STORIES260K.total_params(), 260_032);
    }

    #[test]
    fn larger_models_have_their_published_parameter_counts() {
        // Hugging Face's model pages: SmolLM2-135M 134,515,008 parameters; Llama 3 8B 8,030,261,248.
        assert_eq!(ModelShape::SMOLLM2_135M.total_params(), 134_515_008);
        assert_eq!(ModelShape::LLAMA3_8B.total_params(), 8_030_261_248);
        // LoRA r 16 on every linear layer of Llama 3 8B (lesson 8's figure).
        let all_linear = TrainSettings { lora_rank: 16, ..TrainSettings::default() };
        assert_eq!(ModelShape::LLAMA3_8B.trainable_params(&all_linear), 41_943_040);
    }

    #[test]
    fn lora_trains_rank_times_in_plus_out_per_adapted_projection() {
        let settings = TrainSettings {
            lora_rank: 4,
            lora_targets: vec![Projection::QProj, Projection::VProj],
            ..Default::default()
        };
        assert_eq!(STORIES260K.trainable_params(&settings), 5 * (4 * (64 + 64) + 4 * (64 + 32)));
        let frozen = TrainSettings { method: TrainingMethod::Frozen, ..settings.clone() };
        assert_eq!(STORIES260K.trainable_params(&frozen), 0);
        let full = TrainSettings { method: TrainingMethod::Full, ..settings };
        assert_eq!(STORIES260K.trainable_params(&full), 260_032);
    }

    #[test]
    fn memory_estimate_grows_with_what_trains_and_with_the_batch() {
        let lora = TrainSettings::default();
        let full = TrainSettings { method: TrainingMethod::Full, ..lora.clone() };
        let bigger = TrainSettings { batch_size: lora.batch_size * 2, ..lora.clone() };
        assert!(STORIES260K.training_memory_bytes(&full, false) > STORIES260K.training_memory_bytes(&lora, false));
        assert!(STORIES260K.training_memory_bytes(&bigger, false) > STORIES260K.training_memory_bytes(&lora, false));
    }

    #[test]
    fn messages_round_trip_through_json() {
        let messages = [
            ToWorker::Start {
                run: 3,
                dataset_url: "/datasets/pip.jsonl".into(),
                settings: TrainSettings::default(),
                from: None,
            },
            ToWorker::Generate { request_id: 3, run: Some(3), sample: SampleSettings::default(), adapter_scale: 0.5 },
        ];
        for message in messages {
            assert_eq!(ToWorker::from_message(&message.to_json(), None).unwrap(), message);
        }
        let event = FromWorker::Finished { run: 2, reason: FinishReason::Stopped, step: 12 };
        assert_eq!(FromWorker::from_message(&event.to_json(), None).unwrap(), event);
        assert!(ToWorker::from_message("{\"Launch\":1}", None).unwrap_err().contains("unreadable message"));
    }

    #[test]
    fn an_adapters_bytes_travel_beside_the_json_not_inside_it() {
        let zip = FromWorker::AdapterZip { run: 1, file_name: "a.zip".into(), bytes: vec![80, 75, 3, 4] };
        let json = zip.to_json();
        assert_eq!(json, r#"{"AdapterZip":{"run":1,"file_name":"a.zip"}}"#);
        assert_eq!(zip.payload(), Some(&[80u8, 75, 3, 4][..]));
        assert_eq!(FromWorker::from_message(&json, Some(vec![80, 75, 3, 4])).unwrap(), zip);
        assert!(FromWorker::from_message(&json, None).unwrap_err().contains("without its bytes"));
        let listening = FromWorker::Listening.to_json();
        assert!(FromWorker::from_message(&listening, Some(vec![1])).unwrap_err().contains("takes none"));
        let file = ToWorker::StudioOpen {
            file_name: "mine.csv".into(),
            format: Format::Csv,
            mapping: None,
            bytes: b"text\nhi\n".to_vec(),
        };
        assert_eq!(file.to_json(), r#"{"StudioOpen":{"file_name":"mine.csv","format":"Csv","mapping":null}}"#);
        assert_eq!(ToWorker::from_message(&file.to_json(), file.payload().map(<[u8]>::to_vec)).unwrap(), file);
        assert!(ToWorker::from_message(&file.to_json(), None).unwrap_err().contains("without its bytes"));
    }

    #[test]
    fn the_model_manifest_names_the_model_and_hashes_each_file() {
        let json = r#"{"model": "stories260K", "files": {"config.json": {"sha256": "ab12", "bytes": 412}}}"#;
        let manifest: ModelManifest = serde_json::from_str(json).unwrap();
        assert_eq!(manifest.model, "stories260K");
        assert_eq!(manifest.files["config.json"], ManifestFile { sha256: "ab12".into(), bytes: 412 });
    }
}
