//! Fine-tuning, written out step by step like Burn's custom training loop: batch → forward → masked
//! cross-entropy → backward → (accumulate) → clip → AdamW step, with a warmup + decay learning-rate schedule,
//! seeded shuffling, periodic held-out evaluation, and a stop on NaN/Inf that keeps the last good weights.
//!
//! `Trainer::step` is async because in the browser a tensor can only be read asynchronously; natively it is
//! driven with `pollster::block_on`. [`adamw`] keeps the optimizer's moments where a [`checkpoint`] can read
//! them, so a run can be saved and resumed exactly.

mod adamw;
pub mod checkpoint;
pub mod grpo;
pub mod preference;

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

use adamw::{AdamWOptimizer, Moments};
use checkpoint::{Checkpoint, Position, SavedParam};
use preference::{held_out_dpo_scores, model_dpo_loss, preference_pairs, DpoLoss, PreferencePair, TokenizedPreference};

use crate::data::{training_sequences, TokenizedExample, TrainingSequence};
use crate::lora::{BaseLayer, LoraConfig};
use crate::model::LlamaForCausalLM;
pub use crate::protocol::{Rewards, StepMetrics};
use crate::settings::{Choice, Projection};
pub use crate::settings::{Schedule, TrainSettings, TrainingMethod};

/// How many sequences of each held-out set a site run measures its losses on: evaluations happen in the middle
/// of training, and a fixed sample keeps each to a few batches.
pub const EVAL_SEQUENCES: usize = 32;

/// A data set as a site run reads it: tokenized, split as the worker splits it.
pub struct SiteData<'a> {
    pub train: &'a [TokenizedExample],
    /// The training examples' preference pairs, which a DPO run trains on.
    pub preferences: &'a [TokenizedPreference],
    pub held_out: &'a [TokenizedExample],
    /// The held-out examples' preference pairs, on which a DPO run measures its rewards.
    pub held_out_preferences: &'a [TokenizedPreference],
    /// Text the base model wrote itself, to measure drift from it.
    pub reference: &'a [TokenizedExample],
    /// More text the base model wrote itself (never `reference`'s), which a run with a replay share mixes in.
    pub replay: &'a [TokenizedExample],
}

/// The trainer for a run as the site makes one, in the worker and in the CLI's recordings of it (`tinytune
/// record`): `settings` on the training examples, with the targets its loss mask picks, or with a DPO β on their
/// preference pairs; held-out loss on the first [`EVAL_SEQUENCES`] sequences of `held_out`, on their responses
/// whatever the mask (a preference pair's chosen answer); drift on as many of `reference`. `pad_id` is the
/// tokenizer's EOS. With `max_examples` it trains on that many examples of `train` (or pairs), from the first; with
/// a replay share, that share of its training pieces are `replay`'s, repeated as needed.
pub fn site_run(
    model: LlamaForCausalLM,
    data: &SiteData,
    settings: &TrainSettings,
    pad_id: u32,
    device: &Device,
) -> Result<Trainer, TrainError> {
    let sequences = |examples: &[TokenizedExample], limit: usize| {
        let mut sequences = training_sequences(examples, settings.seq_len, pad_id);
        sequences.truncate(limit);
        sequences
    };
    let held_out = held_out_sequences(data.held_out, settings.seq_len, pad_id);
    let config = TrainingConfig::from_settings(settings);
    let trainer = match settings.dpo_beta {
        None => {
            let train: Vec<TokenizedExample> = data.train[..settings.examples_used(data.train.len())]
                .iter()
                .map(|e| e.masked(settings.loss_mask, pad_id))
                .collect();
            let mut train = sequences(&train, usize::MAX);
            let replayed = replay_count(train.len(), settings.replay);
            if replayed > 0 && data.replay.is_empty() {
                return Err(TrainError::NoData(
                    "replay mixes in text the base model wrote itself, and this model has none (the site's model \
                     folder has replay-stories.jsonl): set the replay share to 0"
                        .into(),
                ));
            }
            train.extend(sequences(data.replay, usize::MAX).into_iter().cycle().take(replayed));
            Trainer::new(model, train, held_out, config, device)?
        }
        Some(_) => {
            let pairs = preference_pairs(
                &data.preferences[..settings.examples_used(data.preferences.len())],
                settings.seq_len,
                pad_id,
            );
            if pairs.is_empty() {
                return Err(TrainError::NoData(
                    "DPO trains on preference pairs ({\"prompt\", \"chosen\", \"rejected\"} lines) and this data set \
                     has none: choose a preference data set, or turn DPO off"
                        .into(),
                ));
            }
            let mut eval_pairs = preference_pairs(data.held_out_preferences, settings.seq_len, pad_id);
            eval_pairs.truncate(EVAL_SEQUENCES / 2);
            Trainer::preference(model, pairs, held_out, config, device)?.with_eval_pairs(eval_pairs)
        }
    };
    Ok(trainer.with_reference_eval(sequences(data.reference, EVAL_SEQUENCES)))
}

/// What a site run measures its held-out loss on: the first [`EVAL_SEQUENCES`] sequences `held_out` is cut into at
/// `seq_len`, their responses the targets. The evaluation bench measures on the same.
pub fn held_out_sequences(held_out: &[TokenizedExample], seq_len: usize, pad_id: u32) -> Vec<TrainingSequence> {
    let mut sequences = training_sequences(held_out, seq_len, pad_id);
    sequences.truncate(EVAL_SEQUENCES);
    sequences
}

/// How many replayed pieces make `share` of the pieces beside `pieces` of the data: pieces × share / (1 − share),
/// rounded.
pub fn replay_count(pieces: usize, share: f64) -> usize {
    if share <= 0.0 || share >= 1.0 {
        return 0;
    }
    (pieces as f64 * share / (1.0 - share)).round() as usize
}

#[derive(Config, Debug)]
pub struct TrainingConfig {
    pub method: TrainingMethod,
    /// Used when `method` is `Lora`.
    pub lora: LoraConfig,
    pub steps: usize,
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    #[config(default = 8)]
    pub batch_size: usize,
    #[config(default = 128)]
    pub seq_len: usize,
    /// Micro-batches per optimizer step: the step sees `batch_size * grad_accum` sequences.
    #[config(default = 1)]
    pub grad_accum: usize,
    #[config(default = "Schedule::Cosine")]
    pub schedule: Schedule,
    #[config(default = 0)]
    pub warmup_steps: usize,
    /// Evaluate the held-out split every this many steps (and after the last); 0 never.
    #[config(default = 0)]
    pub eval_every: usize,
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// Clip the global gradient norm to this; 0 disables clipping.
    #[config(default = 1.0)]
    pub max_grad_norm: f64,
    #[config(default = 0)]
    pub seed: u64,
    /// DPO's β ([`preference`]): the run trains on preference pairs (`Trainer::preference`) instead of next-token
    /// prediction. LoRA only: the reference is the model with its adapters at scale 0.
    #[config(default = "None")]
    pub dpo_beta: Option<f64>,
}

impl TrainingConfig {
    /// The trainer's configuration for the settings a learner chose (on the page or the command line).
    pub fn from_settings(settings: &TrainSettings) -> TrainingConfig {
        let lora = LoraConfig::new(settings.lora_rank, settings.lora_alpha, settings.lora_targets.clone())
            .with_lora_dropout(settings.lora_dropout)
            .with_use_rslora(settings.use_rslora);
        TrainingConfig::new(settings.method, lora, settings.steps)
            .with_learning_rate(settings.learning_rate)
            .with_batch_size(settings.batch_size)
            .with_seq_len(settings.seq_len)
            .with_grad_accum(settings.grad_accum)
            .with_schedule(settings.schedule)
            .with_warmup_steps(settings.warmup_steps)
            .with_eval_every(settings.eval_every)
            .with_seed(settings.seed)
            .with_dpo_beta(settings.dpo_beta)
    }

    /// Checks every setting, naming the one to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.method == TrainingMethod::Lora {
            self.lora.validate()?;
        }
        let positive = [
            ("steps", self.steps),
            ("batch size", self.batch_size),
            ("sequence length", self.seq_len),
            ("gradient accumulation", self.grad_accum),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(format!("learning rate must be a positive number, got {}", self.learning_rate));
        }
        if let Some(beta) = self.dpo_beta {
            if !(beta.is_finite() && beta > 0.0) {
                return Err(format!("DPO's beta must be a positive number, got {beta}"));
            }
            if self.method != TrainingMethod::Lora {
                return Err("DPO here needs LoRA: its reference model is the model with its adapters off".into());
            }
        }
        if self.warmup_steps > self.steps {
            return Err(format!("warmup ({}) is longer than the run ({} steps)", self.warmup_steps, self.steps));
        }
        Ok(())
    }

    /// The learning rate for optimizer step `step` (0-based), as Hugging Face's schedulers compute it:
    /// linear warmup from 0, then constant, linear decay to 0, or half a cosine down to 0.
    ///
    /// A few lines rather than Burn's schedulers, so the lesson can show the formula next to the curve.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.learning_rate * step as f64 / self.warmup_steps as f64;
        }
        let progress = (step - self.warmup_steps) as f64 / (self.steps - self.warmup_steps).max(1) as f64;
        let factor = match self.schedule {
            Schedule::Constant => 1.0,
            Schedule::Linear => (1.0 - progress).max(0.0),
            Schedule::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        };
        self.learning_rate * factor
    }
}

#[derive(Debug, PartialEq)]
pub enum TrainError {
    InvalidConfig(String),
    NoData(String),
    /// The device could not run or read back the computation (on a GPU: the device was lost).
    Device(String),
    /// The loss or gradients became NaN or infinite; the model keeps the weights from before this step.
    Diverged {
        step: usize,
        loss: f64,
        grad_norm: f64,
    },
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::InvalidConfig(why) => write!(f, "invalid training settings: {why}"),
            TrainError::NoData(why) => write!(f, "{why}"),
            TrainError::Device(why) => write!(
                f,
                "the device stopped computing ({why}). On a GPU this means it was lost: a driver reset, too little \
                 memory, or a long time in a background tab. Choose the CPU and train again."
            ),
            TrainError::Diverged { step, loss, grad_norm } => write!(
                f,
                "training diverged at step {step} (loss {loss}, gradient norm {grad_norm}); the weights from step {} \
                 are kept. Try a smaller learning rate or a lower max gradient norm.",
                step - 1
            ),
        }
    }
}

impl std::error::Error for TrainError {}

/// A batch as tensors: inputs and targets `[batch, seq]`, and a 0/1 mask of the targets that count.
pub(crate) struct Batch {
    pub inputs: Tensor<2, Int>,
    pub targets: Tensor<2, Int>,
    pub targets_mask: Tensor<2>,
    pub target_count: usize,
}

pub(crate) fn make_batch(sequences: &[&TrainingSequence], device: &Device) -> Batch {
    let seq_len = sequences[0].targets_mask.len();
    let ids = |range: std::ops::Range<usize>| -> Vec<i64> {
        sequences.iter().flat_map(|s| s.tokens[range.clone()].iter().map(|&t| t as i64)).collect()
    };
    let mask: Vec<f32> = sequences.iter().flat_map(|s| s.targets_mask.iter().map(|&m| m as u8 as f32)).collect();
    let shape = [sequences.len(), seq_len];
    Batch {
        inputs: Tensor::<1, Int>::from_ints(ids(0..seq_len).as_slice(), device).reshape(shape),
        targets: Tensor::<1, Int>::from_ints(ids(1..seq_len + 1).as_slice(), device).reshape(shape),
        target_count: mask.iter().filter(|&&m| m > 0.0).count(),
        targets_mask: Tensor::<1>::from_floats(mask.as_slice(), device).reshape(shape),
    }
}

/// log p(target) at every position: `[batch, seq, vocab]` logits → `[batch, seq]`.
pub(crate) fn target_log_probs(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
    let [batch, seq_len, _] = logits.dims();
    log_softmax(logits, 2).gather(2, targets.unsqueeze_dim::<3>(2)).reshape([batch, seq_len])
}

/// Sum over the masked positions of −log p(target): `[batch, seq, vocab]` logits → a one-element tensor.
pub fn masked_cross_entropy_sum(logits: Tensor<3>, targets: Tensor<2, Int>, targets_mask: Tensor<2>) -> Tensor<1> {
    (target_log_probs(logits, targets) * targets_mask).sum().neg()
}

/// Each sequence's log-probability, the sum over its masked positions of log p(target) (DPO scores answers so):
/// `[batch, seq, vocab]` logits → `[batch]`.
pub fn sequence_log_probs(logits: Tensor<3>, targets: Tensor<2, Int>, targets_mask: Tensor<2>) -> Tensor<1> {
    let batch = logits.dims()[0];
    (target_log_probs(logits, targets) * targets_mask).sum_dim(1).reshape([batch])
}

/// Evaluation needs no gradients, so it takes bigger batches than training: fewer, larger kernel launches.
const EVAL_BATCH_SIZE: usize = 32;

/// Mean loss per target token of `model` over `sequences`, in batches of `batch_size`.
pub async fn evaluate(
    model: &LlamaForCausalLM,
    sequences: &[TrainingSequence],
    batch_size: usize,
    device: &Device,
) -> Result<f64, TrainError> {
    let mut total = 0.0;
    let mut count = 0;
    for chunk in sequences.chunks(batch_size.max(1)) {
        let batch = make_batch(&chunk.iter().collect::<Vec<_>>(), device);
        let loss = masked_cross_entropy_sum(model.forward(batch.inputs), batch.targets, batch.targets_mask);
        total += read_scalar(loss).await?;
        count += batch.target_count;
    }
    Ok(if count == 0 { f64::NAN } else { total / count as f64 })
}

/// Reads a one-element tensor back; this is where a lost GPU device shows itself.
async fn read_scalar(tensor: Tensor<1>) -> Result<f64, TrainError> {
    let data = tensor.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
    Ok(data.try_to_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))?[0] as f64)
}

/// Counts parameters, and those that will receive gradients.
#[derive(Default)]
struct ParamCounter {
    total: usize,
    trainable: usize,
}

impl ModuleVisitor for ParamCounter {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let count = param.shape().num_elements();
        self.total += count;
        if param.val().is_require_grad() {
            self.trainable += count;
        }
    }
}

/// Sums the squares of every gradient into one on-device value (no read, so no sync).
struct GradSquares<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for GradSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + squares,
                None => squares,
            });
        }
    }
}

/// Multiplies every gradient by one on-device factor (global-norm clipping).
struct ScaleGrads<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for ScaleGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            let factor = self.factor.clone().reshape([1; D]);
            self.grads.register::<D>(param.id, grad * factor);
        }
    }
}

pub struct Trainer {
    model: LlamaForCausalLM,
    optimizer: AdamWOptimizer,
    config: TrainingConfig,
    /// The sequences a step draws from; with DPO, pair by pair (chosen, rejected).
    train: Vec<TrainingSequence>,
    eval: Vec<TrainingSequence>,
    /// Text the base model wrote itself: its loss rising means the model drifts from the base model.
    reference_eval: Vec<TrainingSequence>,
    /// Held-out preference pairs, on which a DPO run measures its rewards when it evaluates.
    eval_pairs: Vec<PreferencePair>,
    /// Shuffled order of the training units (sequences, or DPO's pairs), reshuffled each epoch (`reshuffles` times
    /// so far), and the units taken from it.
    order: Vec<usize>,
    reshuffles: usize,
    cursor: usize,
    rng: StdRng,
    /// SHA-256 of `train`, which a checkpoint must match.
    data: String,
    step: usize,
    device: Device,
    params: ParamCounter,
    /// Seconds spent in steps and evaluations so far.
    training_seconds: f64,
}

impl Trainer {
    /// Prepares `model` (loaded on an autodiff `device`) for `config.method`: in LoRA mode every pretrained weight
    /// is frozen and adapters are attached; in full mode everything trains.
    pub fn new(
        model: LlamaForCausalLM,
        train: Vec<TrainingSequence>,
        eval: Vec<TrainingSequence>,
        config: TrainingConfig,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let trainer = Self::build(model, train, false, eval, config, device)?;
        if trainer.train.is_empty() {
            return Err(TrainError::NoData("no training sequences: the data set is empty".into()));
        }
        Ok(trainer)
    }

    /// A run that learns from rewards ([`grpo`], `grpo_step`): it has no data of its own, only the completions
    /// its model writes.
    pub fn for_rewards(model: LlamaForCausalLM, config: TrainingConfig, device: &Device) -> Result<Self, TrainError> {
        Self::build(model, Vec::new(), false, Vec::new(), config, device)
    }

    /// A DPO run ([`preference`]) on `pairs`, with `config.dpo_beta` set; `eval` measures the held-out loss as
    /// usual (next-token, on the sequences given: the chosen answers, say).
    pub fn preference(
        model: LlamaForCausalLM,
        pairs: Vec<PreferencePair>,
        eval: Vec<TrainingSequence>,
        config: TrainingConfig,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let train = pairs.into_iter().flat_map(|pair| [pair.chosen, pair.rejected]).collect();
        let trainer = Self::build(model, train, true, eval, config, device)?;
        if trainer.train.is_empty() {
            return Err(TrainError::NoData("no preference pairs: the data set has none".into()));
        }
        Ok(trainer)
    }

    /// `train` holds sequences, or with `paired` DPO's pairs one after the other (chosen, rejected).
    fn build(
        model: LlamaForCausalLM,
        train: Vec<TrainingSequence>,
        paired: bool,
        eval: Vec<TrainingSequence>,
        config: TrainingConfig,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::InvalidConfig)?;
        match (paired, config.dpo_beta.is_some()) {
            (true, false) => {
                return Err(TrainError::InvalidConfig("preference pairs train with DPO: set dpo_beta".into()))
            }
            (false, true) => {
                return Err(TrainError::InvalidConfig(
                    "a DPO run trains on preference pairs: Trainer::preference".into(),
                ))
            }
            _ => {}
        }
        let four_bit = model.projections().iter().any(|(_, p)| matches!(p.base_layer, BaseLayer::Q4(_)));
        if four_bit && config.method == TrainingMethod::Full {
            return Err(TrainError::InvalidConfig(
                "full fine-tuning trains every weight, and this model's are 4-bit, which cannot train: train LoRA \
                 on it (QLoRA), or load it in f32"
                    .into(),
            ));
        }
        let model = match config.method {
            TrainingMethod::Lora => model.no_grad().with_lora(&config.lora, config.seed, device),
            TrainingMethod::Full => model.set_require_grad(true),
            TrainingMethod::Frozen => model.no_grad(),
        };
        let mut params = ParamCounter::default();
        model.visit(&mut params);
        // 4-bit weights are in no record and no optimizer's sight, so not visited; they are the model's all the same.
        params.total += model
            .projections()
            .iter()
            .filter_map(|(_, projection)| match &projection.base_layer {
                BaseLayer::Q4(q4) => Some(q4.dims().iter().product::<usize>()),
                BaseLayer::Dense(_) => None,
            })
            .sum::<usize>();
        let optimizer = AdamWOptimizer::new(config.weight_decay);
        let units = if paired { train.len() / 2 } else { train.len() };
        let (order, rng) = shuffled(units, config.seed, 0);
        let data = fingerprint(&train);
        Ok(Trainer {
            model,
            optimizer,
            config,
            train,
            eval,
            reference_eval: Vec::new(),
            eval_pairs: Vec::new(),
            order,
            reshuffles: 0,
            cursor: 0,
            rng,
            data,
            step: 0,
            device: device.clone(),
            params,
            training_seconds: 0.0,
        })
    }

    /// Also evaluate on `sequences` of the base model's own text, to make drift from it visible.
    pub fn with_reference_eval(mut self, sequences: Vec<TrainingSequence>) -> Self {
        self.reference_eval = sequences;
        self
    }

    /// A DPO run also measures its rewards on these held-out `pairs` when it evaluates.
    pub fn with_eval_pairs(mut self, pairs: Vec<PreferencePair>) -> Self {
        self.eval_pairs = pairs;
        self
    }

    /// DPO's rewards on the held-out pairs, scored as a training batch is and trained on by nothing; `None` for
    /// next-token runs and without held-out pairs.
    async fn eval_rewards(&self) -> Result<Option<Rewards>, TrainError> {
        let Some(beta) = self.config.dpo_beta.filter(|_| !self.eval_pairs.is_empty()) else { return Ok(None) };
        // As the held-out losses are measured: the inference model, without dropout.
        let (model, device) = (self.model.valid(), self.device.clone().inner());
        let mut scores = Vec::new();
        for pairs in self.eval_pairs.chunks(EVAL_BATCH_SIZE) {
            let sequences: Vec<&TrainingSequence> =
                pairs.iter().map(|p| &p.chosen).chain(pairs.iter().map(|p| &p.rejected)).collect();
            let batch = make_batch(&sequences, &device);
            scores.push(held_out_dpo_scores(&model, batch.inputs, batch.targets, batch.targets_mask, beta));
        }
        read_rewards(scores).await.map(Some)
    }

    pub fn model(&self) -> &LlamaForCausalLM {
        &self.model
    }

    pub fn into_model(self) -> LlamaForCausalLM {
        self.model
    }

    pub fn steps_done(&self) -> usize {
        self.step
    }

    pub fn training_sequences(&self) -> usize {
        self.train.len()
    }

    /// The next `batch_size` training units (sequences, or DPO's pairs) in the seeded shuffled order.
    fn next_sequences(&mut self) -> Vec<usize> {
        (0..self.config.batch_size)
            .map(|_| {
                if self.cursor == self.order.len() {
                    self.order.shuffle(&mut self.rng);
                    self.reshuffles += 1;
                    self.cursor = 0;
                }
                self.cursor += 1;
                self.order[self.cursor - 1]
            })
            .collect()
    }

    /// Mean loss per target token on the held-out split and on the reference text, with the current weights.
    pub async fn eval_losses(&self) -> Result<(Option<f64>, Option<f64>), TrainError> {
        let model = self.model.valid();
        let device = self.device.clone().inner();
        let mut losses = [None, None];
        for (loss, sequences) in losses.iter_mut().zip([&self.eval, &self.reference_eval]) {
            if !sequences.is_empty() {
                *loss = Some(evaluate(&model, sequences, EVAL_BATCH_SIZE, &device).await?);
            }
        }
        Ok((losses[0], losses[1]))
    }

    /// One optimizer step over `batch_size * grad_accum` sequences.
    pub async fn step(&mut self) -> Result<StepMetrics, TrainError> {
        let started = web_time::Instant::now();
        // LoRA dropout draws from the device's generator: seeded per step, so a resumed run draws as the
        // uninterrupted one does.
        self.device.seed(self.config.seed.wrapping_add(self.step as u64));
        let micro_batches: Vec<Vec<usize>> = (0..self.config.grad_accum).map(|_| self.next_sequences()).collect();
        let (train, paired) = (&self.train, self.config.dpo_beta.is_some());
        let sequences_of = |units: &[usize]| -> Vec<&TrainingSequence> {
            if paired {
                // The chosen answers, then the rejected ones in the same order (as `preference::model_dpo_loss` reads them).
                let side = |offset: usize| units.iter().map(move |&i| &train[2 * i + offset]);
                side(0).chain(side(1)).collect()
            } else {
                units.iter().map(|&i| &train[i]).collect()
            }
        };
        let batches: Vec<Batch> =
            micro_batches.iter().map(|units| make_batch(&sequences_of(units), &self.device)).collect();
        // Each micro-batch's summed loss is divided by the target count of the whole step, so accumulated
        // gradients are exactly those of one big batch.
        let step_targets = batches.iter().map(|b| b.target_count).sum::<usize>().max(1) as f64;

        let mut accumulator = GradientsAccumulator::<LlamaForCausalLM>::new();
        let mut step_loss: Option<Tensor<1>> = None;
        let mut rewards: Vec<DpoLoss> = Vec::new();
        let frozen = self.config.method == TrainingMethod::Frozen;
        for batch in batches {
            let loss = match self.config.dpo_beta {
                None => {
                    let logits = self.model.forward(batch.inputs);
                    masked_cross_entropy_sum(logits, batch.targets, batch.targets_mask) / step_targets
                }
                Some(beta) => {
                    let mut dpo = model_dpo_loss(&self.model, batch.inputs, batch.targets, batch.targets_mask, beta);
                    let loss = dpo.loss.clone() / self.config.grad_accum as f64;
                    dpo.loss = dpo.loss.detach();
                    rewards.push(dpo);
                    loss
                }
            };
            if !frozen {
                let grads = GradientsParams::from_grads(loss.backward(), &self.model);
                accumulator.accumulate(&self.model, grads);
            }
            let loss = loss.detach();
            step_loss = Some(match step_loss {
                Some(total) => total + loss,
                None => loss,
            });
        }
        let (learning_rate, loss, grad_norm) =
            self.update(accumulator.grads(), step_loss.expect("grad_accum ≥ 1")).await?;
        let rewards = if rewards.is_empty() { None } else { Some(read_rewards(rewards).await?) };
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        // Also after the first step, so a chart starts from the model's loss before it has learned much.
        let evaluate_now = self.config.eval_every > 0
            && (self.step == 1 || self.step.is_multiple_of(self.config.eval_every) || self.step == self.config.steps);
        let (eval_loss, reference_eval_loss) = if evaluate_now { self.eval_losses().await? } else { (None, None) };
        let eval_rewards = if evaluate_now { self.eval_rewards().await? } else { None };
        self.training_seconds += started.elapsed().as_secs_f64();
        let tokens = (self.config.batch_size * self.config.grad_accum * self.config.seq_len) as f64;
        Ok(StepMetrics {
            step: self.step,
            loss,
            eval_loss,
            reference_eval_loss,
            learning_rate,
            grad_norm,
            tokens_per_second: tokens / elapsed,
            elapsed_seconds: self.training_seconds,
            trainable_params: self.params.trainable,
            total_params: self.params.total,
            rewards,
            eval_rewards,
        })
    }

    /// Clips `grads` to the largest gradient norm, takes the optimizer's step at this step's learning rate (none
    /// for a frozen run) and reads the step's `loss` and the norm before clipping back. If either is NaN or
    /// infinite, the model goes back to its weights before the step: `Diverged`. The learning rate, the loss and
    /// the norm.
    async fn update(&mut self, mut grads: GradientsParams, loss: Tensor<1>) -> Result<(f64, f64, f64), TrainError> {
        let mut squares = GradSquares { grads: &grads, sum: None };
        self.model.visit(&mut squares);
        let grad_norm = squares.sum.map(|s| s.sqrt());
        if let (Some(norm), true) = (&grad_norm, self.config.max_grad_norm > 0.0) {
            let factor = ((norm.clone() + 1e-6).recip() * self.config.max_grad_norm).clamp_max(1.0);
            self.model.visit(&mut ScaleGrads { grads: &mut grads, factor });
        }
        let frozen = self.config.method == TrainingMethod::Frozen;
        let learning_rate = if frozen { 0.0 } else { self.config.learning_rate_at(self.step) };
        let before = self.model.clone();
        if !frozen {
            self.model = self.optimizer.step(learning_rate, self.model.clone(), grads);
        }
        self.step += 1;
        let loss = read_scalar(loss).await?;
        let grad_norm = match grad_norm {
            Some(norm) => read_scalar(norm).await?,
            None => 0.0,
        };
        if !loss.is_finite() || !grad_norm.is_finite() {
            self.model = before;
            return Err(TrainError::Diverged { step: self.step, loss, grad_norm });
        }
        Ok((learning_rate, loss, grad_norm))
    }

    /// One GRPO step ([`grpo`]) on `completions` the model wrote (each a prompt and its completion, the completion's
    /// tokens the targets), one advantage each, with KL coefficient `beta`: the loss, then the same clipping,
    /// schedule and optimizer as [`step`](Self::step). Its loss and gradient norm.
    pub async fn grpo_step(
        &mut self,
        completions: &[TrainingSequence],
        advantages: &[f64],
        beta: f64,
    ) -> Result<(f64, f64), TrainError> {
        let batch = make_batch(&completions.iter().collect::<Vec<_>>(), &self.device);
        let loss =
            grpo::model_grpo_loss(&self.model, batch.inputs, batch.targets, batch.targets_mask, advantages, beta);
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let (_, loss, grad_norm) = self.update(grads, loss.detach()).await?;
        Ok((loss, grad_norm))
    }
}

/// A DPO step's implicit rewards and log-probabilities, averaged over its pairs, and how often the chosen answer's
/// reward was the higher.
async fn read_rewards(per_batch: Vec<DpoLoss>) -> Result<Rewards, TrainError> {
    let [mut chosen, mut rejected, mut chosen_log_probs, mut rejected_log_probs] = [(); 4].map(|_| Vec::new());
    for dpo in per_batch {
        chosen.extend(read_values(dpo.chosen_rewards).await?);
        rejected.extend(read_values(dpo.rejected_rewards).await?);
        chosen_log_probs.extend(read_values(dpo.chosen_log_probs).await?);
        rejected_log_probs.extend(read_values(dpo.rejected_log_probs).await?);
    }
    let mean = |values: &[f32]| values.iter().map(|&v| v as f64).sum::<f64>() / values.len().max(1) as f64;
    let ahead = chosen.iter().zip(&rejected).filter(|(c, r)| c > r).count();
    Ok(Rewards {
        chosen: mean(&chosen),
        rejected: mean(&rejected),
        accuracy: ahead as f64 / chosen.len().max(1) as f64,
        chosen_log_prob: mean(&chosen_log_probs),
        rejected_log_prob: mean(&rejected_log_probs),
    })
}

impl Trainer {
    /// Where the run stands now, read off the device: see [`checkpoint`].
    pub async fn checkpoint(&self) -> Result<Checkpoint, TrainError> {
        let mut trainable = Trainable::default();
        self.model.visit(&mut trainable);
        let mut params = Vec::with_capacity(trainable.params.len());
        for (id, shape, values) in trainable.params {
            let moments = match self.optimizer.moments(id) {
                Some(Moments { time, first, second }) => {
                    Some((*time, read_values(first.clone()).await?, read_values(second.clone()).await?))
                }
                None => None,
            };
            params.push(SavedParam { shape, values: read_values(values).await?, moments });
        }
        let position = Position {
            step: self.step,
            reshuffles: self.reshuffles,
            cursor: self.cursor,
            training_seconds: self.training_seconds,
            data: self.data.clone(),
        };
        Ok(Checkpoint { position, params })
    }

    /// This LoRA trainer, before its first step, with its adapters' factors taken from `adapter`'s (an adapter
    /// the learner opened, or an earlier run's) instead of fresh ones: training goes on from it.
    pub fn start_from(mut self, adapter: &LlamaForCausalLM) -> Result<Trainer, String> {
        if self.config.method != TrainingMethod::Lora || self.step > 0 {
            return Err("only a LoRA run that has not begun starts from an adapter".into());
        }
        let adapted = |projection: &Projection| {
            adapter.projections().iter().any(|(name, p)| p.lora.is_some() && name.ends_with(projection.name()))
        };
        if Projection::ALL.iter().any(|p| adapted(p) != self.config.lora.target_modules.contains(p)) {
            let names: Vec<&str> = Projection::ALL.iter().filter(|p| adapted(p)).map(|p| p.name()).collect();
            return Err(format!("the adapter adapts {}, not the projections these settings train", names.join(", ")));
        }
        let mut factors = adapter.projections().into_iter().filter_map(|(name, projection)| {
            projection.lora.as_ref().map(|l| (name, l.lora_a.val(), l.lora_b.val(), l.scaling))
        });
        let mut problem = None;
        let targets = self.config.lora.target_modules.clone();
        let model = self.model.map_projections(&targets, |mut projection| {
            let (Some(lora), None) = (projection.lora.as_mut(), &problem) else { return projection };
            match factors.next() {
                Some((name, a, b, _)) if a.dims() != lora.lora_a.dims() || b.dims() != lora.lora_b.dims() => {
                    problem = Some(format!(
                        "the adapter's {name} has rank {} where these settings train rank {}",
                        a.dims()[0],
                        lora.lora_a.dims()[0]
                    ))
                }
                Some((_, _, _, scaling)) if (scaling - lora.scaling).abs() > 1e-9 * scaling.abs() => {
                    problem = Some(format!(
                        "the adapter scales its update by {scaling} (alpha / r), these settings by {}: set its alpha",
                        lora.scaling
                    ))
                }
                Some((_, a, b, _)) => {
                    lora.lora_a = lora.lora_a.clone().map(|_| Tensor::from_inner(a.inner()).require_grad());
                    lora.lora_b = lora.lora_b.clone().map(|_| Tensor::from_inner(b.inner()).require_grad());
                }
                None => problem = Some("the adapter adapts fewer projections than these settings train".into()),
            }
            projection
        });
        if let Some(problem) = problem {
            return Err(problem);
        }
        if factors.next().is_some() {
            return Err("the adapter adapts more projections than these settings train".into());
        }
        self.model = model;
        Ok(self)
    }

    /// This trainer, fresh from [`Trainer::new`] with a run's data and settings, carried to where `checkpoint`
    /// left that run; an error says why the checkpoint does not belong to it.
    pub fn resume(mut self, checkpoint: Checkpoint) -> Result<Trainer, String> {
        let Position { step, reshuffles, cursor, training_seconds, data } = checkpoint.position;
        if data != self.data {
            return Err("the data set changed since the run was saved".into());
        }
        if step > self.config.steps || cursor > self.train.len() {
            return Err(format!("it is at step {step}, past the end of a {}-step run", self.config.steps));
        }
        let mut restore =
            Restore { saved: checkpoint.params.into_iter(), index: 0, moments: Vec::new(), problem: None };
        self.model = self.model.map(&mut restore);
        if let Some(problem) = restore.problem {
            return Err(problem);
        }
        if restore.saved.next().is_some() {
            return Err("it holds more trainable weights than a run with these settings trains".into());
        }
        for (id, moments) in restore.moments {
            self.optimizer.set_moments(id, moments);
        }
        (self.order, self.rng) = shuffled(self.order.len(), self.config.seed, reshuffles);
        (self.step, self.reshuffles, self.cursor, self.training_seconds) = (step, reshuffles, cursor, training_seconds);
        Ok(self)
    }
}

/// `0..count` shuffled with `seed` and reshuffled `reshuffles` times, as the trainer's epochs shuffle it, and the
/// generator after.
fn shuffled(count: usize, seed: u64, reshuffles: usize) -> (Vec<usize>, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..count).collect();
    for _ in 0..=reshuffles {
        order.shuffle(&mut rng);
    }
    (order, rng)
}

/// SHA-256 of the training sequences' tokens and loss masks.
fn fingerprint(sequences: &[TrainingSequence]) -> String {
    let mut hash = Sha256::new();
    for sequence in sequences {
        let tokens = sequence.tokens.iter().flat_map(|t| t.to_le_bytes());
        let mask = sequence.targets_mask.iter().map(|&m| m as u8);
        hash.update((sequence.tokens.len() as u64).to_le_bytes());
        hash.update(tokens.chain(mask).collect::<Vec<u8>>());
    }
    format!("{:x}", hash.finalize())
}

async fn read_values(tensor: Tensor<1>) -> Result<Vec<f32>, TrainError> {
    let data = tensor.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))
}

/// The trainable parameters in the model's order: id, shape and values (flattened, off the autodiff graph).
#[derive(Default)]
struct Trainable {
    params: Vec<(ParamId, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Trainable {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if value.is_require_grad() {
            let shape = value.dims().to_vec();
            self.params.push((param.id, shape.clone(), value.inner().reshape([shape.iter().product::<usize>()])));
        }
    }
}

/// Puts a checkpoint's values into the trainable parameters, in the model's order, and collects their moments.
struct Restore {
    saved: std::vec::IntoIter<SavedParam>,
    index: usize,
    moments: Vec<(ParamId, Moments)>,
    problem: Option<String>,
}

impl ModuleMapper for Restore {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.problem.is_some() || !param.val().is_require_grad() {
            return param;
        }
        let index = self.index;
        self.index += 1;
        let Some(SavedParam { shape, values, moments }) = self.saved.next() else {
            self.problem = Some("it holds fewer trainable weights than a run with these settings trains".into());
            return param;
        };
        let dims = param.val().dims();
        if shape != dims {
            self.problem =
                Some(format!("its trainable weight {index} has shape {shape:?} where these settings train {dims:?}"));
            return param;
        }
        let device = param.val().device();
        if let Some((time, first, second)) = moments {
            let inner = device.clone().inner();
            let flat = |values: Vec<f32>| {
                Tensor::<1>::from_data(TensorData::new(values, [shape.iter().product::<usize>()]), &inner)
            };
            self.moments.push((param.id, Moments { time, first: flat(first), second: flat(second) }));
        }
        param.map(|_| Tensor::<D>::from_data(TensorData::new(values, dims), &device).require_grad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Projection;

    fn config(schedule: Schedule, warmup_steps: usize) -> TrainingConfig {
        TrainingConfig::new(TrainingMethod::Lora, LoraConfig::new(4, 8.0, vec![Projection::QProj]), 10)
            .with_learning_rate(1.0)
            .with_schedule(schedule)
            .with_warmup_steps(warmup_steps)
    }

    #[test]
    fn a_replay_share_is_that_share_of_all_the_pieces() {
        assert_eq!(replay_count(30, 0.0), 0);
        assert_eq!(replay_count(30, 0.25), 10, "10 of 40");
        assert_eq!(replay_count(30, 0.5), 30);
        assert_eq!(replay_count(30, 0.9), 270, "270 of 300");
        assert_eq!(replay_count(7, 1.0), 0, "never all replay");
    }

    #[test]
    fn warmup_rises_linearly_from_zero_then_each_schedule_decays_as_hugging_face_does() {
        // Hugging Face: warmup s/w; then constant 1, linear (T−s)/(T−w), cosine ½(1 + cos(π(s−w)/(T−w))).
        let cosine = config(Schedule::Cosine, 2);
        let rates: Vec<f64> = (0..10).map(|s| cosine.learning_rate_at(s)).collect();
        assert_eq!(&rates[..3], &[0.0, 0.5, 1.0]);
        assert!((rates[6] - 0.5).abs() < 1e-12, "halfway through the decay: {rates:?}");
        assert!(rates.windows(2).skip(2).all(|w| w[1] < w[0]));
        let linear = config(Schedule::Linear, 2);
        assert!((linear.learning_rate_at(6) - 0.5).abs() < 1e-12);
        assert!((linear.learning_rate_at(9) - 0.125).abs() < 1e-12);
        let constant = config(Schedule::Constant, 0);
        assert!((0..10).all(|s| constant.learning_rate_at(s) == 1.0));
    }

    #[test]
    fn settings_that_cannot_train_are_refused_with_the_setting_named() {
        assert_eq!(
            config(Schedule::Cosine, 0).with_batch_size(0).validate(),
            Err("batch size must be at least 1".into())
        );
        assert!(config(Schedule::Cosine, 11).validate().unwrap_err().contains("warmup (11) is longer than the run"));
        assert!(config(Schedule::Cosine, 0)
            .with_learning_rate(f64::NAN)
            .validate()
            .unwrap_err()
            .contains("learning rate"));
        let no_target = TrainingConfig { lora: LoraConfig::new(4, 8.0, vec![]), ..config(Schedule::Cosine, 0) };
        assert!(no_target.validate().unwrap_err().contains("choose at least one LoRA target"));
    }
}
