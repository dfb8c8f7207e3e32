//! Parity with the reference implementations practitioners use: PyTorch + transformers + PEFT, installed from
//! PyPI by tools/python-env.sh, and llama.cpp (llama-cpp-python, built from PyPI's source into the same
//! environment) for the GGUF exports; TRL runs the script `export --format trl` writes, and Axolotl's schema
//! judges the config `export --format axolotl` writes. Our CLI's outputs are compared with the scripts in
//! tests/reference/.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use burn::prelude::*;
use tinytune::data::TrainingSequence;
use tinytune::export::{load_adapter, load_model};
use tinytune::model::LlamaForCausalLM;
use tinytune::train::grpo::{group_advantages, model_grpo_loss};
use tinytune::train::masked_cross_entropy_sum;
use tinytune::train::preference::{model_dpo_loss, preference_pairs, tokenize_preferences, PreferencePair};

const STORY: &str = "Once upon a time, there was a little boy named Tim. He had a red ball and a big dog.";

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(output.status.success(), "{command:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn tinytune() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tinytune"))
}

fn reference_script(name: &str) -> Command {
    let mut command = Command::new(common::python());
    command.arg(crate::common::crate_dir().join("tests/reference").join(name));
    command
}

fn logits_json(text: &str) -> Vec<Vec<f32>> {
    serde_json::from_str(text.trim()).expect("a JSON array of logits")
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!((a.len(), a[0].len()), (b.len(), b[0].len()), "logits shapes differ");
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn story_tokens() -> String {
    let tokenizer = tinytune::tokenizer::TextTokenizer::from_json_bytes(
        &std::fs::read(common::converted_model_dir().join("tokenizer.json")).unwrap(),
    )
    .unwrap();
    let mut ids = tokenizer.start_ids().to_vec();
    ids.extend(tokenizer.encode(STORY));
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Our logits and the reference's for the story, with the adapter in `adapter` when given.
fn both_logits(adapter: Option<&Path>) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let model = common::converted_model_dir();
    let tokens = story_tokens();
    let mut ours = tinytune();
    ours.args(["logits", "--model"]).arg(model).args(["--tokens", &tokens]);
    let mut reference = reference_script("logits.py");
    reference.arg("--model").arg(model).args(["--tokens", &tokens]);
    if let Some(adapter) = adapter {
        ours.arg("--adapter").arg(adapter);
        reference.arg("--adapter").arg(adapter);
    }
    (logits_json(&run(&mut ours)), logits_json(&run(&mut reference)))
}

/// An adapter on all seven projections, trained by our CLI for a few steps so that B is far from zero.
fn trained_adapter() -> &'static Path {
    static ADAPTER: OnceLock<PathBuf> = OnceLock::new();
    ADAPTER.get_or_init(|| train_adapter("parity-adapter", &["--rank", "4", "--alpha", "8"]))
}

/// The same with rank-stabilised scaling (alpha / √r), at a rank where it differs from alpha / r by 4×.
fn rslora_adapter() -> &'static Path {
    static ADAPTER: OnceLock<PathBuf> = OnceLock::new();
    ADAPTER.get_or_init(|| train_adapter("parity-rslora-adapter", &["--rank", "16", "--alpha", "8", "--rslora"]))
}

fn train_adapter(name: &str, lora_args: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    // One data file per adapter: the tests that need them run in parallel.
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-data.jsonl"));
    let lines: Vec<String> = (0..24)
        .map(|i| {
            serde_json::json!({ "text": format!("{STORY} On day {i} they went to the park and played.") }).to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).unwrap();
    run(tinytune()
        .args(["train", "--model"])
        .arg(common::converted_model_dir())
        .arg("--data")
        .arg(&data)
        .args(["--method", "lora"])
        .args(lora_args)
        .args(["--targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"])
        .args(["--learning-rate", "0.01", "--steps", "6", "--batch-size", "4", "--seq-len", "48", "--seed", "3"])
        .arg("--out")
        .arg(&dir));
    dir
}

#[test]
fn transformers_loads_our_import_and_gives_the_same_logits() {
    let (ours, reference) = both_logits(None);
    let diff = max_abs_diff(&ours, &reference);
    assert!(diff <= 1e-4, "max |ours − transformers| = {diff}");
}

#[test]
fn peft_loads_our_trained_adapter_and_gives_the_same_logits() {
    let adapter = trained_adapter();
    let (ours, reference) = both_logits(Some(adapter));
    let diff = max_abs_diff(&ours, &reference);
    assert!(diff <= 1e-4, "max |ours − PEFT| = {diff}");
    let (base, _) = both_logits(None);
    assert!(max_abs_diff(&ours, &base) > 1e-3, "the adapter changes the model, so the comparison means something");
}

#[test]
fn peft_reads_our_rslora_adapter_with_the_same_scaling() {
    let adapter = rslora_adapter();
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(adapter.join("adapter_config.json")).unwrap()).unwrap();
    assert_eq!(config["use_rslora"], true);
    let (ours, reference) = both_logits(Some(adapter));
    let diff = max_abs_diff(&ours, &reference);
    assert!(diff <= 1e-4, "max |ours − PEFT| with rsLoRA = {diff}");
}

/// `sequences` as tests/reference/lora_grads.py reads a batch: a JSON file of inputs, targets and masks.
fn batch_file(name: &str, sequences: &[&TrainingSequence]) -> PathBuf {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.json"));
    let batch = serde_json::json!({
        "inputs": sequences.iter().map(|s| s.tokens[..s.targets_mask.len()].to_vec()).collect::<Vec<_>>(),
        "targets": sequences.iter().map(|s| s.tokens[1..].to_vec()).collect::<Vec<_>>(),
        "targets_mask": sequences.iter().map(|s| s.targets_mask.iter().map(|&m| m as u8).collect::<Vec<_>>()).collect::<Vec<_>>(),
    });
    std::fs::write(&file, batch.to_string()).unwrap();
    file
}

/// The same batch as tensors: inputs, targets, and the mask as 0/1.
fn batch_tensors(sequences: &[&TrainingSequence], device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>, Tensor<2>) {
    let (rows, seq_len) = (sequences.len(), sequences[0].targets_mask.len());
    let ints = |pick: &dyn Fn(&TrainingSequence) -> &[u32]| {
        let flat: Vec<i64> = sequences.iter().flat_map(|s| pick(s).iter().map(|&t| t as i64)).collect();
        Tensor::<1, Int>::from_ints(flat.as_slice(), device).reshape([rows, seq_len])
    };
    let mask: Vec<f32> = sequences.iter().flat_map(|s| s.targets_mask.iter().map(|&m| m as u8 as f32)).collect();
    (
        ints(&|s| &s.tokens[..seq_len]),
        ints(&|s| &s.tokens[1..]),
        Tensor::<1>::from_floats(mask.as_slice(), device).reshape([rows, seq_len]),
    )
}

/// tests/reference/lora_grads.py on the converted stories260K with `adapter` and `batch` (and `more` flags).
fn lora_grads_reference(adapter: &Path, batch: &Path, more: &[&str]) -> serde_json::Value {
    let mut command = reference_script("lora_grads.py");
    command.arg("--model").arg(common::converted_model_dir()).arg("--adapter").arg(adapter).arg("--batch").arg(batch);
    serde_json::from_str(&run(command.args(more))).unwrap()
}

/// The converted stories260K with the trained adapter, on an autodiff device.
fn adapted_model(adapter: &Path, device: &Device) -> LlamaForCausalLM {
    let dir = common::converted_model_dir();
    let read = |path: PathBuf| std::fs::read(path).unwrap();
    let (_, model) = load_model(&read(dir.join("config.json")), &read(dir.join("model.safetensors")), device).unwrap();
    let config = read(adapter.join("adapter_config.json"));
    load_adapter(model, &config, &read(adapter.join("adapter_model.safetensors")), device).unwrap().1
}

#[test]
fn one_training_step_gives_the_lora_gradients_pytorch_gives() {
    let adapter = trained_adapter();
    let seq_len = 24;
    let ids: Vec<u32> = story_tokens().split(',').map(|t| t.parse().unwrap()).collect();
    let sequences: Vec<TrainingSequence> = (0..2)
        .map(|i| TrainingSequence {
            tokens: ids[i..i + seq_len + 1].to_vec(),
            targets_mask: (0..seq_len).map(|j| j >= 3 * i).collect(),
        })
        .collect();
    let sequences: Vec<&TrainingSequence> = sequences.iter().collect();

    // Ours: the trainer's loss (sum over masked targets / their count), one backward pass.
    let device = Device::flex().autodiff();
    let model = adapted_model(adapter, &device);
    let (inputs, targets, mask) = batch_tensors(&sequences, &device);
    let count = sequences.iter().flat_map(|s| &s.targets_mask).filter(|&&m| m).count();
    let loss = masked_cross_entropy_sum(model.forward(inputs), targets, mask) / count as f64;
    let our_loss = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
    let grads = loss.backward();

    let reference = lora_grads_reference(adapter, &batch_file("parity-batch", &sequences), &[]);
    let reference_loss = reference["loss"].as_f64().unwrap() as f32;
    assert!((our_loss - reference_loss).abs() <= 1e-5 * reference_loss.abs(), "loss {our_loss} vs {reference_loss}");

    let compared = common::assert_lora_grads_match(&model, &grads, &reference, 1e-4);
    assert_eq!(compared, 5 * 7 * 2);
}

/// The first three preference pairs of the test examples, cut to 24 targets: DPO's batch, and GRPO's prompts with two
/// completions each.
fn three_pairs() -> Vec<PreferencePair> {
    let tokenizer = common::stories260k_tokenizer();
    let examples = tokenize_preferences(&common::preference_examples(), &tokenizer).unwrap();
    let mut pairs = preference_pairs(&examples, 24, tokenizer.eos_id());
    pairs.truncate(3);
    pairs
}

#[test]
fn dpo_gives_trls_loss_rewards_log_probs_and_the_lora_gradients_pytorch_gives() {
    // A trained adapter, so the policy differs from the reference (the same model with the adapter off).
    let adapter = trained_adapter();
    let pairs = three_pairs();
    // The trainer's batch: the chosen answers, then the rejected ones.
    let sequences: Vec<&TrainingSequence> =
        pairs.iter().map(|p| &p.chosen).chain(pairs.iter().map(|p| &p.rejected)).collect();
    let beta = 0.1;

    let device = Device::flex().autodiff();
    let model = adapted_model(adapter, &device);
    let (inputs, targets, mask) = batch_tensors(&sequences, &device);
    // The trainer's DPO loss of this batch.
    let dpo = model_dpo_loss(&model, inputs, targets, mask, beta);
    let values = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
    let our_loss = values(dpo.loss.clone())[0];
    let (chosen, rejected) = (values(dpo.chosen_rewards), values(dpo.rejected_rewards));
    let (chosen_log_probs, rejected_log_probs) = (values(dpo.chosen_log_probs), values(dpo.rejected_log_probs));
    let grads = dpo.loss.backward();

    let reference =
        lora_grads_reference(adapter, &batch_file("dpo-batch", &sequences), &["--dpo-beta", &beta.to_string()]);
    let reference_loss = reference["loss"].as_f64().unwrap() as f32;
    assert!((our_loss - reference_loss).abs() <= 1e-5 * reference_loss.abs(), "loss {our_loss} vs {reference_loss}");
    assert!((our_loss - std::f32::consts::LN_2).abs() > 1e-4, "the adapter moves the policy off the reference");
    for (ours, key, tolerance) in [
        (chosen, "chosen_rewards", 1e-5),
        (rejected, "rejected_rewards", 1e-5),
        // Sums of a few dozen tokens' log-probabilities, some tens in size.
        (chosen_log_probs, "chosen_log_probs", 1e-4),
        (rejected_log_probs, "rejected_log_probs", 1e-4),
    ] {
        let theirs: Vec<f32> = serde_json::from_value(reference[key].clone()).unwrap();
        assert_eq!(ours.len(), theirs.len(), "{key}");
        let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
        assert!(diff <= tolerance, "{key}: {ours:?} vs {theirs:?}");
    }
    let compared = common::assert_lora_grads_match(&model, &grads, &reference, 1e-4);
    assert_eq!(compared, 5 * 7 * 2);
}

#[test]
fn grpo_gives_trls_advantages_loss_and_the_lora_gradients_pytorch_gives() {
    // The trained adapter again, so the KL term has something to measure.
    let adapter = trained_adapter();
    let pairs = three_pairs();
    // Three prompts with two completions each (a pair's two answers), in groups of two; the last group's rewards
    // are equal, so its advantages are 0.
    let sequences: Vec<&TrainingSequence> = pairs.iter().flat_map(|p| [&p.chosen, &p.rejected]).collect();
    let rewards = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let advantages = group_advantages(&rewards, 2);
    let rewards_arg = rewards.map(|r| r.to_string()).join(",");

    let device = Device::flex().autodiff();
    let model = adapted_model(adapter, &device);
    for beta in [0.0, 0.04] {
        let (inputs, targets, mask) = batch_tensors(&sequences, &device);
        let loss = model_grpo_loss(&model, inputs, targets, mask, &advantages, beta);
        let our_loss = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
        let grads = loss.backward();
        let more = ["--grpo-rewards", &rewards_arg, "--grpo-group-size", "2", "--grpo-beta", &beta.to_string()];
        let reference = lora_grads_reference(adapter, &batch_file("grpo-batch", &sequences), &more);
        let theirs: Vec<f64> = serde_json::from_value(reference["advantages"].clone()).unwrap();
        assert!(advantages.iter().zip(&theirs).all(|(a, b)| (a - b).abs() < 1e-5), "{advantages:?} vs {theirs:?}");
        let reference_loss = reference["loss"].as_f64().unwrap() as f32;
        assert!(
            (our_loss - reference_loss).abs() <= 1e-5 * reference_loss.abs().max(1e-3),
            "β {beta}: loss {our_loss} vs {reference_loss}"
        );
        let compared = common::assert_lora_grads_match(&model, &grads, &reference, 1e-4);
        assert_eq!(compared, 5 * 7 * 2);
    }
}

/// `tinytune export --format <format>` of the converted model with `adapter`, into a folder of its own.
fn export(adapter: &Path, format: &str) -> PathBuf {
    let name = adapter.file_name().unwrap().to_string_lossy();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{format}"));
    run(tinytune()
        .args(["export", "--format", format, "--model"])
        .arg(common::converted_model_dir())
        .arg("--adapter")
        .arg(adapter)
        .arg("--out")
        .arg(&out));
    out
}

/// Our logits for `tokens` (comma-separated ids), with `adapter` when given.
fn our_logits(tokens: &str, adapter: Option<&Path>) -> Vec<Vec<f32>> {
    let mut ours = tinytune();
    ours.args(["logits", "--model"]).arg(common::converted_model_dir()).args(["--tokens", tokens]);
    if let Some(adapter) = adapter {
        ours.arg("--adapter").arg(adapter);
    }
    logits_json(&run(&mut ours))
}

#[test]
fn transformers_loads_the_merged_export_and_gives_the_adapted_models_logits() {
    let adapter = trained_adapter();
    let merged = export(adapter, "hf-merged");
    let tokens = story_tokens();
    let reference =
        logits_json(&run(reference_script("logits.py").arg("--model").arg(&merged).args(["--tokens", &tokens])));
    let ours = our_logits(&tokens, Some(adapter));
    let diff = max_abs_diff(&ours, &reference);
    assert!(diff <= 1e-4, "max |ours with the adapter − transformers on the merged folder| = {diff}");
    assert!(max_abs_diff(&ours, &our_logits(&tokens, None)) > 1e-3, "the merge changed the weights");
}

/// llama.cpp's answer for `gguf` (with the adapter file `lora`): logits for `tokens`, 32 greedy tokens after them,
/// and its token ids for `texts`.
fn llama_cpp(gguf: &Path, lora: Option<&Path>, tokens: &str, texts: &[&str]) -> serde_json::Value {
    let mut script = reference_script("llama_cpp_run.py");
    script.arg("--model").arg(gguf).args(["--tokens", tokens, "--greedy", "32"]);
    if let Some(lora) = lora {
        script.arg("--lora").arg(lora);
    }
    texts.iter().for_each(|text| {
        script.args(["--text", text]);
    });
    serde_json::from_str(&run(&mut script)).expect("llama_cpp_run.py prints JSON")
}

/// llama.cpp's logits and greedy continuation for the story against ours, with `adapter` on our side: the logits
/// within 1e-3 at every position of the story and of llama.cpp's continuation, and each continued token our argmax
/// too (so our greedy continuation is the same 32 tokens).
fn assert_llama_cpp_agrees(answer: &serde_json::Value, adapter: Option<&Path>, what: &str) {
    let greedy: Vec<u32> = serde_json::from_value(answer["greedy"].clone()).unwrap();
    let theirs: Vec<Vec<f32>> = serde_json::from_value(answer["logits"].clone()).unwrap();
    let story = story_tokens();
    let story_len = story.split(',').count();
    let continued = [story.clone()].into_iter().chain(greedy.iter().map(u32::to_string)).collect::<Vec<_>>().join(",");
    let ours = our_logits(&continued, adapter);
    let diff = max_abs_diff(&ours[..story_len], &theirs);
    eprintln!("{what}: max |ours − llama.cpp| = {diff:.2e} over {story_len} positions");
    assert!(diff <= 1e-3, "{what}: max |ours − llama.cpp| = {diff}");
    assert_eq!(greedy.len(), 32, "{what}");
    for (i, &token) in greedy.iter().enumerate() {
        let row = &ours[story_len - 1 + i];
        // Lowest id on a tie, as both greedy decoders take it.
        let argmax = row.iter().enumerate().fold(0, |best, (id, &v)| if v > row[best] { id } else { best });
        assert_eq!(argmax as u32, token, "{what}: greedy token {i} differs (ours {argmax}, llama.cpp {token})");
    }
}

#[test]
fn llama_cpp_runs_our_gguf_files_as_we_run_the_model_and_adapter() {
    let adapter = trained_adapter();
    let dir = export(adapter, "ollama");
    let tokens = story_tokens();
    let texts = [STORY, "Lily and Ben saw a big red ball.\nThey played! 123 + 45 = 168?", "Zoë said: ünïcödé 🙂 café"];

    let base = llama_cpp(&dir.join("model.gguf"), None, &tokens, &texts);
    assert_llama_cpp_agrees(&base, None, "the base model");
    // llama.cpp's tokenizer, from the scores we derived from the merges, cuts texts as ours does.
    let tokenizer = tinytune::tokenizer::TextTokenizer::from_json_bytes(
        &std::fs::read(common::converted_model_dir().join("tokenizer.json")).unwrap(),
    )
    .unwrap();
    for (text, theirs) in texts.iter().zip(base["tokenized"].as_array().unwrap()) {
        let ours: Vec<u32> = tokenizer.start_ids().iter().copied().chain(tokenizer.encode(text)).collect();
        let theirs: Vec<u32> = serde_json::from_value(theirs.clone()).unwrap();
        assert_eq!(ours, theirs, "tokens of {text:?}");
    }

    let with_adapter = llama_cpp(&dir.join("model.gguf"), Some(&dir.join("adapter.gguf")), &tokens, &[]);
    assert_llama_cpp_agrees(&with_adapter, Some(adapter), "the model with the adapter file");
    let merged = llama_cpp(&dir.join("merged.gguf"), None, &tokens, &[]);
    assert_llama_cpp_agrees(&merged, Some(adapter), "the merged file");
    assert_ne!(base["greedy"], with_adapter["greedy"], "the adapter changes what the model writes");

    let modelfile = std::fs::read_to_string(dir.join("Modelfile")).unwrap();
    assert!(modelfile.starts_with("FROM ./model.gguf\nADAPTER ./adapter.gguf\n"), "{modelfile}");
}

#[test]
fn llama_cpp_applies_an_rslora_adapter_at_its_strength() {
    let adapter = rslora_adapter();
    let dir = export(adapter, "gguf");
    let answer = llama_cpp(&dir.join("model.gguf"), Some(&dir.join("adapter.gguf")), &story_tokens(), &[]);
    assert_llama_cpp_agrees(&answer, Some(adapter), "the rsLoRA adapter file");
}

/// Prompt and response pairs that each fit in one 64-token piece: with a batch of all of them, the first step's
/// loss is the same whatever order a trainer draws them in.
fn short_pairs(name: &str) -> PathBuf {
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.jsonl"));
    let lines: Vec<String> = ["fox", "duck", "cat", "bear", "frog", "owl", "pig", "rabbit", "mouse"]
        .iter()
        .map(|animal| {
            let response = format!("The {animal} was happy. It played all day in the park with a friend.");
            serde_json::json!({ "prompt": format!("Tell me about a {animal}."), "response": response }).to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).unwrap();
    data
}

/// `tinytune export --format <format> --data <data> --settings <query> <more>` into a folder named `name`.
fn export_job(format: &str, data: &Path, query: &str, more: &[&str], name: &str) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    run(tinytune()
        .args(["export", "--format", format, "--data"])
        .arg(data)
        .args(["--settings", query])
        .args(more)
        .arg("--out")
        .arg(&out));
    out
}

/// A job script's `--dry-run` on our converted model: the pieces and the configs it would train with.
fn dry_run(job: &Path, script: &str) -> serde_json::Value {
    let printed = run(Command::new(common::python())
        .current_dir(job)
        .args([script, "--dry-run", "--model"])
        .arg(common::converted_model_dir()));
    serde_json::from_str(printed.lines().last().expect("a line of JSON")).expect("JSON")
}

#[test]
fn the_exported_trl_script_trains_our_model_and_starts_from_our_loss() {
    let data = short_pairs("trl-pairs");
    // Eight training examples after the held-out split, all in the first batch.
    let query = "steps=2&warmup=0&batch=8&seq=64&loss=responses";
    let job = export_job("trl", &data, query, &[], "job-trl");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("job-trl-out");
    // The job's base is bf16 unless told; in 32-bit floats its first loss is ours.
    let printed = run(Command::new(common::python())
        .current_dir(&job)
        .args(["train_trl.py", "--precision", "fp32"])
        .arg("--model")
        .arg(common::converted_model_dir())
        .arg("--output-dir")
        .arg(&out));
    let trl: Vec<serde_json::Value> = printed
        .lines()
        .filter(|line| line.starts_with("{\"step\""))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(trl.iter().map(|row| row["step"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2], "{printed}");
    assert!(out.join("adapter_model.safetensors").exists(), "TRL saved a PEFT adapter");

    let metrics = Path::new(env!("CARGO_TARGET_TMPDIR")).join("job-trl-ours.jsonl");
    run(tinytune()
        .args(["train", "--model"])
        .arg(common::converted_model_dir())
        .arg("--data")
        .arg(&data)
        .args([
            "--method",
            "lora",
            "--rank",
            "8",
            "--alpha",
            "16",
            "--targets",
            "all-linear",
            "--learning-rate",
            "0.01",
        ])
        .args(["--steps", "1", "--batch-size", "8", "--seq-len", "64", "--seed", "42", "--out"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("job-trl-ours"))
        .arg("--metrics")
        .arg(&metrics));
    let ours: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&metrics).unwrap().lines().next().unwrap()).unwrap();
    let (ours, theirs) = (ours["loss"].as_f64().unwrap(), trl[0]["loss"].as_f64().unwrap());
    eprintln!("first-step loss: ours {ours:.6}, TRL {theirs:.6}");
    assert!((ours - theirs).abs() <= 1e-3, "first-step loss: ours {ours}, TRL {theirs}");
}

#[test]
fn the_exported_axolotl_config_uses_only_keys_axolotl_knows() {
    let pip = crate::common::crate_dir().join("public/datasets/pip-the-purple-robot.jsonl");
    for (data, query, more) in [
        (short_pairs("axolotl-pairs"), "loss=prompts-too&schedule=constant", &[][..]),
        (pip.clone(), "method=full&steps=300", &["--precision", "fp32"][..]),
        (pip, "r=16", &["--precision", "nf4", "--gradient-checkpointing"][..]),
    ] {
        let job = export_job("axolotl", &data, query, more, "job-axolotl");
        let answer: serde_json::Value = serde_json::from_str(&run(reference_script("axolotl_keys.py")
            .arg("--config")
            .arg(job.join("tinytune.yaml"))))
        .unwrap();
        assert_eq!(answer["unknown"], serde_json::json!([]), "{query}");
        assert_eq!(answer["deprecated"], serde_json::json!([]), "{query}");
        assert_eq!(answer["missing"], serde_json::json!([]), "{query}");
    }
}

#[test]
fn the_exported_unsloth_script_passes_only_what_unsloth_takes_and_cuts_the_data_as_the_trl_script() {
    let data = short_pairs("unsloth-pairs");
    for (query, more) in [
        ("r=16&alpha=32&dropout=0.05", &["--precision", "nf4", "--gradient-checkpointing"][..]),
        ("method=full", &["--precision", "bf16"][..]),
    ] {
        let job = export_job("unsloth", &data, query, more, "job-unsloth");
        let planned = dry_run(&job, "train_unsloth.py");
        let answer: serde_json::Value = serde_json::from_str(&run(reference_script("unsloth_keys.py")
            .args(["--load", &planned["load"].to_string(), "--lora", &planned["lora"].to_string()])
            .args(["--imports", "FastLanguageModel,is_bfloat16_supported"])))
        .unwrap();
        assert_eq!(answer["unknown_load"], serde_json::json!([]), "{query}: {answer}");
        assert_eq!(answer["unknown_lora"], serde_json::json!([]), "{query}: {answer}");
        assert_eq!(answer["missing_imports"], serde_json::json!([]), "{query}: {answer}");
        let trl = dry_run(&export_job("trl", &data, query, more, "job-unsloth-trl"), "train_trl.py");
        assert_eq!(planned["pieces"], trl["pieces"], "{query}: both scripts cut the data alike");
        assert_eq!(planned["training"]["learning_rate"], trl["training"]["learning_rate"], "{query}");
        if query.starts_with("r=") {
            assert_eq!(planned["load"]["load_in_4bit"], true);
            assert_eq!(planned["lora"]["r"], 16);
            assert_eq!(planned["lora"]["use_gradient_checkpointing"], "unsloth");
            assert_eq!(trl["peft"]["r"], 16);
        } else {
            assert_eq!(planned["load"]["full_finetuning"], true);
            assert_eq!(planned["lora"], serde_json::Value::Null);
        }
    }
}

#[test]
fn the_exported_trl_script_qlora_tunes_our_model_on_an_nf4_base_near_its_32_bit_loss() {
    let data = short_pairs("trl-nf4-pairs");
    let job = export_job("trl", &data, "steps=2&warmup=0&batch=8&seq=64", &["--precision", "nf4"], "job-trl-nf4");
    let first_loss = |precision: &str| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("job-trl-nf4-{precision}"));
        let printed = run(Command::new(common::python())
            .current_dir(&job)
            .args(["train_trl.py", "--precision", precision, "--model"])
            .arg(common::converted_model_dir())
            .arg("--output-dir")
            .arg(&out));
        assert!(out.join("adapter_model.safetensors").exists(), "{precision}: TRL saved a PEFT adapter");
        let first = printed.lines().find(|line| line.starts_with("{\"step\"")).expect("a logged loss");
        serde_json::from_str::<serde_json::Value>(first).unwrap()["loss"].as_f64().unwrap()
    };
    // bitsandbytes' NF4 rounds every projection: the first loss moves, a little.
    let (nf4, fp32) = (first_loss("nf4"), first_loss("fp32"));
    eprintln!("first-step loss: NF4 base {nf4:.6}, 32-bit base {fp32:.6}");
    assert!(nf4 != fp32 && (nf4 - fp32).abs() < 0.1, "first-step loss: NF4 base {nf4}, 32-bit base {fp32}");
}

/// The product B·A of every adapted projection in a PEFT folder, by module, times the folder's scaling.
fn updates_in(folder: &Path) -> std::collections::BTreeMap<String, tinytune::low_rank::Matrix> {
    use tinytune::low_rank::Matrix;
    let config = tinytune::export::parse_adapter_config(&std::fs::read(folder.join("adapter_config.json")).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    let file = folder.join("adapter_model.safetensors");
    let tensors =
        tinytune::export::read_safetensors(&std::fs::read(&file).unwrap(), "adapter_model.safetensors").unwrap();
    tensors
        .iter()
        .filter_map(|(name, (shape, a))| {
            let module = name.strip_suffix(".lora_A.weight")?;
            let (b_shape, b) = &tensors[&format!("{module}.lora_B.weight")];
            let product = Matrix::from_f32(b_shape[0], b_shape[1], b).matmul(&Matrix::from_f32(shape[0], shape[1], a));
            Some((module.to_string(), product.scaled(config.scaling())))
        })
        .collect()
}

#[test]
fn combining_adapters_gives_what_peft_add_weighted_adapter_gives() {
    let dir = tempfile::tempdir().unwrap();
    let answer: serde_json::Value = serde_json::from_str(
        run(reference_script("combine_reference.py")
            .arg("--model")
            .arg(common::converted_model_dir())
            .arg("--out")
            .arg(dir.path().join("peft"))
            .args(["--weights", "0.7,-0.4"]))
        .trim(),
    )
    .expect("the reference's JSON");
    let folder = |value: &serde_json::Value| PathBuf::from(value.as_str().expect("a folder"));
    let (one, two) = (folder(&answer["one"]), folder(&answer["two"]));
    for how in ["cat", "linear", "svd"] {
        let ours = dir.path().join(format!("ours-{how}"));
        run(tinytune()
            .args(["combine", "--adapter"])
            .arg(&one)
            .args(["--weight", "0.7", "--adapter"])
            .arg(&two)
            .args(["--weight", "-0.4", "--how", how, "--out"])
            .arg(&ours));
        let peft = folder(&answer["mixes"][how]["folder"]);
        let config = |folder: &Path| {
            tinytune::export::parse_adapter_config(&std::fs::read(folder.join("adapter_config.json")).unwrap()).unwrap()
        };
        assert_eq!(config(&ours), config(&peft), "{how}: the mix's settings");
        let (ours, peft) = (updates_in(&ours), updates_in(&peft));
        assert_eq!(ours.keys().collect::<Vec<_>>(), peft.keys().collect::<Vec<_>>(), "{how}: the adapted projections");
        for (module, update) in &ours {
            let off = update.plus(&peft[module].scaled(-1.0)).max_abs();
            assert!(off <= 1e-5 * peft[module].max_abs().max(1e-3), "{how}, {module}: ours and PEFT's differ by {off}");
        }
    }
    // What the three ways teach: cat gives the weighted sum exactly; linear's cross terms move it further off
    // than svd's truncation to rank 4.
    let off = |how: &str| answer["mixes"][how]["off_the_sum"].as_f64().unwrap();
    assert!(off("cat") < 1e-6, "cat is {} off the weighted sum", off("cat"));
    assert!(off("linear") > off("svd") && off("svd") > 1e-4, "linear {}, svd {}", off("linear"), off("svd"));
}
