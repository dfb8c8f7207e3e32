//! The messages between the course page and the trainer worker, and the arithmetic both sides share.
//!
//! Data flows one way: a demo component sends [`ToWorker`] messages; the worker answers with [`FromWorker`]
//! events. Both travel as JSON strings through `postMessage`. This module knows no DOM and no tensors, so the
//! UI bundle can use it without linking Burn.
//!
//! A session: the worker announces `Listening`; `Init` (the worker picks a backend and loads the base model, reporting `Loading` progress, then
//! `Ready`) → `Start` (`TrainingStarted`, then one `Metrics` per step; `Pause`/`Resume` take effect between steps;
//! `Stop` ends the run early) → `Finished`. At any time after `Ready`: `Generate` → `Sample`, and after training
//! `ExportAdapter` → `AdapterZip`. Anything that goes wrong → `Error`, and the worker stays usable.

use serde::{Deserialize, Serialize};

/// Where the learner wants training to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendChoice {
    /// WebGPU when the browser offers a usable adapter, else the CPU.
    Auto,
    Cpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

/// What the worker chose, and why when it is not the GPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    pub kind: BackendKind,
    /// The GPU adapter's name as the browser reports it (vendor, architecture, description).
    pub adapter_name: Option<String>,
    /// Why the CPU is used, in words a learner can act on; `None` when the learner chose the CPU or WebGPU runs.
    pub fallback_reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrainingMethod {
    /// Train small LoRA adapters; the pretrained weights stay frozen.
    Lora,
    /// Train every weight.
    Full,
    /// Train nothing: the baseline that shows what the losses do without learning.
    Frozen,
}

/// The demo's controls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub method: TrainingMethod,
    pub lora_rank: usize,
    pub lora_alpha: f64,
    /// Projections LoRA adapts (PEFT names).
    pub lora_targets: Vec<String>,
    pub learning_rate: f64,
    pub steps: usize,
    pub batch_size: usize,
    pub seq_len: usize,
    pub eval_every: usize,
    pub seed: u64,
}

impl Default for TrainSettings {
    /// Chosen so the default run shows its change within a minute on a two-core CPU (see the lesson).
    fn default() -> Self {
        TrainSettings {
            method: TrainingMethod::Lora,
            lora_rank: 8,
            lora_alpha: 16.0,
            lora_targets: ["q_proj", "k_proj", "v_proj", "o_proj"].map(String::from).to_vec(),
            learning_rate: 1e-2,
            steps: 60,
            batch_size: 8,
            seq_len: 64,
            eval_every: 10,
            seed: 42,
        }
    }
}

/// How to sample text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleSettings {
    pub prompt: String,
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: f64,
    pub seed: u64,
}

impl Default for SampleSettings {
    fn default() -> Self {
        SampleSettings { prompt: "Once upon a time".into(), max_new_tokens: 60, temperature: 0.8, top_p: 0.9, seed: 7 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Choose a backend and load the base model (a Hugging Face folder served at `model_url`, with a
    /// `manifest.json`) and the training data (`dataset_url`, JSONL). Repeating it with the same URLs reuses them.
    Init {
        backend: BackendChoice,
        model_url: String,
        dataset_url: String,
    },
    Start(TrainSettings),
    Pause,
    Resume,
    Stop,
    /// Sample from the base model plus the trained adapter scaled by `adapter_scale` (0: base, 1: fine-tuned).
    Generate {
        request_id: u32,
        sample: SampleSettings,
        adapter_scale: f64,
    },
    ExportAdapter,
}

/// One optimizer step, as plain data for charts and logs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// 1-based.
    pub step: usize,
    pub loss: f64,
    /// Loss on the held-out split of the fine-tuning data, when evaluated this step.
    pub eval_loss: Option<f64>,
    /// Loss on held-out text of the base model's own kind, when evaluated: rising means forgetting.
    pub reference_eval_loss: Option<f64>,
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    pub tokens_per_second: f64,
    pub trainable_params: usize,
    pub total_params: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    Completed,
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is listening. Messages posted before this would be lost while its WebAssembly starts, so the
    /// page holds them until it hears this.
    Listening,
    /// Download progress of one file of the base model or data; `from_cache` when no network was needed.
    Loading {
        file: String,
        loaded_bytes: u64,
        total_bytes: Option<u64>,
        from_cache: bool,
    },
    Ready {
        backend: BackendReport,
        model: ModelShape,
        training_examples: usize,
        held_out_examples: usize,
    },
    TrainingStarted {
        total_steps: usize,
        trainable_params: usize,
        total_params: usize,
    },
    Metrics(StepMetrics),
    Paused {
        step: usize,
    },
    Resumed {
        step: usize,
    },
    Finished {
        reason: FinishReason,
        step: usize,
    },
    Sample {
        request_id: u32,
        adapter_scale: f64,
        text: String,
    },
    /// A zip of the PEFT adapter folder plus a model card.
    AdapterZip {
        file_name: String,
        bytes: Vec<u8>,
    },
    Error {
        message: String,
    },
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("unreadable message for the worker: {e}"))
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("unreadable message from the worker: {e}"))
    }
}

/// The sizes that decide parameter counts and memory (a Llama model's `config.json`, in brief).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
}

impl ModelShape {
    /// `[in, out]` of a projection, by its PEFT name.
    pub fn projection_dims(&self, name: &str) -> Option<(usize, usize)> {
        let kv = self.hidden_size / self.num_attention_heads * self.num_key_value_heads;
        let (h, i) = (self.hidden_size, self.intermediate_size);
        Some(match name {
            "q_proj" | "o_proj" => (h, h),
            "k_proj" | "v_proj" => (h, kv),
            "gate_proj" | "up_proj" => (h, i),
            "down_proj" => (i, h),
            _ => return None,
        })
    }

    /// Every weight of the model, with a tied classifier.
    pub fn total_params(&self) -> usize {
        let per_layer: usize = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
            .iter()
            .map(|p| self.projection_dims(p).map_or(0, |(i, o)| i * o))
            .sum::<usize>()
            + 2 * self.hidden_size;
        self.vocab_size * self.hidden_size + self.num_hidden_layers * per_layer + self.hidden_size
    }

    /// The weights that train under `settings`: the adapters' r·(in + out) per adapted projection for LoRA.
    pub fn trainable_params(&self, settings: &TrainSettings) -> usize {
        match settings.method {
            TrainingMethod::Frozen => 0,
            TrainingMethod::Full => self.total_params(),
            TrainingMethod::Lora => {
                let per_layer: usize = settings
                    .lora_targets
                    .iter()
                    .filter_map(|t| self.projection_dims(t))
                    .map(|(i, o)| settings.lora_rank * (i + o))
                    .sum();
                self.num_hidden_layers * per_layer
            }
        }
    }

    /// A rough training-memory estimate in bytes (f32): weights, plus gradients and AdamW's two moments for what
    /// trains, plus the activations a step keeps for the backward pass (attention scores dominate).
    pub fn training_memory_bytes(&self, settings: &TrainSettings) -> usize {
        let (b, s) = (settings.batch_size, settings.seq_len);
        let weights = self.total_params() + self.trainable_params(settings);
        let optimizer = 3 * self.trainable_params(settings);
        let per_layer_activations =
            b * s * (8 * self.hidden_size + 3 * self.intermediate_size) + 3 * b * self.num_attention_heads * s * s;
        let activations = self.num_hidden_layers * per_layer_activations + 3 * b * s * self.vocab_size;
        4 * (weights + optimizer + activations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORIES260K: ModelShape = ModelShape {
        vocab_size: 512,
        hidden_size: 64,
        intermediate_size: 172,
        num_hidden_layers: 5,
        num_attention_heads: 8,
        num_key_value_heads: 4,
    };

    #[test]
    fn stories260k_has_the_published_parameter_count() {
        // SOURCE.md: 260,032 parameters (tied classifier).
        assert_eq!(STORIES260K.total_params(), 260_032);
    }

    #[test]
    fn lora_trains_rank_times_in_plus_out_per_adapted_projection() {
        let settings =
            TrainSettings { lora_rank: 4, lora_targets: vec!["q_proj".into(), "v_proj".into()], ..Default::default() };
        assert_eq!(STORIES260K.trainable_params(&settings), 5 * (4 * (64 + 64) + 4 * (64 + 32)));
        let frozen = TrainSettings { method: TrainingMethod::Frozen, ..settings.clone() };
        assert_eq!(STORIES260K.trainable_params(&frozen), 0);
        let full = TrainSettings { method: TrainingMethod::Full, ..settings };
        assert_eq!(STORIES260K.trainable_params(&full), 260_032);
    }

    #[test]
    fn memory_estimate_grows_with_what_trains_and_with_the_batch() {
        let lora = TrainSettings::default();
        let full = TrainSettings { method: TrainingMethod::Full, ..lora.clone() };
        let bigger = TrainSettings { batch_size: lora.batch_size * 2, ..lora.clone() };
        assert!(STORIES260K.training_memory_bytes(&full) > STORIES260K.training_memory_bytes(&lora));
        assert!(STORIES260K.training_memory_bytes(&bigger) > STORIES260K.training_memory_bytes(&lora));
    }

    #[test]
    fn messages_round_trip_through_json() {
        let messages = [
            ToWorker::Start(TrainSettings::default()),
            ToWorker::Generate { request_id: 3, sample: SampleSettings::default(), adapter_scale: 0.5 },
        ];
        for message in messages {
            assert_eq!(ToWorker::from_json(&message.to_json()).unwrap(), message);
        }
        let event = FromWorker::Finished { reason: FinishReason::Stopped, step: 12 };
        assert_eq!(FromWorker::from_json(&event.to_json()).unwrap(), event);
        assert!(ToWorker::from_json("{\"Launch\":1}").unwrap_err().contains("unreadable message"));
    }
}
