//! Preference tuning with DPO (Rafailov et al. 2023, "Direct Preference Optimization"), as TRL's `DPOTrainer`
//! computes it with its default loss (`loss_type="sigmoid"`, no label smoothing). Each answer is scored by its
//! log-probability, the sum of its tokens' −cross-entropy, under the policy (the model with its adapters) and under
//! the reference (the same model with its adapters at scale 0: the base, which LoRA gives for free, as TRL does with
//! PEFT's `disable_adapter`). With `β` setting how far the policy may move from the reference,
//!
//! ```text
//! loss = mean over pairs of −log σ(β · ((log π(chosen) − log π_ref(chosen)) − (log π(rejected) − log π_ref(rejected))))
//! ```
//!
//! and each answer's implicit reward is `β · (log π − log π_ref)`; an answer's log π is
//! [`super::sequence_log_probs`].

use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;

use super::sequence_log_probs;
use crate::data::{tokenize_example, TokenizedExample, TrainingSequence};
use crate::dataset::Example;
use crate::model::LlamaForCausalLM;
use crate::tokenizer::TextTokenizer;

/// One prompt's two answers as training sequences: the same prompt, each answer (and its end token) the targets.
#[derive(Clone, Debug, PartialEq)]
pub struct PreferencePair {
    pub chosen: TrainingSequence,
    pub rejected: TrainingSequence,
}

/// A preference pair tokenized: the prompt with each answer, the answer (and its end token) the targets.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizedPreference {
    pub chosen: TokenizedExample,
    pub rejected: TokenizedExample,
}

/// The preference pairs of `examples` (the `{"prompt", "chosen", "rejected"}` ones; others are left out),
/// tokenized; `Err` names the example a template refused.
pub fn tokenize_preferences(
    examples: &[Example],
    tokenizer: &TextTokenizer,
) -> Result<Vec<TokenizedPreference>, String> {
    let mut pairs = Vec::new();
    for (index, example) in examples.iter().enumerate() {
        let Example::Preference { prompt, chosen, rejected } = example else { continue };
        let answer = |response: &String| {
            let pair = Example::PromptResponse { prompt: prompt.clone(), response: response.clone() };
            tokenize_example(&pair, tokenizer).map_err(|why| format!("example {}: {why}", index + 1))
        };
        pairs.push(TokenizedPreference { chosen: answer(chosen)?, rejected: answer(rejected)? });
    }
    Ok(pairs)
}

/// The pairs as a run of `seq_len` trains on them: each answer cut to its first `seq_len` tokens, as TRL's
/// `max_length` cuts it, and a pair kept when both answers keep a target in those tokens.
pub fn preference_pairs(pairs: &[TokenizedPreference], seq_len: usize, pad_id: u32) -> Vec<PreferencePair> {
    let window = |answer: &TokenizedExample| first_window(answer, seq_len, pad_id);
    pairs
        .iter()
        .filter_map(|pair| Some(PreferencePair { chosen: window(&pair.chosen)?, rejected: window(&pair.rejected)? }))
        .collect()
}

/// The example's first `seq_len + 1` tokens (padded with `pad_id`, which is no target), if it has a target there.
fn first_window(example: &TokenizedExample, seq_len: usize, pad_id: u32) -> Option<TrainingSequence> {
    let end = example.tokens.len().min(seq_len + 1);
    let mut tokens = example.tokens[..end].to_vec();
    tokens.resize(seq_len + 1, pad_id);
    let targets_mask: Vec<bool> = (1..=seq_len).map(|i| i < end && example.loss_mask[i]).collect();
    targets_mask.contains(&true).then_some(TrainingSequence { tokens, targets_mask })
}

/// DPO's loss over a batch of pairs, and each answer's implicit reward.
pub struct DpoLoss {
    /// The mean over the pairs.
    pub loss: Tensor<1>,
    /// `[pairs]` each: β · (log π − log π_ref).
    pub chosen_rewards: Tensor<1>,
    pub rejected_rewards: Tensor<1>,
    /// `[pairs]` each: the policy's log π of each answer (TRL's `logps/chosen` and `logps/rejected` average them).
    pub chosen_log_probs: Tensor<1>,
    pub rejected_log_probs: Tensor<1>,
}

/// The loss of pairs whose answers' log-probabilities are `policy` and `reference` (`[2 · pairs]`: the chosen
/// answers, then the rejected ones in the same order). `reference` takes no gradient.
fn dpo_loss(policy: Tensor<1>, reference: Tensor<1>, beta: f64) -> DpoLoss {
    let pairs = policy.dims()[0] / 2;
    let log_probs = policy.clone().detach();
    let ratios = policy - reference.detach();
    let chosen = ratios.clone().slice(0..pairs);
    let rejected = ratios.slice(pairs..2 * pairs);
    let margin = chosen.clone() - rejected.clone();
    DpoLoss {
        loss: log_sigmoid(margin * beta).mean().neg(),
        chosen_rewards: chosen.detach() * beta,
        rejected_rewards: rejected.detach() * beta,
        chosen_log_probs: log_probs.clone().slice(0..pairs),
        rejected_log_probs: log_probs.slice(pairs..2 * pairs),
    }
}

/// DPO's loss of one batch for `model` (on an autodiff device): its rows are the chosen answers, then the rejected
/// ones in the same order; the reference is the same weights with the adapters at scale 0, off the autodiff graph.
pub fn model_dpo_loss(
    model: &LlamaForCausalLM,
    inputs: Tensor<2, Int>,
    targets: Tensor<2, Int>,
    targets_mask: Tensor<2>,
    beta: f64,
) -> DpoLoss {
    let base = model.valid().scale_adapters(0.0);
    let reference =
        sequence_log_probs(base.forward(inputs.clone().inner()), targets.clone().inner(), targets_mask.clone().inner());
    let policy = sequence_log_probs(model.forward(inputs), targets, targets_mask);
    dpo_loss(policy, Tensor::from_inner(reference), beta)
}

/// The same for an inference `model` (no autodiff, so no dropout and no gradient): how held-out pairs are scored.
pub fn held_out_dpo_scores(
    model: &LlamaForCausalLM,
    inputs: Tensor<2, Int>,
    targets: Tensor<2, Int>,
    targets_mask: Tensor<2>,
    beta: f64,
) -> DpoLoss {
    let reference = sequence_log_probs(
        model.clone().scale_adapters(0.0).forward(inputs.clone()),
        targets.clone(),
        targets_mask.clone(),
    );
    dpo_loss(sequence_log_probs(model.forward(inputs), targets, targets_mask), reference, beta)
}
