//! A Llama-architecture decoder in Burn, read top to bottom in the order data flows:
//! config → rotary position embeddings → grouped-query attention → SwiGLU feed-forward → decoder layer → model.
//!
//! Module and field names follow Hugging Face's `LlamaForCausalLM` (`model.layers.{i}.self_attn.q_proj`, …) so
//! that a Hugging Face checkpoint and a PEFT adapter map onto it one to one. Every projection is a
//! [`LoraLinear`]: a frozen-or-trainable base `Linear` plus an optional LoRA adapter.

use burn::nn::{Embedding, EmbeddingConfig, Initializer, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::attention::causal_attention;
use crate::lora::{LoraConfig, LoraLinear};
use crate::q4_linear::{tensor_bytes, Q4Linear};
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
            max_position_embeddings: self.max_position_embeddings,
            tie_word_embeddings: self.tie_word_embeddings,
            attention_bias: false,
        }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Builds the model with every weight zero: loading a checkpoint fills them, so random init would be wasted.
    pub fn init(&self, device: &Device) -> LlamaForCausalLM {
        self.init_with(device, |_, _| None)
    }

    /// [`init`](Self::init), except for the projections `quantized(layer, projection)` gives a 4-bit weight
    /// (QLoRA's base), which are never allocated in f32.
    pub fn init_with(
        &self,
        device: &Device,
        mut quantized: impl FnMut(usize, Projection) -> Option<Q4Linear>,
    ) -> LlamaForCausalLM {
        let dense = |d_input, d_output| {
            LoraLinear::new(
                LinearConfig::new(d_input, d_output).with_bias(false).with_initializer(Initializer::Zeros).init(device),
            )
        };
        let mut projection = |layer, name, d_input, d_output| {
            quantized(layer, name).map_or_else(|| dense(d_input, d_output), LoraLinear::quantized)
        };
        let kv_dim = self.num_key_value_heads * self.head_dim();
        let norm = || RmsNormConfig::new(self.hidden_size).with_epsilon(self.rms_norm_eps).init(device);
        let layers = (0..self.num_hidden_layers)
            .map(|layer| LlamaDecoderLayer {
                self_attn: LlamaAttention {
                    q_proj: projection(layer, Projection::QProj, self.hidden_size, self.hidden_size),
                    k_proj: projection(layer, Projection::KProj, self.hidden_size, kv_dim),
                    v_proj: projection(layer, Projection::VProj, self.hidden_size, kv_dim),
                    o_proj: projection(layer, Projection::OProj, self.hidden_size, self.hidden_size),
                    num_heads: self.num_attention_heads,
                    num_kv_heads: self.num_key_value_heads,
                    head_dim: self.head_dim(),
                    rope_theta: self.rope_theta,
                },
                mlp: LlamaMlp {
                    gate_proj: projection(layer, Projection::GateProj, self.hidden_size, self.intermediate_size),
                    up_proj: projection(layer, Projection::UpProj, self.hidden_size, self.intermediate_size),
                    down_proj: projection(layer, Projection::DownProj, self.intermediate_size, self.hidden_size),
                },
                input_layernorm: norm(),
                post_attention_layernorm: norm(),
            })
            .collect();
        let embed_tokens =
            EmbeddingConfig::new(self.vocab_size, self.hidden_size).with_initializer(Initializer::Zeros).init(device);
        let lm_head = (!self.tie_word_embeddings).then(|| dense(self.hidden_size, self.vocab_size));
        LlamaForCausalLM { model: LlamaModel { embed_tokens, layers, norm: norm() }, lm_head }
    }
}

/// The rotary angles of the positions in one forward pass (`start..start + seq`, after those in a KV cache), made
/// once per pass on the host and uploaded rather than built by a chain of small tensor operations in every layer.
pub struct Positions {
    /// `[1, 1, seq, head_dim]`
    cos: Tensor<4>,
    sin: Tensor<4>,
}

impl Positions {
    fn new(start: usize, seq_len: usize, head_dim: usize, theta: f64, device: &Device) -> Self {
        // Hugging Face's "rotate half" form: dimension j is paired with j + head_dim/2, both at angle
        // position × inv_freq[j], computed in f32 as transformers does. (llama2.c pairs neighbours instead; the
        // importer permutes q/k rows so both give the same model.)
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half).map(|j| 1.0 / theta.powf(2.0 * j as f64 / head_dim as f64) as f32).collect();
        let angles: Vec<f32> = (start..start + seq_len)
            .flat_map(|position| (0..head_dim).map(move |d| (d, position)))
            .map(|(d, position)| position as f32 * inv_freq[d % half])
            .collect();
        let upload = |values: Vec<f32>| {
            Tensor::<2>::from_data(TensorData::new(values, [seq_len, head_dim]), device).unsqueeze::<4>()
        };
        Positions {
            cos: upload(angles.iter().map(|a| a.cos()).collect()),
            sin: upload(angles.iter().map(|a| a.sin()).collect()),
        }
    }

    /// Rotary position embeddings: `x` is `[batch, heads, seq, head_dim]`.
    fn rotate(&self, x: Tensor<4>) -> Tensor<4> {
        let half = x.dims()[3] / 2;
        let rotated = Tensor::cat(vec![x.clone().narrow(3, half, half).neg(), x.clone().narrow(3, 0, half)], 3);
        x * self.cos.clone() + rotated * self.sin.clone()
    }
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
    /// Causal grouped-query self-attention: `num_heads / num_kv_heads` query heads share each key/value head
    /// ([`causal_attention`]).
    /// `x` holds the positions after those in `cache` (none in training), whose keys and values it attends to as
    /// well; the new positions' keys and values are appended to it.
    pub fn forward(&self, x: Tensor<3>, positions: &Positions, cache: &mut LayerCache) -> Tensor<3> {
        let [batch, seq_len, hidden] = x.dims();
        let heads = |projected: Tensor<3>, count: usize| {
            projected.reshape([batch, seq_len, count, self.head_dim]).swap_dims(1, 2)
            // [batch, heads, seq, head_dim]
        };
        let q = positions.rotate(heads(self.q_proj.forward(x.clone()), self.num_heads));
        let k = positions.rotate(heads(self.k_proj.forward(x.clone()), self.num_kv_heads));
        let v = heads(self.v_proj.forward(x), self.num_kv_heads);
        let (k, v) = cache.append(k, v);
        // [batch, heads, seq, head_dim] → [batch, seq, hidden]
        let out = causal_attention(q, k, v).swap_dims(1, 2).reshape([batch, seq_len, hidden]);
        self.o_proj.forward(out)
    }
}

/// One layer's keys and values so far (`[batch, kv_heads, positions, head_dim]`, rotary applied), so that
/// generation runs each new token through the model once instead of re-running the whole sequence.
#[derive(Default)]
pub struct LayerCache(Option<(Tensor<4>, Tensor<4>)>);

impl LayerCache {
    fn positions(&self) -> usize {
        self.0.as_ref().map_or(0, |(k, _)| k.dims()[2])
    }

    /// Appends the new positions and returns the keys and values of all positions.
    fn append(&mut self, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let all = match self.0.take() {
            Some((past_k, past_v)) => (Tensor::cat(vec![past_k, k], 2), Tensor::cat(vec![past_v, v], 2)),
            None => (k, v),
        };
        self.0 = Some(all.clone());
        all
    }
}

/// Every layer's [`LayerCache`]: what a model has seen of one sequence.
#[derive(Default)]
pub struct KvCache(Vec<LayerCache>);

impl KvCache {
    /// How many positions the cache holds (where the next token goes).
    pub fn positions(&self) -> usize {
        self.0.first().map_or(0, LayerCache::positions)
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
    pub fn forward(&self, x: Tensor<3>, positions: &Positions, cache: &mut LayerCache) -> Tensor<3> {
        let x = x.clone() + self.self_attn.forward(self.input_layernorm.forward(x), positions, cache);
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
        self.forward_cached(tokens, &mut KvCache::default())
    }

    /// [`forward`](Self::forward) for tokens that continue the sequence in `cache`, which then holds them too.
    pub fn forward_cached(&self, tokens: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        cache.0.resize_with(self.model.layers.len(), LayerCache::default);
        let [_, seq_len] = tokens.dims();
        let attention = &self.model.layers[0].self_attn;
        let positions =
            Positions::new(cache.positions(), seq_len, attention.head_dim, attention.rope_theta, &tokens.device());
        let mut x = self.model.embed_tokens.forward(tokens); // [batch, seq, hidden]
        for (layer, layer_cache) in self.model.layers.iter().zip(&mut cache.0) {
            x = layer.forward(x, &positions, layer_cache);
        }
        let x = self.model.norm.forward(x);
        match &self.lm_head {
            Some(head) => head.forward(x),
            None => {
                // One 2D product with the embedding's transpose. Burn's `linear` would give the transposed view a
                // batch dimension first, and reshaping a transposed view copies it: on the CPU, all vocab × hidden
                // weights on every forward pass (most of the time of generating at one token a pass).
                let [batch, seq, hidden] = x.dims();
                let embedding = self.model.embed_tokens.weight.val();
                let vocab = embedding.dims()[0];
                x.reshape([batch * seq, hidden]).matmul(embedding.transpose()).reshape([batch, seq, vocab])
            }
        }
    }

    /// Bytes the pretrained weights take on the device (4-bit projections packed), from the tensors themselves.
    pub fn base_bytes(&self) -> usize {
        let norm = |norm: &RmsNorm| tensor_bytes(&norm.gamma.val());
        let layers: usize = self
            .model
            .layers
            .iter()
            .map(|layer| norm(&layer.input_layernorm) + norm(&layer.post_attention_layernorm))
            .sum();
        let projections: usize = self.projections().iter().map(|(_, p)| p.base_layer.bytes()).sum();
        let head = self.lm_head.as_ref().map_or(0, |head| head.base_layer.bytes());
        tensor_bytes(&self.model.embed_tokens.weight.val()) + layers + norm(&self.model.norm) + projections + head
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
