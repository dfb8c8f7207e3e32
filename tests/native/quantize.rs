//! The quantization formats of the lesson "QLoRA" (`tinytune::quantize`) against the tools they copy, gguf-py
//! (llama.cpp's Q8_0, Q4_0, Q4_1) and bitsandbytes (NF4), on stories260K's real weights and on edge cases; and the
//! lesson's table against the held-out loss of a model whose weights those tools stored.

use std::path::Path;
use std::process::Command;

use burn::prelude::*;
use tinytune::data::{tokenize_examples, training_sequences, TrainingSequence};
use tinytune::dataset::parse_dataset;
use tinytune::dataset::review::{split_examples, SplitSettings};
use tinytune::export::{load_model, read_safetensors, safetensors_bytes};
use tinytune::quantize::{measure, Format, NF4_LEVELS};
use tinytune::settings::{Choice, Projection, TrainSettings};
use tinytune::tokenizer::TextTokenizer;
use tinytune::train::evaluate;

use crate::common;

/// Every projection's weight name, in the model's order (as `quantize::measure` takes them).
fn projection_names(layers: usize) -> Vec<String> {
    (0..layers)
        .flat_map(|layer| {
            Projection::ALL.iter().map(move |projection| format!("{}.weight", projection.hf_module(layer)))
        })
        .collect()
}

/// Edge cases after the real weights: values exactly halfway between two NF4 levels (ties) in a block whose
/// largest value is 1; a block of zeros; a constant block; one outlier among small weights; and a tail that
/// leaves a shorter last block at sizes 128 and 256.
fn edge_cases() -> Vec<f32> {
    let mut values = vec![1.0f32];
    for pair in NF4_LEVELS.windows(2) {
        values.push((pair[0] + pair[1]) / 2.0);
    }
    values.extend(values.clone().iter().skip(1).map(|v| -v));
    values.resize(256, 0.0);
    values.extend([0.0f32; 32]);
    values.extend([0.3f32; 32]);
    values.extend((0..32).map(|i| if i == 7 { 2.0 } else { (i as f32 - 16.0) / 800.0 }));
    values.extend((0..96).map(|i| ((i * 37 % 96) as f32 - 48.0) / 1500.0));
    values
}

/// What the reference tools make of `values`: (format, block) → the values stored and read back.
fn reference(values: &[f32], dir: &Path) -> Vec<((Format, usize), Vec<f32>)> {
    std::fs::create_dir_all(dir).unwrap();
    let input = dir.join("values.f32");
    std::fs::write(&input, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let script = common::crate_dir().join("tests/reference/quantize_reference.py");
    let output = Command::new(common::python()).arg(&script).arg(&input).arg(dir).output().unwrap();
    assert!(output.status.success(), "quantize_reference.py failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let read = |format: Format, block: usize| {
        let bytes = std::fs::read(dir.join(format!("{}-{block}.f32", format.name()))).unwrap();
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect::<Vec<f32>>()
    };
    let mut cells = vec![];
    for format in [Format::Q8_0, Format::Q4_0, Format::Q4_1] {
        cells.push(((format, 32), read(format, 32)));
    }
    for block in [32, 64, 128, 256] {
        cells.push(((Format::Nf4, block), read(Format::Nf4, block)));
    }
    cells
}

/// The Pip stories' held-out split, cut as a run with the default settings cuts it (as the worker does).
fn held_out(tokenizer: &TextTokenizer) -> Vec<TrainingSequence> {
    let path = common::crate_dir().join("public/datasets/pip-the-purple-robot.jsonl");
    let examples = parse_dataset("pip-the-purple-robot.jsonl", &std::fs::read(path).unwrap()).unwrap();
    let (_, held_out) = split_examples(examples, &SplitSettings::default());
    let tokenized = tokenize_examples(&held_out, tokenizer).unwrap();
    training_sequences(&tokenized, TrainSettings::default().seq_len, tokenizer.eos_id())
}

#[test]
fn every_format_stores_weights_as_gguf_py_and_bitsandbytes_do_and_the_table_measures_them() {
    let dir = common::converted_model_dir();
    let weights_file = std::fs::read(dir.join("model.safetensors")).unwrap();
    let tensors = read_safetensors(&weights_file, "model.safetensors").unwrap();
    let config_json = std::fs::read(dir.join("config.json")).unwrap();
    let layers = tinytune::export::parse_hf_config(&config_json).unwrap().num_hidden_layers;
    let names = projection_names(layers);
    let real: Vec<f32> = names.iter().flat_map(|name| tensors[name].1.iter().copied()).collect();
    assert_eq!(real.len() % 256, 0, "the edge cases start a block at every size");
    let values: Vec<f32> = real.iter().copied().chain(edge_cases()).collect();

    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("quantize-{}", std::process::id()));
    let references = reference(&values, &scratch);
    for ((format, block), theirs) in &references {
        let ours = format.round_trip(&values, *block);
        assert_eq!(ours.len(), theirs.len());
        let differ: Vec<usize> = (0..ours.len()).filter(|&i| ours[i].to_bits() != theirs[i].to_bits()).collect();
        assert!(
            differ.is_empty(),
            "{} at block {block}: {} of {} values differ, first at {}: {} from ours, {} from the reference (input {})",
            format.name(),
            differ.len(),
            ours.len(),
            differ[0],
            ours[differ[0]],
            theirs[differ[0]],
            values[differ[0]],
        );
        assert!(ours.iter().zip(&values).any(|(a, b)| a != b), "{format:?}: quantizing changed nothing");
    }

    // The lesson's table: each cell is the held-out loss of the model with its projections as the tool stores them.
    let device = Device::flex();
    let (_, model) = load_model(&config_json, &weights_file, &device).unwrap();
    let held_out = held_out(&common::stories260k_tokenizer());
    let table = pollster::block_on(measure(&model, &held_out, &device)).unwrap();
    assert_eq!((table.held_out_sequences, table.cells.len()), (held_out.len(), 16));
    let base_loss = pollster::block_on(evaluate(&model, &held_out, 8, &device)).unwrap();
    assert!((table.full_precision_loss - base_loss).abs() < 1e-5, "{} against {base_loss}", table.full_precision_loss);
    for ((format, block), theirs) in references {
        let mut stored = tensors.clone();
        let mut at = 0;
        for name in &names {
            let count = stored[name].1.len();
            stored.get_mut(name).unwrap().1 = theirs[at..at + count].to_vec();
            at += count;
        }
        let (_, quantized) = load_model(&config_json, &safetensors_bytes(&stored), &device).unwrap();
        let loss = pollster::block_on(evaluate(&quantized, &held_out, 8, &device)).unwrap();
        let cell = table.cell(format, block).unwrap();
        assert!(
            (cell.held_out_loss - loss).abs() < 1e-5,
            "{} at block {block}: the table says {}, the reference's weights give {loss}",
            format.name(),
            cell.held_out_loss
        );
    }
    let _ = std::fs::remove_dir_all(scratch);
}
