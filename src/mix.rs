//! Two adapters mixed with weights and the mix scored on both their tasks (lesson "Merge, combine and deploy"):
//! the ways to mix ([`Combination`], done by [`crate::combine`]), the weights the site records, and what a mix
//! checked on the task checks is ([`MixChecked`]). The tab mixes what the learner sets (`ToWorker::Mix`) and the
//! site build records every pair of [`RECORDED_WEIGHTS`] (`tinytune mixes`), through the same [`check_mix`].

use serde::{Deserialize, Serialize};

use crate::settings::Choice;
use crate::task::CheckedSample;

/// How the adapters are mixed, named as PEFT's `combination_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combination {
    Cat,
    Linear,
    Svd,
}

impl Choice for Combination {
    const ALL: &'static [Self] = &[Combination::Cat, Combination::Linear, Combination::Svd];
    fn name(self) -> &'static str {
        match self {
            Combination::Cat => "cat",
            Combination::Linear => "linear",
            Combination::Svd => "svd",
        }
    }
}

impl Combination {
    /// What the way does to the two updates, for a chooser.
    pub fn description(self) -> &'static str {
        match self {
            Combination::Cat => "stack the factors: exactly the weighted sum, at the sum of the ranks",
            Combination::Linear => "add the factors: one rank, with cross terms between the adapters",
            Combination::Svd => "the weighted sum's best approximation at the larger rank",
        }
    }
}

/// The weights the site build mixes each adapter with, every pair of them with `cat`: 0 and 0 is the base model.
pub const RECORDED_WEIGHTS: [f64; 3] = [0.0, 0.5, 1.0];

/// The weights a learner may set: from `MIN_WEIGHT` to `MAX_WEIGHT` in steps of `WEIGHT_STEP`, negative to
/// subtract an adapter.
pub const MIN_WEIGHT: f64 = -1.0;
pub const MAX_WEIGHT: f64 = 2.0;
pub const WEIGHT_STEP: f64 = 0.25;

/// Every pair of [`RECORDED_WEIGHTS`], the first adapter's weight changing slowest.
pub fn recorded_grid() -> Vec<[f64; 2]> {
    RECORDED_WEIGHTS.iter().flat_map(|&first| RECORDED_WEIGHTS.map(|second| [first, second])).collect()
}

/// An adapter folder to mix (as the site serves it) with its weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixSource {
    pub url: String,
    pub weight: f64,
}

/// One task check run on a mix: its name and every sample judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckedTask {
    pub name: String,
    pub samples: Vec<CheckedSample>,
}

impl CheckedTask {
    pub fn passed(&self) -> usize {
        self.samples.iter().filter(|sample| sample.passed).count()
    }
}

/// A mix and what it did on each task check: the sources' weights in order, the way, the mix's rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixChecked {
    pub weights: Vec<f64>,
    pub how: Combination,
    pub rank: usize,
    pub checks: Vec<CheckedTask>,
}

#[cfg(feature = "trainer")]
pub use checking::{check_mix, Mixed};

#[cfg(feature = "trainer")]
mod checking {
    use burn::prelude::*;

    use super::{CheckedTask, Combination, MixChecked};
    use crate::combine::{combine, Source};
    use crate::export::{adapter_config_json, load_adapter, safetensors_bytes};
    use crate::lora::LoraConfig;
    use crate::model::LlamaForCausalLM;
    use crate::task::TaskCheck;
    use crate::tokenizer::TextTokenizer;

    /// A mix as a PEFT adapter (its settings and `adapter_model.safetensors`) and what it did on the checks.
    pub struct Mixed {
        pub checked: MixChecked,
        pub lora: LoraConfig,
        pub weights: Vec<u8>,
    }

    /// Mixes `sources` `how`, loads the mix on `base` and runs each of `checks` on it. Async because sampling on
    /// a GPU in the browser is; natively, drive it with `pollster::block_on`.
    pub async fn check_mix(
        base: &LlamaForCausalLM,
        sources: &[Source<'_>],
        how: Combination,
        checks: &[TaskCheck],
        tokenizer: &TextTokenizer,
        max_len: usize,
        device: &Device,
    ) -> Result<Mixed, String> {
        let (lora, tensors) = combine(sources, how)?;
        let weights = safetensors_bytes(&tensors);
        // Loading reads the settings only, not the base model's name.
        let config_json = adapter_config_json(&lora, "");
        let (_, model) = load_adapter(base.clone(), config_json.as_bytes(), &weights, device)?;
        let mut checked = Vec::with_capacity(checks.len());
        for check in checks {
            let samples = check.run(&model, tokenizer, max_len, device).await;
            checked.push(CheckedTask { name: check.name.clone(), samples });
        }
        let weights_of = sources.iter().map(|source| source.weight).collect();
        let checked = MixChecked { weights: weights_of, how, rank: lora.r, checks: checked };
        Ok(Mixed { checked, lora, weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_pair_of_the_recorded_weights() {
        let grid = recorded_grid();
        assert_eq!(grid.len(), 9);
        assert_eq!((grid[0], grid[1], grid[8]), ([0.0, 0.0], [0.0, 0.5], [1.0, 1.0]));
    }

    #[test]
    fn ways_read_back_by_name_and_in_json() {
        for &how in Combination::ALL {
            assert_eq!(serde_json::to_string(&how).unwrap(), format!("\"{}\"", how.name()));
        }
    }
}
