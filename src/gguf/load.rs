//! A Llama GGUF (llama.cpp's, as `convert_hf_to_gguf.py` writes it) read back as our model: the config from the
//! `llama.*` metadata, and every weight under its Hugging Face name, in Hugging Face's row order, still in the
//! file's type (so a 4-bit base can stay 4-bit, [`load`]; [`GgufWeight::dequantize`] gives f32).
//!
//! llama.cpp's converter reorders the rows of q and k into its interleaved rotary layout; they go back to
//! rotate-half here. A row of a quantized weight is whole blocks, so its bytes move as they are.

use std::collections::HashMap;

use burn::prelude::Device;

use super::llama::block_tensor;
use super::quant::GgmlType;
use super::read::GgufView;
use crate::export::{hf_config_json, hf_tensor, load_weights, safetensors_bytes, Tensors};
use crate::import::{permute_rope_rows, HfModelFiles, RopeRows};
use crate::model::{LlamaConfig, LlamaForCausalLM};
use crate::q4_linear::Q4Linear;
use crate::settings::{Choice, Projection};
use crate::tokenizer::gguf::hf_tokenizer_files;
use crate::tokenizer::TextTokenizer;

/// One weight as the file stores it, rows in Hugging Face's order.
#[derive(Clone, Debug, PartialEq)]
pub struct GgufWeight {
    /// Row-major, outermost first: `[out, in]` for a projection.
    pub shape: Vec<usize>,
    pub kind: GgmlType,
    pub bytes: Vec<u8>,
}

impl GgufWeight {
    pub fn dequantize(&self) -> Result<Vec<f32>, String> {
        self.kind.dequantize(&self.bytes)
    }
}

/// The model's config from the file's metadata. Only Llama files are read, and only what this model can run.
pub fn config(view: &GgufView) -> Result<LlamaConfig, String> {
    let architecture = view.str("general.architecture")?;
    if architecture != "llama" {
        return Err(format!("the model's architecture is {architecture}; only llama models can be read"));
    }
    let count = |key: &str| view.usize(&format!("llama.{key}"));
    let heads = count("attention.head_count")?;
    let hidden = count("embedding_length")?;
    let vocab = match count("vocab_size") {
        Ok(vocab) => vocab,
        Err(_) => view.strings("tokenizer.ggml.tokens")?.len(),
    };
    let mut config = LlamaConfig::new(
        vocab,
        hidden,
        count("feed_forward_length")?,
        count("block_count")?,
        heads,
        count("attention.head_count_kv").unwrap_or(heads),
        count("context_length")?,
    )
    .with_rms_norm_eps(view.f64("llama.attention.layer_norm_rms_epsilon")?)
    .with_tie_word_embeddings(!view.tensors.contains_key("output.weight"));
    if let Ok(theta) = view.f64("llama.rope.freq_base") {
        config = config.with_rope_theta(theta);
    }
    if let Ok(bos) = view.usize("tokenizer.ggml.bos_token_id") {
        config = config.with_bos_token_id(bos as u32);
    }
    if let Ok(eos) = view.usize("tokenizer.ggml.eos_token_id") {
        config = config.with_eos_token_id(eos as u32);
    }
    if heads == 0 || hidden % heads != 0 || heads % config.num_key_value_heads.max(1) != 0 {
        return Err(format!(
            "{heads} attention heads ({} key/value heads) do not divide the width {hidden}",
            config.num_key_value_heads
        ));
    }
    if let Ok(rotary) = count("rope.dimension_count") {
        if rotary != config.head_dim() {
            return Err(format!(
                "rotary embeddings cover {rotary} of each head's {} dimensions; this model rotates them all",
                config.head_dim()
            ));
        }
    }
    if let Ok(scaling) = view.str("llama.rope.scaling.type") {
        if scaling != "none" {
            return Err(format!("rotary scaling {scaling:?} is not supported"));
        }
    }
    Ok(config)
}

/// Every weight of the model under its Hugging Face name (`model.layers.0.self_attn.q_proj.weight`), checked
/// against `config`'s shapes.
pub fn weights(view: &GgufView, config: &LlamaConfig) -> Result<Vec<(String, GgufWeight)>, String> {
    // Each layer has 9 tensors; the counts come from the file, so they are checked before anything is listed.
    let expected = config
        .num_hidden_layers
        .checked_mul(9)
        .and_then(|n| n.checked_add(2 + usize::from(!config.tie_word_embeddings)));
    if expected.is_none_or(|expected| expected > view.tensors.len()) {
        return Err(format!(
            "the metadata describes {} layers, but the file holds {} tensors (9 a layer and 2 more)",
            config.num_hidden_layers,
            view.tensors.len()
        ));
    }
    let kv = config.num_key_value_heads * config.head_dim();
    let (hidden, mlp) = (config.hidden_size, config.intermediate_size);
    let mut named = vec![(
        "model.embed_tokens.weight".to_string(),
        "token_embd.weight".to_string(),
        vec![config.vocab_size, hidden],
    )];
    for layer in 0..config.num_hidden_layers {
        named.push((
            format!("model.layers.{layer}.input_layernorm.weight"),
            format!("blk.{layer}.attn_norm.weight"),
            vec![hidden],
        ));
        for &projection in Projection::ALL {
            let shape = match projection {
                Projection::QProj | Projection::OProj => vec![hidden, hidden],
                Projection::KProj | Projection::VProj => vec![kv, hidden],
                Projection::GateProj | Projection::UpProj => vec![mlp, hidden],
                Projection::DownProj => vec![hidden, mlp],
            };
            named.push((hf_tensor(layer, projection), block_tensor(layer, projection), shape));
        }
        named.push((
            format!("model.layers.{layer}.post_attention_layernorm.weight"),
            format!("blk.{layer}.ffn_norm.weight"),
            vec![hidden],
        ));
    }
    named.push(("model.norm.weight".into(), "output_norm.weight".into(), vec![hidden]));
    if !config.tie_word_embeddings {
        named.push(("lm_head.weight".into(), "output.weight".into(), vec![config.vocab_size, hidden]));
    }
    named
        .into_iter()
        .map(|(hf, gguf, shape)| {
            let (info, bytes) = view.tensor(&gguf)?;
            if info.shape != shape {
                return Err(format!(
                    "tensor {gguf} has shape {:?}; the model's metadata calls for {shape:?}",
                    info.shape
                ));
            }
            let heads = if gguf.ends_with("attn_q.weight") {
                Some(config.num_attention_heads)
            } else if gguf.ends_with("attn_k.weight") {
                Some(config.num_key_value_heads)
            } else {
                None
            };
            let bytes = match heads {
                Some(heads) => {
                    let row = info.kind.bytes_for(shape[1]).ok_or_else(|| {
                        format!("tensor {gguf}: rows of {} values are not whole {:?} blocks", shape[1], info.kind)
                    })?;
                    permute_rope_rows(bytes, heads, config.head_dim(), row, RopeRows::RotateHalf)
                }
                None => bytes.to_vec(),
            };
            Ok((hf, GgufWeight { shape, kind: info.kind, bytes }))
        })
        .collect()
}

/// [`weights`], every one in f32.
pub fn dequantized(weights: Vec<(String, GgufWeight)>) -> Result<Tensors, String> {
    weights.into_iter().map(|(name, weight)| Ok((name, (weight.shape.clone(), weight.dequantize()?)))).collect()
}

/// The GGUF's model on `device` with its tokenizer. With `four_bit`, its Q4_1 projections stay 4-bit
/// ([`Q4Linear`]: QLoRA's frozen base) and only the rest (embedding, norms, projections of other types) is
/// dequantized to f32; without, every weight is f32.
pub fn load(
    bytes: &[u8],
    four_bit: bool,
    device: &Device,
) -> Result<(LlamaConfig, LlamaForCausalLM, TextTokenizer), String> {
    let view = GgufView::parse(bytes)?;
    let config = config(&view)?;
    check_vocabulary(&view, &config)?;
    let mut dense = Vec::new();
    let mut quantized = HashMap::new();
    let names: HashMap<String, (usize, Projection)> = (0..config.num_hidden_layers)
        .flat_map(|layer| {
            Projection::ALL.iter().map(move |&projection| (hf_tensor(layer, projection), (layer, projection)))
        })
        .collect();
    for (name, weight) in weights(&view, &config)? {
        match names.get(&name) {
            Some(&key) if four_bit && weight.kind == GgmlType::Q4_1 => {
                let q4 = Q4Linear::from_q4_1(weight.shape[0], weight.shape[1], &weight.bytes, device)
                    .map_err(|e| format!("{name}: {e}"))?;
                quantized.insert(key, q4);
            }
            _ => dense.push((name, weight)),
        }
    }
    let model = config.init_with(device, |layer, projection| quantized.remove(&(layer, projection)));
    let model = load_weights(model, &safetensors_bytes(&dequantized(dense)?))?;
    let (tokenizer_json, tokenizer_config_json) = hf_tokenizer_files(&view).map_err(|e| e.to_string())?;
    let tokenizer = TextTokenizer::from_files(tokenizer_json.as_bytes(), tokenizer_config_json.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok((config, model, tokenizer))
}

fn check_vocabulary(view: &GgufView, config: &LlamaConfig) -> Result<(), String> {
    let tokens = view.strings("tokenizer.ggml.tokens")?.len();
    if tokens != config.vocab_size {
        return Err(format!("the tokenizer has {tokens} tokens, but the model's embedding {}", config.vocab_size));
    }
    Ok(())
}

/// The GGUF as a Hugging Face model folder: `config.json`, `model.safetensors` (every weight dequantized to f32),
/// and the tokenizer's `tokenizer.json` and `tokenizer_config.json` (chat template included).
pub fn hf_folder(bytes: &[u8]) -> Result<HfModelFiles, String> {
    let view = GgufView::parse(bytes)?;
    let config = config(&view)?;
    check_vocabulary(&view, &config)?;
    let tensors = dequantized(weights(&view, &config)?)?;
    let (tokenizer_json, tokenizer_config_json) = hf_tokenizer_files(&view).map_err(|e| e.to_string())?;
    Ok(HfModelFiles {
        config_json: hf_config_json(&config),
        model_safetensors: safetensors_bytes(&tensors),
        tokenizer_json,
        tokenizer_config_json,
    })
}
