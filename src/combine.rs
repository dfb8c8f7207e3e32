//! Mixing LoRA adapters into one, as PEFT's `LoraModel.add_weighted_adapter` does (`peft/tuners/lora/model.py`):
//! the adapters' PEFT tensors in, with a weight each, one adapter's tensors out. The result's scaling is 1
//! (`lora_alpha = r`, as PEFT writes it): each source adapter's own scaling sᵢ is folded into its factors.
//!
//! - `cat` stacks the factors, A = [w₁s₁A₁; w₂s₂A₂], B = [B₁ B₂]: its update is exactly Σ wᵢ·ΔWᵢ, at the rank
//!   Σ rᵢ. PEFT packs a projection's factors from the first row, so a projection that only some adapters adapt
//!   leaves the last rows zero.
//! - `linear` adds the factors, A = Σ ±√|wᵢsᵢ|·Aᵢ (the sign on A) and B = Σ √|wᵢsᵢ|·Bᵢ, at the sources' one rank.
//!   Its update (Σ…B)(Σ…A) holds the cross terms B₁A₂ and B₂A₁: it is the weighted sum only for one adapter.
//! - `svd` works out Σ wᵢ·ΔWᵢ and keeps its best approximation at the largest source rank (B = U·Σ, A = Vᵀ).
//!
//! The factors are summed in f64 in a fixed order, so the tab and the command line write the same bytes.

use std::collections::BTreeMap;

use crate::export::{parse_adapter_config, read_safetensors, Tensors};
use crate::lora::LoraConfig;
use crate::low_rank::{svd, Matrix};
pub use crate::mix::Combination;
use crate::settings::{Choice, Projection};

/// One adapter to mix: its settings, its tensors as PEFT names them, and its weight (negative subtracts it).
pub struct Source<'a> {
    pub name: &'a str,
    pub config: &'a LoraConfig,
    pub tensors: &'a Tensors,
    pub weight: f64,
}

/// A PEFT adapter folder read in: `name` (its folder or URL, for messages), its settings, the base model its
/// config names, and its factors.
pub struct PeftAdapter {
    pub name: String,
    pub config: LoraConfig,
    pub base_model: String,
    pub tensors: Tensors,
}

impl PeftAdapter {
    /// Reads the folder's `adapter_config.json` and `adapter_model.safetensors`; an error names the folder.
    pub fn read(name: &str, config_json: &[u8], weights: &[u8]) -> Result<PeftAdapter, String> {
        let config = parse_adapter_config(config_json).map_err(|e| format!("{name}: {e}"))?;
        let base_model = serde_json::from_slice::<serde_json::Value>(config_json)
            .ok()
            .and_then(|v| v.get("base_model_name_or_path")?.as_str().map(String::from))
            .unwrap_or_default();
        let tensors = read_safetensors(weights, &format!("{name}/adapter_model.safetensors"))?;
        Ok(PeftAdapter { name: name.to_string(), config, base_model, tensors })
    }

    /// The adapter to mix with `weight`.
    pub fn weighted(&self, weight: f64) -> Source<'_> {
        Source { name: &self.name, config: &self.config, tensors: &self.tensors, weight }
    }
}

/// One adapted projection's factors in a source: `A` (r × in) and `B` (out × r).
struct Factors {
    a: Matrix,
    b: Matrix,
}

/// The adapter `sources` mix into, `how`: its settings and its tensors under PEFT's names.
pub fn combine(sources: &[Source], how: Combination) -> Result<(LoraConfig, Tensors), String> {
    let first = sources.first().ok_or("name at least one adapter to combine")?;
    if let Some(source) = sources.iter().find(|s| !s.weight.is_finite()) {
        return Err(format!("{}: its weight is {}, not a number to scale an update by", source.name, source.weight));
    }
    // PEFT mixes a single adapter linearly whatever it is asked: the three ways give the same update then.
    let how = if sources.len() == 1 { Combination::Linear } else { how };
    let ranks: Vec<usize> = sources.iter().map(|s| s.config.r).collect();
    let rank = match how {
        Combination::Cat => ranks.iter().sum(),
        Combination::Svd => ranks.iter().copied().max().unwrap_or(0),
        Combination::Linear => {
            if ranks.iter().any(|&r| r != ranks[0]) {
                let listed: Vec<String> = sources.iter().map(|s| format!("{} r = {}", s.name, s.config.r)).collect();
                return Err(format!(
                    "linear adds the factors, so every adapter needs the same rank ({}): combine with cat or svd",
                    listed.join(", ")
                ));
            }
            ranks[0]
        }
    };
    // Every adapted projection, and each source's factors there.
    let mut modules: BTreeMap<String, Vec<(&Source, Factors)>> = BTreeMap::new();
    for source in sources {
        for (module, factors) in factors_of(source)? {
            let parts = modules.entry(module).or_default();
            if let Some((other, theirs)) = parts.first() {
                let size = |f: &Factors| (f.b.rows, f.a.cols);
                if size(theirs) != size(&factors) {
                    let (o, i) = size(&factors);
                    let (other_o, other_i) = size(theirs);
                    return Err(format!(
                        "{} adapts a {o} × {i} projection where {} adapts a {other_o} × {other_i} one: adapters of \
                         different models cannot be combined",
                        source.name, other.name
                    ));
                }
            }
            parts.push((source, factors));
        }
    }
    let mut out = Tensors::new();
    for (module, parts) in &modules {
        let (a, b) = match how {
            Combination::Cat => stacked(parts, rank),
            Combination::Linear => added(parts),
            Combination::Svd => truncated(parts, rank),
        };
        for (factor, m) in [("lora_A", a), ("lora_B", b)] {
            let values = m.data.iter().map(|&x| x as f32).collect();
            out.insert(format!("base_model.model.{module}.{factor}.weight"), (vec![m.rows, m.cols], values));
        }
    }
    let targets = Projection::ALL
        .iter()
        .copied()
        .filter(|p| sources.iter().any(|s| s.config.target_modules.contains(p)))
        .collect();
    // Written without rsLoRA whatever the sources use: with it, alpha / √r would not be the scaling of 1 that the
    // factors above assume.
    let config = LoraConfig::new(rank, rank as f64, targets).with_lora_dropout(first.config.lora_dropout);
    Ok((config, out))
}

/// The source's factors by module (`model.layers.0.self_attn.q_proj`), checked for shape.
fn factors_of(source: &Source) -> Result<BTreeMap<String, Factors>, String> {
    let mut found = BTreeMap::new();
    for (name, (shape, values)) in source.tensors {
        let Some(module) = name.strip_prefix("base_model.model.").and_then(|n| n.strip_suffix(".lora_A.weight")) else {
            continue;
        };
        let b_name = format!("base_model.model.{module}.lora_B.weight");
        let (b_shape, b_values) =
            source.tensors.get(&b_name).ok_or_else(|| format!("{}: {name} has no {b_name} beside it", source.name))?;
        let r = source.config.r;
        match (shape.as_slice(), b_shape.as_slice()) {
            ([ra, inputs], [outputs, rb]) if *ra == r && *rb == r => {
                let a = Matrix::from_f32(r, *inputs, values);
                let b = Matrix::from_f32(*outputs, r, b_values);
                found.insert(module.to_string(), Factors { a, b });
            }
            _ => {
                return Err(format!(
                    "{}: {module}'s factors are {shape:?} and {b_shape:?}, not [r, in] and [out, r] with its r = {r}",
                    source.name
                ))
            }
        }
    }
    if found.is_empty() {
        return Err(format!("{}: no LoRA factors (…lora_A.weight and …lora_B.weight) in its tensors", source.name));
    }
    Ok(found)
}

/// `cat`: the sources' A rows scaled by wᵢsᵢ, one under another, and their B columns side by side, padded with
/// zeros to `rank`.
fn stacked(parts: &[(&Source, Factors)], rank: usize) -> (Matrix, Matrix) {
    let (inputs, outputs) = (parts[0].1.a.cols, parts[0].1.b.rows);
    let (mut a, mut b) =
        (Matrix::new(rank, inputs, vec![0.0; rank * inputs]), Matrix::new(outputs, rank, vec![0.0; outputs * rank]));
    let mut row = 0;
    for (source, f) in parts {
        let factor = source.weight * source.config.scaling();
        for i in 0..f.a.rows {
            for j in 0..inputs {
                a.data[(row + i) * inputs + j] = factor * f.a.at(i, j);
            }
            for o in 0..outputs {
                b.data[o * rank + row + i] = f.b.at(o, i);
            }
        }
        row += f.a.rows;
    }
    (a, b)
}

/// `linear`: Σ ±√|wᵢsᵢ|·Aᵢ and Σ √|wᵢsᵢ|·Bᵢ.
fn added(parts: &[(&Source, Factors)]) -> (Matrix, Matrix) {
    let mut sum: Option<(Matrix, Matrix)> = None;
    for (source, f) in parts {
        let weight = source.weight * source.config.scaling();
        let (a, b) = (f.a.scaled(weight.abs().sqrt() * weight.signum()), f.b.scaled(weight.abs().sqrt()));
        sum = Some(match sum {
            None => (a, b),
            Some((sa, sb)) => (sa.plus(&a), sb.plus(&b)),
        });
    }
    sum.expect("a module has at least one source")
}

/// `svd`: Σ wᵢsᵢ·Bᵢ·Aᵢ, then its first `rank` singular directions, B = U·Σ and A = Vᵀ.
fn truncated(parts: &[(&Source, Factors)], rank: usize) -> (Matrix, Matrix) {
    let delta = parts
        .iter()
        .map(|(source, f)| f.b.matmul(&f.a).scaled(source.weight * source.config.scaling()))
        .reduce(|sum, d| sum.plus(&d))
        .expect("a module has at least one source");
    let decomposed = svd(&delta);
    let (outputs, inputs) = (delta.rows, delta.cols);
    let mut a = Matrix::new(rank, inputs, vec![0.0; rank * inputs]);
    let mut b = Matrix::new(outputs, rank, vec![0.0; outputs * rank]);
    for (k, &sigma) in decomposed.singular_values.iter().enumerate().take(rank) {
        for o in 0..outputs {
            b.data[o * rank + k] = decomposed.u.at(o, k) * sigma;
        }
        for j in 0..inputs {
            a.data[k * inputs + j] = decomposed.v.at(j, k);
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An adapter on q_proj of layer 0 (4 inputs, 3 outputs) with factors `a` (r × 4) and `b` (3 × r).
    fn adapter(r: usize, alpha: f64, a: Vec<f32>, b: Vec<f32>) -> (LoraConfig, Tensors) {
        let module = "base_model.model.model.layers.0.self_attn.q_proj";
        let mut tensors = Tensors::new();
        tensors.insert(format!("{module}.lora_A.weight"), (vec![r, 4], a));
        tensors.insert(format!("{module}.lora_B.weight"), (vec![3, r], b));
        (LoraConfig::new(r, alpha, vec![Projection::QProj]), tensors)
    }

    fn update(config: &LoraConfig, tensors: &Tensors) -> Matrix {
        let module = "base_model.model.model.layers.0.self_attn.q_proj";
        let (sa, a) = &tensors[&format!("{module}.lora_A.weight")];
        let (sb, b) = &tensors[&format!("{module}.lora_B.weight")];
        Matrix::from_f32(sb[0], sb[1], b).matmul(&Matrix::from_f32(sa[0], sa[1], a)).scaled(config.scaling())
    }

    fn two() -> [(LoraConfig, Tensors); 2] {
        let ramp = |n: usize, from: f32| (0..n).map(|i| from + 0.25 * i as f32).collect::<Vec<f32>>();
        [adapter(2, 4.0, ramp(8, -1.0), ramp(6, 0.5)), adapter(2, 2.0, ramp(8, 0.75), ramp(6, -0.5))]
    }

    fn sources<'a>(adapters: &'a [(LoraConfig, Tensors)], weights: &[f64]) -> Vec<Source<'a>> {
        adapters
            .iter()
            .zip(weights)
            .map(|((config, tensors), &weight)| Source { name: "adapter", config, tensors, weight })
            .collect()
    }

    #[test]
    fn cat_gives_the_weighted_sum_of_the_updates_and_linear_does_not() {
        let adapters = two();
        let weights = [0.7, -0.4];
        let expected = update(&adapters[0].0, &adapters[0].1)
            .scaled(0.7)
            .plus(&update(&adapters[1].0, &adapters[1].1).scaled(-0.4));
        let (config, tensors) = combine(&sources(&adapters, &weights), Combination::Cat).unwrap();
        assert_eq!((config.r, config.lora_alpha), (4, 4.0));
        assert!(update(&config, &tensors).plus(&expected.scaled(-1.0)).max_abs() < 1e-5);
        // Rank 2 holds the sum of two rank-2 updates only approximately; linear's cross terms miss it further.
        let (config, tensors) = combine(&sources(&adapters, &weights), Combination::Svd).unwrap();
        let svd_error = update(&config, &tensors).plus(&expected.scaled(-1.0)).frobenius();
        let (config, tensors) = combine(&sources(&adapters, &weights), Combination::Linear).unwrap();
        let linear_error = update(&config, &tensors).plus(&expected.scaled(-1.0)).frobenius();
        assert!(svd_error < linear_error, "svd {svd_error}, linear {linear_error}");
        assert!(linear_error > 0.1 * expected.frobenius());
    }

    #[test]
    fn one_adapter_at_weight_one_comes_back_whatever_the_way() {
        let adapters = two();
        for how in Combination::ALL {
            let (config, tensors) = combine(&sources(&adapters[..1], &[1.0]), *how).unwrap();
            let back = update(&config, &tensors).plus(&update(&adapters[0].0, &adapters[0].1).scaled(-1.0));
            assert!(back.max_abs() < 1e-5, "{how:?}");
        }
    }

    #[test]
    fn adapters_of_different_models_or_a_weight_that_is_no_number_are_refused() {
        let [first, _] = two();
        // The same projection, 5 inputs instead of 4: another model's.
        let mut other = adapter(2, 2.0, vec![0.5; 10], vec![0.5; 6]);
        other.1.get_mut("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").unwrap().0 = vec![2, 5];
        let adapters = [first, other];
        let error = combine(&sources(&adapters, &[1.0, 1.0]), Combination::Cat).unwrap_err();
        assert!(error.contains("a 3 × 5 projection where adapter adapts a 3 × 4 one"), "{error}");
        let error = combine(&sources(&adapters[..1], &[f64::NAN]), Combination::Cat).unwrap_err();
        assert!(error.contains("its weight is NaN"), "{error}");
    }

    #[test]
    fn linear_needs_one_rank_and_names_the_ranks() {
        let [first, _] = two();
        let other = adapter(1, 1.0, vec![1.0; 4], vec![1.0; 3]);
        let adapters = [first, other];
        let error = combine(&sources(&adapters, &[1.0, 1.0]), Combination::Linear).unwrap_err();
        assert!(error.contains("adapter r = 2, adapter r = 1") && error.contains("cat or svd"), "{error}");
        assert_eq!(combine(&sources(&adapters, &[1.0, 1.0]), Combination::Cat).unwrap().0.r, 3);
    }
}
