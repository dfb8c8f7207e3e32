//! The hardware preflight: before a model downloads, what this device offers (measured by the worker: the WebGPU
//! adapter's limits, the CPU's speed at a matrix product, the browser's memory hint) against what each way of
//! training the model needs, in words a learner can act on. The worker asks the same question before it starts a
//! run, so a run that cannot fit never starts.
//!
//! WebGPU does not tell a page how much memory its GPU has: what it does tell is the largest buffer a kernel may
//! bind, and training binds a few big ones (the embedding table, a batch's logits). Memory beyond that is an
//! estimate ([`ModelShape::training_memory_bytes`]) and is said to be one.

use serde::{Deserialize, Serialize};

use crate::protocol::{BackendKind, ModelShape};
use crate::settings::{TrainSettings, TrainingMethod};
use crate::sizing::work_per_token;

/// The most a WebAssembly page can address (32-bit memory): the CPU backend's weights, gradients and activations
/// all live in it, beside the page's own data.
pub const WASM_MEMORY_BYTES: u64 = 4 << 30;

/// What the preflight measured of this device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    pub limits: DeviceLimits,
    /// Floating-point operations a second that a matrix product reached on this tab's CPU backend.
    pub cpu_flops: f64,
}

/// What decides whether a run fits: read from the browser, not measured, so the worker reads them again whenever
/// it loads a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceLimits {
    /// The WebGPU adapter's name and limits, or why there is no usable one.
    pub gpu: Result<GpuLimits, String>,
    /// `navigator.deviceMemory`, the browser's rounded hint of the machine's memory in GB (Chromium only).
    pub device_memory_gb: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpuLimits {
    pub adapter_name: String,
    /// `maxStorageBufferBindingSize`: the largest buffer one kernel may read or write.
    pub max_binding_bytes: u64,
    /// `maxBufferSize`: the largest buffer the GPU may allocate.
    pub max_buffer_bytes: u64,
}

/// How the base model's weights are stored while it trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaseStorage {
    F32,
    /// 4-bit projections (QLoRA's base).
    FourBit,
}

/// One way of training the model under the learner's settings, and what it needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub method: TrainingMethod,
    pub storage: BaseStorage,
    /// Weights, gradients, optimizer state and activations (an estimate).
    pub memory_bytes: u64,
    /// The largest single tensor a step holds (a buffer on the GPU).
    pub largest_tensor_bytes: u64,
    /// Floating-point operations of one training step.
    pub step_flops: f64,
}

impl Need {
    /// The method's name as the course writes it.
    pub fn label(&self) -> &'static str {
        match (self.method, self.storage) {
            (TrainingMethod::Lora, BaseStorage::FourBit) => "QLoRA (LoRA on the 4-bit base)",
            (TrainingMethod::Lora, BaseStorage::F32) => "LoRA on the base in 32-bit floats",
            (TrainingMethod::Full, _) => "Full fine-tuning",
            (TrainingMethod::Frozen, _) => "No training",
        }
    }

    /// Whether it fits on `backend` of a device with `limits`, or why not.
    pub fn fits(&self, limits: &DeviceLimits, backend: BackendKind) -> Result<(), String> {
        let mb = |bytes: u64| format!("{:.0} MB", bytes as f64 / 1e6);
        match backend {
            BackendKind::WebGpu => {
                let gpu = limits.gpu.as_ref().map_err(|why| format!("no usable GPU: {why}"))?;
                let limit = gpu.max_binding_bytes.min(gpu.max_buffer_bytes);
                if self.largest_tensor_bytes > limit {
                    return Err(format!(
                        "its largest tensor takes {}, and this GPU binds at most {} at once: shorten the sequences \
                         or the batch",
                        mb(self.largest_tensor_bytes),
                        mb(limit)
                    ));
                }
                Ok(())
            }
            BackendKind::Cpu => {
                // The page, the worker's code and the downloaded files need room too.
                let room = WASM_MEMORY_BYTES * 3 / 4;
                if self.memory_bytes > room {
                    return Err(format!(
                        "it needs about {}, and a page's WebAssembly memory holds {} at most",
                        mb(self.memory_bytes),
                        mb(room)
                    ));
                }
                match limits.device_memory_gb {
                    Some(gb) if (self.memory_bytes as f64) > gb * 1e9 / 2.0 => Err(format!(
                        "it needs about {}, and the browser says this machine has about {gb} GB in all",
                        mb(self.memory_bytes)
                    )),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Seconds one step would take on this tab's CPU, from its measured speed.
    pub fn cpu_seconds_per_step(&self, report: &DeviceReport) -> f64 {
        self.step_flops / report.cpu_flops.max(1.0)
    }
}

/// What training `shape` under `settings` needs for each way the course compares: QLoRA and LoRA with the
/// learner's LoRA settings when the base is 4-bit, then full fine-tuning; LoRA and full fine-tuning for a base in
/// f32 (which has no 4-bit form to train on).
pub fn needs(shape: &ModelShape, settings: &TrainSettings, storage: BaseStorage) -> Vec<Need> {
    let lora = TrainSettings { method: TrainingMethod::Lora, ..settings.clone() };
    let full = TrainSettings { method: TrainingMethod::Full, ..settings.clone() };
    let mut ways = vec![(lora.clone(), BaseStorage::F32), (full, BaseStorage::F32)];
    if storage == BaseStorage::FourBit {
        ways.insert(0, (lora, BaseStorage::FourBit));
    }
    ways.into_iter().map(|(settings, storage)| need(shape, &settings, storage)).collect()
}

/// What one way needs.
pub fn need(shape: &ModelShape, settings: &TrainSettings, storage: BaseStorage) -> Need {
    let tokens = (settings.batch_size * settings.seq_len) as u64;
    let logits = 4 * tokens * shape.vocab_size as u64;
    let embedding = 4 * (shape.vocab_size * shape.hidden_size) as u64;
    let scores = 4 * (settings.batch_size * shape.num_attention_heads) as u64 * (settings.seq_len as u64).pow(2);
    let step_flops = work_per_token(shape, settings.method) * tokens as f64 * settings.grad_accum as f64;
    Need {
        method: settings.method,
        storage,
        memory_bytes: shape.training_memory_bytes(settings, storage == BaseStorage::FourBit),
        largest_tensor_bytes: logits.max(embedding).max(scores),
        step_flops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_binding_bytes: u64, device_memory_gb: Option<f64>) -> DeviceLimits {
        DeviceLimits {
            gpu: Ok(GpuLimits { adapter_name: "test".into(), max_binding_bytes, max_buffer_bytes: 256 << 20 }),
            device_memory_gb,
        }
    }

    #[test]
    fn smollm2s_four_bit_base_needs_less_memory_than_its_f32_base_and_full_fine_tuning_most() {
        let settings = TrainSettings { batch_size: 4, seq_len: 128, ..TrainSettings::default() };
        let ways = needs(&ModelShape::SMOLLM2_135M, &settings, BaseStorage::FourBit);
        let labels: Vec<&str> = ways.iter().map(Need::label).collect();
        assert_eq!(labels, ["QLoRA (LoRA on the 4-bit base)", "LoRA on the base in 32-bit floats", "Full fine-tuning"]);
        assert!(ways[0].memory_bytes < ways[1].memory_bytes && ways[1].memory_bytes < ways[2].memory_bytes);
        // The f32 and 4-bit bases differ by what the projections save: 26 bits of each of 106 million weights.
        let projections = 30 * (576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536) as u64;
        assert_eq!(ways[1].memory_bytes - ways[0].memory_bytes, projections * 4 - projections * 6 / 8);
        // A 2 GFLOP/s CPU: LoRA's step is 4 × 134.5 M weights × 512 tokens.
        let step = ways[0].cpu_seconds_per_step(&DeviceReport { limits: limits(128 << 20, None), cpu_flops: 2e9 });
        assert!((step - 4.0 * 134_515_008.0 * 512.0 / 2e9).abs() < 1e-6, "{step}");
        // A stories260K base has no 4-bit form: LoRA and full fine-tuning only.
        let stories = needs(&crate::protocol::tests::STORIES260K, &settings, BaseStorage::F32);
        assert_eq!(stories.len(), 2);
    }

    #[test]
    fn a_gpu_whose_buffers_cannot_hold_a_batchs_logits_is_told_to_shorten_them() {
        // 4 × 512 tokens of SmolLM2's 49,152 logits take 403 MB; WebGPU's default binding limit is 128 MiB.
        let long = TrainSettings { batch_size: 4, seq_len: 512, ..TrainSettings::default() };
        let need = need(&ModelShape::SMOLLM2_135M, &long, BaseStorage::FourBit);
        let why = need.fits(&limits(128 << 20, None), BackendKind::WebGpu).unwrap_err();
        assert!(why.contains("403 MB") && why.contains("134 MB") && why.contains("shorten"), "{why}");
        let short = TrainSettings { batch_size: 1, seq_len: 256, ..long };
        assert_eq!(need_fits(&short, 128 << 20), Ok(()));
        let no_gpu = DeviceLimits { gpu: Err("this browser has no navigator.gpu".into()), ..limits(0, None) };
        assert!(need.fits(&no_gpu, BackendKind::WebGpu).unwrap_err().contains("navigator.gpu"));
    }

    fn need_fits(settings: &TrainSettings, binding: u64) -> Result<(), String> {
        need(&ModelShape::SMOLLM2_135M, settings, BaseStorage::FourBit)
            .fits(&limits(binding, None), BackendKind::WebGpu)
    }

    #[test]
    fn the_cpu_refuses_what_passes_webassemblys_memory_or_the_machines() {
        let settings = TrainSettings { batch_size: 1, seq_len: 128, ..TrainSettings::default() };
        let ways = needs(&ModelShape::SMOLLM2_135M, &settings, BaseStorage::FourBit);
        assert_eq!(ways[0].fits(&limits(0, Some(8.0)), BackendKind::Cpu), Ok(()));
        // Full fine-tuning keeps four copies of 134.5 M weights (weights, gradients, two moments): 2.2 GB and more.
        let why = ways[2].fits(&limits(0, Some(4.0)), BackendKind::Cpu).unwrap_err();
        assert!(why.contains("about 4 GB"), "{why}");
        let llama = need(&ModelShape::LLAMA3_8B, &settings, BaseStorage::FourBit);
        assert!(llama.fits(&limits(0, None), BackendKind::Cpu).unwrap_err().contains("WebAssembly memory"));
    }
}
