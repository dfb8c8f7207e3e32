//! Our Llama as llama.cpp reads it: a Hugging Face folder's weights and tokenizer as a GGUF model file, and a PEFT
//! LoRA adapter as a GGUF adapter file. The names, keys and layouts are those of llama.cpp's own converters
//! (`convert_hf_to_gguf.py`, `convert_lora_to_gguf.py`), with two differences said where they are made.

use super::file::{GgufFile, Value};
use crate::export::{hf_tensor, peft_factor, Tensors};
use crate::import::{permute_rope_rows, RopeRows};
use crate::lora::LoraConfig;
use crate::model::LlamaConfig;
use crate::settings::{Choice, Projection};

/// llama.cpp's name for a projection's weight in block `layer`.
pub(super) fn block_tensor(layer: usize, projection: Projection) -> String {
    let name = match projection {
        Projection::QProj => "attn_q",
        Projection::KProj => "attn_k",
        Projection::VProj => "attn_v",
        Projection::OProj => "attn_output",
        Projection::GateProj => "ffn_gate",
        Projection::UpProj => "ffn_up",
        Projection::DownProj => "ffn_down",
    };
    format!("blk.{layer}.{name}.weight")
}

/// q and k rows go back to llama.cpp's interleaved RoPE order (our import put them in Hugging Face's); for an
/// adapter, the rows of `lora_B`, the factor whose rows are the weight's rows. Everything else is as it is.
fn rows_for_llama_cpp(config: &LlamaConfig, projection: Projection, shape: &[usize], values: Vec<f32>) -> Vec<f32> {
    let heads = match projection {
        Projection::QProj => config.num_attention_heads,
        Projection::KProj => config.num_key_value_heads,
        _ => return values,
    };
    permute_rope_rows(&values, heads, config.head_dim(), shape[1], RopeRows::Interleaved)
}

/// Takes tensor `name` out of `tensors`, or says which file lacks it.
fn take(tensors: &mut Tensors, name: &str, file: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    tensors.remove(name).ok_or_else(|| format!("{file} has no tensor {name}"))
}

/// The architecture keys both kinds of file carry.
fn set_architecture(gguf: &mut GgufFile, kind: &str, name: &str) {
    gguf.set("general.architecture", Value::String("llama".into()));
    gguf.set("general.type", Value::String(kind.into()));
    gguf.set("general.name", Value::String(name.into()));
}

/// A model file: hyperparameters, the tokenizer, and every weight (`tensors` by Hugging Face's names, as a
/// folder whose `config.json` is `config` has them; `tokenizer.json` its tokenizer). A tied output layer is left
/// out, as llama.cpp's converter does: llama.cpp then reads the embedding for it.
pub fn model_gguf(config: &LlamaConfig, tensors: Tensors, tokenizer_json: &str, name: &str) -> Result<Vec<u8>, String> {
    let file = "model.safetensors";
    let mut tensors = tensors;
    let mut gguf = GgufFile::default();
    set_architecture(&mut gguf, "model", name);
    let count = |n: usize| Value::U32(n as u32);
    gguf.set("general.file_type", Value::U32(0)); // all F32
    gguf.set("llama.vocab_size", count(config.vocab_size));
    gguf.set("llama.context_length", count(config.max_position_embeddings));
    gguf.set("llama.embedding_length", count(config.hidden_size));
    gguf.set("llama.block_count", count(config.num_hidden_layers));
    gguf.set("llama.feed_forward_length", count(config.intermediate_size));
    gguf.set("llama.rope.dimension_count", count(config.head_dim()));
    gguf.set("llama.attention.head_count", count(config.num_attention_heads));
    gguf.set("llama.attention.head_count_kv", count(config.num_key_value_heads));
    gguf.set("llama.attention.layer_norm_rms_epsilon", Value::F32(config.rms_norm_eps as f32));
    gguf.set("llama.rope.freq_base", Value::F32(config.rope_theta as f32));
    set_vocabulary(&mut gguf, config, tokenizer_json)?;

    let (shape, values) = take(&mut tensors, "model.embed_tokens.weight", file)?;
    gguf.add_tensor("token_embd.weight", &shape, values);
    for layer in 0..config.num_hidden_layers {
        let (shape, values) = take(&mut tensors, &format!("model.layers.{layer}.input_layernorm.weight"), file)?;
        gguf.add_tensor(&format!("blk.{layer}.attn_norm.weight"), &shape, values);
        for &projection in Projection::ALL {
            let (shape, values) = take(&mut tensors, &hf_tensor(layer, projection), file)?;
            let values = rows_for_llama_cpp(config, projection, &shape, values);
            gguf.add_tensor(&block_tensor(layer, projection), &shape, values);
        }
        let norm = format!("model.layers.{layer}.post_attention_layernorm.weight");
        let (shape, values) = take(&mut tensors, &norm, file)?;
        gguf.add_tensor(&format!("blk.{layer}.ffn_norm.weight"), &shape, values);
    }
    let (shape, values) = take(&mut tensors, "model.norm.weight", file)?;
    gguf.add_tensor("output_norm.weight", &shape, values);
    if !config.tie_word_embeddings {
        let (shape, values) = take(&mut tensors, "lm_head.weight", file)?;
        gguf.add_tensor("output.weight", &shape, values);
    }
    Ok(gguf.to_bytes())
}

/// llama.cpp's SentencePiece-style vocabulary (`tokenizer.ggml.model = "llama"`) from a `tokenizer.json` with a
/// byte-fallback BPE model: tokens by id, their kinds, and scores. llama.cpp's tokenizer merges the adjacent pair
/// whose joined text has the highest score; a BPE merges the pair of lowest rank. So each token made by merge
/// number k scores −k, and both merge in the same order. (llama.cpp's converter gives every token −1000 here,
/// which leaves the merge order to chance; our tokens would then differ from `tokenizers`'.)
fn set_vocabulary(gguf: &mut GgufFile, config: &LlamaConfig, tokenizer_json: &str) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_str(tokenizer_json).map_err(|e| format!("tokenizer.json: {e}"))?;
    let model = &json["model"];
    if model["type"] != "BPE" || model["byte_fallback"] != true {
        return Err("tokenizer.json: only a byte-fallback BPE tokenizer (SentencePiece's) can be written".into());
    }
    let vocab = model["vocab"].as_object().ok_or("tokenizer.json: `model.vocab` is not a map of tokens to ids")?;
    let mut tokens = vec![None; vocab.len()];
    for (text, id) in vocab {
        let id = id.as_u64().filter(|&id| (id as usize) < tokens.len());
        let id = id.ok_or_else(|| format!("tokenizer.json: token {text:?} has an id outside 0..{}", vocab.len()))?;
        tokens[id as usize] = Some(text.clone());
    }
    let tokens: Vec<String> = tokens
        .into_iter()
        .enumerate()
        .map(|(id, text)| text.ok_or_else(|| format!("tokenizer.json: no token has id {id}")))
        .collect::<Result<_, _>>()?;
    if tokens.len() != config.vocab_size {
        return Err(format!("tokenizer.json has {} tokens, config.json says {}", tokens.len(), config.vocab_size));
    }
    let merges = model["merges"].as_array().ok_or("tokenizer.json: `model.merges` is missing")?;
    let mut scores = vec![0.0f32; tokens.len()];
    for (rank, merge) in merges.iter().enumerate() {
        // Older files write a merge as "a b", newer ones as ["a", "b"].
        let joined = match merge {
            serde_json::Value::String(pair) => pair.replacen(' ', "", 1),
            serde_json::Value::Array(pair) => pair.iter().filter_map(|part| part.as_str()).collect(),
            _ => return Err(format!("tokenizer.json: merge {rank} is neither \"a b\" nor [\"a\", \"b\"]")),
        };
        if let Some(id) = vocab.get(&joined).and_then(|id| id.as_u64()) {
            scores[id as usize] = -(rank as f32);
        }
    }
    let special: Vec<u64> = json["added_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|token| token["special"] == true)
        .filter_map(|token| token["id"].as_u64())
        .collect();
    let unknown = model["unk_token"].as_str().and_then(|text| vocab.get(text)).and_then(|id| id.as_u64());
    // llama.cpp's token kinds: 1 normal, 2 unknown, 3 control, 6 byte.
    let kinds = tokens
        .iter()
        .enumerate()
        .map(|(id, text)| {
            let id = id as u64;
            let is_byte = text.len() == 6 && text.starts_with("<0x") && text.ends_with('>');
            match () {
                _ if Some(id) == unknown => 2,
                _ if special.contains(&id) => 3,
                _ if is_byte => 6,
                _ => 1,
            }
        })
        .collect();
    gguf.set("tokenizer.ggml.model", Value::String("llama".into()));
    gguf.set("tokenizer.ggml.pre", Value::String("default".into()));
    gguf.set("tokenizer.ggml.tokens", Value::Strings(tokens));
    gguf.set("tokenizer.ggml.scores", Value::F32s(scores));
    gguf.set("tokenizer.ggml.token_type", Value::I32s(kinds));
    gguf.set("tokenizer.ggml.bos_token_id", Value::U32(config.bos_token_id));
    gguf.set("tokenizer.ggml.eos_token_id", Value::U32(config.eos_token_id));
    if let Some(unknown) = unknown {
        gguf.set("tokenizer.ggml.unknown_token_id", Value::U32(unknown as u32));
    }
    gguf.set("tokenizer.ggml.add_bos_token", Value::Bool(true));
    gguf.set("tokenizer.ggml.add_eos_token", Value::Bool(false));
    Ok(())
}

/// An adapter file: `adapter.lora.alpha` and each target's `lora_a` and `lora_b` (`tensors` of PEFT's
/// `adapter_model.safetensors`, settings `lora`, for a model whose config is `config`).
pub fn adapter_gguf(config: &LlamaConfig, lora: &LoraConfig, tensors: &Tensors, name: &str) -> Result<Vec<u8>, String> {
    let file = "adapter_model.safetensors";
    let mut tensors = tensors.clone();
    let mut gguf = GgufFile::default();
    set_architecture(&mut gguf, "adapter", name);
    gguf.set("adapter.type", Value::String("lora".into()));
    // llama.cpp scales by alpha / r. rsLoRA scales by alpha / √r, so its alpha is written as alpha·√r, which
    // llama.cpp's converter does not do (it would apply rsLoRA adapters at the wrong strength).
    gguf.set("adapter.lora.alpha", Value::F32((lora.scaling() * lora.r as f64) as f32));
    for layer in 0..config.num_hidden_layers {
        for &projection in &lora.target_modules {
            let (a_shape, a) = take(&mut tensors, &peft_factor(layer, projection, "lora_A"), file)?;
            let (b_shape, b) = take(&mut tensors, &peft_factor(layer, projection, "lora_B"), file)?;
            let b = rows_for_llama_cpp(config, projection, &b_shape, b);
            let target = block_tensor(layer, projection);
            gguf.add_tensor(&format!("{target}.lora_a"), &a_shape, a);
            gguf.add_tensor(&format!("{target}.lora_b"), &b_shape, b);
        }
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(format!("{file}: tensor {extra} is not a LoRA factor of the adapter's targets"));
    }
    Ok(gguf.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_rows_go_back_to_interleaved_order_and_others_stay() {
        // 1 head of dimension 4, one input: rotate-half rows [x0, x2, x1, x3] are interleaved [x0, x1, x2, x3].
        let config = LlamaConfig::new(8, 4, 8, 1, 1, 1, 16);
        let rotate_half = vec![0.0, 2.0, 1.0, 3.0];
        assert_eq!(rows_for_llama_cpp(&config, Projection::QProj, &[4, 1], rotate_half.clone()), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(rows_for_llama_cpp(&config, Projection::VProj, &[4, 1], rotate_half.clone()), rotate_half);
        // And the import's permutation is its inverse.
        let there = permute_rope_rows(&[5.0, 6.0, 7.0, 8.0], 1, 4, 1, RopeRows::RotateHalf);
        assert_eq!(permute_rope_rows(&there, 1, 4, 1, RopeRows::Interleaved), [5.0, 6.0, 7.0, 8.0]);
    }
}
