//! Hugging Face and PEFT formats, in and out: a model folder (`config.json` + `model.safetensors`) and a PEFT
//! LoRA adapter folder (`adapter_config.json` + `adapter_model.safetensors`). Everything works on bytes so the
//! browser worker can do the same as the CLI.
//!
//! Weights move through burn-store. Our module paths are Hugging Face's except for two details that the key
//! remapping below handles: every projection wraps its weight as `base_layer.Dense` (PEFT's `base_layer`, and the variant of
//! [`BaseLayer`](crate::lora::BaseLayer)), and adapter
//! factors live at `<projection>.lora.lora_a|lora_b` where PEFT writes
//! `base_model.model.<projection>.lora_A.weight|lora_B.weight`. Our q/k rows are already in Hugging Face's
//! rotate-half order (the importer permuted them), so adapter B matrices need no permutation.

use std::collections::BTreeMap;

use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use serde_json::json;

use crate::lora::LoraConfig;
use crate::model::{LlamaConfig, LlamaForCausalLM};
use crate::settings::{Choice, Projection};

/// `config.json` for `LlamaForCausalLM`.
pub fn hf_config_json(config: &LlamaConfig) -> String {
    let value = json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "torch_dtype": "float32",
        "attention_bias": false,
        "attention_dropout": 0.0,
        "mlp_bias": false,
        "pretraining_tp": 1,
        "initializer_range": 0.02,
        "use_cache": true,
        "rope_scaling": null,
        "head_dim": config.head_dim(),
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "max_position_embeddings": config.max_position_embeddings,
        "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope_theta,
        "tie_word_embeddings": config.tie_word_embeddings,
        "bos_token_id": config.bos_token_id,
        "eos_token_id": config.eos_token_id,
    });
    serde_json::to_string_pretty(&value).expect("JSON values serialise")
}

pub fn parse_hf_config(config_json: &[u8]) -> Result<LlamaConfig, String> {
    serde_json::from_slice(config_json).map_err(|e| format!("config.json: {e}"))
}

/// Tensors by name: shape (row-major) and values.
pub type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// The f32 tensors of a safetensors file.
pub fn read_safetensors(bytes: &[u8], file: &str) -> Result<Tensors, String> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("{file}: {}", header_problem(bytes).unwrap_or_else(|| e.to_string())))?;
    tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(format!("{file}: tensor {name} is {:?}; only F32 tensors are read", view.dtype()));
            }
            let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")));
            Ok((name, (view.shape().to_vec(), values.collect())))
        })
        .collect()
}

/// The first tensor whose header entry does not fit the file, named (the safetensors crate's own message names
/// none); `None` when the header cannot be read that far.
fn header_problem(bytes: &[u8]) -> Option<String> {
    let length = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes.get(8..8usize.checked_add(length)?)?).ok()?;
    let data = bytes.len() - 8 - length;
    header.iter().filter(|(name, _)| *name != "__metadata__").find_map(|(name, entry)| {
        let numbers = |key: &str| -> Option<Vec<u64>> {
            entry.get(key)?.as_array()?.iter().map(|v| v.as_u64()).collect::<Option<Vec<u64>>>()
        };
        let (shape, offsets) = (numbers("shape")?, numbers("data_offsets")?);
        let width: u64 = match entry.get("dtype")?.as_str()? {
            "F64" | "I64" | "U64" => 8,
            "F32" | "I32" | "U32" => 4,
            "F16" | "BF16" | "I16" | "U16" => 2,
            _ => 1,
        };
        let size = shape.iter().try_fold(width, |size, &d| size.checked_mul(d));
        match offsets.as_slice() {
            [start, end] if start <= end && *end <= data as u64 && size == Some(end - start) => None,
            [start, end] => Some(format!(
                "tensor {name}: its header gives bytes {start}..{end} for shape {shape:?}, but the file holds {data}                  bytes of data: the file is cut short or its header is wrong"
            )),
            _ => Some(format!("tensor {name}: its header's data_offsets are not two numbers")),
        }
    })
}

/// burn-store's file rewritten by [`safetensors_bytes`]: burn-store writes its metadata from a hash map, in another
/// order in every process, and the tab's files must be the CLI's byte for byte.
fn same_bytes_every_time(bytes: Vec<u8>, file: &str) -> Result<Vec<u8>, String> {
    Ok(safetensors_bytes(&read_safetensors(&bytes, file)?))
}

/// A safetensors file of f32 tensors (name → shape, values), marked as PyTorch's so transformers accepts it.
pub fn safetensors_bytes(tensors: &Tensors) -> Vec<u8> {
    safetensors_file(tensors, [("format".to_string(), "pt".to_string())])
}

/// A safetensors file of f32 tensors (name → shape, values) with `metadata` in its header.
pub fn safetensors_file(tensors: &Tensors, metadata: impl IntoIterator<Item = (String, String)>) -> Vec<u8> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, (shape, values))| {
            (name.clone(), shape.clone(), values.iter().flat_map(|v| v.to_le_bytes()).collect())
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = bytes
        .iter()
        .map(|(name, shape, data)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .expect("shape matches data");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, Some(metadata.into_iter().collect())).expect("f32 tensors serialise")
}

/// Hugging Face's name for a projection's weight in block `layer`.
pub fn hf_tensor(layer: usize, projection: Projection) -> String {
    format!("{}.weight", projection.hf_module(layer))
}

/// PEFT's name for one factor (`lora_A` or `lora_B`) of the adapter on a projection.
pub fn peft_factor(layer: usize, projection: Projection, factor: &str) -> String {
    let hf = hf_tensor(layer, projection);
    format!("base_model.model.{}.{factor}.weight", hf.trim_end_matches(".weight"))
}

/// The model's weights with the adapter merged in, W + scaling·B·A, summed in a fixed order in plain Rust rather
/// than by a matrix multiply: Burn's kernels add up in another order in WebAssembly than natively, and the tab's
/// merged file must be the CLI's byte for byte. (About 2.5 million multiply-adds for stories260K.)
pub fn merge_adapter(
    config: &LlamaConfig,
    base: &Tensors,
    lora: &LoraConfig,
    adapter: &Tensors,
) -> Result<Tensors, String> {
    let file = "adapter_model.safetensors";
    let scaling = lora.scaling() as f32;
    let mut merged = base.clone();
    for layer in 0..config.num_hidden_layers {
        for &projection in &lora.target_modules {
            let factor = |name: &str| {
                let key = peft_factor(layer, projection, name);
                adapter.get(&key).ok_or_else(|| format!("{file} has no tensor {key}"))
            };
            let ((a_shape, a), (b_shape, b)) = (factor("lora_A")?, factor("lora_B")?);
            let key = hf_tensor(layer, projection);
            let (w_shape, w) = merged.get_mut(&key).ok_or_else(|| format!("model.safetensors has no tensor {key}"))?;
            let (rank, columns, rows) = (a_shape[0], a_shape[1], b_shape[0]);
            if w_shape[..] != [rows, columns] || b_shape[1] != rank {
                return Err(format!("{file}: the factors of {key} do not fit its shape {w_shape:?}"));
            }
            for row in 0..rows {
                for column in 0..columns {
                    let update: f32 = (0..rank).map(|k| b[row * rank + k] * a[k * columns + column]).sum();
                    w[row * columns + column] += scaling * update;
                }
            }
        }
    }
    Ok(merged)
}

/// The base model (`weights`, its `model.safetensors`) with the adapter merged in ([`merge_adapter`]), as a Hugging
/// Face folder that `transformers` loads.
pub fn merged_hf_files(
    config: &LlamaConfig,
    weights: &[u8],
    tokenizer_json: &str,
    tokenizer_config: &[u8],
    lora: &LoraConfig,
    adapter_weights: &[u8],
) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let base = read_safetensors(weights, "model.safetensors")?;
    let factors = read_safetensors(adapter_weights, "adapter_model.safetensors")?;
    let merged = merge_adapter(config, &base, lora, &factors)?;
    Ok(vec![
        ("config.json", hf_config_json(config).into_bytes()),
        ("model.safetensors", safetensors_bytes(&merged)),
        ("tokenizer.json", tokenizer_json.as_bytes().to_vec()),
        ("tokenizer_config.json", tokenizer_config.to_vec()),
    ])
}

/// Loads a Hugging Face Llama folder's config and weights onto `device`.
pub fn load_model(
    config_json: &[u8],
    weights: &[u8],
    device: &Device,
) -> Result<(LlamaConfig, LlamaForCausalLM), String> {
    let config = parse_hf_config(config_json)?;
    let model = load_weights(config.init(device), weights)?;
    Ok((config, model))
}

/// Fills `model`'s f32 weights from a `model.safetensors`, which must hold every one of them (a 4-bit weight is in
/// no record, so it is not asked for).
pub fn load_weights(mut model: LlamaForCausalLM, weights: &[u8]) -> Result<LlamaForCausalLM, String> {
    let mut store = SafetensorsStore::from_bytes(Some(weights.to_vec()))
        .with_from_adapter(PyTorchToBurnAdapter)
        .with_key_remapping(r"^(.+_proj|lm_head)\.weight$", "$1.base_layer.Dense.weight");
    let result = model.load_from(&mut store).map_err(|e| format!("model.safetensors: {e}"))?;
    let missing: Vec<&str> = result
        .missing
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| path.ends_with(".weight") || path.ends_with(".gamma"))
        .collect();
    if !missing.is_empty() || !result.errors.is_empty() {
        return Err(format!(
            "model.safetensors does not fit config.json: missing {missing:?}, errors {:?}",
            result.errors
        ));
    }
    Ok(model)
}

/// The model's weights as a Hugging Face `model.safetensors`, any LoRA update merged in (`W + B·A·alpha/r`).
pub fn merged_model_safetensors(model: LlamaForCausalLM) -> Result<Vec<u8>, String> {
    let merged = model.map_projections(Projection::ALL, |projection| projection.merge());
    let mut store = SafetensorsStore::from_bytes(None)
        .with_regex(r"(\.weight|\.gamma)$")
        .with_to_adapter(BurnToPyTorchAdapter)
        .with_key_remapping(r"\.base_layer\.Dense\.weight$", ".weight")
        .metadata("format", "pt");
    merged.save_into(&mut store).map_err(|e| e.to_string())?;
    same_bytes_every_time(store.get_bytes().map_err(|e| e.to_string())?, "model.safetensors")
}

/// PEFT's `adapter_config.json` for an adapter trained on `base_model`.
pub fn adapter_config_json(lora: &LoraConfig, base_model: &str) -> String {
    let value = json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": lora.r,
        "lora_alpha": lora.lora_alpha,
        "lora_dropout": lora.lora_dropout,
        "target_modules": lora.target_modules,
        "bias": "none",
        "fan_in_fan_out": false,
        "use_rslora": lora.use_rslora,
        "use_dora": false,
        "init_lora_weights": true,
        "inference_mode": true,
        "modules_to_save": null,
    });
    serde_json::to_string_pretty(&value).expect("JSON values serialise")
}

/// Reads the LoRA settings from a PEFT `adapter_config.json`, refusing variants this model cannot reproduce.
pub fn parse_adapter_config(json: &[u8]) -> Result<LoraConfig, String> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("adapter_config.json: {e}"))?;
    let field = |name: &str| value.get(name).ok_or_else(|| format!("adapter_config.json: missing `{name}`"));
    if field("peft_type")? != "LORA" {
        return Err("adapter_config.json: only LoRA adapters (`peft_type: LORA`) are supported".into());
    }
    for (flag, meaning) in [("use_dora", "DoRA"), ("fan_in_fan_out", "fan_in_fan_out")] {
        if value.get(flag).and_then(|v| v.as_bool()) == Some(true) {
            return Err(format!("adapter_config.json: {meaning} (`{flag}: true`) is not supported"));
        }
    }
    let number =
        |name: &str| field(name)?.as_f64().ok_or_else(|| format!("adapter_config.json: `{name}` must be a number"));
    let names: Vec<&str> = match field("target_modules")? {
        serde_json::Value::Array(names) => names.iter().filter_map(|n| n.as_str()).collect(),
        serde_json::Value::String(one) => vec![one.as_str()],
        _ => return Err("adapter_config.json: `target_modules` must be a list of names".into()),
    };
    let mut target_modules = names
        .iter()
        .map(|name| {
            Projection::from_name(name).ok_or_else(|| {
                format!("adapter_config.json: unknown LoRA target `{name}`: choose among {}", Projection::names())
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // PEFT saves its targets as a set, in any order: in the model's order they read (and compare) the same.
    target_modules.sort_by_key(|target| Projection::ALL.iter().position(|p| p == target));
    target_modules.dedup();
    let config = LoraConfig::new(number("r")? as usize, number("lora_alpha")?, target_modules)
        .with_lora_dropout(value.get("lora_dropout").and_then(|v| v.as_f64()).unwrap_or(0.0))
        .with_use_rslora(value.get("use_rslora").and_then(|v| v.as_bool()).unwrap_or(false));
    config.validate().map_err(|e| format!("adapter_config.json: {e}"))?;
    Ok(config)
}

/// The adapter factors as PEFT's `adapter_model.safetensors`.
pub fn adapter_safetensors(model: &LlamaForCausalLM) -> Result<Vec<u8>, String> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_regex(r"\.lora\.lora_[ab]$")
        .with_key_remapping(r"^(.*)\.lora\.lora_a$", "base_model.model.$1.lora_A.weight")
        .with_key_remapping(r"^(.*)\.lora\.lora_b$", "base_model.model.$1.lora_B.weight")
        .metadata("format", "pt");
    model.save_into(&mut store).map_err(|e| e.to_string())?;
    same_bytes_every_time(store.get_bytes().map_err(|e| e.to_string())?, "adapter_model.safetensors")
}

/// Attaches the adapter in a PEFT folder's two files to `model`.
pub fn load_adapter(
    model: LlamaForCausalLM,
    adapter_config: &[u8],
    adapter_weights: &[u8],
    device: &Device,
) -> Result<(LoraConfig, LlamaForCausalLM), String> {
    let config = parse_adapter_config(adapter_config)?;
    // The factors are overwritten by the file; the seed only fills them until then.
    let mut model = model.with_lora(&config, 0, device);
    // Partial: the file holds only the adapter; the base weights stay as loaded. Missing factors are checked below.
    let mut store = SafetensorsStore::from_bytes(Some(adapter_weights.to_vec()))
        .allow_partial(true)
        .with_key_remapping(r"^base_model\.model\.(.*)\.lora_A(\.default)?\.weight$", "$1.lora.lora_a")
        .with_key_remapping(r"^base_model\.model\.(.*)\.lora_B(\.default)?\.weight$", "$1.lora.lora_b");
    let result = model.load_from(&mut store).map_err(|e| format!("adapter_model.safetensors: {e}"))?;
    let missing: Vec<&str> =
        result.missing.iter().map(|(path, _)| path.as_str()).filter(|p| p.contains(".lora.lora_")).collect();
    if !missing.is_empty() || !result.errors.is_empty() {
        return Err(format!(
            "adapter_model.safetensors does not match adapter_config.json: missing {missing:?}, errors {:?}",
            result.errors
        ));
    }
    Ok((config, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_the_scaled_update_to_the_targets_only() {
        // One layer of width 2 with an MLP of 2; a rank-1 adapter on v_proj: B = [1, 2]ᵀ, A = [3, 4], alpha 2
        // (scaling 2): W + 2·B·A = W + [[6, 8], [12, 16]].
        let config = LlamaConfig::new(4, 2, 2, 1, 1, 1, 8);
        let lora = LoraConfig::new(1, 2.0, vec![Projection::VProj]);
        let base: Tensors =
            Projection::ALL.iter().map(|&p| (hf_tensor(0, p), (vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]))).collect();
        let adapter: Tensors = [
            (peft_factor(0, Projection::VProj, "lora_A"), (vec![1, 2], vec![3.0, 4.0])),
            (peft_factor(0, Projection::VProj, "lora_B"), (vec![2, 1], vec![1.0, 2.0])),
        ]
        .into_iter()
        .collect();
        let merged = merge_adapter(&config, &base, &lora, &adapter).unwrap();
        assert_eq!(merged[&hf_tensor(0, Projection::VProj)].1, [7.0, 8.0, 12.0, 17.0]);
        assert_eq!(merged[&hf_tensor(0, Projection::QProj)], base[&hf_tensor(0, Projection::QProj)]);
        let lopsided: Tensors =
            adapter.into_iter().map(|(k, (s, v))| (k, (s.into_iter().rev().collect(), v))).collect();
        assert!(merge_adapter(&config, &base, &lora, &lopsided).unwrap_err().contains("do not fit"));
    }
}
