//! SmolLM2-135M-Instruct read from its 4-bit GGUF (tools/smollm2.sh puts it in the build cache) against what
//! transformers makes of the same file (tests/reference/gguf_reference.py): the tokenizer's ids on a few thousand
//! strings (and llama.cpp's), the chat template's text and ids, the logits (of the 4-bit base QLoRA trains, and of
//! every weight dequantized), a greedy answer, and a QLoRA step's gradients against PyTorch + PEFT's.

use crate::common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use burn::module::Param;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tinytune::data::tokenize_example;
use tinytune::data::TrainingSequence;
use tinytune::dataset::{ChatMessage, Example};
use tinytune::evaluation::{judge_request, picks_first};
use tinytune::export::{adapter_config_json, adapter_safetensors};
use tinytune::generate::{generate, GenerationConfig};
use tinytune::gguf::load::load;
use tinytune::lora::{BaseLayer, LoraConfig};
use tinytune::model::{LlamaConfig, LlamaForCausalLM};
use tinytune::protocol::ModelShape;
use tinytune::settings::{Choice, Projection};
use tinytune::settings::{TrainSettings, TrainingMethod};
use tinytune::tokenizer::TextTokenizer;
use tinytune::train::{masked_cross_entropy_sum, Trainer, TrainingConfig};

/// The GGUF: `TINYTUNE_SMOLLM2_GGUF`, or what tools/smollm2.sh fetches into the build cache.
fn gguf_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TINYTUNE_SMOLLM2_GGUF") {
        return PathBuf::from(path);
    }
    let out = Command::new("bash").arg(common::crate_dir().join("tools/smollm2.sh")).output().expect("bash runs");
    assert!(out.status.success(), "tools/smollm2.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().lines().last().expect("the script prints the path"))
}

struct Loaded {
    config: LlamaConfig,
    model: LlamaForCausalLM,
    tokenizer: TextTokenizer,
}

/// The model as QLoRA trains it (its Q4_1 projections kept 4-bit) and the tokenizer, once per test process.
fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let (config, model, tokenizer) =
            load(&std::fs::read(gguf_path()).unwrap(), true, &Device::flex()).expect("the GGUF loads");
        Loaded { config, model, tokenizer }
    })
}

/// How many of the model's projections are kept 4-bit.
fn four_bit_projections(model: &LlamaForCausalLM) -> usize {
    model.projections().iter().filter(|(_, p)| matches!(p.base_layer, BaseLayer::Q4(_))).count()
}

fn message(role: &str, content: &str) -> ChatMessage {
    ChatMessage::new(role, content)
}

fn conversations() -> Vec<Vec<ChatMessage>> {
    vec![
        vec![message("user", "What is the capital of France?")],
        vec![message("user", "Hi"), message("assistant", "Hello! How can I help?")],
        vec![
            message("system", "You answer as Pip, a cheerful support agent for a bicycle shop."),
            message("user", "My chain keeps slipping."),
            message("assistant", "Oh no! Let's fix that: is the chain worn, or is it the gears?"),
            message("user", "  The gears, I think.\n\nThey click a lot. "),
        ],
        vec![message("user", "Reply in JSON: {\"ok\": true}"), message("assistant", "{\"ok\": true}")],
    ]
}

/// A few thousand strings of the kinds a tokenizer gets wrong: words and numbers, Unicode (accents, CJK,
/// emoji), code, runs of spaces, tabs and newlines, and chat markup typed as text.
fn texts() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(7);
    let pieces = [
        "the",
        " The",
        "Hello",
        " world",
        "2024",
        " 3.14159",
        "1,000,000",
        "don't",
        "I'm",
        "you'll",
        "café",
        " naïve",
        "Zürich",
        "東京",
        "こんにちは",
        "한국어",
        "😀",
        "👩‍💻",
        "🇫🇷",
        "—",
        "…",
        "«quote»",
        "def",
        " fn main() {",
        "}",
        "    return x**2",
        "\tif (a && b)",
        "<div class=\"x\">",
        "SELECT * FROM t;",
        "\n",
        "\n\n",
        "  ",
        "   ",
        "\t",
        " \n ",
        "\r\n",
        "<|im_start|>",
        "<|im_end|>",
        "user",
        "assistant\n",
        "<",
        "|",
        ">",
        "ſ",
        "\u{a0}",
        "\u{200b}",
        "ÀÉÎÕÜ",
        "x",
        "ab",
        "-",
        "_",
        "__init__",
        "https://example.com/a?b=c",
        "#",
        "@user",
        "$5.00",
        "100%",
    ];
    let mut texts: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
    texts.push(String::new());
    while texts.len() < 3000 {
        let count = rng.random_range(1..12);
        let mut text = String::new();
        for _ in 0..count {
            if rng.random_bool(0.15) {
                // A random character from the printable ASCII range or beyond.
                let c = if rng.random_bool(0.5) {
                    rng.random_range(0x20u32..0x7f)
                } else {
                    rng.random_range(0xa0u32..0x3000)
                };
                text.extend(char::from_u32(c));
            } else {
                text.push_str(pieces[rng.random_range(0..pieces.len())]);
            }
        }
        texts.push(text);
    }
    texts
}

/// The prompt the logits and the greedy answer are compared on: one whose answer is longer than 32 tokens.
fn chat() -> Vec<ChatMessage> {
    vec![message("user", "Write a short poem about the sea.")]
}

/// Pairs of stories the judge tests read: a request, then the stories shown as A and B.
fn judge_pairs() -> [(&'static str, &'static str, &'static str); 2] {
    let fox = "Once upon a time, a little fox lived on a farm. He liked to play with the hens.";
    let dog = "Once upon a time, there was a dog named Max. Max loved to run in the park.";
    [("Write a story about a fox on the farm.", fox, dog), ("Write a story about a fox on the farm.", dog, fox)]
}

/// transformers' answers for everything the tests compare, from one run of the reference script.
fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let tokenizer = &loaded().tokenizer;
        let prompt = tokenizer.encode(&tokenizer.chat_template().unwrap().render(&chat(), true).unwrap());
        let request = json!({
            "texts": texts(),
            "conversations": conversations(),
            "tokens": prompt,
            "chat": chat(),
            "max_new_tokens": 32,
            "judge": judge_pairs().iter().map(|(request, a, b)| judge_request(request, a, b)).collect::<Vec<_>>(),
        });
        let script = common::crate_dir().join("tests/reference/gguf_reference.py");
        let mut child = Command::new(common::python())
            .arg(script)
            .arg("--gguf")
            .arg(gguf_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the reference Python runs (TINYTUNE_PYTHON)");
        child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "gguf_reference.py failed");
        serde_json::from_slice(&out.stdout).expect("the reference prints JSON")
    })
}

#[test]
fn the_config_comes_from_the_gguf_metadata() {
    let config = &loaded().config;
    assert_eq!(
        (config.vocab_size, config.hidden_size, config.intermediate_size, config.num_hidden_layers),
        (49_152, 576, 1536, 30)
    );
    assert_eq!((config.num_attention_heads, config.num_key_value_heads, config.head_dim()), (9, 3, 64));
    assert_eq!((config.rope_theta, config.tie_word_embeddings), (100_000.0, true));
    let tokenizer = &loaded().tokenizer;
    assert_eq!(tokenizer.start_ids(), [] as [u32; 0], "SmolLM2 adds no BOS");
    assert_eq!(tokenizer.token_text(tokenizer.eos_id()), "<|im_end|>");
}

/// Whether `text` has whitespace right before a digit (of any script, `\p{N}`): where the model's pre-tokenizer
/// (`smollm`: digits split off first, then GPT-2's rule) and transformers' GGUF converter (GPT-2's rule alone) cut
/// the text differently.
fn space_before_digit(text: &str) -> bool {
    text.chars().zip(text.chars().skip(1)).any(|(a, b)| a.is_whitespace() && b.is_numeric())
}

#[test]
fn the_tokenizer_gives_llama_cpps_ids_and_transformers_where_its_converter_keeps_the_models_rule() {
    let tokenizer = &loaded().tokenizer;
    let texts = texts();
    let ids_of = |key: &str| -> Vec<Vec<u32>> { serde_json::from_value(reference()[key].clone()).unwrap() };
    let (llama_cpp, transformers) = (ids_of("llama_cpp_texts"), ids_of("texts"));
    assert_eq!((llama_cpp.len(), transformers.len()), (texts.len(), texts.len()));
    let mut unlike_llama_cpp = Vec::new();
    let mut unlike_transformers = Vec::new();
    let mut converter_differs = 0;
    for ((text, llama_cpp), transformers) in texts.iter().zip(&llama_cpp).zip(&transformers) {
        let ours = tokenizer.encode(text);
        if &ours != llama_cpp {
            unlike_llama_cpp.push(format!("{text:?}: ours {ours:?}, llama.cpp {llama_cpp:?}"));
        }
        if space_before_digit(text) {
            converter_differs += usize::from(&ours != transformers);
        } else if &ours != transformers {
            unlike_transformers.push(format!("{text:?}: ours {ours:?}, transformers {transformers:?}"));
        }
    }
    println!(
        "figure: tokenizer on {} strings: {} unlike llama.cpp; {} unlike transformers, besides {converter_differs} \
         with whitespace before a digit (transformers' GGUF converter drops the smollm digit rule)",
        texts.len(),
        unlike_llama_cpp.len(),
        unlike_transformers.len()
    );
    let first = |list: &[String]| list.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    assert!(
        unlike_llama_cpp.is_empty(),
        "{} strings differ from llama.cpp, e.g. {}",
        unlike_llama_cpp.len(),
        first(&unlike_llama_cpp)
    );
    assert!(
        unlike_transformers.is_empty(),
        "{} strings differ from transformers, e.g. {}",
        unlike_transformers.len(),
        first(&unlike_transformers)
    );
    assert!(converter_differs > 0, "the strings include the cases where the two rules differ");
    // Decoding gives the text back (byte-level BPE loses nothing), but for chat markup, which is special.
    for text in texts.iter().filter(|text| !text.contains("<|im_")).take(500) {
        assert_eq!(&tokenizer.decode(&tokenizer.encode(text)), text);
    }
}

#[test]
fn the_chat_template_renders_and_tokenizes_as_apply_chat_template() {
    let tokenizer = &loaded().tokenizer;
    let template = tokenizer.chat_template().expect("the GGUF carries a chat template");
    for (messages, expected) in conversations().iter().zip(reference()["conversations"].as_array().unwrap()) {
        let text = template.render(messages, false).unwrap();
        assert_eq!(text, expected["text"].as_str().unwrap());
        assert_eq!(template.render(messages, true).unwrap(), expected["prompt"].as_str().unwrap());
        let ids: Vec<u32> = serde_json::from_value(expected["ids"].clone()).unwrap();
        assert_eq!(tokenizer.encode(&text), ids, "{messages:?}");
    }
}

#[test]
fn a_chat_example_trains_on_the_assistants_replies_and_their_end_token_only() {
    let tokenizer = &loaded().tokenizer;
    let chat = Example::Chat(conversations()[2][..3].to_vec());
    let example = tokenize_example(&chat, tokenizer).unwrap();
    let trained: Vec<u32> =
        example.tokens.iter().zip(&example.loss_mask).filter(|(_, &t)| t).map(|(&id, _)| id).collect();
    let mut reply = tokenizer.encode("Oh no! Let's fix that: is the chain worn, or is it the gears?");
    reply.push(tokenizer.eos_id());
    assert_eq!(trained, reply);
    let conversation_ids =
        tokenizer.encode(&tokenizer.chat_template().unwrap().render(&conversations()[2][..3], false).unwrap());
    assert_eq!(example.tokens, conversation_ids, "the example is the rendered conversation's ids");
}

#[test]
fn logits_on_the_4bit_and_the_dequantized_gguf_equal_transformers() {
    let Loaded { model, tokenizer, .. } = loaded();
    let prompt = tokenizer.encode(&tokenizer.chat_template().unwrap().render(&chat(), true).unwrap());
    let input =
        Tensor::<1, Int>::from_ints(prompt.iter().map(|&t| t as i64).collect::<Vec<_>>().as_slice(), &Device::flex())
            .unsqueeze::<2>();
    let theirs: Vec<f32> = reference()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect::<Vec<_>>())
        .collect();
    let (_, dense, _) = load(&std::fs::read(gguf_path()).unwrap(), false, &Device::flex()).unwrap();
    assert_eq!(four_bit_projections(model), 30 * 7, "every projection of the file is Q4_1 and stays 4-bit");
    assert_eq!(four_bit_projections(&dense), 0);
    for (storage, model) in [("4-bit", model), ("f32", &dense)] {
        let ours = model.forward(input.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(ours.len(), theirs.len());
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        println!(
            "figure: SmolLM2 logits ({storage} base) over {} positions: largest difference from transformers \
             {worst:.2e}",
            prompt.len()
        );
        assert!(worst <= 1e-3, "{storage}: largest logit difference {worst}");
    }
    // What the preflight estimates is what the tensors take.
    let shape = ModelShape::SMOLLM2_135M;
    println!("figure: SmolLM2 base weights: {} bytes 4-bit, {} bytes f32", model.base_bytes(), dense.base_bytes());
    assert_eq!(model.base_bytes() as u64, shape.base_bytes(true));
    assert_eq!(dense.base_bytes() as u64, shape.base_bytes(false));
}

#[test]
fn the_greedy_answer_equals_transformers_for_32_tokens() {
    let Loaded { config, model, tokenizer } = loaded();
    let prompt = tokenizer.encode(&tokenizer.chat_template().unwrap().render(&chat(), true).unwrap());
    let out = pollster::block_on(generate(
        model,
        &prompt,
        &GenerationConfig::new(32),
        tokenizer.eos_id(),
        config.max_position_embeddings,
        &Device::flex(),
    ));
    let answer = &out[prompt.len()..];
    assert_eq!(answer.len(), 32, "the answer runs to the limit: all 32 tokens are compared");
    let expected: Vec<u32> = serde_json::from_value(reference()["chat"]["ids"].clone()).unwrap();
    println!("figure: SmolLM2 answers {:?}", tokenizer.decode(answer));
    assert_eq!(answer, expected, "ours {:?}, transformers {:?}", tokenizer.decode(answer), reference()["chat"]["text"]);
}

#[test]
fn one_qlora_step_on_the_4bit_gguf_gives_pytorchs_gradients_on_the_dequantized_weights() {
    // Ours: QLoRA, the GGUF's projections 4-bit (dequantized inside the forward and backward passes), LoRA rank 8
    // on every linear layer, B drawn at random (PEFT's fresh B is zero, which would leave A without a gradient),
    // one chat example whose loss is on the assistant's reply only.
    let device = Device::flex().autodiff();
    let (_, model, _) = load(&std::fs::read(gguf_path()).unwrap(), true, &device).unwrap();
    assert_eq!(four_bit_projections(&model), 30 * 7);
    let lora = LoraConfig::new(8, 16.0, Projection::ALL.to_vec());
    let mut rng = StdRng::seed_from_u64(11);
    let model = model.with_lora(&lora, 3, &device).map_projections(Projection::ALL, |mut projection| {
        if let Some(adapter) = &mut projection.lora {
            let [rows, rank] = adapter.lora_b.dims();
            let values: Vec<f32> = (0..rows * rank).map(|_| rng.random_range(-0.02..0.02)).collect();
            adapter.lora_b = Param::from_tensor(Tensor::from_data(TensorData::new(values, [rows, rank]), &device));
        }
        projection
    });
    let adapter = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("smollm2-adapter-{}", std::process::id()));
    std::fs::create_dir_all(&adapter).unwrap();
    std::fs::write(
        adapter.join("adapter_config.json"),
        adapter_config_json(&lora, "HuggingFaceTB/SmolLM2-135M-Instruct"),
    )
    .unwrap();
    std::fs::write(adapter.join("adapter_model.safetensors"), adapter_safetensors(&model).unwrap()).unwrap();

    let tokenizer = &loaded().tokenizer;
    let example = tokenize_example(&Example::Chat(conversations()[2][..3].to_vec()), tokenizer).unwrap();
    let n = example.tokens.len() - 1;
    let (inputs, targets) = (example.tokens[..n].to_vec(), example.tokens[1..].to_vec());
    let mask: Vec<u8> = example.loss_mask[1..].iter().map(|&m| u8::from(m)).collect();
    let batch_file = adapter.join("batch.json");
    std::fs::write(
        &batch_file,
        json!({ "inputs": [inputs], "targets": [targets], "targets_mask": [mask] }).to_string(),
    )
    .unwrap();

    let ints = |ids: &[u32]| {
        Tensor::<1, Int>::from_ints(ids.iter().map(|&t| t as i64).collect::<Vec<_>>().as_slice(), &device)
            .reshape([1, n])
    };
    let count = mask.iter().map(|&m| f32::from(m)).sum::<f32>();
    let mask_tensor =
        Tensor::<1>::from_floats(mask.iter().map(|&m| f32::from(m)).collect::<Vec<_>>().as_slice(), &device)
            .reshape([1, n]);
    let loss = masked_cross_entropy_sum(model.forward(ints(&inputs)), ints(&targets), mask_tensor) / count as f64;
    let our_loss = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
    let grads = loss.backward();

    // PyTorch + PEFT on transformers' own dequantization of the same file.
    let out = Command::new(common::python())
        .arg(common::crate_dir().join("tests/reference/lora_grads.py"))
        .arg("--model")
        .arg(gguf_path())
        .arg("--adapter")
        .arg(&adapter)
        .arg("--batch")
        .arg(&batch_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "lora_grads.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let reference: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference_loss = reference["loss"].as_f64().unwrap() as f32;
    println!("figure: SmolLM2 QLoRA step: loss {our_loss} here, {reference_loss} in PyTorch, on {count} reply tokens");
    assert!((our_loss - reference_loss).abs() <= 1e-4 * reference_loss.abs(), "loss {our_loss} vs {reference_loss}");
    assert_eq!(common::assert_lora_grads_match(&model, &grads, &reference, 1e-3), 30 * 7 * 2);
}

#[test]
fn the_support_replies_are_what_their_script_writes_and_train_on_the_replies_through_the_template() {
    let folder = common::crate_dir().join("public/datasets/smollm2");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("support-replies-{}", std::process::id()));
    let status = Command::new("python3")
        .arg(common::crate_dir().join("tools/make_support_replies.py"))
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tools/make_support_replies.py failed");
    for file in ["ridgeline-support.jsonl", "ridgeline-support.check.json"] {
        assert!(
            std::fs::read(out.join(file)).unwrap() == std::fs::read(folder.join(file)).unwrap(),
            "{file} is not what the script writes"
        );
    }
    let bytes = std::fs::read(folder.join("ridgeline-support.jsonl")).unwrap();
    let examples = tinytune::dataset::parse_dataset("ridgeline-support.jsonl", &bytes).unwrap();
    assert!(examples.len() >= 300, "{} examples", examples.len());
    let tokenizer = &loaded().tokenizer;
    let sign_off = tokenizer.encode("Happy trails, the Ridgeline crew");
    let mut longest = 0;
    for example in &examples {
        let tokenized = tokenize_example(example, tokenizer).unwrap();
        let trained: Vec<u32> =
            tokenized.tokens.iter().zip(&tokenized.loss_mask).filter(|(_, &t)| t).map(|(&id, _)| id).collect();
        // One trained span, the reply: it ends with the sign-off and the end-of-turn token.
        assert_eq!(trained.last(), Some(&tokenizer.eos_id()));
        assert!(trained[..trained.len() - 1].ends_with(&sign_off), "{:?}", tokenizer.decode(&trained));
        assert_eq!(tokenized.facts(tokenizer.eos_id()).spans_without_eos, 0);
        longest = longest.max(tokenized.tokens.len());
    }
    println!("figure: ridgeline-support: {} chats, the longest {longest} tokens with the template", examples.len());
    // The QLoRA demo's pieces hold a whole conversation: no reply loses its sign-off to the cut.
    let seq_len = tinytune::settings::TrainSettings::smollm2_support().seq_len;
    assert!(longest <= seq_len, "the longest chat takes {longest} tokens, the demo's pieces {seq_len}");
    let check = std::fs::read(folder.join("ridgeline-support.check.json")).unwrap();
    assert_eq!(tinytune::task::TaskCheck::parse("ridgeline-support.check.json", &check).unwrap().samples.len(), 8);
}

#[test]
fn a_qlora_run_trains_the_adapters_alone_counts_every_weight_and_full_fine_tuning_is_refused() {
    let device = Device::flex().autodiff();
    let bytes = std::fs::read(gguf_path()).unwrap();
    let settings = TrainSettings { batch_size: 1, seq_len: 16, eval_every: 0, ..TrainSettings::smollm2_support() };
    let sequence = TrainingSequence { tokens: (100..117).collect(), targets_mask: vec![true; 16] };
    let trainer = |method| {
        let (_, model, _) = load(&bytes, true, &device).unwrap();
        let config = TrainingConfig::from_settings(&TrainSettings { method, ..settings.clone() });
        Trainer::new(model, vec![sequence.clone()], vec![], config, &device)
    };
    let metrics = pollster::block_on(trainer(TrainingMethod::Lora).unwrap().step()).unwrap();
    let shape = ModelShape::SMOLLM2_135M;
    assert_eq!(metrics.trainable_params as u64, shape.trainable_params(&settings));
    assert_eq!(metrics.total_params as u64, shape.total_params() + shape.trainable_params(&settings));
    let refused =
        trainer(TrainingMethod::Full).err().expect("full fine-tuning of 4-bit weights is refused").to_string();
    assert!(refused.contains("4-bit") && refused.contains("QLoRA"), "{refused}");
}

#[test]
fn the_judge_reads_the_same_verdict_as_transformers() {
    let Loaded { model, tokenizer, .. } = loaded();
    let theirs: Vec<f64> = reference()["judge"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).collect();
    for ((request, first, second), theirs) in judge_pairs().into_iter().zip(theirs) {
        let ours = pollster::block_on(picks_first(model, tokenizer, request, first, second, &Device::flex())).unwrap();
        println!("figure: the judge picks the story shown first with probability {ours:.4} (transformers {theirs:.4})");
        assert!((ours - theirs).abs() < 1e-3, "ours {ours}, transformers {theirs}");
    }
}
