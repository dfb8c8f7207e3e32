//! Text generation: greedy, or temperature and nucleus (top-p) sampling with a seed, stopping at EOS or a limit.
//!
//! The prompt runs through the model once, then each new token alone, attending to the keys and values the model
//! cached for the positions before it ([`KvCache`]). Without the cache every new token re-runs the whole
//! sequence (kept for the benchmark that compares the two, and for the test that checks they agree).

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::model::{KvCache, LlamaForCausalLM};
use crate::protocol::{Inspection, SampleSettings, LIKELY_TOKENS};
use crate::sampling;
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
    generate_unless(model, prompt, config, eos_id, max_len, device, |_| false).await.expect("never interrupted")
}

/// [`generate`], giving up (`None`) as soon as `interrupted` says so; it is asked before every token, with the
/// tokens so far, prompt included (so a caller can show them as they come).
pub async fn generate_unless(
    model: &LlamaForCausalLM,
    prompt: &[u32],
    config: &GenerationConfig,
    eos_id: u32,
    max_len: usize,
    device: &Device,
    mut interrupted: impl FnMut(&[u32]) -> bool,
) -> Option<Vec<u32>> {
    let mut tokens = prompt.to_vec();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut cache = KvCache::default();
    for _ in 0..config.max_new_tokens {
        if tokens.len() >= max_len {
            break;
        }
        if interrupted(&tokens) {
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

/// One sample as the page and the task checks ask for it: the prompt as the model reads a request
/// ([`TextTokenizer::request_ids`]: after BOS, or through an instruction model's chat template), and what the
/// model writes after it, to its end-of-turn token. Returns the tokens and how many of them are the prompt, or
/// `None` if `interrupted` (see [`generate_unless`]; it is told the prompt's length too) said so before it was done.
pub async fn sample(
    model: &LlamaForCausalLM,
    tokenizer: &TextTokenizer,
    settings: &SampleSettings,
    max_len: usize,
    device: &Device,
    mut interrupted: impl FnMut(&[u32], usize) -> bool,
) -> Option<(Vec<u32>, usize)> {
    let prompt = tokenizer.request_ids(&settings.prompt);
    let config = settings.into();
    let interrupted = |tokens: &[u32]| interrupted(tokens, prompt.len());
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
    sampling::draw(&sampling::next_token_distribution(logits, config.temperature, config.top_p), rng)
}

/// What the base model reads in `text` followed by the tokens `then`, and the distribution of the token after
/// them, predicted from the last `max_len` tokens (the model's context): the answer to the page's `Inspect`,
/// also recorded at build time for the demos that show it.
pub async fn inspect(
    model: &LlamaForCausalLM,
    tokenizer: &TextTokenizer,
    request_id: u32,
    text: &str,
    then: &[u32],
    max_len: usize,
    device: &Device,
) -> Inspection {
    let mut tokens = tokenizer.start_ids().to_vec();
    tokens.extend(tokenizer.encode(text));
    // Ids outside the vocabulary would index past the embedding: the page only appends ids it was offered.
    tokens.extend(then.iter().copied().filter(|&id| (id as usize) < tokenizer.vocab_size()));
    let next_logits = last_position_logits(model, &tokens[tokens.len().saturating_sub(max_len)..], device).await;
    let likely = sampling::next_token_distribution(&next_logits, 1.0, 1.0)
        .iter()
        .take(LIKELY_TOKENS)
        .map(|ranked| tokenizer.piece(ranked.token))
        .collect();
    Inspection {
        request_id,
        text: tokenizer.decode(&tokens),
        tokens: tokens.iter().map(|&id| tokenizer.piece(id)).collect(),
        next_logits,
        likely,
    }
}
