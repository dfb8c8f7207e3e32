//! The trainer core on the real stories260K model: import, generation against the published output, LoRA
//! invariants, the KV cache, gradient accumulation, divergence handling, adapter round trips, and (with the `gpu`
//! feature) flex versus wgpu.

use crate::common;

use burn::prelude::*;
use tinytune::data::TrainingSequence;
use tinytune::dataset::Example;
use tinytune::export::{adapter_config_json, adapter_safetensors, load_adapter, load_model, merged_model_safetensors};
use tinytune::generate::{generate, generate_unless, last_position_logits, GenerationConfig};

fn logits_after(model: &LlamaForCausalLM, tokens: &[u32], device: &Device) -> Vec<f32> {
    pollster::block_on(last_position_logits(model, tokens, device))
}
use tinytune::lora::LoraConfig;
use tinytune::model::LlamaForCausalLM;
use tinytune::one_step::{one_step, step_settings, Factor};
use tinytune::settings::{Choice, Projection, TrainSettings};
use tinytune::tokenizer::TextTokenizer;
use tinytune::train::preference::{preference_pairs, tokenize_preferences};
use tinytune::train::{evaluate, site_run, Schedule, SiteData, TrainError, Trainer, TrainingConfig, TrainingMethod};

pub(crate) fn load(device: &Device) -> LlamaForCausalLM {
    let dir = common::converted_model_dir();
    let config = std::fs::read(dir.join("config.json")).unwrap();
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    load_model(&config, &weights, device).unwrap().1
}

fn tokenizer() -> TextTokenizer {
    TextTokenizer::from_json_bytes(&std::fs::read(common::converted_model_dir().join("tokenizer.json")).unwrap())
        .unwrap()
}

/// Deterministic pseudo-random training sequences (token ids in the model's vocabulary), with a partly masked tail.
pub(crate) fn sequences(count: usize, seq_len: usize, seed: u64) -> Vec<TrainingSequence> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..count)
        .map(|i| {
            let tokens = (0..=seq_len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    3 + (state >> 33) as u32 % 509
                })
                .collect();
            let targets_mask = (0..seq_len).map(|j| j < seq_len - i % 3).collect();
            TrainingSequence { tokens, targets_mask }
        })
        .collect()
}

fn lora(targets: &[&str]) -> LoraConfig {
    LoraConfig::new(4, 8.0, targets.iter().map(|t| Projection::from_name(t).expect("a projection name")).collect())
}

fn all_projections() -> LoraConfig {
    LoraConfig::new(4, 8.0, Projection::ALL.to_vec())
}

fn weight_values(tensor: Tensor<2>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn greedy_generation_from_bos_reproduces_the_published_stories260k_text() {
    let device = Device::flex();
    let model = load(&device);
    let tokenizer = tokenizer();
    let out = pollster::block_on(generate(
        &model,
        tokenizer.start_ids(),
        &GenerationConfig::new(60),
        tokenizer.eos_id(),
        512,
        &device,
    ));
    let text = tokenizer.decode(&out);
    // llama2.c doc/stories260K.md, temperature 0 from BOS.
    let published = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    assert!(text.starts_with(published), "generated: {text:?}");
}

#[test]
fn generation_with_the_kv_cache_writes_what_re_running_the_whole_sequence_writes() {
    let device = Device::flex();
    let model = load(&device).with_lora(&all_projections(), 3, &device); // adapters on every projection too
    let tokenizer = tokenizer();
    let mut prompt = tokenizer.start_ids().to_vec();
    prompt.extend(tokenizer.encode("Tom and his dog"));
    for config in
        [GenerationConfig::new(120), GenerationConfig::new(120).with_temperature(0.9).with_top_p(0.9).with_seed(5)]
    {
        let write = |kv_cache| {
            let config = GenerationConfig { kv_cache, ..config.clone() };
            pollster::block_on(generate(&model, &prompt, &config, tokenizer.eos_id(), 512, &device))
        };
        let (cached, uncached) = (write(true), write(false));
        assert!(cached.len() > prompt.len() + 20, "{cached:?}");
        assert_eq!(cached, uncached, "temperature {}", config.temperature);
    }
}

#[test]
fn generation_gives_up_at_the_first_token_after_it_is_interrupted() {
    let device = Device::flex();
    let model = load(&device);
    let tokenizer = tokenizer();
    let mut seen = Vec::new();
    let interrupted = |so_far: &[u32]| {
        seen.push(so_far.len());
        seen.len() == 6
    };
    let config = GenerationConfig::new(30);
    let out = pollster::block_on(generate_unless(
        &model,
        tokenizer.start_ids(),
        &config,
        tokenizer.eos_id(),
        512,
        &device,
        interrupted,
    ));
    assert_eq!(out, None);
    assert_eq!(seen, [1, 2, 3, 4, 5, 6], "asked before each token with the tokens so far, and no more after giving up");
}

#[test]
fn the_cached_forward_over_chunks_gives_the_logits_of_one_pass() {
    use tinytune::model::KvCache;
    let device = Device::flex();
    let model = load(&device);
    let tokens = tokenizer().encode("Once upon a time, there was a big red ball in the park.");
    let ids = |range: std::ops::Range<usize>| {
        Tensor::<1, Int>::from_ints(tokens[range].iter().map(|&t| t as i64).collect::<Vec<_>>().as_slice(), &device)
            .unsqueeze::<2>()
    };
    let whole = model.forward(ids(0..tokens.len()));
    let mut cache = KvCache::default();
    let cut = [0, 5, 6, 11, tokens.len()];
    let chunks: Vec<Tensor<3>> = cut.windows(2).map(|w| model.forward_cached(ids(w[0]..w[1]), &mut cache)).collect();
    assert_eq!(cache.positions(), tokens.len());
    let pieced = Tensor::cat(chunks, 1);
    let diff: f32 = (whole - pieced).abs().max().into_scalar();
    assert!(diff < 1e-4, "largest difference {diff}");
}

#[test]
fn a_fresh_lora_adapter_leaves_the_model_exactly_as_it_was() {
    let device = Device::flex();
    let tokens = tokenizer().encode("Once upon a time");
    let before = logits_after(&load(&device), &tokens, &device);
    let adapted = load(&device).with_lora(&all_projections(), 0, &device);
    assert!(adapted.projections().iter().all(|(_, p)| p.lora.is_some()));
    assert_eq!(before, logits_after(&adapted, &tokens, &device));
}

#[test]
fn lora_training_updates_only_the_adapters() {
    let device = Device::flex().autodiff();
    let frozen_before: Vec<Vec<f32>> =
        load(&device).projections().iter().map(|(_, p)| weight_values(p.base_layer.weight())).collect();
    let embedding_before = weight_values(load(&device).model.embed_tokens.weight.val());
    let config = TrainingConfig::new(TrainingMethod::Lora, lora(&["q_proj", "v_proj", "down_proj"]), 3)
        .with_batch_size(4)
        .with_seq_len(32);
    let mut trainer = Trainer::new(load(&device), sequences(8, 32, 1), vec![], config, &device).unwrap();
    let mut metrics = Vec::new();
    for _ in 0..3 {
        metrics.push(pollster::block_on(trainer.step()).unwrap());
    }
    // 5 layers × (q: 4·64 + 64·4, v: 4·64 + 32·4, down: 4·172 + 64·4) adapter weights, nothing else.
    assert_eq!(metrics[0].trainable_params, 5 * ((256 + 256) + (256 + 128) + (688 + 256)));
    assert!(metrics[0].total_params > 260_000);
    let model = trainer.into_model();
    for ((name, projection), before) in model.projections().iter().zip(&frozen_before) {
        assert_eq!(&weight_values(projection.base_layer.weight()), before, "{name} base weight changed");
    }
    assert_eq!(weight_values(model.model.embed_tokens.weight.val()), embedding_before);
    let trained: Vec<_> = model.projections().into_iter().filter(|(_, p)| p.lora.is_some()).collect();
    assert_eq!(trained.len(), 15);
    for (name, projection) in trained {
        let b = weight_values(projection.lora.as_ref().unwrap().lora_b.val());
        assert!(b.iter().any(|v| *v != 0.0), "{name} adapter B did not train");
    }
}

#[test]
fn full_fine_tuning_updates_the_pretrained_weights() {
    let device = Device::flex().autodiff();
    let before = weight_values(load(&device).model.layers[0].self_attn.q_proj.base_layer.weight());
    let config = TrainingConfig::new(TrainingMethod::Full, lora(&["q_proj"]), 1).with_batch_size(2).with_seq_len(16);
    let mut trainer = Trainer::new(load(&device), sequences(2, 16, 2), vec![], config, &device).unwrap();
    let metrics = pollster::block_on(trainer.step()).unwrap();
    assert_eq!(metrics.trainable_params, metrics.total_params);
    let after = weight_values(trainer.into_model().model.layers[0].self_attn.q_proj.base_layer.weight());
    assert!(max_abs_diff(&before, &after) > 0.0);
}

fn train_steps(config: TrainingConfig, data: Vec<TrainingSequence>, device: &Device) -> (Vec<f64>, LlamaForCausalLM) {
    let steps = config.steps;
    let mut trainer = Trainer::new(load(device), data, vec![], config, device).unwrap();
    let losses = (0..steps).map(|_| pollster::block_on(trainer.step()).unwrap().loss).collect();
    (losses, trainer.into_model())
}

#[test]
fn gradient_accumulation_equals_one_larger_batch() {
    let device = Device::flex().autodiff();
    let data = sequences(16, 24, 3);
    let base = TrainingConfig::new(TrainingMethod::Lora, all_projections(), 2)
        .with_seq_len(24)
        .with_schedule(Schedule::Constant);
    let (big_losses, big) = train_steps(base.clone().with_batch_size(8), data.clone(), &device);
    let (accum_losses, accumulated) = train_steps(base.with_batch_size(4).with_grad_accum(2), data, &device);
    for (a, b) in big_losses.iter().zip(&accum_losses) {
        assert!((a - b).abs() < 1e-5, "losses {big_losses:?} vs {accum_losses:?}");
    }
    for ((name, p), (_, q)) in big.projections().iter().zip(accumulated.projections().iter()) {
        let (p, q) = (p.lora.as_ref().unwrap(), q.lora.as_ref().unwrap());
        let diff = max_abs_diff(&weight_values(p.lora_b.val()), &weight_values(q.lora_b.val()));
        assert!(diff < 1e-5, "{name}: B differs by {diff}");
    }
}

#[test]
fn a_diverging_run_stops_with_a_clear_message_and_keeps_the_last_good_weights() {
    let device = Device::flex().autodiff();
    let config = TrainingConfig::new(TrainingMethod::Full, lora(&["q_proj"]), 10)
        .with_batch_size(2)
        .with_seq_len(16)
        .with_learning_rate(1e30)
        .with_max_grad_norm(0.0)
        .with_schedule(Schedule::Constant);
    let mut trainer = Trainer::new(load(&device), sequences(4, 16, 4), vec![], config, &device).unwrap();
    let mut outcome = Ok(());
    for _ in 0..10 {
        if let Err(error) = pollster::block_on(trainer.step()) {
            outcome = Err(error);
            break;
        }
    }
    let error = outcome.expect_err("a learning rate of 1e30 must diverge");
    let TrainError::Diverged { step, .. } = &error else { panic!("{error:?}") };
    assert!(error.to_string().contains("Try a smaller learning rate"), "{error}");
    assert_eq!(trainer.steps_done(), *step);
    let kept = weight_values(trainer.into_model().model.embed_tokens.weight.val());
    assert!(kept.iter().all(|v| v.is_finite()), "the kept weights are the last finite ones");
}

#[test]
fn a_dpo_run_starts_at_ln_2_and_learns_to_prefer_the_chosen_answers() {
    let device = Device::flex().autodiff();
    let tokenizer = common::stories260k_tokenizer();
    let pairs = preference_pairs(
        &tokenize_preferences(&common::preference_examples(), &tokenizer).unwrap(),
        24,
        tokenizer.eos_id(),
    );
    assert_eq!(pairs.len(), 6);
    let settings = TrainSettings {
        learning_rate: 1e-2,
        steps: 40,
        batch_size: 3,
        seq_len: 24,
        warmup_steps: 0,
        ..Default::default()
    };
    let config = TrainingConfig::from_settings(&settings).with_dpo_beta(Some(0.1));
    assert!(matches!(
        Trainer::new(load(&device), vec![], vec![], config.clone(), &device),
        Err(TrainError::InvalidConfig(_))
    ));
    let mut trainer = Trainer::preference(load(&device), pairs, vec![], config, &device).unwrap();
    assert_eq!(trainer.training_sequences(), 12, "each pair is two sequences");
    // A fresh adapter is the reference itself (B starts at zero): every margin is 0 and the loss is ln 2.
    let first = pollster::block_on(trainer.step()).unwrap();
    let rewards = first.rewards.unwrap();
    assert!((first.loss - std::f64::consts::LN_2).abs() < 1e-6, "step 1 loss {}", first.loss);
    assert_eq!((rewards.chosen, rewards.rejected, rewards.accuracy), (0.0, 0.0, 0.0));
    let mut last = first;
    for _ in 1..40 {
        last = pollster::block_on(trainer.step()).unwrap();
    }
    let rewards = last.rewards.unwrap();
    assert!(last.loss < 0.3, "after 40 steps the loss is {}", last.loss);
    assert_eq!(rewards.accuracy, 1.0, "every chosen answer ahead: {rewards:?}");
    assert!(rewards.chosen > rewards.rejected, "{rewards:?}");
}

#[test]
fn a_site_run_trains_on_its_first_examples_and_mixes_in_the_share_of_replay_it_is_given() {
    let device = Device::flex().autodiff();
    let tokenizer = common::stories260k_tokenizer();
    let tokenize = |texts: &[&str]| {
        let examples: Vec<Example> = texts.iter().map(|t| Example::Text(t.to_string())).collect();
        tinytune::data::tokenize_examples(&examples, &tokenizer).unwrap()
    };
    // Each story is one piece of 24 tokens or fewer.
    let train =
        tokenize(&["Pip the robot found a red ball.", "Pip went to the park.", "Pip saw a big dog.", "Pip sang."]);
    let replay = tokenize(&["Once upon a time, there was a cat.", "Tom had a toy car."]);
    let held_out = tokenize(&["Pip ate an apple."]);
    let data = SiteData {
        train: &train,
        preferences: &[],
        held_out: &held_out,
        held_out_preferences: &[],
        reference: &[],
        replay: &replay,
    };
    let base = TrainSettings { steps: 2, batch_size: 2, seq_len: 24, warmup_steps: 0, ..TrainSettings::default() };
    let pieces = |settings: TrainSettings, data: &SiteData| {
        site_run(load(&device), data, &settings, tokenizer.eos_id(), &device).map(|t| t.training_sequences())
    };
    assert_eq!(pieces(base.clone(), &data).unwrap(), 4);
    assert_eq!(pieces(TrainSettings { max_examples: Some(2), ..base.clone() }, &data).unwrap(), 2, "the first two");
    assert_eq!(
        pieces(TrainSettings { max_examples: Some(9), ..base.clone() }, &data).unwrap(),
        4,
        "no more than there are"
    );
    // Half replay: as many of the base model's stories as the data has pieces, the two of them repeated.
    assert_eq!(pieces(TrainSettings { replay: 0.5, ..base.clone() }, &data).unwrap(), 8);
    assert_eq!(pieces(TrainSettings { max_examples: Some(3), replay: 0.25, ..base.clone() }, &data).unwrap(), 4);
    let without = SiteData { replay: &[], ..data };
    let error = pieces(TrainSettings { replay: 0.5, ..base }, &without).map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("set the replay share to 0"), "{error}");
}

#[test]
fn a_site_dpo_run_measures_its_held_out_pairs_and_needs_pairs_to_train_on() {
    let device = Device::flex().autodiff();
    let tokenizer = common::stories260k_tokenizer();
    let examples = common::preference_examples();
    let pairs = tokenize_preferences(&examples, &tokenizer).unwrap();
    let tokenized = tinytune::data::tokenize_examples(&examples, &tokenizer).unwrap();
    let (train_pairs, held_out_pairs) = pairs.split_at(4);
    let data = SiteData {
        train: &tokenized[..4],
        preferences: train_pairs,
        held_out: &tokenized[4..],
        held_out_preferences: held_out_pairs,
        reference: &[],
        replay: &[],
    };
    let settings = TrainSettings {
        dpo_beta: Some(0.1),
        learning_rate: 1e-2,
        steps: 12,
        batch_size: 2,
        seq_len: 24,
        warmup_steps: 0,
        eval_every: 6,
        ..TrainSettings::default()
    };
    let mut trainer = site_run(load(&device), &data, &settings, tokenizer.eos_id(), &device).unwrap();
    let metrics: Vec<_> = (0..12).map(|_| pollster::block_on(trainer.step()).unwrap()).collect();
    let evaluated: Vec<usize> = metrics.iter().filter(|m| m.eval_rewards.is_some()).map(|m| m.step).collect();
    assert_eq!(evaluated, [1, 6, 12], "held-out pairs are scored whenever the run evaluates");
    assert!(metrics.iter().all(|m| m.rewards.is_some()));
    // The two held-out pairs, which it never trained on: the chosen answer (the animal asked about, a happy day)
    // pulls ahead of the rejected one (a grey sky), as on the training pairs.
    let held_out = metrics[11].eval_rewards.unwrap();
    assert_eq!(held_out.accuracy, 1.0, "{held_out:?}");
    assert!(held_out.chosen - held_out.rejected > metrics[0].eval_rewards.unwrap().chosen, "{held_out:?}");
    assert!(held_out.chosen_log_prob < 0.0 && held_out.rejected_log_prob < 0.0, "{held_out:?}");

    let no_pairs = SiteData { preferences: &[], held_out_preferences: &[], ..data };
    let refused = site_run(load(&device), &no_pairs, &settings, tokenizer.eos_id(), &device).err().unwrap();
    assert!(refused.to_string().contains("this data set has none"), "{refused}");
}

#[test]
fn merge_matches_the_adapter_and_unmerge_restores_the_base() {
    let device = Device::flex().autodiff();
    let config = TrainingConfig::new(TrainingMethod::Lora, all_projections(), 2)
        .with_batch_size(4)
        .with_seq_len(16)
        .with_learning_rate(1e-2);
    let (_, trained) = train_steps(config, sequences(8, 16, 5), &device);
    let trained = trained.valid();
    let device = device.inner();
    let tokens = tokenizer().encode("The cat sat");
    let with_adapter = logits_after(&trained, &tokens, &device);
    let merged = trained.map_projections(Projection::ALL, |p| p.merge());
    let merged_logits = logits_after(&merged, &tokens, &device);
    assert!(max_abs_diff(&with_adapter, &merged_logits) < 1e-4);
    let base_logits = logits_after(&load(&device), &tokens, &device);
    assert!(max_abs_diff(&with_adapter, &base_logits) > 1e-3, "training changed the model");
    let unmerged = merged.map_projections(Projection::ALL, |p| p.unmerge());
    let unmerged_weights = weight_values(unmerged.model.layers[2].mlp.up_proj.base_layer.weight());
    let base_weights = weight_values(load(&device).model.layers[2].mlp.up_proj.base_layer.weight());
    assert!(max_abs_diff(&unmerged_weights, &base_weights) < 1e-6);
}

#[test]
fn an_exported_adapter_and_merged_model_load_back_to_the_same_logits() {
    let device = Device::flex().autodiff();
    let lora_config = lora(&["q_proj", "k_proj", "o_proj", "gate_proj"]);
    let config = TrainingConfig::new(TrainingMethod::Lora, lora_config.clone(), 2)
        .with_batch_size(4)
        .with_seq_len(16)
        .with_learning_rate(1e-2);
    let (_, trained) = train_steps(config, sequences(8, 16, 6), &device);
    let trained = trained.valid();
    let device = device.inner();
    let tokens = tokenizer().encode("Lily saw a dog");
    let expected = logits_after(&trained, &tokens, &device);

    let config_json = adapter_config_json(&lora_config, "stories260K");
    let weights = adapter_safetensors(&trained).unwrap();
    let names = safetensors::SafeTensors::deserialize(&weights)
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    assert!(names.contains(&"base_model.model.model.layers.4.self_attn.k_proj.lora_A.weight".to_string()), "{names:?}");
    assert_eq!(names.len(), 5 * 4 * 2);
    let (loaded_config, reloaded) = load_adapter(load(&device), config_json.as_bytes(), &weights, &device).unwrap();
    assert_eq!(loaded_config, lora_config);
    assert!(max_abs_diff(&expected, &logits_after(&reloaded, &tokens, &device)) < 1e-6);

    let merged = merged_model_safetensors(trained).unwrap();
    let dir = common::converted_model_dir();
    let (_, merged_model) = load_model(&std::fs::read(dir.join("config.json")).unwrap(), &merged, &device).unwrap();
    assert!(max_abs_diff(&expected, &logits_after(&merged_model, &tokens, &device)) < 1e-4);
}

/// Needs Burn's native wgpu backend: `cargo test --release --features gpu --test native trainer::` (the default build leaves
/// it out; the browser tests compare the shipped WebGPU backend with the CPU).
#[cfg(feature = "gpu")]
#[test]
fn flex_and_wgpu_give_the_same_loss_curve_for_twenty_steps() {
    let run = |device: Device| {
        let config = TrainingConfig::new(TrainingMethod::Lora, all_projections(), 20)
            .with_batch_size(4)
            .with_seq_len(32)
            .with_seed(9);
        train_steps(config, sequences(12, 32, 7), &device.autodiff()).0
    };
    let on_cpu = run(Device::flex());
    let on_wgpu = run(Device::wgpu(DeviceKind::DefaultDevice));
    for (step, (a, b)) in on_cpu.iter().zip(&on_wgpu).enumerate() {
        assert!((a - b).abs() <= 1e-4, "step {}: flex {a} vs wgpu {b}\n{on_cpu:?}\n{on_wgpu:?}", step + 1);
    }
}

#[test]
fn the_demo_estimate_of_trainable_parameters_matches_the_trainer() {
    use tinytune::settings::TrainSettings;
    let config_json = std::fs::read(common::converted_model_dir().join("config.json")).unwrap();
    let shape = tinytune::export::parse_hf_config(&config_json).unwrap().shape();
    let device = Device::flex().autodiff();
    for method in [TrainingMethod::Lora, TrainingMethod::Full, TrainingMethod::Frozen] {
        let settings =
            TrainSettings { method, steps: 1, warmup_steps: 0, batch_size: 2, seq_len: 16, ..TrainSettings::default() };
        let config = TrainingConfig::from_settings(&settings);
        let mut trainer = Trainer::new(load(&device), sequences(2, 16, 8), vec![], config, &device).unwrap();
        let metrics = pollster::block_on(trainer.step()).unwrap();
        assert_eq!(metrics.trainable_params as u64, shape.trainable_params(&settings), "{method:?}");
        assert_eq!(
            metrics.total_params as u64,
            shape.total_params() + shape.trainable_params(&settings) * (method == TrainingMethod::Lora) as u64
        );
    }
}

#[test]
fn scaling_the_adapter_blends_from_the_base_model_to_the_fine_tuned_one() {
    let device = Device::flex().autodiff();
    let config = TrainingConfig::new(TrainingMethod::Lora, all_projections(), 2)
        .with_batch_size(4)
        .with_seq_len(16)
        .with_learning_rate(1e-2);
    let (_, trained) = train_steps(config, sequences(8, 16, 10), &device);
    let trained = trained.valid();
    let device = device.inner();
    let tokens = tokenizer().encode("Tom went");
    let full = logits_after(&trained, &tokens, &device);
    let base = logits_after(&load(&device), &tokens, &device);
    assert_eq!(logits_after(&trained.clone().scale_adapters(1.0), &tokens, &device), full);
    assert!(max_abs_diff(&logits_after(&trained.clone().scale_adapters(0.0), &tokens, &device), &base) < 1e-6);
    let half = logits_after(&trained.scale_adapters(0.5), &tokens, &device);
    assert!(max_abs_diff(&half, &base) > 1e-4 && max_abs_diff(&half, &full) > 1e-4);
}

#[test]
fn frozen_runs_measure_the_loss_without_changing_anything() {
    let device = Device::flex().autodiff();
    let config = TrainingConfig::new(TrainingMethod::Frozen, lora(&["q_proj"]), 3)
        .with_batch_size(4)
        .with_seq_len(16)
        .with_eval_every(1);
    let data = sequences(8, 16, 11);
    let mut trainer = Trainer::new(load(&device), data.clone(), data[..2].to_vec(), config, &device).unwrap();
    let evals: Vec<f64> = (0..3).map(|_| pollster::block_on(trainer.step()).unwrap().eval_loss.unwrap()).collect();
    assert_eq!(evals[0], evals[2], "nothing trains, so the held-out loss stays put");
}

#[test]
fn one_step_up_close_reads_back_the_step_the_trainer_takes() {
    let device = Device::flex().autodiff();
    let settings = TrainSettings { seq_len: 32, ..TrainSettings::default() };
    let data = sequences(4, 32, 7);
    let (sequence, held_out) = (data[0].clone(), data[1..].to_vec());
    let step = pollster::block_on(one_step(
        load(&device),
        sequence.clone(),
        (0, 1),
        held_out.clone(),
        &settings,
        &tokenizer(),
        &device,
    ))
    .unwrap();

    // The same step, taken by a trainer of its own with the same settings.
    let config = TrainingConfig::from_settings(&step_settings(&settings));
    let mut trainer = Trainer::new(load(&device), vec![sequence.clone()], held_out, config, &device).unwrap();
    let (held_out_before, _) = pollster::block_on(trainer.eval_losses()).unwrap();
    let metrics = pollster::block_on(trainer.step()).unwrap();
    let (held_out_after, _) = pollster::block_on(trainer.eval_losses()).unwrap();
    let inference = device.clone().inner();
    let after =
        pollster::block_on(evaluate(&trainer.model().valid(), std::slice::from_ref(&sequence), 1, &inference)).unwrap();
    let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{what}: {a} vs {b}");
    close(step.loss_before, metrics.loss, "loss before");
    close(step.loss_after, after, "loss after");
    close(step.held_out_before, held_out_before.unwrap(), "held-out loss before");
    close(step.held_out_after, held_out_after.unwrap(), "held-out loss after");
    close(step.grad_norm, metrics.grad_norm, "gradient norm");
    assert!(step.loss_after < step.loss_before);

    // The tokens are the sequence's targets, with its loss mask.
    assert_eq!(step.tokens.iter().map(|t| t.target.id).collect::<Vec<_>>(), sequence.tokens[1..]);
    assert_eq!(step.tokens.iter().map(|t| t.trained).collect::<Vec<_>>(), sequence.targets_mask);

    // The gradient read for each matrix is the one the step used: together their norm is the step's.
    assert_eq!(step.matrices.len(), 5 * 7 * 2);
    let total = step.matrices.iter().map(|m| m.grad_norm.powi(2)).sum::<f64>().sqrt();
    close(total, metrics.grad_norm, "the matrices' gradient norms together");
    // B starts at zero, so at the first step A receives no gradient and stays; every value of B moves, and
    // AdamW's first step moves each by lr·g/(|g| + ε): the learning rate, whatever the gradient's size.
    let rate = settings.learning_rate;
    for m in &step.matrices {
        let name = format!("layer {} {} {}", m.layer, m.projection.name(), m.factor.name());
        match m.factor {
            Factor::LoraA => assert!(m.grad_norm == 0.0 && m.moved == 0, "{name} changed: {m:?}"),
            Factor::LoraB => {
                assert!(m.grad_norm > 0.0 && m.moved == m.values, "{name}: {m:?}");
                assert!((m.largest_change - rate).abs() < 1e-3 * rate, "{name}: largest change {}", m.largest_change);
                let all_at_rate = rate * (m.values as f64).sqrt();
                assert!(m.update_norm <= all_at_rate * 1.0001 && m.update_norm > 0.99 * all_at_rate, "{name}: {m:?}");
            }
            Factor::Weight => panic!("{name}: a LoRA step trains no weight"),
        }
    }

    // Full fine-tuning trains the projections' own weights.
    let full = TrainSettings { method: TrainingMethod::Full, learning_rate: 1e-3, ..settings };
    let step = pollster::block_on(one_step(load(&device), sequence, (0, 1), vec![], &full, &tokenizer(), &device));
    let step = step.unwrap();
    assert_eq!(step.matrices.len(), 5 * 7);
    assert!(step.matrices.iter().all(|m| m.factor == Factor::Weight && m.grad_norm > 0.0 && m.moved > 0));
    assert!(step.held_out_before.is_nan(), "no held-out sequences, no held-out loss");
}
