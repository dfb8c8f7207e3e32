//! What the worker keeps between messages: the base model on the chosen backend, each data set it was asked
//! for (parsed, split and tokenized once, cut into a run's sequence length when the run starts), and the models
//! of recent runs, for samples and export.

use std::collections::{BTreeMap, VecDeque};

use burn::prelude::*;

use super::backend::{choose_device, device_limits};
use super::fetch::{fetch_if_present, fetch_plain, manifest, model_file};
use crate::adapter_import::open_adapter;
use crate::approach::Comparison;
use crate::combine::{PeftAdapter, Source};
use crate::data::TrainingSequence;
use crate::data::{tokenize_examples, training_sequences, TokenizedExample};
use crate::dataset::review::{split_examples, SplitSettings};
use crate::dataset::{parse_dataset, Example};
use crate::evaluation::ROUNDS_OFFERED;
use crate::export::{adapter_config_json, load_adapter, load_model};
use crate::generate;
use crate::gguf::load::load;
use crate::lora::LoraConfig;
use crate::low_rank::read_projection;
use crate::mix::check_mix;
use crate::model::{LlamaConfig, LlamaForCausalLM};
use crate::one_step::{one_step, OneStep};
use crate::protocol::{
    BackendChoice, BackendReport, BaseStorage, CheckedSample, Combination, DatasetSummary, DeviceLimits, FromWorker,
    MixChecked, MixSource, ModelManifest, Projection, RecordedRun, RunId, SampleSettings, StepMetrics, TaskCheck,
    TaskScore, TrainSettings, TrainingMethod,
};
use crate::quantize;
use crate::tokenizer::TextTokenizer;
use crate::train::preference::{tokenize_preferences, TokenizedPreference};
use crate::train::{held_out_sequences, EVAL_SEQUENCES};

/// The file a GGUF model folder serves (`tools/site-model.sh`), and the base model's own stories a folder may
/// ship to measure drift from it.
const GGUF_FILE: &str = "model.gguf";
const REFERENCE_FILE: &str = "reference-stories.jsonl";
/// More stories the base model wrote itself, for runs with a replay share (never the drift's).
const REPLAY_FILE: &str = "replay-stories.jsonl";

/// Finished runs whose models are kept, for samples and exports; older ones are dropped. Each is a whole copy of
/// the model, so the budget is in bytes as well as runs: stories260K's copies take 1 MB each, SmolLM2's 193 MB
/// (4-bit), and three of those beside the base already take 0.8 GB of a tab's memory or its GPU's.
const KEPT_RUNS: usize = 8;
const KEPT_RUNS_BYTES: usize = 600 << 20;

/// A data set, tokenized with its loss masks, split into training and held-out examples.
pub struct Dataset {
    pub summary: DatasetSummary,
    pub train: Vec<TokenizedExample>,
    pub held_out: Vec<TokenizedExample>,
    /// The training and held-out examples' preference pairs, for DPO runs.
    pub preferences: Vec<TokenizedPreference>,
    pub held_out_preferences: Vec<TokenizedPreference>,
    /// The training examples as text, which retrieval searches ([`crate::approach`]).
    pub train_examples: Vec<Example>,
    /// How many of the task check's samples the base model passes, once a run has needed it.
    base_passed: Option<usize>,
}

/// A finished run: its model (adapters attached for LoRA), settings, the data set and its last metrics.
pub struct TrainedRun {
    pub model: LlamaForCausalLM,
    pub settings: TrainSettings,
    pub dataset: DatasetSummary,
    /// The last step's metrics, with the last evaluated losses carried forward.
    pub last: StepMetrics,
}

/// What the base model was loaded from.
enum BaseFiles {
    /// A Hugging Face folder: `config.json` and `model.safetensors`, and the tokenizer's `tokenizer.json` and
    /// `tokenizer_config.json` for the GGUF and merged exports.
    Folder { config_json: Vec<u8>, weights: Vec<u8>, tokenizer_json: String, tokenizer_config: Vec<u8> },
    /// A GGUF file (`model.gguf`), whose 4-bit projections stay 4-bit: runs on it are QLoRA.
    Gguf(Vec<u8>),
}

pub struct Session {
    pub backend_choice: BackendChoice,
    pub model_url: String,
    pub manifest: ModelManifest,
    pub backend: BackendReport,
    /// This device's limits when the model loaded: runs that would not fit do not start.
    pub device_limits: DeviceLimits,
    pub device: Device,
    pub config: LlamaConfig,
    /// The base model, loaded once, for base-model samples.
    base: LlamaForCausalLM,
    /// The files the base model was loaded from, to build a fresh trainable copy on the autodiff device per run.
    files: BaseFiles,
    pub tokenizer: TextTokenizer,
    /// Stories the base model wrote itself: their loss rising during a run means forgetting. A model folder
    /// without them (the GGUF one) has none, and its runs measure no drift.
    pub reference: Vec<TokenizedExample>,
    /// More of them, never the drift's, for runs with a replay share; none in a folder without them.
    pub replay: Vec<TokenizedExample>,
    datasets: BTreeMap<String, Dataset>,
    runs: VecDeque<(RunId, TrainedRun)>,
    /// Adapters the site ships, loaded onto the base model, under the run ids the page gave them, with their URLs;
    /// and adapters the learner opened, with their file names.
    shipped_adapters: BTreeMap<RunId, (String, LlamaForCausalLM)>,
    /// The latest mix of adapters (`Mix`), for `ExportMix`.
    pub mix: Option<MixedAdapter>,
}

/// A mix of adapters as a PEFT adapter, and what it mixed.
pub struct MixedAdapter {
    pub lora: LoraConfig,
    /// Its `adapter_model.safetensors`.
    pub weights: Vec<u8>,
    pub sources: Vec<MixSource>,
    pub how: Combination,
}

/// The base model's own stories in `file` of the model folder at `model_url`, tokenized; none when the folder has
/// no such file.
async fn own_stories(
    model_url: &str,
    manifest: &ModelManifest,
    file: &str,
    tokenizer: &TextTokenizer,
) -> Result<Vec<TokenizedExample>, String> {
    if !manifest.files.contains_key(file) {
        return Ok(Vec::new());
    }
    let text = model_file(model_url, manifest, file).await?;
    let stories = parse_dataset(file, &text).map_err(|e| e.to_string())?;
    tokenize_examples(&stories, tokenizer).map_err(|e| format!("{file}: {e}"))
}

impl Session {
    pub async fn load(backend_choice: BackendChoice, model_url: String) -> Result<Session, String> {
        let device_limits = device_limits().await;
        let (device, backend) = choose_device(backend_choice, &device_limits.gpu).await;
        let manifest = manifest(&model_url).await?;
        let (config, base, tokenizer, files) = if manifest.files.contains_key(GGUF_FILE) {
            let bytes = model_file(&model_url, &manifest, GGUF_FILE).await?;
            let (config, base, tokenizer) = load(&bytes, true, &device).map_err(|e| format!("{GGUF_FILE}: {e}"))?;
            (config, base, tokenizer, BaseFiles::Gguf(bytes))
        } else {
            let config_json = model_file(&model_url, &manifest, "config.json").await?;
            let weights = model_file(&model_url, &manifest, "model.safetensors").await?;
            let tokenizer_json = model_file(&model_url, &manifest, "tokenizer.json").await?;
            let tokenizer_config = model_file(&model_url, &manifest, "tokenizer_config.json").await?;
            let (config, base) = load_model(&config_json, &weights, &device)?;
            let tokenizer = TextTokenizer::from_files(&tokenizer_json, &tokenizer_config).map_err(|e| e.to_string())?;
            let tokenizer_json =
                String::from_utf8(tokenizer_json).map_err(|_| "tokenizer.json is not UTF-8".to_string())?;
            (config, base, tokenizer, BaseFiles::Folder { config_json, weights, tokenizer_json, tokenizer_config })
        };
        let reference = own_stories(&model_url, &manifest, REFERENCE_FILE, &tokenizer).await?;
        let replay = own_stories(&model_url, &manifest, REPLAY_FILE, &tokenizer).await?;
        Ok(Session {
            backend_choice,
            model_url,
            manifest,
            backend,
            device_limits,
            device,
            config,
            base,
            files,
            tokenizer,
            reference,
            replay,
            datasets: BTreeMap::new(),
            runs: VecDeque::new(),
            shipped_adapters: BTreeMap::new(),
            mix: None,
        })
    }

    /// The base model's folder as the exports read it: `model.safetensors`, `tokenizer.json`,
    /// `tokenizer_config.json`; `None` for a GGUF base, whose exports are the adapter alone.
    pub fn base_model_files(&self) -> Option<(&[u8], &str, &[u8])> {
        match &self.files {
            BaseFiles::Folder { weights, tokenizer_json, tokenizer_config, .. } => {
                Some((weights, tokenizer_json, tokenizer_config))
            }
            BaseFiles::Gguf(_) => None,
        }
    }

    /// How the base's weights are held.
    pub fn storage(&self) -> BaseStorage {
        match self.files {
            BaseFiles::Folder { .. } => BaseStorage::F32,
            BaseFiles::Gguf(_) => BaseStorage::FourBit,
        }
    }

    pub fn ready_event(&self) -> FromWorker {
        FromWorker::Ready {
            backend: self.backend.clone(),
            model_name: self.manifest.model.clone(),
            model: self.config.shape(),
            storage: self.storage(),
        }
    }

    /// A fresh copy of the base model on `device` (the autodiff one, to train it).
    pub fn fresh_model(&self, device: &Device) -> Result<LlamaForCausalLM, String> {
        match &self.files {
            BaseFiles::Folder { config_json, weights, .. } => load_model(config_json, weights, device).map(|(_, m)| m),
            BaseFiles::Gguf(bytes) => load(bytes, true, device).map(|(_, model, _)| model),
        }
    }

    /// Downloads and tokenizes the data set at `url`, or finds it already loaded.
    pub async fn load_dataset(&mut self, url: &str) -> Result<DatasetSummary, String> {
        if let Some(dataset) = self.datasets.get(url) {
            return Ok(dataset.summary.clone());
        }
        let bytes = fetch_plain(url).await?;
        let name = url.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("dataset.jsonl").to_string();
        let examples = parse_dataset(&name, &bytes).map_err(|e| e.to_string())?;
        let task = task_check_beside(url).await?;
        let recorded_url = RecordedRun::url_beside(url);
        let recorded = match fetch_if_present(&recorded_url).await? {
            Some(bytes) => {
                Some(serde_json::from_slice(&bytes).map_err(|e| format!("{recorded_url} is not a recorded run: {e}"))?)
            }
            None => None,
        };
        let (train, held_out) = split_examples(examples, &SplitSettings::default());
        self.add_dataset(url, name, &train, &held_out, task, recorded)
    }

    /// Tokenizes a data set split elsewhere (the studio's) and keeps it under `url`, replacing what was there.
    pub fn add_dataset(
        &mut self,
        url: &str,
        name: String,
        train: &[Example],
        held_out: &[Example],
        task: Option<TaskCheck>,
        recorded: Option<RecordedRun>,
    ) -> Result<DatasetSummary, String> {
        let tokenize = |examples: &[Example]| tokenize_examples(examples, &self.tokenizer);
        let train_examples = train.to_vec();
        let data_files = crate::run_bigger::shapes(train);
        let preferences = tokenize_preferences(train, &self.tokenizer)?;
        let held_out_preferences = tokenize_preferences(held_out, &self.tokenizer)?;
        let (train, held_out) = (tokenize(train)?, tokenize(held_out)?);
        let summary = DatasetSummary {
            url: url.to_string(),
            name,
            training_examples: train.len(),
            held_out_examples: held_out.len(),
            task,
            recorded,
            data_files,
        };
        let dataset = Dataset {
            summary: summary.clone(),
            train,
            held_out,
            preferences,
            held_out_preferences,
            train_examples,
            base_passed: None,
        };
        self.datasets.insert(url.to_string(), dataset);
        Ok(summary)
    }

    pub fn dataset(&self, url: &str) -> Option<&Dataset> {
        self.datasets.get(url)
    }

    /// `examples` cut into training sequences of `seq_len` tokens (padded with EOS).
    pub fn sequences(&self, examples: &[TokenizedExample], seq_len: usize) -> Vec<TrainingSequence> {
        training_sequences(examples, seq_len, self.tokenizer.eos_id())
    }

    /// Keeps `run`, dropping the oldest runs past [`KEPT_RUNS`] or [`KEPT_RUNS_BYTES`] (never the newest).
    pub fn keep_run(&mut self, id: RunId, run: TrainedRun) {
        self.runs.push_back((id, run));
        let kept_bytes = |runs: &VecDeque<(RunId, TrainedRun)>| -> usize {
            runs.iter().map(|(_, run)| run.model.base_bytes()).sum()
        };
        while self.runs.len() > 1 && (self.runs.len() > KEPT_RUNS || kept_bytes(&self.runs) > KEPT_RUNS_BYTES) {
            self.runs.pop_front();
        }
    }

    pub fn trained(&self, id: RunId) -> Option<&TrainedRun> {
        self.runs.iter().find(|(run, _)| *run == id).map(|(_, trained)| trained)
    }

    /// Writes the samples of the task check of the data set at `dataset_url` with `model`, judges them, and scores
    /// them beside the base model (whose samples are written once per data set).
    pub async fn check_task(
        &mut self,
        dataset_url: &str,
        model: &LlamaForCausalLM,
    ) -> Option<(TaskScore, Vec<CheckedSample>)> {
        let dataset = self.datasets.get(dataset_url)?;
        let check = dataset.summary.task.clone()?;
        let max_len = self.config.max_position_embeddings;
        let base_passed = match dataset.base_passed {
            Some(passed) => passed,
            None => {
                let base = check.run(&self.base, &self.tokenizer, max_len, &self.device).await;
                base.iter().filter(|sample| sample.passed).count()
            }
        };
        if let Some(dataset) = self.datasets.get_mut(dataset_url) {
            dataset.base_passed = Some(base_passed);
        }
        let samples = check.run(model, &self.tokenizer, max_len, &self.device).await;
        Some((check.score(&samples, base_passed), samples))
    }

    /// Samples from `model` with its adapters scaled by `adapter_scale`, or from the base model at scale 0 or
    /// without a model (also after a full fine-tune, whose changes are not an adapter to scale). `interrupted` is
    /// asked before every token, with the text so far; `None` when it said to give up.
    pub async fn sample(
        &self,
        model: Option<&LlamaForCausalLM>,
        sample: &SampleSettings,
        adapter_scale: f64,
        mut interrupted: impl FnMut(String) -> bool,
    ) -> Option<String> {
        let model = match model {
            Some(model) if adapter_scale > 0.0 => model.clone().scale_adapters(adapter_scale),
            _ => self.base.clone(),
        };
        let max_len = self.config.max_position_embeddings;
        let progress = |so_far: &[u32], prompt_len| interrupted(self.tokenizer.sample_text(so_far, prompt_len));
        let (tokens, prompt_len) =
            generate::sample(&model, &self.tokenizer, sample, max_len, &self.device, progress).await?;
        Some(self.tokenizer.sample_text(&tokens, prompt_len))
    }

    /// Loads the PEFT adapter folder at `url` onto the base model, as the model of `run`. A page that loads the
    /// model again asks again under a new id: the adapter already loaded from `url` moves to it.
    pub async fn load_adapter(&mut self, run: RunId, url: &str) -> Result<(), String> {
        let loaded = self.shipped_adapters.iter().find(|(_, (from, _))| from == url).map(|(&id, _)| id);
        let model = match loaded.and_then(|id| self.shipped_adapters.remove(&id)) {
            Some((_, model)) => model,
            None => self.adapter_model(url).await?,
        };
        self.shipped_adapters.insert(run, (url.to_string(), model));
        Ok(())
    }

    /// The base model with the PEFT adapter folder the site serves at `url`.
    pub async fn adapter_model(&self, url: &str) -> Result<LlamaForCausalLM, String> {
        let config = fetch_plain(&format!("{url}adapter_config.json")).await?;
        let weights = fetch_plain(&format!("{url}adapter_model.safetensors")).await?;
        let (_, model) = load_adapter(self.base.clone(), &config, &weights, &self.device)
            .map_err(|message| format!("the adapter at {url} cannot be used: {message}"))?;
        Ok(model)
    }

    /// The evaluation bench's task check on the data set at `dataset_url` over `rounds`, its held-out sequences as
    /// a run with the default settings measures them ([`crate::evaluation`]), and the base model.
    pub fn bench(
        &self,
        dataset_url: &str,
        rounds: usize,
    ) -> Result<(Comparison<'_>, Vec<TrainingSequence>, &LlamaForCausalLM), String> {
        let dataset = self.dataset(dataset_url).ok_or_else(|| format!("load {dataset_url} before the bench"))?;
        let check = dataset.summary.task.as_ref().ok_or_else(|| format!("{dataset_url} has no task check"))?;
        if !ROUNDS_OFFERED.contains(&rounds) {
            return Err(format!("the bench runs {ROUNDS_OFFERED:?} rounds, not {rounds}"));
        }
        let held_out = held_out_sequences(&dataset.held_out, TrainSettings::default().seq_len, self.tokenizer.eos_id());
        Ok((Comparison::new(check, &dataset.train_examples).with_rounds(rounds), held_out, &self.base))
    }

    /// Mixes the adapter folders served at `sources`' URLs `how` and runs the task check at each of `checks` on the
    /// mix ([`check_mix`]), as the page's answer; the mix is kept for its export.
    pub async fn mix(
        &mut self,
        request_id: u32,
        sources: &[MixSource],
        how: Combination,
        checks: &[String],
    ) -> FromWorker {
        match self.mix_and_check(sources, how, checks).await {
            Ok(mix) => FromWorker::Mixed { request_id, mix },
            Err(message) => FromWorker::Error { run: None, request_id: Some(request_id), message },
        }
    }

    async fn mix_and_check(
        &mut self,
        sources: &[MixSource],
        how: Combination,
        checks: &[String],
    ) -> Result<MixChecked, String> {
        let mut adapters = Vec::with_capacity(sources.len());
        for MixSource { url, .. } in sources {
            let config = fetch_plain(&format!("{url}adapter_config.json")).await?;
            let weights = fetch_plain(&format!("{url}adapter_model.safetensors")).await?;
            adapters.push(PeftAdapter::read(url, &config, &weights)?);
        }
        let mut parsed = Vec::with_capacity(checks.len());
        for url in checks {
            parsed.push(TaskCheck::parse(url, &fetch_plain(url).await?)?);
        }
        let weighted: Vec<Source> = adapters.iter().zip(sources).map(|(a, s)| a.weighted(s.weight)).collect();
        let max_len = self.config.max_position_embeddings;
        let mixed = check_mix(&self.base, &weighted, how, &parsed, &self.tokenizer, max_len, &self.device).await?;
        self.mix = Some(MixedAdapter { lora: mixed.lora, weights: mixed.weights, sources: sources.to_vec(), how });
        Ok(mixed.checked)
    }

    /// Opens the PEFT adapter in `files` (name, bytes) the learner brought, checked against the base model
    /// ([`crate::adapter_import`]), as the model of `run`: the page's answer.
    pub fn open_adapter(&mut self, run: RunId, files: Vec<(String, Vec<u8>)>) -> Result<FromWorker, String> {
        let model_name = &self.manifest.model;
        let checked = open_adapter(&files, model_name, &self.config.shape())?;
        let config = adapter_config_json(&checked.lora, model_name);
        let (_, model) = load_adapter(self.base.clone(), config.as_bytes(), &checked.weights, &self.device)?;
        // A zip is named by its file, loose files by their folder.
        let name = match files.as_slice() {
            [(name, _)] => name.clone(),
            files => files[0].0.rsplit_once('/').map_or("the adapter's files", |(folder, _)| folder).to_string(),
        };
        self.shipped_adapters.insert(run, (format!("opened: {name}"), model));
        let lora = checked.lora;
        let settings = TrainSettings {
            method: TrainingMethod::Lora,
            lora_rank: lora.r,
            lora_alpha: lora.lora_alpha,
            lora_dropout: lora.lora_dropout,
            lora_targets: lora.target_modules,
            use_rslora: lora.use_rslora,
            ..TrainSettings::default()
        };
        Ok(FromWorker::AdapterOpened { run, name, settings, base_model: checked.base_model })
    }

    /// The comparison of ways to the task check of the data set at `dataset_url`, and the models it samples: the
    /// base model, and `run`'s for the adapter's way.
    pub fn comparison(
        &self,
        dataset_url: &str,
        run: RunId,
    ) -> Result<(Comparison<'_>, &LlamaForCausalLM, &LlamaForCausalLM), String> {
        let dataset = self.dataset(dataset_url).ok_or_else(|| format!("load {dataset_url} before comparing on it"))?;
        let check = dataset.summary.task.as_ref().ok_or_else(|| format!("{dataset_url} has no task check"))?;
        let adapted = self.model_of(run).ok_or_else(|| format!("run {run} has no model: load its adapter first"))?;
        Ok((Comparison::new(check, &dataset.train_examples), &self.base, adapted))
    }

    /// One projection's weights off `run`'s model (the base model without one), as the page's answer.
    pub async fn read_weights(
        &self,
        request_id: u32,
        run: Option<RunId>,
        layer: usize,
        projection: Projection,
    ) -> FromWorker {
        let model = run.and_then(|id| self.model_of(id)).unwrap_or(&self.base);
        match read_projection(model, layer, projection).await {
            Some(weights) => FromWorker::Weights { request_id, weights },
            None => {
                let message = format!("the model has no layer {layer}: it has {}", self.config.num_hidden_layers);
                FromWorker::Error { run: None, request_id: Some(request_id), message }
            }
        }
    }

    /// The model of `run`: a finished run's, or a shipped adapter's.
    pub fn model_of(&self, run: RunId) -> Option<&LlamaForCausalLM> {
        self.trained(run)
            .map(|trained| &trained.model)
            .or_else(|| self.shipped_adapters.get(&run).map(|(_, model)| model))
    }

    /// One training step up close ([`crate::one_step`]) from the base model on training sequence `sequence` of
    /// the data set at `dataset_url`, cut as a run with `settings` cuts it, as the page's answer.
    pub async fn one_step(
        &self,
        request_id: u32,
        dataset_url: &str,
        sequence: usize,
        settings: &TrainSettings,
    ) -> FromWorker {
        match self.take_one_step(dataset_url, sequence, settings).await {
            Ok(step) => FromWorker::OneStepTaken { request_id, step },
            Err(message) => FromWorker::Error { run: None, request_id: Some(request_id), message },
        }
    }

    async fn take_one_step(
        &self,
        dataset_url: &str,
        sequence: usize,
        settings: &TrainSettings,
    ) -> Result<OneStep, String> {
        if let Some(problem) = settings.problems().into_iter().next() {
            return Err(problem.message);
        }
        let dataset = self.dataset(dataset_url).ok_or_else(|| format!("load {dataset_url} before stepping on it"))?;
        let mut sequences = self.sequences(&dataset.train, settings.seq_len);
        let count = sequences.len();
        if sequence >= count {
            return Err(format!("there are {count} training sequences: choose one from 1 to {count}"));
        }
        let device = self.device.clone().autodiff();
        let model = self.fresh_model(&device)?;
        let chosen = sequences.swap_remove(sequence);
        let mut held_out = self.sequences(&dataset.held_out, settings.seq_len);
        held_out.truncate(EVAL_SEQUENCES);
        one_step(model, chosen, (sequence, count), held_out, settings, &self.tokenizer, &device)
            .await
            .map_err(|e| e.to_string())
    }

    /// The base model's held-out loss with its projections stored in each quantization format
    /// ([`crate::quantize::measure`]), on the held-out split of the data set at `dataset_url` cut as a run with the
    /// default settings cuts it, as the page's answer.
    pub async fn quantize(&self, request_id: u32, dataset_url: &str) -> FromWorker {
        let Some(dataset) = self.dataset(dataset_url) else {
            let message = format!("load {dataset_url} before measuring on it");
            return FromWorker::Error { run: None, request_id: Some(request_id), message };
        };
        let held_out = self.sequences(&dataset.held_out, TrainSettings::default().seq_len);
        match quantize::measure(&self.base, &held_out, &self.device).await {
            Ok(table) => FromWorker::Quantized { request_id, table },
            Err(e) => FromWorker::Error { run: None, request_id: Some(request_id), message: e.to_string() },
        }
    }

    /// The base model's reading of `text` and `then` (see [`generate::inspect`]).
    pub async fn inspect(&self, request_id: u32, text: &str, then: &[u32]) -> FromWorker {
        let max_len = self.config.max_position_embeddings;
        FromWorker::Inspected(
            generate::inspect(&self.base, &self.tokenizer, request_id, text, then, max_len, &self.device).await,
        )
    }
}

/// The task check beside the data set at `url`, when it has one.
pub async fn task_check_beside(url: &str) -> Result<Option<TaskCheck>, String> {
    let check_url = TaskCheck::url_beside(url);
    match fetch_if_present(&check_url).await? {
        Some(bytes) => Ok(Some(TaskCheck::parse(&check_url, &bytes)?)),
        None => Ok(None),
    }
}
