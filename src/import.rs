//! Converts a llama2.c checkpoint (`stories260K.bin`, "legacy" format) and its tokenizer (`tok512.bin`) into a
//! Hugging Face model folder: `config.json`, `model.safetensors`, `tokenizer.json`, `tokenizer_config.json`.
//!
//! llama2.c applies rotary embeddings to interleaved pairs (x0,x1),(x2,x3)…; Hugging Face's Llama rotates halves
//! (x_j with x_{j+d/2}). The two agree once the rows of q and k are permuted, as llama2.c's own `export.py` does.

use crate::export::{hf_config_json, Tensors};
use crate::model::LlamaConfig;
use crate::tokenizer::{tokenizer_config_json, tokenizer_json_from_llama2c};

/// The files of a Hugging Face model folder, as bytes (so the browser can hold them as well as a disk).
pub struct HfModelFiles {
    pub config_json: String,
    pub model_safetensors: Vec<u8>,
    pub tokenizer_json: String,
    pub tokenizer_config_json: String,
}

impl HfModelFiles {
    pub const FILE_NAMES: [&'static str; 4] =
        ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("config.json"), &self.config_json)?;
        std::fs::write(dir.join("model.safetensors"), &self.model_safetensors)?;
        std::fs::write(dir.join("tokenizer.json"), &self.tokenizer_json)?;
        std::fs::write(dir.join("tokenizer_config.json"), &self.tokenizer_config_json)
    }
}

/// Reads little-endian values off the front of the checkpoint, naming what was being read when it runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize, what: &str) -> Result<&[u8], String> {
        let end = self.offset + len;
        let slice = self.bytes.get(self.offset..end).ok_or_else(|| {
            format!("checkpoint is truncated: it ends at byte {} while reading {what}", self.bytes.len())
        })?;
        self.offset = end;
        Ok(slice)
    }

    fn i32(&mut self, what: &str) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    fn f32s(&mut self, count: usize, what: &str) -> Result<Vec<f32>, String> {
        Ok(self
            .take(count * 4, what)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect())
    }
}

/// The two orders of a q or k weight's rows within each head, one for each way of pairing dimensions in RoPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeRows {
    /// Pairs (x0,x1),(x2,x3)…: llama2.c's and llama.cpp's (GGUF) order.
    Interleaved,
    /// Pairs x_j with x_{j+d/2}: Hugging Face's, and this crate's model.
    RotateHalf,
}

/// Reorders the rows of a q or k weight `[heads * head_dim, in]` into `to`'s order from the other: within each
/// head, interleaved row `2i + j` is rotate-half row `j * head_dim/2 + i`. A row is `in_features` elements: values,
/// or the bytes of a quantized row.
pub fn permute_rope_rows<T: Copy + Default>(
    weight: &[T],
    heads: usize,
    head_dim: usize,
    in_features: usize,
    to: RopeRows,
) -> Vec<T> {
    let half = head_dim / 2;
    let mut permuted = vec![T::default(); weight.len()];
    for head in 0..heads {
        for i in 0..half {
            for j in 0..2 {
                let interleaved = (head * head_dim + 2 * i + j) * in_features;
                let rotate_half = (head * head_dim + j * half + i) * in_features;
                let (from, into) = match to {
                    RopeRows::RotateHalf => (interleaved, rotate_half),
                    RopeRows::Interleaved => (rotate_half, interleaved),
                };
                permuted[into..into + in_features].copy_from_slice(&weight[from..from + in_features]);
            }
        }
    }
    permuted
}

/// Converts llama2.c's checkpoint and tokenizer bytes into a Hugging Face folder's files.
pub fn convert_llama2c(checkpoint: &[u8], tokenizer: &[u8]) -> Result<HfModelFiles, String> {
    let mut reader = Reader { bytes: checkpoint, offset: 0 };
    let mut header = [0i32; 7];
    for value in &mut header {
        *value = reader.i32("the header")?;
    }
    let [dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len] = header;
    // A negative vocabulary size is llama2.c's way of saying the classifier is stored separately.
    let shared_classifier = vocab_size > 0;
    let sizes = [dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size.abs(), seq_len];
    if sizes.iter().any(|&v| v <= 0 || v > 1 << 20) || n_heads % n_kv_heads != 0 || dim % n_heads != 0 {
        return Err(format!("not a llama2.c checkpoint: implausible header {header:?}"));
    }
    let [dim, hidden, layers, heads, kv_heads, vocab, seq_len] = sizes.map(|v| v as usize);
    let head_dim = dim / heads;
    let kv_dim = kv_heads * head_dim;

    let mut tensors = Tensors::new();
    let mut per_layer = |reader: &mut Reader, name: &str, shape: [usize; 2], hf_name: &str| -> Result<(), String> {
        let rows_per_layer = shape[0] * shape[1];
        let all = reader.f32s(layers * rows_per_layer, name)?;
        for (layer, values) in all.chunks_exact(rows_per_layer).enumerate() {
            let values = match hf_name {
                "self_attn.q_proj" => permute_rope_rows(values, heads, head_dim, shape[1], RopeRows::RotateHalf),
                "self_attn.k_proj" => permute_rope_rows(values, kv_heads, head_dim, shape[1], RopeRows::RotateHalf),
                _ => values.to_vec(),
            };
            let shape = if shape[1] == 1 { vec![shape[0]] } else { shape.to_vec() };
            tensors.insert(format!("model.layers.{layer}.{hf_name}.weight"), (shape, values));
        }
        Ok(())
    };

    let embedding = reader.f32s(vocab * dim, "token_embedding")?;
    per_layer(&mut reader, "rms_att", [dim, 1], "input_layernorm")?;
    per_layer(&mut reader, "wq", [dim, dim], "self_attn.q_proj")?;
    per_layer(&mut reader, "wk", [kv_dim, dim], "self_attn.k_proj")?;
    per_layer(&mut reader, "wv", [kv_dim, dim], "self_attn.v_proj")?;
    per_layer(&mut reader, "wo", [dim, dim], "self_attn.o_proj")?;
    per_layer(&mut reader, "rms_ffn", [dim, 1], "post_attention_layernorm")?;
    per_layer(&mut reader, "w1", [hidden, dim], "mlp.gate_proj")?;
    per_layer(&mut reader, "w2", [dim, hidden], "mlp.down_proj")?;
    per_layer(&mut reader, "w3", [hidden, dim], "mlp.up_proj")?;
    let final_norm = reader.f32s(dim, "rms_final")?;
    reader.f32s(seq_len * head_dim, "the obsolete RoPE tables")?;
    if !shared_classifier {
        let classifier = reader.f32s(vocab * dim, "the classifier")?;
        tensors.insert("lm_head.weight".into(), (vec![vocab, dim], classifier));
    }
    tensors.insert("model.embed_tokens.weight".into(), (vec![vocab, dim], embedding));
    tensors.insert("model.norm.weight".into(), (vec![dim], final_norm));

    let config = LlamaConfig::new(vocab, dim, hidden, layers, heads, kv_heads, seq_len)
        .with_tie_word_embeddings(shared_classifier);
    let tokenizer_json = tokenizer_json_from_llama2c(tokenizer).map_err(|e| format!("tokenizer: {e}"))?;
    Ok(HfModelFiles {
        config_json: hf_config_json(&config),
        model_safetensors: crate::export::safetensors_bytes(&tensors),
        tokenizer_json,
        tokenizer_config_json: tokenizer_config_json(seq_len),
    })
}
