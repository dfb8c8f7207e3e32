//! Fuzzing the data studio's path from bytes to tokens: at least 1,000,000 inputs, mutated from the real fixtures
//! and shipped data sets (AFL-style: bit flips, interesting bytes, deletions, duplications, splices, truncation)
//! or generated (JSONL objects of every shape and of wrong shapes, CSV/TSV rows with quotes, text with odd
//! Unicode), each read in one of the four formats, judged, tokenized with the model's tokenizer and reviewed.
//! Nothing may panic, and every problem must name a line of the input.
//!
//! A seeded loop rather than a coverage-guided fuzzer: it runs on stable Rust inside the ordinary test command,
//! the same inputs every run (so a failure repeats), and prints its count and time.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::data::{tokenize_example, training_sequences};
use tinytune::dataset::review::{review, EntryFacts, SplitSettings, TokenFacts};
use tinytune::dataset::source::read_entries;
use tinytune::dataset::{ColumnMapping, Field, Format};
use tinytune::tokenizer::{tokenizer_json_from_llama2c, TextTokenizer};

use crate::common;

const CASES: usize = 1_000_000;
/// Inputs are cut to this many bytes: short inputs reach more branches per second.
const MAX_INPUT: usize = 320;

/// Bytes that matter to the parsers.
const INTERESTING: &[u8] = b"{}[]\":,\\\n\r\t \x00\xff\xc3\xa9\xe2\x80\xa8\xef\xbb\xbfnu0123456789.-+eE";

fn seeds() -> Vec<Vec<u8>> {
    let root = crate::common::crate_dir();
    let mut seeds = Vec::new();
    for folder in ["tests/fixtures/data", "tests/fixtures/studio", "public/datasets"] {
        let mut names: Vec<_> =
            std::fs::read_dir(root.join(folder)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        names.sort();
        for path in names {
            let bytes = std::fs::read(&path).unwrap();
            // Each seed is a window of a file, so the big shipped files give many different starts.
            for start in (0..bytes.len().max(1)).step_by(MAX_INPUT).take(8) {
                seeds.push(bytes[start..(start + MAX_INPUT).min(bytes.len())].to_vec());
            }
        }
    }
    seeds
}

fn random_text(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "Once upon a time",
        " ",
        "\\n",
        "\\\"",
        "é",
        "日本",
        "🙂",
        "\\u0000",
        "\\ud800",
        "<img src=x onerror=alert(1)>",
        "\t",
        ",",
        "\"\"",
        "</s>",
        "<s>",
        "\u{2028}",
        "a",
        "the cat",
        "\r\n",
    ];
    (0..rng.random_range(0..6)).map(|_| PIECES[rng.random_range(0..PIECES.len())]).collect()
}

/// A generated JSON line: any of the shapes, with wrong fields, wrong types and odd strings mixed in.
fn generated_json_line(rng: &mut StdRng) -> String {
    const KEYS: &[&str] = &[
        "text",
        "prompt",
        "response",
        "messages",
        "chosen",
        "rejected",
        "instruction",
        "output",
        "role",
        "content",
        "",
    ];
    const ROLES: &[&str] = &["system", "user", "assistant", "human", "gpt", ""];
    let value = |rng: &mut StdRng| -> String {
        match rng.random_range(0..9) {
            0 => "null".into(),
            1 => rng.random_range(-5..5).to_string(),
            2 => "[]".into(),
            3 => "{}".into(),
            4 => {
                let messages: Vec<String> = (0..rng.random_range(0..4))
                    .map(|_| {
                        format!(
                            r#"{{"role": "{}", "content": "{}"}}"#,
                            ROLES[rng.random_range(0..ROLES.len())],
                            random_text(rng)
                        )
                    })
                    .collect();
                format!("[{}]", messages.join(", "))
            }
            _ => format!("\"{}\"", random_text(rng)),
        }
    };
    let fields: Vec<String> = (0..rng.random_range(0..4))
        .map(|_| format!("\"{}\": {}", KEYS[rng.random_range(0..KEYS.len())], value(rng)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn generated(rng: &mut StdRng) -> Vec<u8> {
    let lines = rng.random_range(1..6);
    let text = match rng.random_range(0..3) {
        0 => (0..lines).map(|_| generated_json_line(rng)).collect::<Vec<_>>().join("\n"),
        1 => {
            let separator = if rng.random_bool(0.5) { "," } else { "\t" };
            let cell = |rng: &mut StdRng| match rng.random_range(0..4) {
                0 => format!("\"{}\"", random_text(rng).replace('"', "\"\"")),
                1 => "\"unclosed".into(),
                _ => random_text(rng),
            };
            let header = ["prompt", "response", "text", "extra"][..rng.random_range(1..5)].join(separator);
            let rows: Vec<String> = (0..lines)
                .map(|_| (0..rng.random_range(0..5)).map(|_| cell(rng)).collect::<Vec<_>>().join(separator))
                .collect();
            format!("{header}\n{}", rows.join("\n"))
        }
        _ => (0..lines).map(|_| random_text(rng)).collect::<Vec<_>>().join(if rng.random_bool(0.5) {
            "\n\n"
        } else {
            "\n"
        }),
    };
    text.into_bytes()
}

/// One of `seeds`, mutated AFL-style (bit flips, `interesting` bytes, deletions, duplications, splices,
/// truncation) and cut to `max_len` bytes.
pub(crate) fn mutated(rng: &mut StdRng, seeds: &[Vec<u8>], interesting: &[u8], max_len: usize) -> Vec<u8> {
    let mut bytes = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..5) {
        let len = bytes.len();
        let at = if len == 0 { 0 } else { rng.random_range(0..len) };
        match rng.random_range(0..7) {
            0 if len > 0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 if len > 0 => bytes[at] = interesting[rng.random_range(0..interesting.len())],
            2 => bytes.insert(at, interesting[rng.random_range(0..interesting.len())]),
            3 if len > 0 => {
                let end = (at + rng.random_range(1..16)).min(len);
                bytes.drain(at..end);
            }
            4 if len > 0 => {
                let end = (at + rng.random_range(1..32)).min(len);
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            5 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let from = rng.random_range(0..other.len().max(1));
                let piece = &other[from.min(other.len())..(from + rng.random_range(0..64)).min(other.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            _ => bytes.truncate(at),
        }
    }
    bytes.truncate(max_len);
    bytes
}

/// Everything the studio does with one input read as `format`, checking that every problem names a line of it.
fn exercise(bytes: &[u8], format: Format, tokenizer: &TextTokenizer, mapping: &ColumnMapping) {
    let line_count = bytes.split(|&b| b == b'\n').count();
    {
        let mapping = matches!(format, Format::Csv | Format::Tsv).then_some(mapping);
        let Ok(entries) = read_entries(bytes, format, mapping) else { return };
        let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
        let mut tokens = Vec::with_capacity(entries.len());
        let mut tokenized = Vec::new();
        for (entry, facts) in entries.iter().zip(&facts) {
            assert!((1..=line_count).contains(&entry.line), "{format:?}: line {} of {line_count}", entry.line);
            tokens.push(facts.example.as_ref().ok().map(|example| {
                let example = tokenize_example(example, tokenizer).unwrap();
                let measured: TokenFacts = example.facts(tokenizer.eos_id());
                tokenized.push(example);
                measured
            }));
        }
        let _ = training_sequences(&tokenized, 16, tokenizer.eos_id());
        let reviewed = review(&entries, &facts, &[], &SplitSettings::default(), Some((&tokens, 16)));
        for problem in &reviewed.problems {
            assert!(
                (1..=line_count).contains(&problem.line),
                "{format:?}: a problem on line {} of {line_count}",
                problem.line
            );
            assert!(!problem.problem.message.is_empty());
        }
    }
}

#[test]
fn a_million_mutated_and_generated_data_sets_never_panic_and_every_problem_names_a_line() {
    let json = tokenizer_json_from_llama2c(&common::stories260k_file("tok512.bin")).unwrap();
    let tokenizer = TextTokenizer::from_json_bytes(json.as_bytes()).unwrap();
    let seeds = seeds();
    let mapping = ColumnMapping { columns: vec![(Field::Prompt, 0), (Field::Response, 1)] };
    let mut rng = StdRng::seed_from_u64(2026);
    let started = Instant::now();
    for case in 0..CASES {
        let input =
            if rng.random_bool(0.7) { mutated(&mut rng, &seeds, INTERESTING, MAX_INPUT) } else { generated(&mut rng) };
        // JSONL most often: it has the most to go wrong.
        let format = [Format::Jsonl, Format::Jsonl, Format::Csv, Format::Tsv, Format::Text][rng.random_range(0..5)];
        // The panic's own message is printed by the default hook; this names the input that caused it.
        if catch_unwind(AssertUnwindSafe(|| exercise(&input, format, &tokenizer, &mapping))).is_err() {
            panic!("case {case} ({format:?}) panicked (message above); input: {:?}", String::from_utf8_lossy(&input));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        std::io::stderr(),
        "figure: data fuzz: {CASES} inputs (70% mutated from {} seeds, 30% generated), each read as JSONL, CSV, TSV or \
         text, judged, tokenized and reviewed: 0 panics in {seconds:.1} s",
        seeds.len()
    );
}
