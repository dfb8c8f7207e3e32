//! GRPO's loss (Shao et al., 2024, "DeepSeekMath"), as TRL's `GRPOTrainer` computes it with its defaults (TRL
//! 1.16, `trl/trainer/grpo_trainer.py`: `scale_rewards="group"`, `loss_type="dapo"`, `num_iterations=1`,
//! `epsilon=0.2`, `beta=0`). The model writes several completions for each prompt, a group; a reward scores each
//! (here a check, so no reward model); a completion's advantage is its reward against its group's mean, in units
//! of the group's spread. The loss raises the log-probability of every token of a completion that beat its group
//! and lowers it for one that fell short. No value model and, at β = 0, no reference model.

use burn::prelude::*;

use super::{target_log_probs, TrainError, Trainer, TrainingConfig};
use crate::data::TrainingSequence;
use crate::generate::sample;
use crate::model::LlamaForCausalLM;
use crate::protocol::SampleSettings;
use crate::reward::{GrpoSettings, GrpoStep, ScoredCompletion};
use crate::settings::{Schedule, TrainSettings};
use crate::tokenizer::TextTokenizer;

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

/// The GRPO toy's trainer: a fresh LoRA adapter (the site's default rank, alpha and targets) on `model` (loaded on
/// an autodiff `device`), at `settings`' learning rate, held constant without warmup (so a shorter run takes the
/// same first steps as a longer one), for its steps.
pub fn toy_trainer(model: LlamaForCausalLM, settings: &GrpoSettings, device: &Device) -> Result<Trainer, TrainError> {
    let run = TrainSettings {
        learning_rate: settings.learning_rate,
        schedule: Schedule::Constant,
        warmup_steps: 0,
        steps: settings.steps,
        seed: settings.seed,
        ..TrainSettings::default()
    };
    Trainer::for_rewards(model, TrainingConfig::from_settings(&run), device)
}

/// One step of the GRPO toy: the trainer's model writes the step's groups (sampled on `device`, the inference
/// side of the trainer's), the rule scores them, and the trainer takes one GRPO step on their advantages.
/// `interrupted` is asked before each completion; `None` when it said to stop.
pub async fn toy_step(
    trainer: &mut Trainer,
    tokenizer: &TextTokenizer,
    settings: &GrpoSettings,
    max_len: usize,
    device: &Device,
    mut interrupted: impl FnMut() -> bool,
) -> Result<Option<GrpoStep>, TrainError> {
    let step = trainer.steps_done() + 1;
    let policy = trainer.model().valid();
    let mut written = Vec::new();
    for index in 0..settings.groups * settings.group_size {
        if interrupted() {
            return Ok(None);
        }
        let asked = SampleSettings {
            prompt: settings.prompt.clone(),
            max_new_tokens: settings.max_new_tokens,
            temperature: 1.0,
            top_p: 1.0,
            seed: settings.seed_of(step, index),
        };
        let (tokens, prompt_len) =
            sample(&policy, tokenizer, &asked, max_len, device, |_, _| false).await.expect("never interrupted");
        let text = tokenizer.decode(&tokens[prompt_len..]);
        written.push((tokens, prompt_len, text));
    }
    let rewards: Vec<f64> = written.iter().map(|(_, _, text)| settings.rule.reward(text)).collect();
    let advantages = group_advantages(&rewards, settings.group_size);
    let seq_len = written.iter().map(|(tokens, _, _)| tokens.len() - 1).max().unwrap_or(1);
    let sequences: Vec<TrainingSequence> = written
        .iter()
        .map(|(tokens, prompt_len, _)| completion_sequence(tokens, *prompt_len, seq_len, tokenizer.eos_id()))
        .collect();
    let (loss, grad_norm) = trainer.grpo_step(&sequences, &advantages, settings.beta).await?;
    let mut scored = written
        .into_iter()
        .zip(rewards.iter().zip(&advantages))
        .map(|((_, _, text), (&reward, &advantage))| ScoredCompletion { text, reward, advantage });
    let groups = (0..settings.groups).map(|_| scored.by_ref().take(settings.group_size).collect()).collect();
    let mean_reward = rewards.iter().sum::<f64>() / rewards.len().max(1) as f64;
    Ok(Some(GrpoStep { step, mean_reward, loss, grad_norm, groups }))
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
