//! "Download adapter": a finished LoRA run as a zip of a PEFT adapter folder (adapter_config.json,
//! adapter_model.safetensors) with a model card naming the base model, the data set, the settings and the
//! final losses; in its `gguf/` folder the same run for llama.cpp and Ollama ([`crate::gguf`], the files
//! `tinytune export --format ollama` writes), and in `merged/` the model with the adapter merged in, as a
//! Hugging Face folder (`--format hf-merged`); a mix of adapters (`Mix`) goes home the same way. "Run it bigger": a data set and a run's settings as a job for bigger
//! machines ([`crate::run_bigger`]: the files `tinytune export --format axolotl`, `trl` and `unsloth` write, and a
//! README).

use std::io::Write;

use super::session::{MixedAdapter, Session, TrainedRun};
use crate::export::{adapter_config_json, adapter_safetensors, merged_hf_files};
use crate::gguf::{take_home_files, Adapter, BaseModel};
use crate::lora::LoraConfig;
use crate::protocol::{FromWorker, RunId, TrainSettings, TrainingMethod};
use crate::run_bigger::{self, data_files, DataFile, JobTarget};
use crate::settings::{names_of, Choice};
use crate::train::TrainingConfig;

pub fn adapter_zip(session: &Session, id: RunId) -> Result<FromWorker, String> {
    let run = session.trained(id).ok_or("train with LoRA first: there is no adapter to download yet")?;
    if run.settings.method != TrainingMethod::Lora {
        return Err("only a LoRA run produces an adapter; this run trained with another method".into());
    }
    let model_name = &session.manifest.model;
    let lora = TrainingConfig::from_settings(&run.settings).lora;
    let weights = adapter_safetensors(&run.model)?;
    let card = |with_extras| model_card(model_name, run, with_extras);
    let bytes = adapter_folder_zip(session, "tinytune-adapter", &lora, weights, card)?;
    Ok(FromWorker::AdapterZip { run: id, file_name: "tinytune-adapter.zip".into(), bytes })
}

/// The latest mix of adapters (`Mix`) zipped as "Download adapter" zips a run's, or the error.
pub fn mix_zip(session: &Session, request_id: u32) -> FromWorker {
    let zipped = session.mix.as_ref().ok_or_else(|| "mix the adapters first: there is no mix to download yet".into());
    let zipped = zipped.and_then(|mix| {
        let card = |with_extras| mix_card(&session.manifest.model, mix, with_extras);
        adapter_folder_zip(session, "tinytune-mix", &mix.lora, mix.weights.clone(), card)
    });
    match zipped {
        Ok(bytes) => FromWorker::Zip { request_id, file_name: "tinytune-mix.zip".into(), bytes },
        Err(message) => FromWorker::Error { run: None, request_id: Some(request_id), message },
    }
}

/// An adapter as a zip of `folder`: the PEFT files and the model `card` (told whether the extras are there); for a
/// base model served as a folder, also the same adapter for llama.cpp and Ollama and merged. A 4-bit GGUF base
/// would first have to be dequantized in the tab (half a gigabyte for SmolLM2), so its zip is the PEFT adapter alone.
fn adapter_folder_zip(
    session: &Session,
    folder: &str,
    lora: &LoraConfig,
    weights: Vec<u8>,
    card: impl FnOnce(bool) -> String,
) -> Result<Vec<u8>, String> {
    let model_name = &session.manifest.model;
    let mut extras = Vec::new();
    if let Some((base_weights, tokenizer_json, tokenizer_config)) = session.base_model_files() {
        let eos = session.tokenizer.token_text(session.tokenizer.eos_id());
        let base =
            BaseModel { config: &session.config, name: model_name, weights: base_weights, tokenizer_json, eos: &eos };
        let adapter = Adapter { lora, weights: &weights };
        let gguf = take_home_files(&base, Some(&adapter))?;
        let merged = merged_hf_files(&session.config, base_weights, tokenizer_json, tokenizer_config, lora, &weights)?;
        extras.extend(gguf.into_iter().map(|(name, bytes)| (format!("gguf/{name}"), bytes)));
        extras.extend(merged.into_iter().map(|(name, bytes)| (format!("merged/{name}"), bytes)));
    }
    let peft = [
        ("adapter_config.json".to_string(), adapter_config_json(lora, model_name).into_bytes()),
        ("adapter_model.safetensors".to_string(), weights),
        ("README.md".to_string(), card(!extras.is_empty()).into_bytes()),
    ];
    zip_folder(folder, peft.into_iter().chain(extras))
}

/// "Run it bigger": the training split of the data set at `dataset_url` as JSONL, with the Axolotl config, the
/// TRL script and a README, zipped; or the error. It reads only the data set, so it answers during a run too.
pub fn job_zip(
    session: &Session,
    request_id: u32,
    dataset_url: &str,
    settings: &TrainSettings,
    target: &JobTarget,
) -> FromWorker {
    match job_files(session, dataset_url, settings, target).and_then(|files| zip_folder("tinytune-job", files)) {
        Ok(bytes) => FromWorker::Zip { request_id, file_name: "tinytune-job.zip".into(), bytes },
        Err(message) => FromWorker::Error { run: None, request_id: Some(request_id), message },
    }
}

/// The data files and [`run_bigger::job_files`].
fn job_files(
    session: &Session,
    dataset_url: &str,
    settings: &TrainSettings,
    target: &JobTarget,
) -> Result<impl Iterator<Item = (String, Vec<u8>)>, String> {
    let dataset = session.dataset(dataset_url).ok_or_else(|| format!("load {dataset_url} before exporting it"))?;
    let data = data_files(&dataset.train_examples, settings);
    let shapes: Vec<DataFile> = data.iter().map(|(file, _)| *file).collect();
    let configs = run_bigger::job_files(settings, target, &shapes, &dataset.summary.name)?;
    Ok(data
        .into_iter()
        .map(|(file, jsonl)| (file.file_name().to_string(), jsonl))
        .chain(configs)
        .map(|(name, text)| (name, text.into_bytes())))
}

/// A zip of `files` (path → bytes) inside `folder`, stored, not deflated: safetensors and GGUF hardly compress,
/// and it keeps a compressor out of the worker bundle.
fn zip_folder(folder: &str, files: impl Iterator<Item = (String, Vec<u8>)>) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(format!("{folder}/{name}"), options).map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

/// The adapter's README; `with_extras` when the zip holds `merged/` and `gguf/` too.
fn model_card(model_name: &str, run: &TrainedRun, with_extras: bool) -> String {
    let TrainedRun { settings, dataset, last, .. } = run;
    let loss = |value: Option<f64>| value.map_or("not measured".to_string(), |v| format!("{v:.4}"));
    format!(
        "---\nlibrary_name: peft\nbase_model: {model_name}\n---\n\n# A LoRA adapter for {model_name}\n\n\
         Trained in the browser with Tinytune on the data set `{}` ({} training examples, {} held out).\n\n\
         | setting | value |\n|---|---|\n| method | LoRA{} |\n| rank | {} |\n| alpha | {} |\n| dropout | {} |\n\
         | targets | {} |\n| learning rate | {} ({} schedule, {} warmup steps) |\n| steps | {} |\n\
         | batch size | {} × {} accumulated |\n| sequence length | {} |\n| loss on | {} |\n| seed | {} |\n\n\
         ## Final losses (step {})\n\n| loss | value |\n|---|---|\n| training | {:.4} |\n| held-out examples | {} |\n\
         | drift: the base model's own stories | {} |\n\n{}",
        dataset.name,
        dataset.training_examples,
        dataset.held_out_examples,
        if settings.use_rslora { " (rsLoRA scaling)" } else { "" },
        settings.lora_rank,
        settings.lora_alpha,
        settings.lora_dropout,
        names_of(&settings.lora_targets),
        settings.learning_rate,
        settings.schedule.name(),
        settings.warmup_steps,
        settings.steps,
        settings.batch_size,
        settings.grad_accum,
        settings.seq_len,
        settings.loss_mask.label(),
        settings.seed,
        last.step,
        last.loss,
        loss(last.eval_loss),
        loss(last.reference_eval_loss),
        how_to_load(model_name, "tinytune-adapter", with_extras),
    )
}

/// A mix's README: what it mixed, how, and how to load it.
fn mix_card(model_name: &str, mix: &MixedAdapter, with_extras: bool) -> String {
    let rows: Vec<String> =
        mix.sources.iter().map(|source| format!("| `{}` | {} |", source.url, source.weight)).collect();
    format!(
        "---\nlibrary_name: peft\nbase_model: {model_name}\n---\n\n# A mix of LoRA adapters for {model_name}\n\n\
         Mixed in the browser with Tinytune, as PEFT's `add_weighted_adapter` mixes with `combination_type=\"{}\"`: \
         rank {}, alpha {} (each adapter's own scaling is folded into the factors).\n\n| adapter | weight |\n|---|---|\n\
         {}\n\n{}",
        mix.how.name(),
        mix.lora.r,
        mix.lora.lora_alpha,
        rows.join("\n"),
        how_to_load(model_name, "tinytune-mix", with_extras),
    )
}

/// The card's last part: loading the adapter in `folder` with PEFT, and what `merged/` and `gguf/` hold.
fn how_to_load(model_name: &str, folder: &str, with_extras: bool) -> String {
    // A Hugging Face Hub name (`HuggingFaceTB/SmolLM2-135M-Instruct`) loads as it is; a local model by its folder.
    let base_path = if model_name.contains('/') { model_name.to_string() } else { format!("path/to/{model_name}") };
    let extras = if with_extras {
        format!(
            "\n`merged/` is the model with this adapter merged in, a folder `transformers` loads without PEFT:\n\n\
             ```python\nmodel = AutoModelForCausalLM.from_pretrained(\"{folder}/merged\")\n```\n\n\
             For llama.cpp and Ollama, `gguf/` holds the model, this adapter and the two merged as GGUF files, with \
             an Ollama `Modelfile`; `gguf/RUN.md` gives the commands.\n"
        )
    } else {
        String::new()
    };
    format!(
        "Load it with PEFT:\n\n```python\nfrom transformers import AutoModelForCausalLM\nfrom peft import PeftModel\n\n\
         base = AutoModelForCausalLM.from_pretrained(\"{base_path}\")\n\
         model = PeftModel.from_pretrained(base, \"{folder}\")\n```\n{extras}"
    )
}
