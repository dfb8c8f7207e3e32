//! GRPO's loss (Shao et al., 2024, "DeepSeekMath"), as TRL's `GRPOTrainer` computes it with its defaults (TRL
//! 1.16, `trl/trainer/grpo_trainer.py`: `scale_rewards="group"`, `loss_type="dapo"`, `num_iterations=1`,
//! `epsilon=0.2`, `beta=0`). The model writes several completions for each prompt, a group; a reward scores each
//! (here a check, so no reward model); a completion's advantage is its reward against its group's mean, in units
//! of the group's spread. The loss raises the log-probability of every token of a completion that beat its group
//! and lowers it for one that fell short. No value model and, at β = 0, no reference model.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::target_log_probs;
use crate::data::TrainingSequence;
use crate::model::LlamaForCausalLM;

/// TRL's `epsilon`: how far the probability ratio π / π_old may move before it is clipped.
pub const CLIP: f64 = 0.2;
/// TRL's guard against a group whose rewards are all equal (no spread): their advantages are then 0.
const SPREAD_GUARD: f64 = 1e-4;

/// Each completion's advantage: its reward minus its group's mean, over the group's standard deviation (with
/// Bessel's correction, TRL's `nanstd`) plus 1e-4. The groups are `group_size` consecutive completions.
pub fn group_advantages(rewards: &[f64], group_size: usize) -> Vec<f64> {
    rewards
        .chunks(group_size.max(1))
        .flat_map(|group| {
            let n = group.len() as f64;
            let mean = group.iter().sum::<f64>() / n;
            let spread = match group.len() {
                1 => 0.0,
                _ => (group.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
            };
            group.iter().map(move |r| (r - mean) / (spread + SPREAD_GUARD))
        })
        .collect()
}

/// GRPO's loss for completions whose tokens' log-probabilities under the policy are `policy` (`[completions,
/// tokens]`, `mask` marking each completion's own tokens), with `advantages` (`[completions]`). With β > 0,
/// each token also pays β times the KL estimate exp(r − p) − (r − p) − 1 against the `reference`'s
/// log-probabilities r (which take no gradient). The loss is summed over the completions' tokens and divided by
/// their count (`loss_type="dapo"`).
pub fn grpo_loss(
    policy: Tensor<2>,
    reference: Option<Tensor<2>>,
    mask: Tensor<2>,
    advantages: Tensor<1>,
    beta: f64,
) -> Tensor<1> {
    let [completions, _] = policy.dims();
    let advantages = advantages.reshape([completions, 1]);
    // The completions were written by this policy and it takes one step on them (`num_iterations=1`): the ratio
    // π / π_old is 1, so the clipping never bites, but its gradient is that of log π.
    let ratio = (policy.clone() - policy.clone().detach()).exp();
    let clipped = ratio.clone().clamp(1.0 - CLIP, 1.0 + CLIP);
    let mut per_token = (ratio * advantages.clone()).min_pair(clipped * advantages).neg();
    if let Some(reference) = reference.filter(|_| beta != 0.0) {
        let log_ratio = reference.detach() - policy;
        per_token = per_token + (log_ratio.clone().exp() - log_ratio - 1.0) * beta;
    }
    (per_token * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// GRPO's loss of one batch of prompts with their completions for `model` (on an autodiff device): `targets_mask`
/// marks the completions' tokens, `advantages` holds one per row. The reference, needed only at β > 0, is the
/// same weights with the adapters at scale 0, off the autodiff graph.
pub fn model_grpo_loss(
    model: &LlamaForCausalLM,
    inputs: Tensor<2, Int>,
    targets: Tensor<2, Int>,
    targets_mask: Tensor<2>,
    advantages: &[f64],
    beta: f64,
) -> Tensor<1> {
    let device = inputs.device();
    let reference = (beta != 0.0).then(|| {
        let base = model.valid().scale_adapters(0.0);
        Tensor::from_inner(target_log_probs(base.forward(inputs.clone().inner()), targets.clone().inner()))
    });
    let policy = target_log_probs(model.forward(inputs), targets);
    let advantages: Vec<f32> = advantages.iter().map(|&a| a as f32).collect();
    grpo_loss(policy, reference, targets_mask, Tensor::from_floats(advantages.as_slice(), &device), beta)
}

/// A reward anyone can check, with no reward model: the first sentence a completion writes must end with the
/// word `ending` (a name, say) and stay within `max_words` words. Each rule met scores 1; a completion that ends
/// no sentence scores 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentenceRule {
    pub ending: String,
    pub max_words: usize,
}

impl SentenceRule {
    pub fn reward(&self, completion: &str) -> f64 {
        let Some(end) = completion.find(['.', '!', '?']) else { return 0.0 };
        let words: Vec<&str> = completion[..end].split_whitespace().collect();
        let ends_right =
            words.last().is_some_and(|word| word.trim_matches(|c: char| !c.is_alphanumeric()) == self.ending);
        f64::from(u8::from(ends_right)) + f64::from(u8::from(words.len() <= self.max_words))
    }
}

/// A prompt and the completion the model wrote after it (`tokens`, the first `prompt_len` the prompt's) as a
/// training sequence of `seq_len` targets: the completion's tokens are the targets, padding with `pad_id` after.
pub fn completion_sequence(tokens: &[u32], prompt_len: usize, seq_len: usize, pad_id: u32) -> TrainingSequence {
    let mut padded = tokens[..tokens.len().min(seq_len + 1)].to_vec();
    let end = padded.len();
    padded.resize(seq_len + 1, pad_id);
    // The target at position i is token i + 1.
    let targets_mask = (0..seq_len).map(|i| i + 1 >= prompt_len && i + 1 < end).collect();
    TrainingSequence { tokens: padded, targets_mask }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advantages_are_rewards_against_their_group_in_units_of_its_spread() {
        // Group one: mean 1/3, standard deviation (Bessel) √(1/3); group two all equal: no spread, no advantage.
        let advantages = group_advantages(&[1.0, 0.0, 0.0, 2.0, 2.0, 2.0], 3);
        let spread = (1.0f64 / 3.0).sqrt() + 1e-4;
        let expected = [2.0 / 3.0 / spread, -1.0 / 3.0 / spread, -1.0 / 3.0 / spread, 0.0, 0.0, 0.0];
        for (a, e) in advantages.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{advantages:?}");
        }
    }

    #[test]
    fn the_rule_scores_the_first_sentence_for_its_ending_and_its_length() {
        let rule = SentenceRule { ending: "Max".into(), max_words: 8 };
        assert_eq!(rule.reward(", there was a boy named Max. He was happy."), 2.0);
        assert_eq!(rule.reward(", there was a little girl named Lily."), 1.0);
        assert_eq!(rule.reward(", in a big house far away there lived a dog called Max!"), 1.0, "too long");
        assert_eq!(rule.reward(", there was a boy named Maxwell."), 1.0, "a whole word");
        assert_eq!(rule.reward(", there was a boy who ran and ran"), 0.0, "no sentence ends");
    }

    #[test]
    fn a_completion_is_the_target_and_the_prompt_is_not() {
        let sequence = completion_sequence(&[1, 10, 11, 20, 21, 22], 3, 7, 0);
        assert_eq!(sequence.tokens, [1, 10, 11, 20, 21, 22, 0, 0]);
        // Positions 2, 3 and 4 predict the completion's tokens 20, 21 and 22.
        assert_eq!(sequence.targets_mask, [false, false, true, true, true, false, false]);
    }

    #[test]
    fn the_loss_is_minus_the_advantage_weighted_mean_over_tokens_and_beta_adds_the_kl() {
        let device = Device::flex();
        let policy = Tensor::<2>::from_floats([[-1.0, -2.0, 0.0], [-0.5, -0.5, -0.5]], &device);
        let mask = Tensor::<2>::from_floats([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], &device);
        let advantages = Tensor::<1>::from_floats([1.0, -0.5], &device);
        let value = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap()[0];
        // The ratio is 1 at every token: −(2 × 1 + 3 × −0.5) / 5 tokens.
        let loss = grpo_loss(policy.clone(), None, mask.clone(), advantages.clone(), 0.0);
        assert!((value(loss) - (-(2.0 - 1.5) / 5.0)).abs() < 1e-6);
        // A reference 0.5 above the policy at every token: KL estimate e^0.5 − 0.5 − 1 per token, times β.
        let reference = policy.clone() + 0.5;
        let loss = grpo_loss(policy, Some(reference), mask, advantages, 0.1);
        let kl = 0.5f32.exp() - 0.5 - 1.0;
        assert!((value(loss) - (-(0.5) / 5.0 + 0.1 * kl)).abs() < 1e-6);
    }
}
