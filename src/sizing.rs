//! Sizing a fine-tuning job for a real GPU (lesson "Toolchains"): the memory a run needs, part by part, and the
//! time its steps take, for published models on datasheet GPUs, trained one of the three ways practitioners do.
//!
//! It is arithmetic, and every assumption is one a learner can read here or in the lesson:
//! - **Full fine-tuning** in mixed precision: 16-bit weights and gradients, and AdamW keeping a 32-bit master copy
//!   of the weights and its two 32-bit moments (16 bytes a weight, the ZeRO paper's count, as lesson 19 teaches).
//! - **LoRA** on a 16-bit base: the base's weights at 2 bytes each; the adapters, their gradients and moments in
//!   32-bit floats (PEFT's `autocast_adapter_dtype` keeps adapters in float32 beside a bf16 base).
//! - **QLoRA**: the same adapters on a base whose layers' projections are NF4 (bitsandbytes: a 4-bit code per
//!   weight, an 8-bit scale per block of 64, and with double quantization a 32-bit constant per 256 scales:
//!   4.127 bits a weight); the embeddings, norms and classifier stay 16-bit.
//! - **Activations**: what each layer keeps for its backward pass, counted tensor by tensor as PyTorch keeps them
//!   for a transformers model under bf16 autocast (as a `Trainer` with `bf16=True` runs it), with an attention kernel
//!   that never stores the `seq × seq` scores (FlashAttention, PyTorch's SDPA): [`Job::layer_bytes_per_token`].
//!   Gradient checkpointing keeps only each layer's input and recomputes one layer at a time, for one more forward
//!   pass.
//! - **Logits**: the classifier's output for every token, held as 16-bit logits, a 32-bit copy for the loss and
//!   the 32-bit log-probabilities the loss keeps (10 bytes a logit); a large vocabulary makes this the biggest
//!   activation of all.
//!
//! Left out: the CUDA context and the framework's own workspace (often 0.5–1 GB), fragmentation, and the
//! attention's own operations in the time (a few percent at a few thousand tokens).

use crate::protocol::ModelShape;
use crate::settings::{Projection, TrainSettings, TrainingMethod};

/// A model whose shape comes from its published `config.json`, by the name its maker publishes it under.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublishedModel {
    pub name: &'static str,
    /// Its name on the Hugging Face hub, which the generated configs load.
    pub hub_id: &'static str,
    pub shape: ModelShape,
}

/// The models the calculator offers: the course's next model, then the common bases of 2024–2026 at 7–8B, and a
/// 70B one.
pub const MODELS: [PublishedModel; 5] = [
    PublishedModel { name: "SmolLM2-135M", hub_id: "HuggingFaceTB/SmolLM2-135M", shape: ModelShape::SMOLLM2_135M },
    PublishedModel { name: "Llama 3.1 8B", hub_id: "meta-llama/Llama-3.1-8B", shape: ModelShape::LLAMA31_8B },
    PublishedModel { name: "Mistral 7B v0.3", hub_id: "mistralai/Mistral-7B-v0.3", shape: ModelShape::MISTRAL_7B },
    PublishedModel { name: "Qwen2.5 7B", hub_id: "Qwen/Qwen2.5-7B", shape: ModelShape::QWEN25_7B },
    PublishedModel { name: "Llama 3.1 70B", hub_id: "meta-llama/Llama-3.1-70B", shape: ModelShape::LLAMA31_70B },
];

/// The listed model named `hub_id`, if it is one.
pub fn published(hub_id: &str) -> Option<&'static PublishedModel> {
    MODELS.iter().find(|m| m.hub_id == hub_id)
}

/// A GPU as its maker's datasheet gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gpu {
    pub name: &'static str,
    /// Memory in GB (10⁹ bytes), as the datasheet states it.
    pub memory_gb: f64,
    /// Peak 16-bit tensor operations a second, in trillions, dense (datasheets often print twice this "with
    /// sparsity", which training does not use).
    pub tensor_tflops: f64,
    /// The 16-bit format that peak is for, and anything else a learner must know about it.
    pub note: &'static str,
}

/// The GPUs the calculator offers, from NVIDIA's datasheets and whitepapers (vendor peak figures, never reached in
/// training). The L4's and H100's pages print twice these, with sparsity.
pub const GPUS: [Gpu; 7] = [
    Gpu { name: "NVIDIA T4", memory_gb: 16.0, tensor_tflops: 65.0, note: "FP16: the T4 has no bf16" },
    Gpu { name: "NVIDIA L4", memory_gb: 24.0, tensor_tflops: 121.0, note: "BF16, dense" },
    Gpu { name: "NVIDIA A10", memory_gb: 24.0, tensor_tflops: 125.0, note: "BF16, dense" },
    Gpu {
        name: "NVIDIA GeForce RTX 4090",
        memory_gb: 24.0,
        tensor_tflops: 165.2,
        note: "BF16, FP32 accumulate, dense",
    },
    Gpu { name: "NVIDIA A100 40GB", memory_gb: 40.0, tensor_tflops: 312.0, note: "BF16, dense" },
    Gpu { name: "NVIDIA A100 80GB", memory_gb: 80.0, tensor_tflops: 312.0, note: "BF16, dense" },
    Gpu { name: "NVIDIA H100 SXM", memory_gb: 80.0, tensor_tflops: 989.4, note: "BF16, dense" },
];

/// How the job trains the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Every weight, in mixed precision.
    Full,
    /// LoRA adapters on a 16-bit base.
    Lora,
    /// LoRA adapters on an NF4 base.
    Qlora,
}

impl Way {
    pub const ALL: [Way; 3] = [Way::Full, Way::Lora, Way::Qlora];

    pub fn label(self) -> &'static str {
        match self {
            Way::Full => "Full fine-tuning (mixed precision)",
            Way::Lora => "LoRA on a 16-bit base",
            Way::Qlora => "QLoRA on a 4-bit (NF4) base",
        }
    }

    /// The training method of the run's settings.
    pub fn method(self) -> TrainingMethod {
        match self {
            Way::Full => TrainingMethod::Full,
            Way::Lora | Way::Qlora => TrainingMethod::Lora,
        }
    }
}

/// What a job is: the run's settings (rank, targets, dropout, batch, accumulation, sequence length, steps), how it
/// trains, and whether it checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub settings: TrainSettings,
    pub way: Way,
    pub gradient_checkpointing: bool,
}

/// Bits a weight of an NF4 projection takes: the code, its block's 8-bit scale, and the 32-bit constant shared by
/// 256 scales (QLoRA's double quantization).
pub const NF4_BITS: f64 = 4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0);

/// Bytes a logit costs at the loss: the 16-bit logit, the 32-bit copy the loss reads and the 32-bit
/// log-probability it keeps for the backward pass.
const LOGIT_BYTES: f64 = 2.0 + 4.0 + 4.0;

/// Training memory by part, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    pub weights: f64,
    pub adapters: f64,
    pub gradients: f64,
    pub optimizer: f64,
    pub activations: f64,
    pub logits: f64,
}

impl Memory {
    pub fn total(&self) -> f64 {
        self.weights + self.adapters + self.gradients + self.optimizer + self.activations + self.logits
    }

    /// Each part with its name, in the order the lesson reads them.
    pub fn parts(&self) -> [(&'static str, f64); 6] {
        [
            ("Weights", self.weights),
            ("Adapters", self.adapters),
            ("Gradients", self.gradients),
            ("Optimizer state", self.optimizer),
            ("Activations", self.activations),
            ("Logits", self.logits),
        ]
    }
}

impl Job {
    /// Weights that train: the whole model, or the adapters.
    pub fn trainable(&self, shape: &ModelShape) -> u64 {
        shape.trainable_params(&TrainSettings { method: self.way.method(), ..self.settings.clone() })
    }

    pub fn memory(&self, shape: &ModelShape) -> Memory {
        let n = shape.total_params() as f64;
        let trainable = self.trainable(shape) as f64;
        let projections = shape.projection_params_all_layers() as f64;
        let weights = match self.way {
            Way::Full | Way::Lora => 2.0 * n,
            Way::Qlora => projections * NF4_BITS / 8.0 + 2.0 * (n - projections),
        };
        let (adapters, gradients, optimizer) = match self.way {
            Way::Full => (0.0, 2.0 * n, 12.0 * n),
            Way::Lora | Way::Qlora => (4.0 * trainable, 4.0 * trainable, 8.0 * trainable),
        };
        let tokens = (self.settings.batch_size * self.sequence_tokens()) as f64;
        let layer = self.layer_bytes_per_token(shape) as f64;
        let layers = shape.num_hidden_layers as f64;
        let activations = if self.gradient_checkpointing {
            // Each layer's input, and one layer recomputed in full during the backward pass.
            tokens * (layers * 2.0 * shape.hidden_size as f64 + layer)
        } else {
            tokens * layers * layer
        };
        let logits = tokens * shape.vocab_size as f64 * LOGIT_BYTES;
        Memory { weights, adapters, gradients, optimizer, activations, logits }
    }

    /// Bytes one layer keeps a token for its backward pass. The layer's own, whatever trains: both RMSNorms' inputs
    /// in 32 bits (transformers normalises in float32) and their 32-bit 1/rms; the query, key and value and the
    /// attention's output, and the kernel's 32-bit log-sum-exp a head; the MLP's gate and up projections and the
    /// gate's activation. Then what training adds:
    /// - full fine-tuning keeps the inputs its weights' gradients need: the normalised values (for the norms'
    ///   weights), what q, k and v read, what gate and up read, and what down reads (o reads the attention's
    ///   output, already kept);
    /// - LoRA keeps, for each adapted projection, its own 16-bit copy of the projection's input (PEFT casts the
    ///   input to the adapter's float32, and autocast back to bf16 for the product) and the r values of `A·x`;
    ///   with dropout above 0, a 32-bit dropped-out copy of that input too. The frozen weights need nothing kept.
    ///
    /// `tests/native/sizing.rs` checks it, byte for byte, against autograd's saved tensors.
    pub fn layer_bytes_per_token(&self, shape: &ModelShape) -> u64 {
        let (h, i) = (shape.hidden_size as u64, shape.intermediate_size as u64);
        let kv = shape.projection_dims(Projection::KProj).1 as u64;
        let heads = shape.num_attention_heads as u64;
        let own = 2 * 4 * h + 2 * 4 + 2 * (h + 2 * kv + h) + 4 * heads + 2 * 3 * i;
        let trained = match self.way {
            Way::Full => 2 * (2 * h) + 2 * (h + h + i),
            Way::Lora | Way::Qlora => {
                let dropout = if self.settings.lora_dropout > 0.0 { 4 } else { 0 };
                let rank = self.settings.lora_rank as u64;
                self.settings
                    .lora_targets
                    .iter()
                    .map(|&p| (2 + dropout) * shape.projection_dims(p).0 as u64 + 2 * rank)
                    .sum()
            }
        };
        own + trained
    }

    /// Tokens a sequence holds: the settings' sequence length counts predictions, one fewer.
    fn sequence_tokens(&self) -> usize {
        self.settings.seq_len + 1
    }

    /// Tokens one optimizer step reads: micro-batch × sequence × accumulation.
    pub fn tokens_per_step(&self) -> f64 {
        (self.settings.batch_size * self.sequence_tokens() * self.settings.grad_accum) as f64
    }

    /// Operations a token costs: [`work_per_token`], and with gradient checkpointing a second forward pass.
    pub fn work_per_token(&self, shape: &ModelShape) -> f64 {
        let recompute = if self.gradient_checkpointing { 2.0 * shape.total_params() as f64 } else { 0.0 };
        work_per_token(shape, self.way.method()) + recompute
    }

    /// Seconds an optimizer step takes on `gpu` at `utilisation` (the share of its peak the job reaches).
    pub fn seconds_per_step(&self, shape: &ModelShape, gpu: &Gpu, utilisation: f64) -> f64 {
        self.tokens_per_step() * self.work_per_token(shape) / (gpu.tensor_tflops * 1e12 * utilisation)
    }
}

/// Operations one trained token costs, attention's own left out: a multiply and an add for every weight in the
/// forward pass (2N), the same again to carry the gradient back through the weights (2N), and for full
/// fine-tuning the weights' own gradients (2N more: Kaplan et al.'s 6N). LoRA's frozen weights need no gradient of
/// their own; its adapters' few operations are left out too.
pub fn work_per_token(shape: &ModelShape, method: TrainingMethod) -> f64 {
    let passes = match method {
        TrainingMethod::Full => 6.0,
        TrainingMethod::Lora => 4.0,
        TrainingMethod::Frozen => 2.0,
    };
    passes * shape.total_params() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::TargetPreset;

    /// A job of `batch_size` sequences of `tokens` tokens each.
    fn job(way: Way, batch_size: usize, tokens: usize, gradient_checkpointing: bool) -> Job {
        let settings = TrainSettings { batch_size, seq_len: tokens - 1, grad_accum: 1, ..TrainSettings::default() };
        Job { settings, way, gradient_checkpointing }
    }

    #[test]
    fn the_published_models_have_their_published_parameter_counts() {
        // The model cards' and safetensors indexes' counts.
        let counts: Vec<u64> = MODELS.iter().map(|m| m.shape.total_params()).collect();
        assert_eq!(counts, [134_515_008, 8_030_261_248, 7_248_023_552, 7_615_616_512, 70_553_706_496]);
    }

    #[test]
    fn full_fine_tuning_of_an_8b_model_needs_sixteen_bytes_a_weight_before_activations() {
        let llama = ModelShape::LLAMA31_8B;
        let memory = job(Way::Full, 1, 2048, true).memory(&llama);
        let n = 8_030_261_248.0;
        assert_eq!((memory.weights, memory.gradients, memory.optimizer), (2.0 * n, 2.0 * n, 12.0 * n));
        assert_eq!(memory.weights + memory.gradients + memory.optimizer, 16.0 * n);
        assert_eq!(memory.adapters, 0.0);
        // 2,048 tokens of a 128,256-word vocabulary at 10 bytes a logit: 2.6 GB.
        assert_eq!(memory.logits, 2048.0 * 128_256.0 * 10.0);
    }

    #[test]
    fn qlora_stores_the_projections_in_4_127_bits_and_the_rest_in_16() {
        let llama = ModelShape::LLAMA31_8B;
        let memory = job(Way::Qlora, 1, 2048, true).memory(&llama);
        // 32 layers of 4096·4096·2 + 4096·1024·2 + 3·4096·14336 projection weights; the 1,050 M others (two
        // embedding tables of 128,256 × 4096, and the norms) stay at 2 bytes.
        let projections = 32.0 * (4096.0 * 4096.0 * 2.0 + 4096.0 * 1024.0 * 2.0 + 3.0 * 4096.0 * 14336.0);
        assert_eq!(projections, 6_979_321_856.0);
        let expected = projections * 4.126953125 / 8.0 + 2.0 * (8_030_261_248.0 - projections);
        assert!((memory.weights - expected).abs() < 1.0, "{} against {expected}", memory.weights);
        // About 5.7 GB against 16.1 GB for the 16-bit base.
        assert!((memory.weights / 1e9 - 5.70).abs() < 0.01, "{}", memory.weights / 1e9);
        // r 8 on every projection: 32 × 8 × (2 × 8192 + 2 × 5120 + 3 × 18432) = 21 M adapter weights, 16 bytes
        // each with their gradients and moments.
        let adapters = 32.0 * 8.0 * (2.0 * 8192.0 + 2.0 * 5120.0 + 3.0 * 18432.0);
        assert_eq!(memory.adapters + memory.gradients + memory.optimizer, 16.0 * adapters);
    }

    #[test]
    fn a_layer_keeps_its_own_tensors_and_what_training_adds() {
        // SmolLM2-135M: h 576, kv 192, i 1,536, 9 heads. Its own: two norms' 32-bit inputs (8h) and 1/rms (8),
        // q, k, v and the attention output in 16 bits (2 × (576 + 384 + 576)), 9 log-sum-exps (36), and gate, up
        // and the activation in 16 bits (6i): 4,608 + 8 + 3,072 + 36 + 9,216.
        let shape = ModelShape::SMOLLM2_135M;
        let own = 16_940;
        // LoRA r 8 on all seven: a 16-bit copy of each input (six of 576, one of 1,536) and 8 values of A·x each.
        assert_eq!(job(Way::Lora, 1, 64, false).layer_bytes_per_token(&shape), own + 2 * (6 * 576 + 1536) + 7 * 16);
        // Full fine-tuning: the normalised values (2 × 2h), what q/k/v, gate/up and down read (2 × (2h + i)).
        assert_eq!(job(Way::Full, 1, 64, false).layer_bytes_per_token(&shape), own + 4 * 576 + 2 * (2 * 576 + 1536));
        // QLoRA keeps what LoRA keeps.
        assert_eq!(
            job(Way::Qlora, 1, 64, false).layer_bytes_per_token(&shape),
            job(Way::Lora, 1, 64, false).layer_bytes_per_token(&shape)
        );
    }

    #[test]
    fn checkpointing_keeps_one_layer_input_per_layer_and_costs_a_forward_pass() {
        let shape = ModelShape::SMOLLM2_135M;
        let plain = job(Way::Lora, 2, 1024, false);
        let checkpointed = job(Way::Lora, 2, 1024, true);
        let layer = 27_036.0;
        assert_eq!(plain.memory(&shape).activations, 2048.0 * 30.0 * layer);
        // Each layer's 16-bit input (2 × 576 bytes a token), and one layer kept in full while it is recomputed.
        assert_eq!(checkpointed.memory(&shape).activations, 2048.0 * (30.0 * 2.0 * 576.0 + layer));
        let n = 134_515_008.0;
        assert_eq!(plain.work_per_token(&shape), 4.0 * n);
        assert_eq!(checkpointed.work_per_token(&shape), 6.0 * n);
        // A step of 2,048 tokens at 6N on a 100-TFLOPS GPU used at half its peak.
        let gpu = Gpu { name: "test", memory_gb: 1.0, tensor_tflops: 100.0, note: "" };
        let seconds = checkpointed.seconds_per_step(&shape, &gpu, 0.5);
        assert!((seconds - 2048.0 * 6.0 * n / 50e12).abs() < 1e-12, "{seconds}");
    }

    #[test]
    fn lora_dropout_keeps_a_32_bit_dropped_copy_of_each_adapted_input() {
        let shape = ModelShape::SMOLLM2_135M;
        let attention = |lora_dropout| {
            let mut job = job(Way::Lora, 1, 100, false);
            job.settings.lora_dropout = lora_dropout;
            job.settings.lora_targets = TargetPreset::Attention.projections();
            job
        };
        // q, k, v and o read the hidden size each: 4 bytes × 4 × 576 more a token in each of 30 layers.
        let more = attention(0.05).memory(&shape).activations - attention(0.0).memory(&shape).activations;
        assert_eq!(more, 100.0 * 30.0 * 4.0 * 4.0 * 576.0);
        // Full fine-tuning has no adapters to drop out.
        let full = Job { way: Way::Full, ..attention(0.05) };
        assert_eq!(full.memory(&shape).activations, job(Way::Full, 1, 100, false).memory(&shape).activations);
    }
}
