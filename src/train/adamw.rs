//! AdamW as Burn computes it ([`burn::optim::AdamW`], one parameter at a time), with each parameter's moments
//! kept here instead of inside Burn's `ModuleOptimizer`: a checkpoint ([`super::checkpoint`]) reads the moments
//! back with `into_data_async`, while `ModuleOptimizer::to_record` reads synchronously, which panics on WebGPU in
//! the browser. The update itself is Burn's, so the numbers are those of `AdamWConfig::init()`.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::{AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::prelude::*;

/// One parameter's optimizer state: how many updates it had, and its first and second moments, flattened.
#[derive(Clone)]
pub struct Moments {
    pub time: usize,
    pub first: Tensor<1>,
    pub second: Tensor<1>,
}

pub struct AdamWOptimizer {
    adamw: AdamW,
    moments: HashMap<ParamId, Moments>,
}

impl AdamWOptimizer {
    /// Hugging Face's defaults (β = 0.9, 0.999; ε = 1e-8) with decoupled `weight_decay`.
    pub fn new(weight_decay: f64) -> AdamWOptimizer {
        let adamw = AdamWConfig::new().with_weight_decay(weight_decay as f32).with_epsilon(1e-8).build();
        AdamWOptimizer { adamw, moments: HashMap::new() }
    }

    /// Updates every parameter of `module` that has a gradient in `grads` at learning rate `learning_rate`.
    pub fn step<M: Module>(&mut self, learning_rate: f64, module: M, grads: GradientsParams) -> M {
        module.map(&mut Update { adamw: &self.adamw, moments: &mut self.moments, grads, learning_rate })
    }

    /// The moments of parameter `id`; `None` before its first update.
    pub fn moments(&self, id: ParamId) -> Option<&Moments> {
        self.moments.get(&id)
    }

    /// Sets the moments of parameter `id` (a checkpoint's).
    pub fn set_moments(&mut self, id: ParamId, moments: Moments) {
        self.moments.insert(id, moments);
    }
}

struct Update<'a> {
    adamw: &'a AdamW,
    moments: &'a mut HashMap<ParamId, Moments>,
    grads: GradientsParams,
    learning_rate: f64,
}

impl ModuleMapper for Update<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else { return Param::from_mapped_value(id, tensor, mapper) };
        let shape = tensor.dims();
        let state = self.moments.remove(&id).map(|moments| AdamWState {
            momentum: AdaptiveMomentumState {
                time: moments.time,
                moment_1: moments.first.reshape(shape),
                moment_2: moments.second.reshape(shape),
                max_moment_2: None,
            },
        });
        let require_grad = tensor.is_require_grad();
        // Updated off the autodiff graph and put back as a fresh leaf, as `ModuleOptimizer` does.
        let (updated, state) = self.adamw.step(self.learning_rate, tensor.inner(), grad, state);
        if let Some(AdamWState { momentum }) = state {
            let flat = |tensor: Tensor<D>| tensor.reshape([shape.iter().product::<usize>()]);
            let moments =
                Moments { time: momentum.time, first: flat(momentum.moment_1), second: flat(momentum.moment_2) };
            self.moments.insert(id, moments);
        }
        let updated = Tensor::from_inner(updated);
        Param::from_mapped_value(id, if require_grad { updated.require_grad() } else { updated }, mapper)
    }
}
