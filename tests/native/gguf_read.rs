//! The GGUF reader on damaged files: a small byte-level Llama GGUF (as llama.cpp's converter lays one out: llama
//! metadata, a GPT-2 vocabulary with merges and a chat template, every weight), mutated AFL-style, must give an
//! error or a model, never a panic.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::gguf::file::{GgufFile, Value};
use tinytune::gguf::load::hf_folder;
use tinytune::tokenizer::TextTokenizer;

use crate::data_fuzz::mutated;

const CASES: usize = 300_000;
/// Mutations land in the header (metadata and tensor list); the tensors' data follows it unchanged.
const HEADER: usize = 4096;
/// Bytes that matter to GGUF's counts, type ids and lengths.
const INTERESTING: &[u8] = b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0c\x1e\x20\x7f\x80\xfe\xffGU";

/// Two layers of width 64 (two heads of 32, one key/value head), an MLP of 96, and a vocabulary of the 256 byte
/// characters plus two merges and two control tokens, split by pre-tokenizer `pre`.
fn tiny_gguf_with(pre: &str) -> Vec<u8> {
    let (hidden, mlp, heads, kv_heads, layers) = (64usize, 96usize, 2usize, 1usize, 2usize);
    let mut tokens: Vec<String> = vec!["<|im_start|>".into(), "<|im_end|>".into()];
    tokens.extend((33u8..=126).map(|b| char::from(b).to_string()));
    tokens.extend(["Ġ".into(), "Ġt".into(), "he".into()]);
    let vocab = tokens.len();
    let mut kinds = vec![3, 3];
    kinds.resize(vocab, 1);
    let mut file = GgufFile::default();
    let count = |n: usize| Value::U32(n as u32);
    file.set("general.architecture", Value::String("llama".into()));
    file.set("llama.vocab_size", count(vocab));
    file.set("llama.context_length", count(128));
    file.set("llama.embedding_length", count(hidden));
    file.set("llama.block_count", count(layers));
    file.set("llama.feed_forward_length", count(mlp));
    file.set("llama.rope.dimension_count", count(hidden / heads));
    file.set("llama.attention.head_count", count(heads));
    file.set("llama.attention.head_count_kv", count(kv_heads));
    file.set("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5));
    file.set("llama.rope.freq_base", Value::F32(10_000.0));
    file.set("tokenizer.ggml.model", Value::String("gpt2".into()));
    file.set("tokenizer.ggml.pre", Value::String(pre.into()));
    file.set("tokenizer.ggml.tokens", Value::Strings(tokens));
    file.set("tokenizer.ggml.token_type", Value::I32s(kinds));
    file.set("tokenizer.ggml.merges", Value::Strings(vec!["Ġ t".into(), "h e".into()]));
    file.set("tokenizer.ggml.bos_token_id", count(0));
    file.set("tokenizer.ggml.eos_token_id", count(1));
    file.set(
        "tokenizer.chat_template",
        Value::String(
            "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}".into(),
        ),
    );
    let mut rng = StdRng::seed_from_u64(1);
    let mut tensor = |file: &mut GgufFile, name: &str, shape: &[usize]| {
        let values = (0..shape.iter().product::<usize>()).map(|_| rng.random_range(-0.1..0.1)).collect();
        file.add_tensor(name, shape, values);
    };
    let kv = kv_heads * hidden / heads;
    tensor(&mut file, "token_embd.weight", &[vocab, hidden]);
    for layer in 0..layers {
        for (name, shape) in [
            ("attn_norm", vec![hidden]),
            ("attn_q", vec![hidden, hidden]),
            ("attn_k", vec![kv, hidden]),
            ("attn_v", vec![kv, hidden]),
            ("attn_output", vec![hidden, hidden]),
            ("ffn_norm", vec![hidden]),
            ("ffn_gate", vec![mlp, hidden]),
            ("ffn_up", vec![mlp, hidden]),
            ("ffn_down", vec![hidden, mlp]),
        ] {
            tensor(&mut file, &format!("blk.{layer}.{name}.weight"), &shape);
        }
    }
    tensor(&mut file, "output_norm.weight", &[hidden]);
    file.to_bytes()
}

fn tiny_gguf() -> Vec<u8> {
    tiny_gguf_with("smollm")
}

#[test]
fn a_pre_tokenizer_whose_rule_is_not_known_is_refused_rather_than_guessed() {
    let Err(error) = hf_folder(&tiny_gguf_with("llama-bpe")) else { panic!("llama3's split rule read as GPT-2's") };
    assert!(error.contains("pre-tokenizer \"llama-bpe\" is not supported"), "{error}");
    assert!(hf_folder(&tiny_gguf_with("gpt-2")).is_ok());
}

#[test]
fn the_tiny_gguf_reads_as_a_model_with_its_tokenizer_and_template() {
    let files = hf_folder(&tiny_gguf()).expect("the seed reads");
    let tokenizer =
        TextTokenizer::from_files(files.tokenizer_json.as_bytes(), files.tokenizer_config_json.as_bytes()).unwrap();
    assert!(tokenizer.chat_template().is_some());
    assert_eq!(tokenizer.token_text(tokenizer.eos_id()), "<|im_end|>");
    // "the" is Ġt + he with a leading space; the control token typed in the text stays whole.
    let ids = tokenizer.encode(" the<|im_end|>");
    assert_eq!(ids.iter().map(|&id| tokenizer.token_text(id)).collect::<Vec<_>>(), ["Ġt", "he", "<|im_end|>"]);
}

#[test]
fn three_hundred_thousand_mutated_gguf_files_never_panic() {
    let seed = tiny_gguf();
    let (header, data) = seed.split_at(HEADER);
    let seeds = [header.to_vec()];
    let mut rng = StdRng::seed_from_u64(13);
    let started = Instant::now();
    let mut read = 0;
    for case in 0..CASES {
        let mut bytes = mutated(&mut rng, &seeds, INTERESTING, 1 << 20);
        if rng.random_bool(0.9) {
            bytes.extend_from_slice(data);
        }
        match catch_unwind(AssertUnwindSafe(|| {
            hf_folder(&bytes).and_then(|files| {
                TextTokenizer::from_files(files.tokenizer_json.as_bytes(), files.tokenizer_config_json.as_bytes())
                    .map_err(|e| e.to_string())
            })
        })) {
            Ok(Ok(_)) => read += 1,
            Ok(Err(message)) => assert!(!message.is_empty()),
            Err(_) => panic!("case {case} panicked (message above)"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        std::io::stderr(),
        "figure: GGUF fuzz: {CASES} files with a mutated header: 0 panics, {read} read as a model, in {seconds:.1} s"
    );
}
