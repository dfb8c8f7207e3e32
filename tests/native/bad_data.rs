//! A data set with a problem must be refused with the file, the line and what to fix; good files of each
//! format must become examples and training sequences.

use crate::common;

use tinytune::data::{tokenize_example, training_sequences};
use tinytune::dataset::{parse_dataset, ChatMessage, DataError, Example};
use tinytune::tokenizer::{tokenizer_json_from_llama2c, TextTokenizer};

const FIXTURES: &str = "tests/fixtures/data";

fn parse_fixture(name: &str) -> Result<Vec<Example>, DataError> {
    let path = crate::common::crate_dir().join(FIXTURES).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    parse_dataset(name, &bytes)
}

/// The error for a fixture, checked to start with `start` (file, line and the gist of the message).
fn assert_error_starts(name: &str, line: Option<usize>, start: &str) -> DataError {
    let error = parse_fixture(name).expect_err(name);
    assert_eq!(error.file, name);
    assert_eq!(error.line, line, "{error}");
    assert!(
        error.to_string().starts_with(start),
        "{name}: expected the message to start with\n  {start}\nbut it is\n  {error}"
    );
    error
}

#[test]
fn truncated_line_says_where_the_json_ends() {
    assert_error_starts(
        "truncated.jsonl",
        Some(3),
        "truncated.jsonl line 3: not valid JSON (EOF while parsing a string at column 53) — is the line cut short?",
    );
}

#[test]
fn unknown_field_lists_found_and_expected_fields() {
    assert_error_starts(
        "wrong_fields.jsonl",
        Some(2),
        r#"wrong_fields.jsonl line 2: unknown field `answer` (found `answer`, `prompt`; expected {"text"}, {"prompt", "response"}, {"messages"} or {"prompt", "chosen", "rejected"}); rename `answer` → `response`"#,
    );
}

#[test]
fn missing_field_is_named() {
    assert_error_starts(
        "missing_field.jsonl",
        Some(3),
        "missing_field.jsonl line 3: missing field `response` (found `prompt`;",
    );
}

#[test]
fn empty_file_has_no_examples() {
    assert_error_starts("empty.jsonl", None, "empty.jsonl: the file is empty");
    assert_error_starts("blank_lines.jsonl", None, "blank_lines.jsonl: the file has only blank lines");
}

#[test]
fn non_utf8_byte_is_located() {
    // Line 2 is `{"text": "caf\xE9 au lait"}`: the Latin-1 é is its 14th byte.
    assert_error_starts(
        "not_utf8.jsonl",
        Some(2),
        "not_utf8.jsonl line 2: not valid UTF-8 at byte 14 of the line; save the file as UTF-8",
    );
}

#[test]
fn wrong_type_says_what_was_found() {
    assert_error_starts(
        "wrong_type.jsonl",
        Some(2),
        "wrong_type.jsonl line 2: `response` must be a string, found the number 6",
    );
}

#[test]
fn chat_without_assistant_has_nothing_to_learn() {
    assert_error_starts(
        "chat_without_assistant.jsonl",
        Some(2),
        "chat_without_assistant.jsonl line 2: the conversation has no \"assistant\" message",
    );
}

#[test]
fn huge_line_is_refused_without_parsing() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("huge_line.jsonl");
    let mut contents = b"{\"text\": \"A short one.\"}\n{\"text\": \"".to_vec();
    contents.extend(std::iter::repeat_n(b'a', 1 << 20));
    contents.extend(b"\"}\n{\"text\": \"After it.\"}\n");
    std::fs::write(&path, &contents).unwrap();
    let error = parse_dataset("huge_line.jsonl", &std::fs::read(&path).unwrap()).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert!(
        error.to_string().starts_with(
            "huge_line.jsonl line 2: the line is 1048588 bytes long, over the limit of 1048576 bytes (1 MiB) per line"
        ),
        "{error}"
    );
}

#[test]
fn unsupported_extension_names_the_supported_ones() {
    let error = parse_dataset("train.parquet", b"text\nhello\n").unwrap_err();
    assert_eq!(error.line, None);
    assert!(error.to_string().starts_with("train.parquet: unsupported file type (`.parquet`); use .jsonl"), "{error}");
    assert!(error.message.contains(".txt"), "{error}");
    let error = parse_dataset("train", b"hello").unwrap_err();
    assert!(error.to_string().starts_with("train: unsupported file type (no extension)"), "{error}");
}

#[test]
fn other_bad_lines_are_explained() {
    let cases: [(&str, &str); 8] = [
        ("[1, 2, 3]", "line 1: expected a JSON object such as {\"text\": \"...\"}, found a list"),
        ("{}", "line 1: the object has no fields"),
        (r#"{"text": ""}"#, "line 1: `text` is empty"),
        (r#"{"text": "a", "prompt": "b", "response": "c"}"#, "line 1: the fields belong to different kinds of example"),
        (r#"{"messages": []}"#, "line 1: `messages` is empty"),
        (r#"{"messages": [{"role": "robot", "content": "beep"}]}"#, "line 1: message 1 has the role \"robot\""),
        (r#"{"text": "a"} {"text": "b"}"#, "line 1: not valid JSON (trailing characters at column 15)"),
        (r#"{"text": "a",}"#, "line 1: not valid JSON (trailing comma at column 14)"),
    ];
    for (line, start) in cases {
        let error = parse_dataset("t.jsonl", line.as_bytes()).unwrap_err();
        assert!(error.to_string().starts_with(&format!("t.jsonl {start}")), "{line}: {error}");
    }
}

#[test]
fn good_files_of_each_format_parse() {
    let text = parse_fixture("text.jsonl").unwrap();
    assert_eq!(text.len(), 3);
    assert_eq!(text[0], Example::Text("Once upon a time, there was a little girl named Lily.".into()));

    let prompt_response = parse_fixture("prompt_response.jsonl").unwrap();
    assert_eq!(
        prompt_response[1],
        Example::PromptResponse { prompt: "What color is the ball?".into(), response: "The ball is red.".into() }
    );

    let chat = parse_fixture("chat.jsonl").unwrap();
    assert_eq!(chat.len(), 2);
    let message = |role: &str, content: &str| ChatMessage { role: role.into(), content: content.into() };
    assert_eq!(
        chat[1],
        Example::Chat(vec![
            message("user", "Hi!"),
            message("assistant", "Hello, friend."),
            message("user", "Bye!"),
            message("assistant", "Goodbye!"),
        ])
    );

    let stories = parse_fixture("stories.txt").unwrap();
    assert_eq!(
        stories,
        vec![
            Example::Text("Once upon a time, there was a little girl named Lily.\nShe loved to play outside.".into()),
            Example::Text("Tom had a red ball.\nHe liked to throw it high.".into()),
            Example::Text("The end.".into()),
        ]
    );
}

#[test]
fn good_files_become_training_sequences_with_targets() {
    let json = tokenizer_json_from_llama2c(&common::stories260k_file("tok512.bin")).unwrap();
    let tokenizer = TextTokenizer::from_json_bytes(json.as_bytes()).unwrap();
    for name in ["text.jsonl", "prompt_response.jsonl", "chat.jsonl", "stories.txt"] {
        let examples = parse_fixture(name).unwrap();
        let tokenized: Vec<_> = examples.iter().map(|example| tokenize_example(example, &tokenizer).unwrap()).collect();
        let sequences = training_sequences(&tokenized, 16, tokenizer.eos_id());
        assert!(sequences.len() >= examples.len(), "{name}: {} sequences", sequences.len());
        for sequence in &sequences {
            assert_eq!(sequence.tokens.len(), 17, "{name}");
            assert_eq!(sequence.targets_mask.len(), 16, "{name}");
            assert!(sequence.targets_mask.contains(&true), "{name}");
        }
        // Every target of every example is counted once.
        let targets: usize = tokenized.iter().map(|t| t.loss_mask[1..].iter().filter(|&&m| m).count()).sum();
        let counted: usize = sequences.iter().map(|s| s.targets_mask.iter().filter(|&&m| m).count()).sum();
        assert_eq!(counted, targets, "{name}");
    }
}
