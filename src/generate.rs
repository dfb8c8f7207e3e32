//! Text generation: greedy, or temperature and nucleus (top-p) sampling with a seed, stopping at EOS or a limit.
//!
//! The prompt runs through the model once, then each new token alone, attending to the keys and values the model
//! cached for the positions before it ([`KvCache`]). Without the cache every new token re-runs the whole
//! sequence (kept for the benchmark that compares the two, and for the test that checks they agree).

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{KvCache, LlamaForCausalLM};
use crate::protocol::SampleSettings;
use crate::tokenizer::TextTokenizer;

#[derive(Config, Debug)]
pub struct GenerationConfig {
    pub max_new_tokens: usize,
    /// 0 means greedy: always the most likely token.
    #[config(default = 0.0)]
    pub temperature: f64,
    /// Sample only among the most likely tokens whose probabilities add up to `top_p`.
    #[config(default = 1.0)]
    pub top_p: f64,
    #[config(default = 0)]
    pub seed: u64,
    /// Reuse the keys and values of earlier positions (the same tokens, far less work).
    #[config(default = true)]
    pub kv_cache: bool,
}

impl From<&SampleSettings> for GenerationConfig {
    fn from(sample: &SampleSettings) -> Self {
        GenerationConfig::new(sample.max_new_tokens)
            .with_temperature(sample.temperature)
            .with_top_p(sample.top_p)
            .with_seed(sample.seed)
    }
}

/// Continues `prompt` (token ids, BOS included) and returns prompt and continuation together.
/// Stops early after emitting `eos_id`, or when the sequence reaches `max_len` (the model's context).
/// Async because reading logits back from a GPU in the browser is; natively, drive it with `pollster::block_on`.
pub async fn generate(
    model: &LlamaForCausalLM,
    prompt: &[u32],
    config: &GenerationConfig,
    eos_id: u32,
    max_len: usize,
    device: &Device,
) -> Vec<u32> {
    generate_unless(model, prompt, config, eos_id, max_len, device, || false).await.expect("never interrupted")
}

/// [`generate`], giving up (`None`) as soon as `interrupted` says so; it is asked before every token.
pub async fn generate_unless(
    model: &LlamaForCausalLM,
    prompt: &[u32],
    config: &GenerationConfig,
    eos_id: u32,
    max_len: usize,
    device: &Device,
    mut interrupted: impl FnMut() -> bool,
) -> Option<Vec<u32>> {
    let mut tokens = prompt.to_vec();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut cache = KvCache::default();
    for _ in 0..config.max_new_tokens {
        if tokens.len() >= max_len {
            break;
        }
        if interrupted() {
            return None;
        }
        let next_logits = if config.kv_cache {
            // The first time the whole prompt, then only the token picked last.
            let new = &tokens[cache.positions()..];
            read_last_position(model.forward_cached(token_tensor(new, device), &mut cache)).await
        } else {
            last_position_logits(model, &tokens, device).await
        };
        let next = pick_token(&next_logits, config, &mut rng);
        tokens.push(next);
        if next == eos_id {
            break;
        }
    }
    Some(tokens)
}

/// One sample as the page and the task checks ask for it: BOS, the prompt, and the continuation. Returns the
/// tokens and how many of them are BOS and prompt, or `None` if `interrupted` said so before it was done.
pub async fn sample(
    model: &LlamaForCausalLM,
    tokenizer: &TextTokenizer,
    settings: &SampleSettings,
    max_len: usize,
    device: &Device,
    interrupted: impl FnMut() -> bool,
) -> Option<(Vec<u32>, usize)> {
    let mut prompt = vec![tokenizer.bos_id()];
    prompt.extend(tokenizer.encode(&settings.prompt));
    let config = settings.into();
    let tokens = generate_unless(model, &prompt, &config, tokenizer.eos_id(), max_len, device, interrupted).await?;
    Some((tokens, prompt.len()))
}

/// The logits for the token after `tokens`, running the model over all of them.
pub async fn last_position_logits(model: &LlamaForCausalLM, tokens: &[u32], device: &Device) -> Vec<f32> {
    read_last_position(model.forward(token_tensor(tokens, device))).await
}

/// `[1, seq]` token ids.
fn token_tensor(tokens: &[u32], device: &Device) -> Tensor<2, Int> {
    Tensor::<1, Int>::from_ints(tokens.iter().map(|&t| t as i64).collect::<Vec<_>>().as_slice(), device).unsqueeze()
}

/// The last position's row of `[1, seq, vocab]` logits, read back from the device.
async fn read_last_position(logits: Tensor<3>) -> Vec<f32> {
    let [_, seq_len, vocab] = logits.dims();
    let last = logits.slice(s![0, seq_len - 1, ..]).reshape([vocab]);
    last.into_data_async().await.expect("reading logits from the device").try_to_vec::<f32>().expect("f32 logits")
}

/// Greedy, or a seeded draw from the temperature-scaled distribution truncated to the top-p nucleus.
fn pick_token(logits: &[f32], config: &GenerationConfig, rng: &mut StdRng) -> u32 {
    if config.temperature <= 0.0 {
        return argmax(logits);
    }
    // A softmax over one short vector: plain arithmetic, no tensor round trip.
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = logits.iter().map(|&l| ((l as f64 - max) / config.temperature).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut ranked: Vec<(usize, f64)> = weights.into_iter().map(|w| w / total).enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut nucleus = Vec::new();
    let mut mass = 0.0;
    for (token, p) in ranked {
        nucleus.push((token, p));
        mass += p;
        if mass >= config.top_p {
            break;
        }
    }
    let mut draw = rng.random::<f64>() * mass;
    for &(token, p) in &nucleus {
        draw -= p;
        if draw <= 0.0 {
            return token as u32;
        }
    }
    nucleus.last().expect("the nucleus holds at least one token").0 as u32
}

fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_picks_the_largest_logit_and_the_first_on_ties() {
        let config = GenerationConfig::new(1);
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(pick_token(&[0.1, 3.0, -1.0, 3.0], &config, &mut rng), 1);
    }

    #[test]
    fn a_tiny_top_p_keeps_only_the_most_likely_token() {
        let config = GenerationConfig::new(1).with_temperature(1.0).with_top_p(0.01);
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..20 {
            assert_eq!(pick_token(&[0.0, 2.0, 1.0], &config, &mut rng), 1);
        }
    }

    #[test]
    fn sampling_follows_the_distribution_and_the_seed() {
        let config = GenerationConfig::new(1).with_temperature(1.0);
        let logits = [0.0f32, (3.0f32).ln()]; // probabilities 1/4 and 3/4
        let draws = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..4000).map(|_| pick_token(&logits, &config, &mut rng)).collect::<Vec<_>>()
        };
        let ones = draws(3).iter().filter(|&&t| t == 1).count() as f64 / 4000.0;
        assert!((ones - 0.75).abs() < 0.03, "{ones}");
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }
}
