//! One training step up close (lesson "One training step up close"): the trainer's step taken on one training
//! sequence, with what it does read back at each stage. The batch (the sequence's tokens and which of them count);
//! the loss, token by token (the probability the model gave each target); the gradient of every matrix that
//! trains; the change AdamW made to each; and each target's probability after the step.
//!
//! The step is [`crate::train::Trainer::step`] itself, on a trainer whose only data is the chosen sequence (batch
//! 1, no warmup, a constant learning rate): this module reads around it and changes nothing in it. The step uses
//! up its gradient, so the gradient shown comes from a second backward pass of the same loss on the same weights;
//! the tests check that it is the one the step measured.

use serde::{Deserialize, Serialize};

use crate::protocol::TokenPiece;
use crate::settings::{Projection, Schedule, TrainSettings};

/// What one step did, stage by stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneStep {
    /// The settings the step ran with ([`step_settings`] of the learner's).
    pub settings: TrainSettings,
    /// Which training sequence (0-based), of how many.
    pub sequence: usize,
    pub sequences: usize,
    /// Position by position: the token the model predicts there, and how likely it was before and after.
    pub tokens: Vec<TokenStep>,
    /// Mean of −ln p over the targets that count, before and after the step.
    pub loss_before: f64,
    pub loss_after: f64,
    /// Mean loss per target on `held_out` held-out sequences, before and after the step: whether the step helps
    /// text it did not see.
    pub held_out: usize,
    pub held_out_before: f64,
    pub held_out_after: f64,
    /// The global gradient norm, before clipping, and the norm it is clipped to.
    pub grad_norm: f64,
    pub max_grad_norm: f64,
    /// Every matrix that trains, in the model's order (layer by layer, each layer's projections in
    /// [`Projection`]'s order).
    pub matrices: Vec<MatrixStep>,
}

/// One position of the sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenStep {
    /// The token to predict at this position: the next one in the text.
    pub target: TokenPiece,
    /// Whether it counts in the loss (the loss mask); padding and prompts do not.
    pub trained: bool,
    /// The probability the model gave it before the step, and after.
    pub before: f64,
    pub after: f64,
    /// The token the model found most likely here before the step.
    pub guess: TokenPiece,
}

impl TokenStep {
    /// Its share of the loss before the step, −ln p.
    pub fn loss_before(&self) -> f64 {
        -self.before.ln()
    }
}

/// One trainable matrix: its gradient and what the step did to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixStep {
    /// 0-based.
    pub layer: usize,
    pub projection: Projection,
    pub factor: Factor,
    /// How many numbers it holds.
    pub values: usize,
    /// The gradient's Frobenius norm, before clipping.
    pub grad_norm: f64,
    /// The change's Frobenius norm, and its largest single change.
    pub update_norm: f64,
    pub largest_change: f64,
    /// How many of its numbers the step changed at all.
    pub moved: usize,
}

/// Which matrix of a projection trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Factor {
    /// LoRA's `A`, `[r, in]`.
    LoraA,
    /// LoRA's `B`, `[out, r]`.
    LoraB,
    /// The projection's own weight (full fine-tuning).
    Weight,
}

impl Factor {
    pub const ALL: [Factor; 3] = [Factor::LoraA, Factor::LoraB, Factor::Weight];

    /// As PEFT and Hugging Face name the tensor: `lora_A`, `lora_B`, `weight`.
    pub fn name(self) -> &'static str {
        match self {
            Factor::LoraA => "lora_A",
            Factor::LoraB => "lora_B",
            Factor::Weight => "weight",
        }
    }
}

impl OneStep {
    /// The targets that count in the loss.
    pub fn trained(&self) -> impl Iterator<Item = &TokenStep> {
        self.tokens.iter().filter(|t| t.trained)
    }

    /// What clipping multiplied every gradient by: 1 when the norm was within the limit.
    pub fn clip_factor(&self) -> f64 {
        if self.max_grad_norm > 0.0 && self.grad_norm > self.max_grad_norm {
            self.max_grad_norm / self.grad_norm
        } else {
            1.0
        }
    }

    /// Where the step recorded at build time on the data set at `dataset_url` lives: `…/pip.jsonl` →
    /// `…/pip.one-step.json`.
    pub fn recorded_url(dataset_url: &str) -> String {
        crate::task::file_beside(dataset_url, "one-step.json")
    }
}

/// The learner's settings as one step up close takes them: one sequence, one step at the full learning rate (no
/// warmup, which would make the first step's rate zero), no dropout (which would make the gradient shown differ
/// from the one the step used), no evaluations.
pub fn step_settings(settings: &TrainSettings) -> TrainSettings {
    TrainSettings {
        batch_size: 1,
        grad_accum: 1,
        steps: 1,
        warmup_steps: 0,
        schedule: Schedule::Constant,
        lora_dropout: 0.0,
        eval_every: 0,
        ..settings.clone()
    }
}

#[cfg(feature = "trainer")]
mod stepping {
    use burn::prelude::*;
    use burn::tensor::activation::log_softmax;

    use super::{step_settings, Factor, MatrixStep, OneStep, TokenStep};
    use crate::data::TrainingSequence;
    use crate::lora::LoraLinear;
    use crate::model::LlamaForCausalLM;
    use crate::settings::{Choice, Projection, TrainSettings};
    use crate::tokenizer::TextTokenizer;
    use crate::train::{make_batch, masked_cross_entropy_sum, TrainError, Trainer, TrainingConfig};

    async fn floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, TrainError> {
        let data = tensor.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
        data.try_to_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))
    }

    /// For each position of `sequence`, the probability `model` gives its target, and its most likely token.
    async fn read_predictions(
        model: &LlamaForCausalLM,
        sequence: &TrainingSequence,
        device: &Device,
    ) -> Result<(Vec<f64>, Vec<u32>), TrainError> {
        let seq_len = sequence.targets_mask.len();
        let batch = make_batch(&[sequence], device);
        let logits = model.forward(batch.inputs);
        let guesses = logits.clone().argmax(2).reshape([seq_len]);
        let log_probs = log_softmax(logits, 2).gather(2, batch.targets.unsqueeze_dim::<3>(2));
        let probabilities = floats(log_probs.exp().reshape([seq_len])).await?;
        let guesses = guesses.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
        let guesses = guesses.iter::<i64>().map(|id| id as u32).collect();
        Ok((probabilities.into_iter().map(f64::from).collect(), guesses))
    }

    /// The matrices of a projection that train: LoRA's `A` and `B` when it has an adapter, otherwise its weight
    /// when that trains (full fine-tuning).
    fn trained_matrices(projection: &LoraLinear) -> Vec<(Factor, Tensor<2>)> {
        match &projection.lora {
            Some(adapter) => vec![(Factor::LoraA, adapter.lora_a.val()), (Factor::LoraB, adapter.lora_b.val())],
            None if projection.base_layer.trains() => vec![(Factor::Weight, projection.base_layer.weight())],
            None => Vec::new(),
        }
    }

    /// Every trained matrix of `model` with its layer and projection.
    fn trained_in(model: &LlamaForCausalLM) -> Vec<(usize, Projection, Factor, Tensor<2>)> {
        let projections = model.projections();
        let per_layer = Projection::ALL.len();
        // `projections` lists each layer's projections in `Projection::ALL`'s order.
        projections
            .iter()
            .enumerate()
            .flat_map(|(i, (_, projection))| {
                let (layer, name) = (i / per_layer, Projection::ALL[i % per_layer]);
                trained_matrices(projection).into_iter().map(move |(factor, value)| (layer, name, factor, value))
            })
            .collect()
    }

    fn norm(values: impl Iterator<Item = f32>) -> f64 {
        values.map(|v| (v as f64).powi(2)).sum::<f64>().sqrt()
    }

    /// One step of `settings` (as [`step_settings`] takes them) on `sequence`, the `index`-th of `sequences`,
    /// from `model` loaded on the autodiff `device`, measured on `held_out` too.
    pub async fn one_step(
        model: LlamaForCausalLM,
        sequence: TrainingSequence,
        (index, sequences): (usize, usize),
        held_out: Vec<TrainingSequence>,
        settings: &TrainSettings,
        tokenizer: &TextTokenizer,
        device: &Device,
    ) -> Result<OneStep, TrainError> {
        let settings = step_settings(settings);
        let config = TrainingConfig::from_settings(&settings);
        let (max_grad_norm, held_out_count) = (config.max_grad_norm, held_out.len());
        let mut trainer = Trainer::new(model, vec![sequence.clone()], held_out, config, device)?;
        let (held_out_before, _) = trainer.eval_losses().await?;
        let inference = device.clone().inner();
        let before = trainer.model().clone();
        let (probabilities_before, guesses) = read_predictions(&before.valid(), &sequence, &inference).await?;

        // The gradient of the step's loss, read here because the step consumes its own.
        let batch = make_batch(&[&sequence], device);
        let count = batch.target_count.max(1) as f64;
        let loss = masked_cross_entropy_sum(before.forward(batch.inputs), batch.targets, batch.targets_mask) / count;
        let gradients = loss.backward();
        let seq_len = sequence.targets_mask.len();

        let metrics = trainer.step().await?;
        let (probabilities_after, _) = read_predictions(&trainer.model().valid(), &sequence, &inference).await?;
        let (held_out_after, _) = trainer.eval_losses().await?;

        let mut matrices = Vec::new();
        for ((layer, projection, factor, old), (_, _, _, new)) in
            trained_in(&before).into_iter().zip(trained_in(trainer.model()))
        {
            let gradient = match old.grad(&gradients) {
                Some(gradient) => floats(gradient).await?,
                None => vec![0.0; old.shape().num_elements()],
            };
            let change = floats(new.inner() - old.inner()).await?;
            matrices.push(MatrixStep {
                layer,
                projection,
                factor,
                values: change.len(),
                grad_norm: norm(gradient.into_iter()),
                update_norm: norm(change.iter().copied()),
                largest_change: change.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)),
                moved: change.iter().filter(|v| **v != 0.0).count(),
            });
        }

        let tokens: Vec<TokenStep> = (0..seq_len)
            .map(|j| TokenStep {
                target: tokenizer.piece(sequence.tokens[j + 1]),
                trained: sequence.targets_mask[j],
                before: probabilities_before[j],
                after: probabilities_after[j],
                guess: tokenizer.piece(guesses[j]),
            })
            .collect();
        let mean_loss = |probability: fn(&TokenStep) -> f64| {
            let trained = tokens.iter().filter(|t| t.trained);
            trained.clone().map(|t| -probability(t).ln()).sum::<f64>() / trained.count().max(1) as f64
        };
        Ok(OneStep {
            sequence: index,
            sequences,
            loss_before: mean_loss(|t| t.before),
            loss_after: mean_loss(|t| t.after),
            held_out: held_out_count,
            held_out_before: held_out_before.unwrap_or(f64::NAN),
            held_out_after: held_out_after.unwrap_or(f64::NAN),
            grad_norm: metrics.grad_norm,
            max_grad_norm,
            tokens,
            matrices,
            settings,
        })
    }
}

#[cfg(feature = "trainer")]
pub use stepping::one_step;
