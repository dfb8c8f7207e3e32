//! The converted stories260K tokenizer must give llama2.c's ids for every text, and Hugging Face transformers,
//! loading the files we write, must give the same ids.

use crate::common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::tokenizer::{tokenizer_config_json, tokenizer_json_from_llama2c, TextTokenizer};

/// llama2.c's tokenizer as run.c reads and uses it: the reference the conversion is checked against.
struct Llama2cReference {
    vocab: Vec<Vec<u8>>,
    vocab_scores: Vec<f32>,
    /// run.c sorts the vocabulary and binary-searches it with strcmp: an exact lookup of the bytes.
    sorted_vocab: HashMap<Vec<u8>, i32>,
}

impl Llama2cReference {
    /// run.c `build_tokenizer`: int32 max_token_length, then per token f32 score, int32 len, bytes.
    fn read(bytes: &[u8]) -> Self {
        let int = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let mut vocab = Vec::new();
        let mut vocab_scores = Vec::new();
        let mut at = 4;
        while at < bytes.len() {
            vocab_scores.push(f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
            let len = int(at + 4) as usize;
            vocab.push(bytes[at + 8..at + 8 + len].to_vec());
            at += 8 + len;
        }
        let sorted_vocab = vocab.iter().enumerate().map(|(id, text)| (text.clone(), id as i32)).collect();
        Self { vocab, vocab_scores, sorted_vocab }
    }

    fn str_lookup(&self, text: &[u8]) -> i32 {
        self.sorted_vocab.get(text).copied().unwrap_or(-1)
    }

    /// run.c `encode(t, text, bos=0, eos=0, ...)`, line by line.
    fn encode(&self, text: &str) -> Vec<u32> {
        let text = text.as_bytes();
        let mut tokens: Vec<i32> = Vec::new();

        // add_dummy_prefix is true by default: prepend a space unless the text is empty.
        if !text.is_empty() {
            let dummy_prefix = self.str_lookup(b" ");
            tokens.push(dummy_prefix);
        }

        // Look up each UTF-8 codepoint (at most 4 bytes), or fall back to one byte token (byte + 3) per byte.
        let mut str_buffer: Vec<u8> = Vec::new();
        for (i, &c) in text.iter().enumerate() {
            if (c & 0xC0) != 0x80 {
                str_buffer.clear();
            }
            str_buffer.push(c);
            let next = text.get(i + 1).copied().unwrap_or(0);
            if (next & 0xC0) == 0x80 && str_buffer.len() < 4 {
                continue;
            }
            let id = self.str_lookup(&str_buffer);
            if id != -1 {
                tokens.push(id);
            } else {
                for &byte in &str_buffer {
                    tokens.push(byte as i32 + 3);
                }
            }
            str_buffer.clear();
        }

        // Merge the best-scoring consecutive pair until none merges.
        loop {
            let mut best_score = -1e10f32;
            let mut best_id = -1;
            let mut best_idx: i64 = -1;
            for i in 0..tokens.len().saturating_sub(1) {
                let merged = [&self.vocab[tokens[i] as usize][..], &self.vocab[tokens[i + 1] as usize][..]].concat();
                let id = self.str_lookup(&merged);
                if id != -1 && self.vocab_scores[id as usize] > best_score {
                    best_score = self.vocab_scores[id as usize];
                    best_id = id;
                    best_idx = i as i64;
                }
            }
            if best_idx == -1 {
                break;
            }
            let best_idx = best_idx as usize;
            tokens[best_idx] = best_id;
            tokens.remove(best_idx + 1);
        }
        tokens.into_iter().map(|id| id as u32).collect()
    }
}

/// Texts chosen to reach every path: empty, spaces, punctuation, byte fallback, newlines, long text.
fn test_texts() -> Vec<String> {
    let story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. \
                 One day, she saw a big, red ball under a tree. \"Can I play with you?\" she asked her friend Tom.\n\n\
                 Tom smiled and said, \"Yes! Let's play together.\" They laughed and ran until the sun went down. \
                 The end.";
    let mut texts: Vec<String> = [
        "",
        " ",
        "  ",
        "\n",
        "x",
        "a",
        "Hello world",
        " leading space",
        "trailing space ",
        "  two before and two after  ",
        "Lily said, \"Let's go!\" and ran.",
        "What's this? It's a ball... (a red one); 10% off: $5 & more!",
        "1 + 2 = 3, 42 * 7 = 294",
        "tab\tseparated\tvalues",
        "line one\nline two\r\nline three\n",
        "  \n  ",
        "café naïve résumé",
        "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
        "日本語のテキスト",
        "emoji 😀🐶🎉 party",
        "a😀b",
        "—em dash– and “curly quotes” ‘single’ …",
        "¡Hola! ¿Qué tal?",
        "Ω≈ç√∫ ∑ π",
        "combining e\u{301} and zero\u{200b}width",
        "the the the the",
        "aaaaaaaaaaaaaaaaaaaaaaaaa",
        "Thhhe hheerr wasss",
        "<s> is not a token here, nor </s> or <unk>",
        "<0x41> looks like a byte token",
        "Mixed CASE and UPPERCASE WORDS",
        "Tom's dog, Max, was happy.",
        story,
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    texts.push(story.repeat(20));
    texts
}

fn reference() -> Llama2cReference {
    Llama2cReference::read(&common::stories260k_file("tok512.bin"))
}

fn converted_json() -> String {
    tokenizer_json_from_llama2c(&common::stories260k_file("tok512.bin")).expect("tok512.bin converts")
}

fn converted() -> TextTokenizer {
    TextTokenizer::from_json_bytes(converted_json().as_bytes()).expect("the converted tokenizer loads")
}

#[test]
fn encode_gives_llama2c_ids_for_varied_texts() {
    let (reference, tokenizer) = (reference(), converted());
    for text in test_texts() {
        assert_eq!(tokenizer.encode(&text), reference.encode(&text), "ids for {text:?}");
    }
}

#[test]
fn encode_gives_llama2c_ids_for_random_texts() {
    let (reference, tokenizer) = (reference(), converted());
    // Every single character of the vocabulary, plus characters it lacks (byte fallback) and whitespace.
    let mut alphabet: Vec<String> = reference
        .vocab
        .iter()
        .filter_map(|piece| std::str::from_utf8(piece).ok())
        .filter(|piece| piece.chars().count() == 1)
        .map(str::to_string)
        .collect();
    alphabet.extend(["  ", "\n", "é", "😀", "中"].map(String::from));
    // Whole tokens too (spaces restored), so that long merges happen.
    let words: Vec<String> =
        reference.vocab[259..].iter().map(|piece| String::from_utf8_lossy(piece).into_owned()).collect();
    let mut rng = StdRng::seed_from_u64(2602);
    for round in 0..3000 {
        let text: String = if round % 2 == 0 {
            (0..rng.random_range(0..40)).map(|_| alphabet[rng.random_range(0..alphabet.len())].as_str()).collect()
        } else {
            (0..rng.random_range(0..12)).map(|_| words[rng.random_range(0..words.len())].as_str()).collect()
        };
        assert_eq!(tokenizer.encode(&text), reference.encode(&text), "ids for {text:?}");
    }
}

#[test]
fn decode_gives_back_the_encoded_text() {
    let tokenizer = converted();
    for text in test_texts() {
        assert_eq!(tokenizer.decode(&tokenizer.encode(&text)), text, "round trip of {text:?}");
    }
}

#[derive(serde::Deserialize)]
struct PythonAnswer {
    class: String,
    ids: Vec<Vec<u32>>,
    decoded: Vec<String>,
}

#[test]
fn transformers_auto_tokenizer_gives_bos_and_the_same_ids() {
    let python = common::python();
    assert!(
        python.exists(),
        "the Python reference interpreter {} is missing: run tools/test.sh (it sets up the venv with transformers), \
         or set TINYTUNE_PYTHON to a Python with transformers",
        python.display()
    );
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("tokenizer.json"), converted_json()).unwrap();
    std::fs::write(folder.path().join("tokenizer_config.json"), tokenizer_config_json(512)).unwrap();

    let script = crate::common::crate_dir().join("tests/reference/tokenizer_ids.py");
    let texts = test_texts();
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(folder.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}; run tools/test.sh", python.display()));
    child.stdin.take().unwrap().write_all(serde_json::to_string(&texts).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{} failed (run tools/test.sh to set up the venv):\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: PythonAnswer = serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    let tokenizer = converted();
    for ((text, python_ids), python_decoded) in texts.iter().zip(&answer.ids).zip(&answer.decoded) {
        let mut ids = tokenizer.start_ids().to_vec();
        ids.extend(tokenizer.encode(text));
        assert_eq!(python_ids, &ids, "transformers ({}) ids for {text:?}", answer.class);
        assert_eq!(python_decoded, &tokenizer.decode(&ids), "transformers decoding of {text:?}");
    }
}
