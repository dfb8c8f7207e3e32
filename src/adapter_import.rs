//! "Open adapter": a PEFT LoRA adapter the learner brings — a zip of its folder, or the folder's files — read and
//! checked against the base model before anything is loaded: every tensor `adapter_config.json` calls for is
//! there, with the shape this model needs, finite, and nothing else is. Each problem is one message naming the
//! file and the tensor and saying what to do; no input makes it panic (`tests/native/adapter_fuzz.rs` feeds it a
//! million mutated ones).

use std::io::Read;

use crate::export::{parse_adapter_config, peft_factor, read_safetensors, safetensors_bytes, Tensors};
use crate::lora::LoraConfig;
use crate::protocol::ModelShape;
use crate::settings::Choice;

const CONFIG: &str = "adapter_config.json";
const WEIGHTS: &str = "adapter_model.safetensors";
/// The largest file read out of a zip: far above any adapter of a model the site trains, far below what would
/// exhaust a tab's memory (a small zip can claim to unpack to gigabytes).
const MAX_FILE_BYTES: u64 = 512 << 20;

/// A PEFT adapter, checked: its settings, and its weights rewritten as a plain PEFT safetensors file.
#[derive(Debug, PartialEq)]
pub struct CheckedAdapter {
    pub lora: LoraConfig,
    /// `base_model_name_or_path` from the config, when it names one.
    pub base_model: Option<String>,
    pub weights: Vec<u8>,
}

/// Reads the adapter in `files` (name, bytes): one zip of a PEFT folder, or the folder's two files; checks it
/// against the base model `model` of shape `shape`.
pub fn open_adapter(files: &[(String, Vec<u8>)], model: &str, shape: &ModelShape) -> Result<CheckedAdapter, String> {
    let (config, weights) = adapter_files(files)?;
    check_adapter(&config, &weights, model, shape)
}

/// `adapter_config.json` and `adapter_model.safetensors` out of a zip or loose files.
fn adapter_files(files: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, Vec<u8>), String> {
    match files {
        [] => Err(format!("choose a PEFT adapter: a zip of its folder, or its {CONFIG} and {WEIGHTS}")),
        [(name, bytes)] if bytes.starts_with(b"PK") || name.to_lowercase().ends_with(".zip") => unzip(name, bytes),
        files => {
            let find = |wanted: &str| files.iter().find(|(name, _)| base_name(name) == wanted).map(|(_, b)| b.clone());
            if let Some((name, _)) = files.iter().find(|(name, _)| base_name(name) == "adapter_model.bin") {
                return Err(format!(
                    "{name} is PyTorch's pickle format, which is not read here: save the adapter \
                     with safetensors (PEFT's default, `save_pretrained(..., safe_serialization=True)`)"
                ));
            }
            match (find(CONFIG), find(WEIGHTS)) {
                (Some(config), Some(weights)) => Ok((config, weights)),
                (config, _) => {
                    let missing = if config.is_none() { CONFIG } else { WEIGHTS };
                    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
                    Err(format!(
                        "{missing} is missing from the files chosen ({}): a PEFT adapter folder holds {CONFIG} and \
                         {WEIGHTS}; choose both, or a zip of the folder",
                        names.join(", ")
                    ))
                }
            }
        }
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The two files from the one folder of zip `name` that holds them.
fn unzip(name: &str, bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("{name} is not a zip file that can be read ({e})"))?;
    let entries: Vec<String> = zip.file_names().map(str::to_string).collect();
    let configs: Vec<&String> = entries.iter().filter(|entry| base_name(entry) == CONFIG).collect();
    let config_path = match configs.as_slice() {
        [one] => one.as_str(),
        [] if entries.iter().any(|entry| base_name(entry) == "adapter_model.bin") => {
            return Err(format!(
                "{name} holds adapter_model.bin, PyTorch's pickle format, which is not read here: save \
                 the adapter with safetensors (PEFT's default, `save_pretrained(..., safe_serialization=True)`)"
            ))
        }
        [] => return Err(format!("{name} holds no {CONFIG}: it is not a PEFT adapter folder")),
        several => {
            let folders: Vec<&str> = several.iter().map(|path| folder_of(path)).collect();
            return Err(format!("{name} holds {} adapters ({}): zip one", several.len(), folders.join(", ")));
        }
    };
    let weights_path = format!("{}{WEIGHTS}", folder_of(config_path));
    let mut read = |path: &str| -> Result<Vec<u8>, String> {
        let file = zip.by_name(path).map_err(|_| format!("{name} has {config_path} but no {path} beside it"))?;
        if file.size() > MAX_FILE_BYTES {
            return Err(format!(
                "{name}: {path} unpacks to {} bytes, more than an adapter this site reads",
                file.size()
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {path} cannot be unpacked ({e})"))?;
        Ok(bytes)
    };
    Ok((read(config_path)?, read(&weights_path)?))
}

/// The folder part of a path in a zip, with its trailing slash (`""` at the top).
fn folder_of(path: &str) -> &str {
    &path[..path.len() - base_name(path).len()]
}

/// Checks the two files against the base model and rewrites the weights under PEFT's plain names.
fn check_adapter(config: &[u8], weights: &[u8], model: &str, shape: &ModelShape) -> Result<CheckedAdapter, String> {
    let lora = parse_adapter_config(config)?;
    let value: serde_json::Value = serde_json::from_slice(config).map_err(|e| format!("{CONFIG}: {e}"))?;
    let base_model = value.get("base_model_name_or_path").and_then(|v| v.as_str()).map(str::to_string);
    for (key, why) in [
        ("layers_to_transform", "adapts only some layers"),
        ("modules_to_save", "also trains whole modules"),
        ("rank_pattern", "gives some layers another rank"),
        ("alpha_pattern", "gives some layers another alpha"),
    ] {
        let set = value.get(key).is_some_and(|v| !(v.is_null() || v.as_object().is_some_and(|o| o.is_empty())));
        if set {
            return Err(format!("{CONFIG}: `{key}` is set: the adapter {why}, which the site cannot reproduce"));
        }
    }
    let trained_for = match &base_model {
        Some(base) => format!("it was trained for {base} ({CONFIG}), not {model}"),
        None => format!("it was trained for another model than {model}"),
    };
    let mut tensors = read_safetensors(weights, WEIGHTS)?;
    let mut checked = Tensors::new();
    for layer in 0..shape.num_hidden_layers {
        for &projection in &lora.target_modules {
            let (inputs, outputs) = shape.projection_dims(projection);
            for (factor, expected) in [("lora_A", [lora.r, inputs]), ("lora_B", [outputs, lora.r])] {
                let name = peft_factor(layer, projection, factor);
                // Some PEFT versions wrote the adapter's name (`default`) into the key.
                let found =
                    tensors.remove(&name).or_else(|| tensors.remove(&name.replace(".weight", ".default.weight")));
                let Some((found_shape, values)) = found else {
                    return Err(format!(
                        "{WEIGHTS} has no tensor {name}, which {CONFIG} calls for (target_modules includes {}, r = {})",
                        projection.name(),
                        lora.r
                    ));
                };
                if found_shape != expected {
                    return Err(format!(
                        "{WEIGHTS}: tensor {name} has shape {found_shape:?}; {model} needs {expected:?} (r = {} from \
                         {CONFIG}; its {} takes {inputs} inputs and gives {outputs}): {trained_for}",
                        lora.r,
                        projection.name()
                    ));
                }
                if values.iter().any(|v| !v.is_finite()) {
                    return Err(format!(
                        "{WEIGHTS}: tensor {name} holds NaN or infinite values: the adapter is broken"
                    ));
                }
                checked.insert(name, (found_shape, values));
            }
        }
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(format!(
            "{WEIGHTS}: tensor {extra} is not one of the adapters {CONFIG} describes for {model} ({} layers, targets \
             {}): {trained_for}, or its config does not match its weights",
            shape.num_hidden_layers,
            crate::settings::names_of(&lora.target_modules)
        ));
    }
    Ok(CheckedAdapter { lora, base_model, weights: safetensors_bytes(&checked) })
}
