//! "Open adapter" (`tinytune::adapter_import`): an adapter PEFT itself wrote, as a folder and as a deflated zip,
//! opens and gives PEFT's logits; each way an adapter can be wrong gets a message naming the file and the tensor;
//! and a million mutated adapters never make it panic.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::adapter_import::open_adapter;
use tinytune::export::{
    adapter_config_json, load_adapter, load_model, parse_hf_config, read_safetensors, safetensors_bytes,
};
use tinytune::generate::last_position_logits;
use tinytune::lora::LoraConfig;
use tinytune::protocol::ModelShape;
use tinytune::settings::Projection;
use tinytune::train::{Trainer, TrainingConfig, TrainingMethod};

use crate::common;
use crate::data_fuzz::mutated;

const MODEL: &str = "stories260K";

fn shape() -> ModelShape {
    parse_hf_config(&std::fs::read(common::converted_model_dir().join("config.json")).unwrap()).unwrap().shape()
}

fn folder_files(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names
        .iter()
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(path).unwrap()))
        .collect()
}

fn open(files: Vec<(String, Vec<u8>)>) -> Result<tinytune::adapter_import::CheckedAdapter, String> {
    open_adapter(&files, MODEL, &shape())
}

/// A folder and a zip of an adapter PEFT wrote (`tests/reference/peft_adapter.py`), made once.
fn peft_adapter() -> &'static (std::path::PathBuf, std::path::PathBuf) {
    static MADE: std::sync::OnceLock<(std::path::PathBuf, std::path::PathBuf)> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("tinytune-peft-adapter-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let output = Command::new(common::python())
            .arg(common::crate_dir().join("tests/reference/peft_adapter.py"))
            .arg("--model")
            .arg(common::converted_model_dir())
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let written: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (written["folder"].as_str().unwrap().into(), written["zip"].as_str().unwrap().into())
    })
}

fn reference_last_logits(adapter: Option<&Path>, tokens: &[u32]) -> Vec<f32> {
    let mut command = Command::new(common::python());
    command
        .arg(common::crate_dir().join("tests/reference/logits.py"))
        .arg("--model")
        .arg(common::converted_model_dir());
    command.arg("--tokens").arg(tokens.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
    if let Some(adapter) = adapter {
        command.arg("--adapter").arg(adapter);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows: Vec<Vec<f32>> = serde_json::from_slice(&output.stdout).unwrap();
    rows.last().unwrap().clone()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn an_adapter_peft_wrote_opens_from_its_folder_and_from_a_deflated_zip_and_gives_peft_s_logits() {
    let (folder, zip) = peft_adapter();
    let from_folder = open(folder_files(folder)).unwrap();
    let from_zip = open(vec![("peft-adapter.zip".into(), std::fs::read(zip).unwrap())]).unwrap();
    assert_eq!(from_folder, from_zip);
    assert_eq!((from_zip.lora.r, from_zip.lora.target_modules.len()), (4, 3));

    let dir = common::converted_model_dir();
    let device = Device::flex();
    let (_, base) = load_model(
        &std::fs::read(dir.join("config.json")).unwrap(),
        &std::fs::read(dir.join("model.safetensors")).unwrap(),
        &device,
    )
    .unwrap();
    let config = std::fs::read(folder.join("adapter_config.json")).unwrap();
    let (_, adapted) = load_adapter(base, &config, &from_zip.weights, &device).unwrap();
    let tokens = [1, 403, 407, 261, 378, 281, 266, 295, 330, 418, 260];
    let ours = pollster::block_on(last_position_logits(&adapted, &tokens, &device));
    let theirs = reference_last_logits(Some(folder), &tokens);
    let diff = max_abs_diff(&ours, &theirs);
    assert!(diff <= 1e-4, "max |ours − PEFT| over the vocabulary = {diff}");
    let base = reference_last_logits(None, &tokens);
    assert!(max_abs_diff(&theirs, &base) > 1e-3, "the adapter changes the logits, so the comparison means something");
}

/// A valid rank-`r` adapter on `targets` as loose files, its B and A filled with small numbers.
fn adapter(r: usize, targets: &[Projection], base_model: &str) -> (Vec<u8>, tinytune::export::Tensors) {
    let shape = shape();
    let lora = LoraConfig::new(r, 2.0 * r as f64, targets.to_vec());
    let mut tensors = tinytune::export::Tensors::new();
    for layer in 0..shape.num_hidden_layers {
        for &projection in targets {
            let (inputs, outputs) = shape.projection_dims(projection);
            let module = format!("base_model.model.{}", projection.hf_module(layer));
            let values = |n: usize| (0..n).map(|i| ((i * 7 + layer) % 13) as f32 / 100.0 - 0.06).collect();
            tensors.insert(format!("{module}.lora_A.weight"), (vec![r, inputs], values(r * inputs)));
            tensors.insert(format!("{module}.lora_B.weight"), (vec![outputs, r], values(outputs * r)));
        }
    }
    (adapter_config_json(&lora, base_model).into_bytes(), tensors)
}

fn loose(config: &[u8], weights: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![("adapter_config.json".into(), config.to_vec()), ("adapter_model.safetensors".into(), weights.to_vec())]
}

fn zipped(files: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn each_way_an_adapter_is_wrong_gets_a_message_naming_the_file_and_the_tensor() {
    let q = [Projection::QProj, Projection::VProj];
    let (config, tensors) = adapter(2, &q, MODEL);
    let weights = safetensors_bytes(&tensors);
    assert!(open(loose(&config, &weights)).is_ok());
    let error = |files: Vec<(String, Vec<u8>)>| open(files).unwrap_err();

    assert_eq!(
        error(vec![("adapter.zip".into(), b"PK but not a zip".to_vec())]),
        "adapter.zip is not a zip file that can be read (invalid Zip archive: Could not find EOCD)"
    );
    let no_config = zipped(&[("a/adapter_model.safetensors", &weights)], true);
    assert_eq!(
        error(vec![("a.zip".into(), no_config)]),
        "a.zip holds no adapter_config.json: it is not a PEFT adapter folder"
    );
    let two = zipped(&[("a/adapter_config.json", &config), ("b/adapter_config.json", &config)], false);
    assert_eq!(error(vec![("two.zip".into(), two)]), "two.zip holds 2 adapters (a/, b/): zip one");
    let only_config = zipped(&[("x/adapter_config.json", &config)], false);
    assert_eq!(
        error(vec![("x.zip".into(), only_config)]),
        "x.zip has x/adapter_config.json but no x/adapter_model.safetensors beside it"
    );
    assert!(error(vec![("adapter_model.bin".into(), vec![0; 8]), ("adapter_config.json".into(), config.clone())])
        .starts_with("adapter_model.bin is PyTorch's pickle format"));
    assert!(error(vec![("adapter_config.json".into(), config.clone())])
        .starts_with("adapter_model.safetensors is missing from the files chosen (adapter_config.json)"));

    // A missing tensor.
    let mut missing = tensors.clone();
    missing.remove("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight");
    assert_eq!(
        error(loose(&config, &safetensors_bytes(&missing))),
        "adapter_model.safetensors has no tensor base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight, which \
         adapter_config.json calls for (target_modules includes v_proj, r = 2)"
    );
    // The wrong base model: an adapter of a bigger Llama.
    let big = br#"{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"], "base_model_name_or_path": "meta-llama/Llama-3.2-1B"}"#;
    let mut wide = tinytune::export::Tensors::new();
    wide.insert(
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".into(),
        (vec![2, 2048], vec![0.0; 4096]),
    );
    assert_eq!(
        error(loose(big, &safetensors_bytes(&wide))),
        "adapter_model.safetensors: tensor base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight has shape \
         [2, 2048]; stories260K needs [2, 64] (r = 2 from adapter_config.json; its q_proj takes 64 inputs and gives 64): \
         it was trained for meta-llama/Llama-3.2-1B (adapter_config.json), not stories260K"
    );
    // A config that does not match the weights: r = 4 in the config, r = 2 in the file.
    let (rank4, _) = adapter(4, &q, MODEL);
    assert!(error(loose(&rank4, &weights)).contains("has shape [2, 64]; stories260K needs [4, 64]"));
    // A tensor for a layer the model does not have.
    let mut extra = tensors.clone();
    extra
        .insert("base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight".into(), (vec![2, 64], vec![0.0; 128]));
    assert!(error(loose(&config, &safetensors_bytes(&extra))).starts_with(
        "adapter_model.safetensors: tensor base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight is not one of \
         the adapters adapter_config.json describes for stories260K (5 layers, targets q_proj, v_proj)"
    ));
    // NaN in a factor.
    let mut broken = tensors.clone();
    broken.get_mut("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight").unwrap().1[5] = f32::NAN;
    assert!(error(loose(&config, &safetensors_bytes(&broken)))
        .contains("layers.1.self_attn.q_proj.lora_B.weight holds NaN"));
    // A safetensors header that lies: a tensor's end offset past the data.
    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(weights[8..8 + header_len].to_vec()).unwrap();
    let data_len = weights.len() - 8 - header_len;
    let lying = header.replacen(&format!(",{data_len}]"), &format!(",{}]", data_len + 4096), 1);
    assert_ne!(lying, header);
    let mut lied = (lying.len() as u64).to_le_bytes().to_vec();
    lied.extend(lying.as_bytes());
    lied.extend(&weights[8 + header_len..]);
    let message = error(loose(&config, &lied));
    assert!(message.starts_with("adapter_model.safetensors: "), "{message}");
    assert!(message.contains("base_model.model.model.layers.4.self_attn.v_proj.lora_B.weight"), "{message}");
    // Settings the site cannot reproduce.
    let dora = String::from_utf8(config.clone()).unwrap().replace("\"use_dora\": false", "\"use_dora\": true");
    assert_eq!(
        error(loose(dora.as_bytes(), &weights)),
        "adapter_config.json: DoRA (`use_dora: true`) is not supported"
    );
    let saved = String::from_utf8(config.clone())
        .unwrap()
        .replace("\"modules_to_save\": null", "\"modules_to_save\": [\"lm_head\"]");
    assert!(error(loose(saved.as_bytes(), &weights)).starts_with("adapter_config.json: `modules_to_save` is set"));
    // Sanity: the reader agrees with the writer on the valid file.
    assert_eq!(read_safetensors(&weights, "w").unwrap(), tensors);
}

const CASES: usize = 1_000_000;
/// Bytes that matter to zip, JSON and safetensors headers.
const INTERESTING: &[u8] = b"{}[]\":,0123456789.-eE\x00\xff\x7f\x80PK\x03\x04\x05\x06\x01\x02";

#[test]
fn a_million_mutated_adapters_never_panic() {
    let (config, tensors) = adapter(1, &[Projection::QProj], MODEL);
    let weights = safetensors_bytes(&tensors);
    let files =
        [("adapter/adapter_config.json", config.as_slice()), ("adapter/adapter_model.safetensors", weights.as_slice())];
    let seeds = [zipped(&files, false), zipped(&files, true), config.clone(), weights.clone()];
    let (zips, parts) = (&seeds[..2], [&seeds[2..3], &seeds[3..4]]);
    let shape = shape();
    let mut rng = StdRng::seed_from_u64(12);
    let started = Instant::now();
    let mut opened = 0;
    for case in 0..CASES {
        let mutate = |rng: &mut StdRng, seeds: &[Vec<u8>]| {
            if rng.random_bool(0.8) {
                mutated(rng, seeds, INTERESTING, 1 << 16)
            } else {
                seeds[0].clone()
            }
        };
        let input: Vec<(String, Vec<u8>)> = match rng.random_range(0..3) {
            // A damaged zip.
            0 => vec![("adapter.zip".into(), mutated(&mut rng, zips, INTERESTING, 1 << 16))],
            // Damaged files, loose or zipped (so the checks behind the zip see them too).
            kind => {
                let (config, weights) = (mutate(&mut rng, parts[0]), mutate(&mut rng, parts[1]));
                if kind == 1 {
                    loose(&config, &weights)
                } else {
                    let files = [
                        ("a/adapter_config.json", config.as_slice()),
                        ("a/adapter_model.safetensors", weights.as_slice()),
                    ];
                    vec![("a.zip".into(), zipped(&files, rng.random_bool(0.5)))]
                }
            }
        };
        match catch_unwind(AssertUnwindSafe(|| open_adapter(&input, MODEL, &shape))) {
            Ok(Ok(_)) => opened += 1,
            Ok(Err(message)) => assert!(!message.is_empty()),
            Err(_) => panic!("case {case} panicked (message above); input: {input:?}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        std::io::stderr(),
        "figure: adapter fuzz: {CASES} mutated adapters (damaged zips, damaged files loose and zipped): 0 panics, {opened} \
         opened intact, in {seconds:.1} s"
    );
}

#[test]
fn a_run_trains_on_from_an_opened_adapter_with_its_factors_and_refuses_other_settings() {
    let (folder, _) = peft_adapter();
    let checked = open(folder_files(folder)).unwrap();
    let dir = common::converted_model_dir();
    let device = Device::flex().autodiff();
    let load = || {
        let config = std::fs::read(dir.join("config.json")).unwrap();
        load_model(&config, &std::fs::read(dir.join("model.safetensors")).unwrap(), &device).unwrap().1
    };
    let config_json = adapter_config_json(&checked.lora, MODEL);
    let (_, adapted) = load_adapter(load(), config_json.as_bytes(), &checked.weights, &device).unwrap();
    let sequences = crate::trainer::sequences(4, 16, 1);
    let trainer = |lora: LoraConfig| {
        let config = TrainingConfig::new(TrainingMethod::Lora, lora, 2).with_batch_size(2).with_seq_len(16);
        Trainer::new(load(), sequences.clone(), vec![], config, &device).unwrap()
    };
    let factors = |model: &tinytune::model::LlamaForCausalLM| -> Vec<Vec<f32>> {
        let lora = model.projections().into_iter().filter_map(|(_, p)| p.lora.clone());
        lora.flat_map(|l| [l.lora_a.val().into_data(), l.lora_b.val().into_data()])
            .map(|d| d.try_to_vec::<f32>().unwrap())
            .collect()
    };
    let mut from = trainer(checked.lora.clone()).start_from(&adapted).unwrap();
    assert_eq!(factors(from.model()), factors(&adapted));
    // Its first step starts from the adapter's loss, not the base model's.
    let fresh_loss = pollster::block_on(trainer(checked.lora.clone()).step()).unwrap().loss;
    let from_loss = pollster::block_on(from.step()).unwrap().loss;
    assert!((fresh_loss - from_loss).abs() > 1e-4, "fresh {fresh_loss}, from the adapter {from_loss}");

    let other_rank = LoraConfig { r: 8, ..checked.lora.clone() };
    assert!(trainer(other_rank)
        .start_from(&adapted)
        .map(drop)
        .unwrap_err()
        .contains("has rank 4 where these settings train rank 8"));
    let other_alpha = LoraConfig { lora_alpha: 32.0, ..checked.lora.clone() };
    assert!(trainer(other_alpha).start_from(&adapted).map(drop).unwrap_err().contains("set its alpha"));
    let other_targets = LoraConfig { target_modules: vec![Projection::QProj], ..checked.lora.clone() };
    assert_eq!(
        trainer(other_targets).start_from(&adapted).map(drop).unwrap_err(),
        "the adapter adapts q_proj, v_proj, down_proj, not the projections these settings train"
    );
}
