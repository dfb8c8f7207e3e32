//! A Llama-architecture decoder in Burn, read top to bottom in the order data flows:
//! config → rotary position embeddings → grouped-query attention → SwiGLU feed-forward → decoder layer → model.
//!
//! Module and field names follow Hugging Face's `LlamaForCausalLM` (`model.layers.{i}.self_attn.q_proj`, …) so
//! that a Hugging Face checkpoint and a PEFT adapter map onto it one to one. Every projection is a
//! [`LoraLinear`]: a frozen-or-trainable base `Linear` plus an optional LoRA adapter.

use burn::nn::{Embedding, EmbeddingConfig, Initializer, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::{silu, softmax};
use burn::tensor::module::linear;

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::lora::{LoraConfig, LoraLinear};
use crate::settings::{Choice, Projection};

/// The model's shape, with the field names of Hugging Face's `LlamaConfig` (so `config.json` reads directly).
#[derive(Config, Debug, PartialEq)]
pub struct LlamaConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub max_position_embeddings: usize,
    #[config(default = 1e-5)]
    pub rms_norm_eps: f64,
    #[config(default = 10000.0)]
    pub rope_theta: f64,
    /// The output classifier reuses the token embedding (stories260K does).
    #[config(default = true)]
    pub tie_word_embeddings: bool,
    #[config(default = 1)]
    pub bos_token_id: u32,
    #[config(default = 2)]
    pub eos_token_id: u32,
}

impl LlamaConfig {
    /// The sizes the page needs for parameter counts and memory estimates, without Burn.
    pub fn shape(&self) -> crate::protocol::ModelShape {
        crate::protocol::ModelShape {
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_hidden_layers: self.num_hidden_layers,
            num_attention_heads: self.num_attention_heads,
            num_key_value_heads: self.num_key_value_heads,
        }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Builds the model with every weight zero: loading a checkpoint fills them, so random init would be wasted.
    pub fn init(&self, device: &Device) -> LlamaForCausalLM {
        let projection = |d_input, d_output| {
            LoraLinear::new(
                LinearConfig::new(d_input, d_output).with_bias(false).with_initializer(Initializer::Zeros).init(device),
            )
        };
        let kv_dim = self.num_key_value_heads * self.head_dim();
        let norm = || RmsNormConfig::new(self.hidden_size).with_epsilon(self.rms_norm_eps).init(device);
        let layers = (0..self.num_hidden_layers)
            .map(|_| LlamaDecoderLayer {
                self_attn: LlamaAttention {
                    q_proj: projection(self.hidden_size, self.hidden_size),
                    k_proj: projection(self.hidden_size, kv_dim),
                    v_proj: projection(self.hidden_size, kv_dim),
                    o_proj: projection(self.hidden_size, self.hidden_size),
                    num_heads: self.num_attention_heads,
                    num_kv_heads: self.num_key_value_heads,
                    head_dim: self.head_dim(),
                    rope_theta: self.rope_theta,
                },
                mlp: LlamaMlp {
                    gate_proj: projection(self.hidden_size, self.intermediate_size),
                    up_proj: projection(self.hidden_size, self.intermediate_size),
                    down_proj: projection(self.intermediate_size, self.hidden_size),
                },
                input_layernorm: norm(),
                post_attention_layernorm: norm(),
            })
            .collect();
        let embed_tokens =
            EmbeddingConfig::new(self.vocab_size, self.hidden_size).with_initializer(Initializer::Zeros).init(device);
        let lm_head = (!self.tie_word_embeddings).then(|| projection(self.hidden_size, self.vocab_size));
        LlamaForCausalLM { model: LlamaModel { embed_tokens, layers, norm: norm() }, lm_head }
    }
}

/// Rotary position embeddings in Hugging Face's "rotate half" form: dimension j is paired with j + head_dim/2.
/// (llama2.c pairs neighbours instead; the importer permutes q/k rows so both give the same model.)
fn apply_rotary(x: Tensor<4>, theta: f64) -> Tensor<4> {
    let [_, _, seq_len, head_dim] = x.dims();
    let half = head_dim / 2;
    let device = x.device();
    let inv_freq: Vec<f32> = (0..half).map(|j| 1.0 / theta.powf(2.0 * j as f64 / head_dim as f64) as f32).collect();
    let positions = Tensor::<1, Int>::arange(0..seq_len as i64, &device).float().reshape([seq_len, 1]);
    let freqs = positions.matmul(Tensor::<1>::from_floats(inv_freq.as_slice(), &device).reshape([1, half])); // [seq, half]
    let angles = Tensor::cat(vec![freqs.clone(), freqs], 1).unsqueeze::<4>(); // [1, 1, seq, head_dim]
    let rotated = Tensor::cat(vec![x.clone().narrow(3, half, half).neg(), x.clone().narrow(3, 0, half)], 3);
    x * angles.clone().cos() + rotated * angles.sin()
}

#[derive(Module, Debug)]
pub struct LlamaAttention {
    pub q_proj: LoraLinear,
    pub k_proj: LoraLinear,
    pub v_proj: LoraLinear,
    pub o_proj: LoraLinear,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rope_theta: f64,
}

impl LlamaAttention {
    /// Causal grouped-query self-attention: `num_heads / num_kv_heads` query heads share each key/value head.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq_len, hidden] = x.dims();
        let heads = |projected: Tensor<3>, count: usize| {
            projected.reshape([batch, seq_len, count, self.head_dim]).swap_dims(1, 2)
            // [batch, heads, seq, head_dim]
        };
        let q = apply_rotary(heads(self.q_proj.forward(x.clone()), self.num_heads), self.rope_theta);
        let k = apply_rotary(heads(self.k_proj.forward(x.clone()), self.num_kv_heads), self.rope_theta);
        let v = heads(self.v_proj.forward(x), self.num_kv_heads);

        // Repeat each key/value head for the query heads that share it (query head h uses kv head h / group).
        let group = self.num_heads / self.num_kv_heads;
        let repeat = |t: Tensor<4>| {
            t.unsqueeze_dim::<5>(2).repeat_dim(2, group).reshape([batch, self.num_heads, seq_len, self.head_dim])
        };
        let (k, v) = (repeat(k), repeat(v));

        let scores = q.matmul(k.swap_dims(2, 3)) / (self.head_dim as f64).sqrt(); // [batch, heads, seq, seq]
                                                                                  // True above the diagonal: Burn's `tril_mask` marks what lies outside the lower triangle.
        let future = Tensor::<2, Bool>::tril_mask([seq_len, seq_len], 0, &scores.device());
        let causal = Tensor::<2>::zeros([seq_len, seq_len], &scores.device())
            .mask_fill(future, f32::NEG_INFINITY)
            .unsqueeze::<4>();
        let attention = softmax(scores + causal, 3);
        let out = attention.matmul(v).swap_dims(1, 2).reshape([batch, seq_len, hidden]); // [batch, seq, hidden]
        self.o_proj.forward(out)
    }
}

/// SwiGLU feed-forward: `down(silu(gate(x)) * up(x))`.
#[derive(Module, Debug)]
pub struct LlamaMlp {
    pub gate_proj: LoraLinear,
    pub up_proj: LoraLinear,
    pub down_proj: LoraLinear,
}

impl LlamaMlp {
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.down_proj.forward(silu(self.gate_proj.forward(x.clone())) * self.up_proj.forward(x))
    }
}

/// Pre-norm residual block: attention, then feed-forward, each added back to the stream.
#[derive(Module, Debug)]
pub struct LlamaDecoderLayer {
    pub self_attn: LlamaAttention,
    pub mlp: LlamaMlp,
    pub input_layernorm: RmsNorm,
    pub post_attention_layernorm: RmsNorm,
}

impl LlamaDecoderLayer {
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() + self.self_attn.forward(self.input_layernorm.forward(x));
        x.clone() + self.mlp.forward(self.post_attention_layernorm.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct LlamaModel {
    pub embed_tokens: Embedding,
    pub layers: Vec<LlamaDecoderLayer>,
    pub norm: RmsNorm,
}

#[derive(Module, Debug)]
pub struct LlamaForCausalLM {
    pub model: LlamaModel,
    /// `None` when the classifier is tied to the token embedding.
    pub lm_head: Option<LoraLinear>,
}

impl LlamaForCausalLM {
    /// Next-token logits for every position: tokens `[batch, seq]` → `[batch, seq, vocab]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        let mut x = self.model.embed_tokens.forward(tokens); // [batch, seq, hidden]
        for layer in &self.model.layers {
            x = layer.forward(x);
        }
        let x = self.model.norm.forward(x);
        match &self.lm_head {
            Some(head) => head.forward(x),
            None => linear(x, self.model.embed_tokens.weight.val().transpose(), None),
        }
    }

    /// Every projection with its Hugging Face name (`model.layers.3.self_attn.q_proj`), for LoRA and export.
    pub fn projections(&self) -> Vec<(String, &LoraLinear)> {
        let mut named = Vec::new();
        for (i, layer) in self.model.layers.iter().enumerate() {
            let attn = &layer.self_attn;
            let mlp = &layer.mlp;
            for (name, projection) in [
                ("self_attn.q_proj", &attn.q_proj),
                ("self_attn.k_proj", &attn.k_proj),
                ("self_attn.v_proj", &attn.v_proj),
                ("self_attn.o_proj", &attn.o_proj),
                ("mlp.gate_proj", &mlp.gate_proj),
                ("mlp.up_proj", &mlp.up_proj),
                ("mlp.down_proj", &mlp.down_proj),
            ] {
                named.push((format!("model.layers.{i}.{name}"), projection));
            }
        }
        named
    }

    /// Applies `edit` to every projection in `targets`.
    pub fn map_projections(mut self, targets: &[Projection], mut edit: impl FnMut(LoraLinear) -> LoraLinear) -> Self {
        let mut apply = |name: Projection, projection: LoraLinear| {
            if targets.contains(&name) {
                edit(projection)
            } else {
                projection
            }
        };
        self.model.layers = self
            .model
            .layers
            .into_iter()
            .map(|mut layer| {
                let attn = layer.self_attn;
                layer.self_attn = LlamaAttention {
                    q_proj: apply(Projection::QProj, attn.q_proj),
                    k_proj: apply(Projection::KProj, attn.k_proj),
                    v_proj: apply(Projection::VProj, attn.v_proj),
                    o_proj: apply(Projection::OProj, attn.o_proj),
                    ..attn
                };
                let mlp = layer.mlp;
                layer.mlp = LlamaMlp {
                    gate_proj: apply(Projection::GateProj, mlp.gate_proj),
                    up_proj: apply(Projection::UpProj, mlp.up_proj),
                    down_proj: apply(Projection::DownProj, mlp.down_proj),
                };
                layer
            })
            .collect();
        self
    }

    /// Multiplies every adapter's contribution by `factor`: 0 gives the base model, 1 the fine-tuned one.
    pub fn scale_adapters(self, factor: f64) -> Self {
        self.map_projections(Projection::ALL, |mut projection| {
            if let Some(adapter) = &mut projection.lora {
                adapter.scaling *= factor;
            }
            projection
        })
    }

    /// Attaches fresh LoRA adapters (PEFT's initialisation, drawn from `seed`) to the `config.target_modules`
    /// projections.
    pub fn with_lora(self, config: &LoraConfig, seed: u64, device: &Device) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        self.map_projections(&config.target_modules, |projection| projection.with_adapter(config, &mut rng, device))
    }
}
