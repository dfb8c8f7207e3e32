//! The job sizer (`tinytune::sizing`, the lesson "Toolchains") against what PyTorch, transformers, PEFT and
//! bitsandbytes count and keep for the same jobs (`tests/reference/sizing_reference.py`).

use std::process::Command;

use tinytune::protocol::ModelShape;
use tinytune::settings::{TargetPreset, TrainSettings};
use tinytune::sizing::{Job, Way, MODELS, NF4_BITS};

use crate::common;

fn reference(shapes: &[ModelShape]) -> serde_json::Value {
    let output = Command::new(common::python())
        .arg(common::crate_dir().join("tests/reference/sizing_reference.py"))
        .arg("--shapes")
        .arg(serde_json::to_string(shapes).unwrap())
        .output()
        .expect("the reference environment runs");
    assert!(output.status.success(), "sizing_reference.py failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one line of JSON")
}

#[test]
fn the_sizer_counts_stores_and_keeps_what_transformers_peft_and_bitsandbytes_do() {
    let shapes: Vec<ModelShape> = MODELS.iter().map(|m| m.shape).collect();
    let answer = reference(&shapes);

    // Parameters, and LoRA's trainable ones two ways, for every listed model.
    let all_r8 =
        TrainSettings { lora_rank: 8, lora_targets: TargetPreset::AllLinear.projections(), ..Default::default() };
    let attention_r16 =
        TrainSettings { lora_rank: 16, lora_targets: TargetPreset::Attention.projections(), ..Default::default() };
    for (model, counted) in MODELS.iter().zip(answer["models"].as_array().unwrap()) {
        let ours = [
            model.shape.total_params(),
            model.shape.trainable_params(&all_r8),
            model.shape.trainable_params(&attention_r16),
        ];
        let theirs = ["total", "all_r8", "attention_r16"].map(|key| counted[key].as_u64().unwrap());
        assert_eq!(ours, theirs, "{}: parameters, LoRA r 8 everywhere, r 16 on attention", model.name);
    }

    // NF4 with double quantization, as bitsandbytes stores a projection.
    let bits = answer["nf4_bits"].as_f64().unwrap();
    assert!((bits - NF4_BITS).abs() < 1e-4, "bitsandbytes stores {bits} bits a weight, the sizer counts {NF4_BITS}");

    // What a layer keeps for the backward pass, per token, against autograd's saved tensors, job by job.
    let kept = &answer["activations"];
    let dim = |key: &str| kept["shape"][key].as_u64().unwrap() as usize;
    let shape = ModelShape {
        vocab_size: 512,
        hidden_size: dim("hidden_size"),
        intermediate_size: dim("intermediate_size"),
        num_hidden_layers: 1,
        num_attention_heads: dim("num_attention_heads"),
        num_key_value_heads: dim("num_key_value_heads"),
        max_position_embeddings: 128,
        tie_word_embeddings: false,
        attention_bias: false,
    };
    let lora = |lora_dropout, targets: TargetPreset| Job {
        settings: TrainSettings {
            lora_rank: 8,
            lora_dropout,
            lora_targets: targets.projections(),
            ..Default::default()
        },
        way: Way::Lora,
        gradient_checkpointing: false,
    };
    let full = Job { way: Way::Full, ..lora(0.0, TargetPreset::AllLinear) };
    for (key, job) in [
        ("lora_all", lora(0.0, TargetPreset::AllLinear)),
        ("lora_all_dropout", lora(0.1, TargetPreset::AllLinear)),
        ("lora_attention", lora(0.0, TargetPreset::Attention)),
        ("full", full),
    ] {
        let measured = kept[key].as_f64().unwrap();
        assert_eq!(job.layer_bytes_per_token(&shape) as f64, measured, "{key}: bytes a layer keeps a token");
    }
}
