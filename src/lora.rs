//! LoRA, as in PEFT's `tuners/lora/layer.py`: a frozen linear layer W plus a trainable low-rank update,
//! `y = W x + B A dropout(x) · alpha / r`.
//!
//! Written here rather than taken from Burn's `module::lora` because the course needs what that one lacks:
//! PEFT's initialisation (A Kaiming-uniform, B zero), dropout, merge/unmerge, and A/B kept in PEFT's layout
//! (`A: [r, in]`, `B: [out, r]`) so that an adapter is exported and imported by name, without reshaping.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::prelude::*;
use burn::tensor::module::linear;
use rand::rngs::StdRng;
use rand::Rng;

use crate::q4_linear::{tensor_bytes, Q4Linear};
use crate::settings::{Choice, Projection};

/// LoRA settings, named as in PEFT's `LoraConfig` (and its `adapter_config.json`).
#[derive(Config, Debug, PartialEq)]
pub struct LoraConfig {
    /// Rank r of the update B·A.
    pub r: usize,
    /// The update is scaled by alpha / r, so changing r does not change the update's size at initialisation.
    pub lora_alpha: f64,
    #[config(default = 0.0)]
    pub lora_dropout: f64,
    /// Rank-stabilised LoRA: scale by alpha / √r instead of alpha / r.
    #[config(default = false)]
    pub use_rslora: bool,
    /// The projections to adapt (PEFT's `target_modules`).
    pub target_modules: Vec<Projection>,
}

impl LoraConfig {
    pub fn scaling(&self) -> f64 {
        crate::settings::lora_scaling(self.lora_alpha, self.r, self.use_rslora)
    }

    /// Checks the settings, naming the one to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.r == 0 {
            return Err("LoRA rank must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return Err(format!("LoRA dropout must be in [0, 1), got {}", self.lora_dropout));
        }
        if self.target_modules.is_empty() {
            return Err(format!("choose at least one LoRA target among {}", Projection::names()));
        }
        Ok(())
    }
}

/// The trainable low-rank pair.
#[derive(Module, Debug)]
pub struct LoraAdapter {
    /// `[r, in]`, Kaiming-uniform at initialisation.
    pub lora_a: Param<Tensor<2>>,
    /// `[out, r]`, zero at initialisation, so a fresh adapter leaves the model exactly as it was.
    pub lora_b: Param<Tensor<2>>,
    pub dropout: Dropout,
    /// alpha / r.
    pub scaling: f64,
}

impl LoraAdapter {
    /// PEFT's initialisation: A ~ kaiming_uniform(a = √5), i.e. U(−1/√in, 1/√in), and B = 0.
    /// A is drawn on the host from `rng`, so a seed gives the same adapter on every backend.
    pub fn init(d_input: usize, d_output: usize, config: &LoraConfig, rng: &mut StdRng, device: &Device) -> Self {
        let bound = 1.0 / (d_input as f32).sqrt();
        let values: Vec<f32> = (0..config.r * d_input).map(|_| rng.random_range(-bound..bound)).collect();
        let lora_a = Tensor::<1>::from_floats(values.as_slice(), device).reshape([config.r, d_input]);
        LoraAdapter {
            lora_a: Param::from_tensor(lora_a),
            lora_b: Param::from_tensor(Tensor::zeros([d_output, config.r], device)),
            dropout: DropoutConfig::new(config.lora_dropout).init(),
            scaling: config.scaling(),
        }
    }

    /// The update B·A·scaling in Burn's `Linear` layout, `[in, out]`.
    pub fn delta_weight(&self) -> Tensor<2> {
        self.lora_a.val().transpose().matmul(self.lora_b.val().transpose()) * self.scaling
    }

    fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let low_rank = linear(self.dropout.forward(x), self.lora_a.val().transpose(), None); // [.., r]
        linear(low_rank, self.lora_b.val().transpose(), None) * self.scaling
    }
}

/// The pretrained weight under an adapter: f32, or 4-bit (QLoRA). Record paths name the variant
/// (`q_proj.base_layer.Dense.weight`); `export.rs` maps them to and from Hugging Face's names.
// A 4-bit weight is three tensors, a dense one is one: the enum is as large as three tensor handles. Burn has no
// `Module` for `Box<Q4Linear>`, and a model holds a few hundred of these, so the size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum BaseLayer {
    /// `[in, out]` as in Burn's `Linear`; trains in full fine-tuning.
    Dense(Linear),
    /// Frozen, kept 4-bit on the device and dequantized inside the forward pass.
    Q4(Q4Linear),
}

impl BaseLayer {
    /// `[in, out]`.
    pub fn dims(&self) -> [usize; 2] {
        match self {
            BaseLayer::Dense(linear) => linear.weight.dims(),
            BaseLayer::Q4(q4) => q4.dims(),
        }
    }

    /// The weight in f32, `[in, out]` (a 4-bit one dequantized).
    pub fn weight(&self) -> Tensor<2> {
        match self {
            BaseLayer::Dense(linear) => linear.weight.val(),
            BaseLayer::Q4(q4) => q4.dequantize(),
        }
    }

    /// Bytes the weight takes on the device.
    pub fn bytes(&self) -> usize {
        match self {
            BaseLayer::Dense(linear) => tensor_bytes(&linear.weight.val()),
            BaseLayer::Q4(q4) => q4.bytes(),
        }
    }

    /// Whether the weight itself trains (full fine-tuning; never a 4-bit one).
    pub fn trains(&self) -> bool {
        matches!(self, BaseLayer::Dense(linear) if linear.weight.is_require_grad())
    }

    fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            BaseLayer::Dense(linear) => linear.forward(x),
            BaseLayer::Q4(q4) => q4.forward(x),
        }
    }
}

/// A linear projection with an optional LoRA adapter; PEFT calls the wrapped layer `base_layer` too.
#[derive(Module, Debug)]
pub struct LoraLinear {
    pub base_layer: BaseLayer,
    pub lora: Option<LoraAdapter>,
    /// True while the update is folded into `base_layer` (see [`LoraLinear::merge`]).
    pub merged: bool,
}

impl LoraLinear {
    pub fn new(base_layer: Linear) -> Self {
        LoraLinear { base_layer: BaseLayer::Dense(base_layer), lora: None, merged: false }
    }

    /// A projection on a 4-bit weight: with an adapter, QLoRA.
    pub fn quantized(base_layer: Q4Linear) -> Self {
        LoraLinear { base_layer: BaseLayer::Q4(base_layer), lora: None, merged: false }
    }

    pub fn with_adapter(self, config: &LoraConfig, rng: &mut StdRng, device: &Device) -> Self {
        let [d_input, d_output] = self.base_layer.dims();
        LoraLinear { lora: Some(LoraAdapter::init(d_input, d_output, config, rng, device)), merged: false, ..self }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match &self.lora {
            Some(adapter) if !self.merged => self.base_layer.forward(x.clone()) + adapter.forward(x),
            _ => self.base_layer.forward(x),
        }
    }

    /// Folds the update into the weight, W + B·A·alpha/r, keeping the adapter so it can be unmerged. A 4-bit
    /// weight becomes f32: the sum is not 4-bit.
    pub fn merge(self) -> Self {
        self.fold(1.0, true)
    }

    /// Takes a merged update back out of the weight.
    pub fn unmerge(self) -> Self {
        self.fold(-1.0, false)
    }

    fn fold(mut self, sign: f64, merged: bool) -> Self {
        let Some(adapter) = &self.lora else { return self };
        if self.merged == merged {
            return self;
        }
        let trains = self.base_layer.trains();
        let weight = self.base_layer.weight().detach() + adapter.delta_weight().detach() * sign;
        self.base_layer =
            BaseLayer::Dense(Linear { weight: Param::from_tensor(weight).set_require_grad(trains), bias: None });
        self.merged = merged;
        self
    }
}
