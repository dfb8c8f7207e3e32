//! Training data for fine-tuning: reading a data set file into [`Example`]s, turning each into tokens with a
//! loss mask, cutting those into fixed-length training sequences, and holding some examples out for evaluation.
//!
//! ## File formats
//! - `.jsonl`: one JSON object per line, in one of three shapes (lines may mix them; blank lines are skipped):
//!   `{"text": "..."}`, `{"prompt": "...", "response": "..."}`, or
//!   `{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}` with the roles
//!   `system`, `user` and `assistant`.
//! - `.txt`: plain text; paragraphs separated by blank lines become text examples (lines inside a paragraph
//!   keep their newlines).
//!
//! A problem is reported as a [`DataError`] with the file, the 1-based line and what to change; nothing here
//! panics on bad data.
//!
//! ## What the model learns from (the loss mask)
//! Every example starts with BOS (`<s>`). Each part below is encoded separately with the tokenizer, which puts
//! a space in front of each part, and the ids are joined:
//! - text: BOS, the text, EOS. Every token after BOS is a target.
//! - prompt/response: BOS, the prompt, the response, EOS. Only the response and EOS are targets: the model
//!   learns to answer, not to write prompts.
//! - chat: BOS, then for each message its role label (`System:`, `User:` or `Assistant:`) and its content, and
//!   EOS after each assistant message. Only assistant contents and the EOS after each are targets. Decoded,
//!   a chat reads `System: Be kind. User: Tell me a story. Assistant: Once upon a time...</s>`; to ask the
//!   fine-tuned model, encode BOS, `User:`, the question and `Assistant:`, and generate until EOS.

use std::fmt;
use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{Map, Value};

use crate::tokenizer::TextTokenizer;

/// The longest line a data set may have. A longer one is almost always a wrong file (minified JSON, binary
/// data), and it is reported without being parsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One training example, as read from a data set file.
#[derive(Clone, Debug, PartialEq)]
pub enum Example {
    /// Plain text: the model learns all of it.
    Text(String),
    /// An instruction and its answer: the model learns the response.
    PromptResponse { prompt: String, response: String },
    /// A conversation: the model learns the assistant's messages.
    Chat(Vec<ChatMessage>),
}

/// One message of a [`Example::Chat`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

/// A data set problem: which file, which line (1-based) if it is about one line, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for DataError {}

const SHAPES: &str = r#"{"text"}, {"prompt", "response"} or {"messages"}"#;
const ROLES: [&str; 3] = ["system", "user", "assistant"];

/// Parses a dataset: `.jsonl` (one JSON object per line: {"text"} | {"prompt","response"} |
/// {"messages":[{"role","content"}]}; blank lines skipped) or `.txt` (plain text: paragraphs separated by blank
/// lines become Text examples). The name is only for messages and choosing the format.
pub fn parse_dataset(file_name: &str, bytes: &[u8]) -> Result<Vec<Example>, DataError> {
    let error = |line: Option<usize>, message: String| DataError { file: file_name.to_string(), line, message };
    let extension = Path::new(file_name).extension().map(|e| e.to_string_lossy().to_lowercase());
    let is_jsonl = match extension.as_deref() {
        Some("jsonl") => true,
        Some("txt") => false,
        other => {
            let found = other.map_or("no extension".to_string(), |e| format!("`.{e}`"));
            return Err(error(
                None,
                format!(
                    "unsupported file type ({found}); use .jsonl (one JSON object per line) or .txt (plain text, \
                     examples separated by blank lines)"
                ),
            ));
        }
    };

    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // a UTF-8 byte order mark
    if bytes.is_empty() {
        return Err(error(None, "the file is empty".into()));
    }
    let lines = checked_lines(bytes).map_err(|(line, message)| error(Some(line), message))?;

    let examples = if is_jsonl {
        let mut examples = Vec::new();
        for (number, line) in lines.iter().enumerate().map(|(i, line)| (i + 1, line)) {
            if line.trim().is_empty() {
                continue;
            }
            examples.push(parse_json_line(line).map_err(|message| error(Some(number), message))?);
        }
        examples
    } else {
        text_paragraphs(&lines)
    };
    if examples.is_empty() {
        return Err(error(None, "the file has only blank lines, so it holds no examples".into()));
    }
    Ok(examples)
}

/// The file's lines (without "\n" or "\r\n"), after checking each one's size and UTF-8 before anything parses
/// it. An error is (1-based line, message).
fn checked_lines(bytes: &[u8]) -> Result<Vec<&str>, (usize, String)> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut lines = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE_BYTES {
            return Err((
                number,
                format!(
                    "the line is {} bytes long, over the limit of {MAX_LINE_BYTES} bytes (1 MiB) per line; split \
                     it into smaller examples",
                    line.len()
                ),
            ));
        }
        match std::str::from_utf8(line) {
            Ok(text) => lines.push(text),
            Err(error) => {
                return Err((
                    number,
                    format!("not valid UTF-8 at byte {} of the line; save the file as UTF-8", error.valid_up_to() + 1),
                ))
            }
        }
    }
    Ok(lines)
}

/// Paragraphs of a plain-text file: runs of non-blank lines, joined with "\n".
fn text_paragraphs(lines: &[&str]) -> Vec<Example> {
    lines
        .split(|line| line.trim().is_empty())
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| Example::Text(paragraph.join("\n")))
        .collect()
}

/// One `.jsonl` line as an example, or a message saying what is wrong with it.
fn parse_json_line(line: &str) -> Result<Example, String> {
    let value: Value = serde_json::from_str(line).map_err(|error| {
        let text = error.to_string();
        let description = text.rsplit_once(" at line ").map_or(text.as_str(), |(description, _)| description);
        let hint = if error.is_eof() {
            " — is the line cut short?"
        } else if description.starts_with("trailing characters") {
            " — put each example on its own line"
        } else {
            ""
        };
        format!("not valid JSON ({description} at column {}){hint}", error.column())
    })?;
    let Value::Object(object) = value else {
        return Err(format!("expected a JSON object such as {{\"text\": \"...\"}}, found {}", describe(&value)));
    };

    let found =
        if object.is_empty() { "no fields".to_string() } else { format!("found {}", field_list(object.keys())) };
    let unknown: Vec<&String> =
        object.keys().filter(|key| !["text", "prompt", "response", "messages"].contains(&key.as_str())).collect();
    if !unknown.is_empty() {
        let noun = if unknown.len() == 1 { "field" } else { "fields" };
        return Err(format!("unknown {noun} {} ({found}; expected {SHAPES})", field_list(unknown)));
    }
    let has = |key: &str| object.contains_key(key);
    let is_prompt_response = has("prompt") || has("response");
    match (has("text"), is_prompt_response, has("messages")) {
        (true, false, false) => Ok(Example::Text(string_field(&object, "text")?)),
        (false, true, false) => {
            for key in ["prompt", "response"] {
                if !has(key) {
                    return Err(format!(
                        "missing field `{key}` ({found}; a prompt/response example needs `prompt` and `response`)"
                    ));
                }
            }
            let prompt = string_field(&object, "prompt")?;
            let response = string_field(&object, "response")?;
            Ok(Example::PromptResponse { prompt, response })
        }
        (false, false, true) => parse_messages(&object["messages"]).map(Example::Chat),
        (false, false, false) => Err(format!("the object has no fields; expected {SHAPES}")),
        _ => Err(format!("the fields belong to different kinds of example ({found}); expected {SHAPES}")),
    }
}

/// `messages` as a conversation with at least one assistant message.
fn parse_messages(value: &Value) -> Result<Vec<ChatMessage>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "`messages` must be a list of {{\"role\", \"content\"}} objects, found {}",
            describe(value)
        ));
    };
    if items.is_empty() {
        return Err("`messages` is empty; a conversation needs at least one assistant message".into());
    }
    let mut messages = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let number = index + 1;
        let Value::Object(object) = item else {
            return Err(format!(
                "message {number} must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}, found {}",
                describe(item)
            ));
        };
        let found = format!("found {}", if object.is_empty() { "no fields".into() } else { field_list(object.keys()) });
        if let Some(unknown) = object.keys().filter(|key| !["role", "content"].contains(&key.as_str())).min() {
            return Err(format!(
                "message {number} has the unknown field `{unknown}` ({found}; expected `role` and `content`)"
            ));
        }
        for key in ["role", "content"] {
            if !object.contains_key(key) {
                return Err(format!(
                    "message {number} is missing the field `{key}` ({found}; expected `role` and `content`)"
                ));
            }
        }
        let role = string_field(object, "role").map_err(|message| format!("message {number}: {message}"))?;
        if !ROLES.contains(&role.as_str()) {
            return Err(format!(
                "message {number} has the role {role:?}; expected \"system\", \"user\" or \"assistant\""
            ));
        }
        let content = string_field(object, "content").map_err(|message| format!("message {number}: {message}"))?;
        messages.push(ChatMessage { role, content });
    }
    if !messages.iter().any(|message| message.role == "assistant") {
        return Err("the conversation has no \"assistant\" message, so there is nothing to learn from it".into());
    }
    Ok(messages)
}

/// A field that must hold a non-blank string.
fn string_field(object: &Map<String, Value>, key: &str) -> Result<String, String> {
    match &object[key] {
        Value::String(text) if text.trim().is_empty() => Err(format!("`{key}` is empty")),
        Value::String(text) => Ok(text.clone()),
        other => Err(format!("`{key}` must be a string, found {}", describe(other))),
    }
}

/// "`a`, `b`" for a message, sorted so messages do not depend on how serde_json orders maps.
fn field_list<'a>(keys: impl IntoIterator<Item = &'a String>) -> String {
    let mut keys: Vec<String> = keys.into_iter().map(|key| format!("`{key}`")).collect();
    keys.sort();
    keys.join(", ")
}

/// A JSON value's kind, in words, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An example's tokens and, for each token, whether the model is trained to predict it.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizedExample {
    pub tokens: Vec<u32>,
    /// Same length as `tokens`; `loss_mask[i]` says whether `tokens[i]` is a prediction target.
    pub loss_mask: Vec<bool>,
}

impl TokenizedExample {
    fn push(&mut self, tokens: &[u32], is_target: bool) {
        self.tokens.extend_from_slice(tokens);
        self.loss_mask.extend(std::iter::repeat_n(is_target, tokens.len()));
    }
}

/// Text: BOS + text + EOS, all targets. PromptResponse: BOS + prompt + response + EOS, targets only on response
/// tokens and EOS (instruction tuning). Chat: the template in the module documentation, targets only on
/// assistant contents and the EOS after each. BOS is never a target (nothing comes before it).
pub fn tokenize_example(example: &Example, tokenizer: &TextTokenizer) -> TokenizedExample {
    let eos = [tokenizer.eos_id()];
    let mut out = TokenizedExample { tokens: vec![tokenizer.bos_id()], loss_mask: vec![false] };
    match example {
        Example::Text(text) => {
            out.push(&tokenizer.encode(text), true);
            out.push(&eos, true);
        }
        Example::PromptResponse { prompt, response } => {
            out.push(&tokenizer.encode(prompt), false);
            out.push(&tokenizer.encode(response), true);
            out.push(&eos, true);
        }
        Example::Chat(messages) => {
            for message in messages {
                let is_assistant = message.role == "assistant";
                out.push(&tokenizer.encode(&role_label(&message.role)), false);
                out.push(&tokenizer.encode(&message.content), is_assistant);
                if is_assistant {
                    out.push(&eos, true);
                }
            }
        }
    }
    out
}

/// "user" → "User:".
fn role_label(role: &str) -> String {
    let mut chars = role.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}:", chars.as_str())
}

/// One fixed-length training sequence: inputs are `tokens[..seq_len]`, targets `tokens[1..]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingSequence {
    /// `seq_len + 1` tokens.
    pub tokens: Vec<u32>,
    /// `seq_len` flags: `targets_mask[j]` says whether target j (token j+1) counts in the loss.
    pub targets_mask: Vec<bool>,
}

/// Fixed-length training sequences of seq_len + 1 tokens (inputs are [..seq_len], targets [1..]): examples
/// longer than that are cut into consecutive windows (overlapping by one token so no target is lost); shorter
/// ones are padded with `pad_id` (EOS) whose positions are not targets. A window with no target at all (a long
/// prompt's start) is left out, and `seq_len` 0 gives no sequences.
pub fn training_sequences(examples: &[TokenizedExample], seq_len: usize, pad_id: u32) -> Vec<TrainingSequence> {
    let mut sequences = Vec::new();
    if seq_len == 0 {
        return sequences;
    }
    for example in examples {
        let length = example.tokens.len();
        let is_target = |i: usize| example.loss_mask.get(i).copied().unwrap_or(false);
        let mut start = 0;
        while start + 1 < length {
            let end = (start + seq_len + 1).min(length);
            let mut tokens = example.tokens[start..end].to_vec();
            tokens.resize(seq_len + 1, pad_id);
            let targets_mask: Vec<bool> = (start + 1..start + 1 + seq_len).map(|i| i < end && is_target(i)).collect();
            if targets_mask.contains(&true) {
                sequences.push(TrainingSequence { tokens, targets_mask });
            }
            start += seq_len;
        }
    }
    sequences
}

/// Deterministic split: shuffles indices with `rand::rngs::StdRng::seed_from_u64(seed)` and takes
/// `eval_fraction` (rounded, at least 1 example when there are 2 or more, and never all of them) as the
/// held-out split, returned second. Both splits keep the items' original order.
pub fn split_train_eval<T: Clone>(items: &[T], eval_fraction: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let count = items.len();
    if count < 2 {
        return (items.to_vec(), Vec::new());
    }
    let fraction = if eval_fraction.is_finite() { eval_fraction.clamp(0.0, 1.0) } else { 0.0 };
    let eval_count = ((count as f64 * fraction).round() as usize).clamp(1, count - 1);
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut is_eval = vec![false; count];
    for &index in &order[..eval_count] {
        is_eval[index] = true;
    }
    let (mut train, mut eval) = (Vec::with_capacity(count - eval_count), Vec::with_capacity(eval_count));
    for (item, &held_out) in items.iter().zip(&is_eval) {
        if held_out { &mut eval } else { &mut train }.push(item.clone());
    }
    (train, eval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::tests::stories260k_tokenizer;

    fn parse(name: &str, text: &str) -> Result<Vec<Example>, DataError> {
        parse_dataset(name, text.as_bytes())
    }

    fn message(role: &str, content: &str) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }

    #[test]
    fn jsonl_reads_all_three_shapes_and_skips_blank_lines() {
        let text = concat!(
            "{\"text\": \"Once upon a time.\"}\n",
            "\n",
            "   \n",
            "{\"prompt\": \"Tell a story.\", \"response\": \"Lily ran.\"}\r\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}",
        );
        let examples = parse("train.jsonl", text).unwrap();
        assert_eq!(
            examples,
            vec![
                Example::Text("Once upon a time.".into()),
                Example::PromptResponse { prompt: "Tell a story.".into(), response: "Lily ran.".into() },
                Example::Chat(vec![message("user", "Hi"), message("assistant", "Hello")]),
            ]
        );
    }

    #[test]
    fn jsonl_ignores_a_byte_order_mark() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(br#"{"text": "a"}"#);
        assert_eq!(parse_dataset("a.jsonl", &bytes).unwrap(), vec![Example::Text("a".into())]);
    }

    #[test]
    fn txt_paragraphs_are_examples() {
        let examples = parse("stories.TXT", "One.\nStill one.\n\n\n  \nTwo.\r\n").unwrap();
        assert_eq!(examples, vec![Example::Text("One.\nStill one.".into()), Example::Text("Two.".into())]);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = parse("train.jsonl", "{\"text\": \"a\"}\n{\"prompt\": \"a\"}\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(
            error.to_string(),
            "train.jsonl line 2: missing field `response` (found `prompt`; a prompt/response example needs `prompt` \
             and `response`)"
        );
        let error = parse("train.jsonl", "").unwrap_err();
        assert_eq!(error.to_string(), "train.jsonl: the file is empty");
    }

    #[test]
    fn cut_json_says_the_line_may_be_cut_short() {
        let error = parse("train.jsonl", "{\"text\": \"a\"}\n{\"text\": \"a\"}\n{\"text\": \"Once upon").unwrap_err();
        assert_eq!(
            error.to_string(),
            "train.jsonl line 3: not valid JSON (EOF while parsing a string at column 19) — is the line cut short?"
        );
    }

    #[test]
    fn two_objects_on_one_line_are_an_error() {
        let error = parse("train.jsonl", r#"{"text": "a"} {"text": "b"}"#).unwrap_err();
        assert!(error.message.starts_with("not valid JSON (trailing characters at column 15)"), "{error}");
    }

    #[test]
    fn unknown_fields_are_listed_with_the_expected_shapes() {
        let error = parse("t.jsonl", r#"{"instruction": "a", "output": "b"}"#).unwrap_err();
        assert_eq!(
            error.message,
            r#"unknown fields `instruction`, `output` (found `instruction`, `output`; expected {"text"}, {"prompt", "response"} or {"messages"})"#
        );
    }

    #[test]
    fn chat_messages_are_validated() {
        let cases = [
            (r#"{"messages": []}"#, "`messages` is empty"),
            (r#"{"messages": "hi"}"#, "`messages` must be a list"),
            (r#"{"messages": [{"role": "bot", "content": "x"}]}"#, "message 1 has the role \"bot\""),
            (r#"{"messages": [{"role": "user"}]}"#, "message 1 is missing the field `content`"),
            (r#"{"messages": [{"role": "user", "content": ""}]}"#, "message 1: `content` is empty"),
            (r#"{"messages": [{"role": "user", "content": "hi"}]}"#, "the conversation has no \"assistant\" message"),
        ];
        for (line, start) in cases {
            let error = parse("chat.jsonl", line).unwrap_err();
            assert!(error.message.starts_with(start), "{line}: {error}");
        }
    }

    #[test]
    fn text_example_is_all_targets_between_bos_and_eos() {
        let tokenizer = stories260k_tokenizer();
        let text = tokenizer.encode("Lily ran.");
        let example = tokenize_example(&Example::Text("Lily ran.".into()), &tokenizer);
        assert_eq!(example.tokens, [vec![1], text.clone(), vec![2]].concat());
        assert_eq!(example.loss_mask, [vec![false], vec![true; text.len() + 1]].concat());
    }

    #[test]
    fn prompt_response_targets_only_the_response_and_eos() {
        let tokenizer = stories260k_tokenizer();
        // Pinned ids: "Hi" is "▁H" "i" and "Hello" is "▁He" "ll" "o" in stories260K.
        assert_eq!(tokenizer.encode("Hi"), vec![320, 417]);
        assert_eq!(tokenizer.encode("Hello"), vec![346, 306, 414]);
        let example = Example::PromptResponse { prompt: "Hi".into(), response: "Hello".into() };
        let example = tokenize_example(&example, &tokenizer);
        assert_eq!(example.tokens, vec![1, 320, 417, 346, 306, 414, 2]);
        assert_eq!(example.loss_mask, vec![false, false, false, true, true, true, true]);
    }

    #[test]
    fn chat_targets_only_assistant_contents_and_their_eos() {
        let tokenizer = stories260k_tokenizer();
        let chat = Example::Chat(vec![
            message("system", "Be kind."),
            message("user", "Hi"),
            message("assistant", "Hello"),
            message("user", "Bye"),
            message("assistant", "Bye!"),
        ]);
        let example = tokenize_example(&chat, &tokenizer);
        let mut tokens = vec![1];
        let mut mask = vec![false];
        for (text, is_target) in [
            ("System:", false),
            ("Be kind.", false),
            ("User:", false),
            ("Hi", false),
            ("Assistant:", false),
            ("Hello", true),
        ] {
            let ids = tokenizer.encode(text);
            mask.extend(vec![is_target; ids.len()]);
            tokens.extend(ids);
        }
        tokens.push(2);
        mask.push(true);
        for (text, is_target) in [("User:", false), ("Bye", false), ("Assistant:", false), ("Bye!", true)] {
            let ids = tokenizer.encode(text);
            mask.extend(vec![is_target; ids.len()]);
            tokens.extend(ids);
        }
        tokens.push(2);
        mask.push(true);
        assert_eq!(example.tokens, tokens);
        assert_eq!(example.loss_mask, mask);
        assert_eq!(
            tokenizer.decode(&example.tokens),
            "System: Be kind. User: Hi Assistant: Hello User: Bye Assistant: Bye!"
        );
    }

    fn example(tokens: &[u32], loss_mask: &[bool]) -> TokenizedExample {
        TokenizedExample { tokens: tokens.to_vec(), loss_mask: loss_mask.to_vec() }
    }

    const PAD: u32 = 2;

    #[test]
    fn short_example_is_padded_and_padding_is_not_a_target() {
        let short = example(&[1, 10, 11, 12, 2], &[false, false, true, true, true]);
        let sequences = training_sequences(&[short], 8, PAD);
        assert_eq!(
            sequences,
            vec![TrainingSequence {
                tokens: vec![1, 10, 11, 12, 2, PAD, PAD, PAD, PAD],
                targets_mask: vec![false, true, true, true, false, false, false, false],
            }]
        );
    }

    #[test]
    fn long_example_is_cut_into_windows_that_overlap_by_one_token() {
        let tokens = [1, 20, 21, 22, 23, 24, 25, 26, 27, 28];
        let mut mask = [true; 10];
        mask[0] = false;
        let sequences = training_sequences(&[example(&tokens, &mask)], 4, PAD);
        assert_eq!(
            sequences,
            vec![
                TrainingSequence { tokens: vec![1, 20, 21, 22, 23], targets_mask: vec![true; 4] },
                TrainingSequence { tokens: vec![23, 24, 25, 26, 27], targets_mask: vec![true; 4] },
                TrainingSequence { tokens: vec![27, 28, PAD, PAD, PAD], targets_mask: vec![true, false, false, false] },
            ]
        );
        // Every target of the example is a target exactly once.
        let counted: usize = sequences.iter().map(|s| s.targets_mask.iter().filter(|&&t| t).count()).sum();
        assert_eq!(counted, 9);
    }

    #[test]
    fn example_of_exactly_seq_len_plus_one_is_one_sequence() {
        let sequences = training_sequences(&[example(&[1, 5, 6, 2], &[false, true, true, true])], 3, PAD);
        assert_eq!(sequences, vec![TrainingSequence { tokens: vec![1, 5, 6, 2], targets_mask: vec![true; 3] }]);
    }

    #[test]
    fn windows_without_targets_are_left_out() {
        // A long prompt (ids 30..) then a one-token response and EOS.
        let tokens = [1, 30, 31, 32, 33, 34, 35, 40, 2];
        let mask = [false, false, false, false, false, false, false, true, true];
        let sequences = training_sequences(&[example(&tokens, &mask)], 3, PAD);
        assert_eq!(
            sequences,
            vec![TrainingSequence { tokens: vec![35, 40, 2, PAD], targets_mask: vec![true, true, false] }]
        );
        assert!(training_sequences(&[example(&tokens, &mask)], 0, PAD).is_empty());
    }

    #[test]
    fn split_is_deterministic_and_holds_out_the_fraction() {
        let items: Vec<u32> = (0..20).collect();
        let (train, eval) = split_train_eval(&items, 0.2, 7);
        assert_eq!((train.len(), eval.len()), (16, 4));
        assert_eq!(split_train_eval(&items, 0.2, 7), (train.clone(), eval.clone()));
        let mut all = [train.clone(), eval.clone()].concat();
        all.sort();
        assert_eq!(all, items);
        assert!(train.windows(2).all(|w| w[0] < w[1]) && eval.windows(2).all(|w| w[0] < w[1]));
        // Another seed holds out other items (for these 20 items and these two seeds).
        assert_ne!(split_train_eval(&items, 0.2, 8).1, eval);
    }

    #[test]
    fn split_holds_out_at_least_one_but_never_all() {
        assert_eq!(split_train_eval(&[1, 2], 0.0, 0).1.len(), 1);
        assert_eq!(split_train_eval(&[1, 2, 3], 1.0, 0).0.len(), 1);
        assert_eq!(split_train_eval(&[1], 0.5, 0), (vec![1], vec![]));
        assert_eq!(split_train_eval::<u32>(&[], 0.5, 0), (vec![], vec![]));
        assert_eq!(split_train_eval(&[1, 2, 3, 4], f64::NAN, 0).1.len(), 1);
    }
}
