//! One training example: its four shapes, how each is read from a JSON object (with a message naming the field
//! and what to do when it cannot be), and how it is written back as one JSONL line.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::problem::{Problem, ProblemKind};

/// One training example, as read from a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Example {
    /// Plain text: the model learns all of it.
    Text(String),
    /// An instruction and its answer: the model learns the response.
    PromptResponse { prompt: String, response: String },
    /// A conversation: the model learns the assistant's messages.
    Chat(Vec<ChatMessage>),
    /// A prompt with a preferred and a dispreferred answer, for preference tuning (DPO). Supervised fine-tuning
    /// learns the chosen answer as a response; the rejected one waits for preference tuning.
    Preference { prompt: String, chosen: String, rejected: String },
}

/// One message of an [`Example::Chat`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// One of [`ROLES`].
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: &str) -> Self {
        ChatMessage { role: role.into(), content: content.into() }
    }
}

/// How a download writes examples: as read, or in the conversational or prompt-completion forms TRL's trainers
/// take (plain text stays `{"text"}` in every layout; conversations stay `{"messages"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// The shapes [`SHAPES`] lists.
    AsRead,
    /// Prompts and responses as `{"messages": [user, assistant]}`; preference pairs with message lists.
    Messages,
    /// Prompts and responses as `{"prompt", "completion"}`.
    PromptCompletion,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::AsRead, Layout::Messages, Layout::PromptCompletion];

    pub fn label(self) -> &'static str {
        match self {
            Layout::AsRead => "as read ({\"prompt\", \"response\"}, {\"messages\"}, ...)",
            Layout::Messages => "conversations ({\"messages\"}: TRL, Axolotl's chat_template)",
            Layout::PromptCompletion => "prompt-completion ({\"prompt\", \"completion\"}: TRL)",
        }
    }
}

/// The roles a conversation may use, in the order a conversation usually has them.
pub const ROLES: [&str; 3] = ["system", "user", "assistant"];

/// The example's shapes as a reader meets them in a file, for messages.
pub const SHAPES: &str = r#"{"text"}, {"prompt", "response"}, {"messages"} or {"prompt", "chosen", "rejected"}"#;

/// Every field name a top-level object may have.
const FIELDS: [&str; 6] = ["text", "prompt", "response", "messages", "chosen", "rejected"];

impl Example {
    /// One JSONL line as an example, or what is wrong with it.
    pub fn from_json_line(line: &str) -> Result<Example, Problem> {
        let value: Value = serde_json::from_str(line).map_err(json_syntax_problem)?;
        let Value::Object(object) = value else {
            return Err(Problem::new(
                ProblemKind::Json,
                None,
                format!("expected a JSON object such as {{\"text\": \"...\"}}, found {}", describe(&value)),
            ));
        };
        Example::from_object(&object)
    }

    /// The example in the shape it was read in, as one line of JSONL (no trailing newline), fields in the order
    /// [`SHAPES`] gives them.
    pub fn to_json_line(&self) -> String {
        // A struct rather than `json!`: serde_json's maps sort their keys, which would put `chosen` before `prompt`.
        #[derive(Default, Serialize)]
        struct Line<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            text: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            messages: Option<&'a [ChatMessage]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            prompt: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            response: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            chosen: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            rejected: Option<&'a str>,
        }
        let line = match self {
            Example::Text(text) => Line { text: Some(text), ..Line::default() },
            Example::PromptResponse { prompt, response } => {
                Line { prompt: Some(prompt), response: Some(response), ..Line::default() }
            }
            Example::Chat(messages) => Line { messages: Some(messages), ..Line::default() },
            Example::Preference { prompt, chosen, rejected } => {
                Line { prompt: Some(prompt), chosen: Some(chosen), rejected: Some(rejected), ..Line::default() }
            }
        };
        serde_json::to_string(&line).expect("strings always serialise")
    }

    /// The example as one line of JSONL in `layout`: the shapes other trainers read.
    pub fn to_json_line_as(&self, layout: Layout) -> String {
        let message = |role: &str, content: &str| ChatMessage { role: role.into(), content: content.into() };
        match (layout, self) {
            (Layout::Messages, Example::PromptResponse { prompt, response }) => {
                Example::Chat(vec![message("user", prompt), message("assistant", response)]).to_json_line()
            }
            // TRL's conversational preference form.
            (Layout::Messages, Example::Preference { prompt, chosen, rejected }) => serde_json::json!({
                "prompt": [message("user", prompt)],
                "chosen": [message("assistant", chosen)],
                "rejected": [message("assistant", rejected)],
            })
            .to_string(),
            // TRL's prompt-completion form.
            (Layout::PromptCompletion, Example::PromptResponse { prompt, response }) => {
                serde_json::json!({ "completion": response, "prompt": prompt }).to_string()
            }
            _ => self.to_json_line(),
        }
    }

    /// Every text of the example, joined by newlines: what duplicates are judged on.
    pub fn all_text(&self) -> String {
        match self {
            Example::Text(text) => text.clone(),
            Example::PromptResponse { prompt, response } => format!("{prompt}\n{response}"),
            Example::Chat(messages) => {
                messages.iter().map(|m| format!("{}: {}", m.role, m.content)).collect::<Vec<_>>().join("\n")
            }
            Example::Preference { prompt, chosen, rejected } => format!("{prompt}\n{chosen}\n{rejected}"),
        }
    }

    /// The shape's name in words, as the page shows it.
    pub fn shape(&self) -> &'static str {
        match self {
            Example::Text(_) => "text",
            Example::PromptResponse { .. } => "prompt and response",
            Example::Chat(_) => "conversation",
            Example::Preference { .. } => "preference pair",
        }
    }

    fn from_object(object: &Map<String, Value>) -> Result<Example, Problem> {
        let found =
            if object.is_empty() { "no fields".to_string() } else { format!("found {}", field_list(object.keys())) };
        let unknown: Vec<&String> = object.keys().filter(|key| !FIELDS.contains(&key.as_str())).collect();
        if !unknown.is_empty() {
            let noun = if unknown.len() == 1 { "field" } else { "fields" };
            let hint = rename_hint(object);
            return Err(fields_problem(
                Some(unknown[0]),
                format!("unknown {noun} {} ({found}; expected {SHAPES}){hint}", field_list(unknown)),
            ));
        }
        let has = |key: &str| object.contains_key(key);
        let shape_fields: &[&str] = match (has("text"), has("messages"), has("chosen") || has("rejected")) {
            (false, false, false) if object.is_empty() => {
                return Err(fields_problem(None, format!("the object has no fields; expected {SHAPES}")))
            }
            (true, false, false) => &["text"],
            (false, true, false) => &["messages"],
            (false, false, true) => &["prompt", "chosen", "rejected"],
            (false, false, false) => &["prompt", "response"],
            _ => {
                return Err(fields_problem(
                    None,
                    format!("the fields belong to different kinds of example ({found}); expected {SHAPES}"),
                ))
            }
        };
        if let Some(stray) = object.keys().find(|key| !shape_fields.contains(&key.as_str())) {
            return Err(fields_problem(
                Some(stray),
                format!("the fields belong to different kinds of example ({found}); expected {SHAPES}"),
            ));
        }
        if let Some(missing) = shape_fields.iter().find(|key| !has(key)) {
            let needs = shape_fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" and ");
            let kind = if shape_fields.contains(&"chosen") { "a preference pair" } else { "a prompt/response example" };
            return Err(fields_problem(
                Some(missing),
                format!("missing field `{missing}` ({found}; {kind} needs {needs})"),
            ));
        }
        match shape_fields {
            ["text"] => Ok(Example::Text(string_field(object, "text")?)),
            ["messages"] => parse_messages(&object["messages"]).map(Example::Chat),
            ["prompt", "response"] => Ok(Example::PromptResponse {
                prompt: string_field(object, "prompt")?,
                response: string_field(object, "response")?,
            }),
            _ => {
                let prompt = string_field(object, "prompt")?;
                let chosen = string_field(object, "chosen")?;
                let rejected = string_field(object, "rejected")?;
                if chosen.trim() == rejected.trim() {
                    return Err(Problem::new(
                        ProblemKind::SameAnswers,
                        Some("rejected"),
                        "`chosen` and `rejected` are the same answer, so there is nothing to prefer; write a worse \
                         answer as `rejected` or drop the pair"
                            .into(),
                    ));
                }
                Ok(Example::Preference { prompt, chosen, rejected })
            }
        }
    }
}

/// A serde_json syntax error as a problem with its column and a hint for the usual causes.
fn json_syntax_problem(error: serde_json::Error) -> Problem {
    let text = error.to_string();
    let description = text.rsplit_once(" at line ").map_or(text.as_str(), |(description, _)| description);
    let hint = if error.is_eof() {
        " — is the line cut short?"
    } else if description.starts_with("trailing characters") {
        " — put each example on its own line"
    } else {
        ""
    };
    Problem {
        kind: ProblemKind::Json,
        field: None,
        column: Some(error.column()),
        message: format!("not valid JSON ({description} at column {}){hint}", error.column()),
    }
}

fn fields_problem(field: Option<&str>, message: String) -> Problem {
    Problem::new(ProblemKind::Fields, field, message)
}

/// For the field names other tools use, which of ours to rename them to.
fn rename_hint(object: &Map<String, Value>) -> String {
    const RENAMES: [(&str, &str); 6] = [
        ("instruction", "prompt"),
        ("question", "prompt"),
        ("input", "prompt"),
        ("output", "response"),
        ("answer", "response"),
        ("completion", "response"),
    ];
    let renames: Vec<String> = RENAMES
        .iter()
        .filter(|(theirs, _)| object.contains_key(*theirs))
        .map(|(theirs, ours)| format!("`{theirs}` → `{ours}`"))
        .collect();
    if object.contains_key("conversations") {
        return "; rename `conversations` to `messages`, with `role` and `content` in each message".into();
    }
    if renames.is_empty() {
        String::new()
    } else {
        format!("; rename {}", renames.join(", "))
    }
}

/// `messages` as a conversation with at least one assistant message.
fn parse_messages(value: &Value) -> Result<Vec<ChatMessage>, Problem> {
    let Value::Array(items) = value else {
        return Err(fields_problem(
            Some("messages"),
            format!("`messages` must be a list of {{\"role\", \"content\"}} objects, found {}", describe(value)),
        ));
    };
    if items.is_empty() {
        return Err(Problem::new(
            ProblemKind::Empty,
            Some("messages"),
            "`messages` is empty; a conversation needs at least one assistant message".into(),
        ));
    }
    let mut messages = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let number = index + 1;
        let field = |key: &str| format!("messages[{number}].{key}");
        let Value::Object(object) = item else {
            return Err(fields_problem(
                Some(&format!("messages[{number}]")),
                format!(
                    "message {number} must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}, found {}",
                    describe(item)
                ),
            ));
        };
        let found = format!("found {}", if object.is_empty() { "no fields".into() } else { field_list(object.keys()) });
        if let Some(unknown) = object.keys().filter(|key| !["role", "content"].contains(&key.as_str())).min() {
            let hint = if object.contains_key("from") || object.contains_key("value") {
                "; rename `from` to `role` and `value` to `content`"
            } else {
                ""
            };
            return Err(fields_problem(
                Some(&field(unknown)),
                format!(
                    "message {number} has the unknown field `{unknown}` ({found}; expected `role` and `content`){hint}"
                ),
            ));
        }
        for key in ["role", "content"] {
            if !object.contains_key(key) {
                return Err(fields_problem(
                    Some(&field(key)),
                    format!("message {number} is missing the field `{key}` ({found}; expected `role` and `content`)"),
                ));
            }
        }
        let in_message = |mut problem: Problem, key: &str| {
            problem.field = Some(field(key));
            problem.message = format!("message {number}: {}", problem.message);
            problem
        };
        let role = string_field(object, "role").map_err(|p| in_message(p, "role"))?;
        if !ROLES.contains(&role.as_str()) {
            let hint = match role.to_lowercase().as_str() {
                "human" | "customer" | "client" => " (for this one, \"user\")",
                "gpt" | "bot" | "model" | "ai" | "agent" | "chatbot" => " (for this one, \"assistant\")",
                "developer" | "instructions" => " (for this one, \"system\")",
                _ => "",
            };
            return Err(Problem::new(
                ProblemKind::Role,
                Some(&field("role")),
                format!("message {number} has the role {role:?}; expected \"system\", \"user\" or \"assistant\"{hint}"),
            ));
        }
        let content = string_field(object, "content").map_err(|p| in_message(p, "content"))?;
        messages.push(ChatMessage { role, content });
    }
    if !messages.iter().any(|message| message.role == "assistant") {
        return Err(Problem::new(
            ProblemKind::Role,
            Some("messages"),
            "the conversation has no \"assistant\" message, so there is nothing to learn from it".into(),
        ));
    }
    Ok(messages)
}

/// A field that must hold a non-blank string.
fn string_field(object: &Map<String, Value>, key: &str) -> Result<String, Problem> {
    match &object[key] {
        Value::String(text) if text.trim().is_empty() => {
            Err(Problem::new(ProblemKind::Empty, Some(key), format!("`{key}` is empty; write it or drop the example")))
        }
        Value::String(text) => Ok(text.clone()),
        other => Err(fields_problem(Some(key), format!("`{key}` must be a string, found {}", describe(other)))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: &str) -> Problem {
        Example::from_json_line(line).expect_err(line)
    }

    fn message(role: &str, content: &str) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }

    #[test]
    fn each_shape_reads_and_writes_back_the_same_line() {
        let lines = [
            r#"{"text":"Once upon a time."}"#,
            r#"{"prompt":"Tell a story.","response":"Lily ran."}"#,
            r#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"#,
            r#"{"prompt":"Say hi.","chosen":"Hi!","rejected":"No."}"#,
        ];
        for line in lines {
            assert_eq!(Example::from_json_line(line).unwrap().to_json_line(), line);
        }
        assert_eq!(
            Example::from_json_line(lines[2]).unwrap(),
            Example::Chat(vec![message("user", "Hi"), message("assistant", "Hello")])
        );
    }

    #[test]
    fn downloads_take_the_layouts_trl_reads() {
        let pair = Example::PromptResponse { prompt: "Hi".into(), response: "Hello".into() };
        assert_eq!(
            pair.to_json_line_as(Layout::Messages),
            r#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"#
        );
        assert_eq!(pair.to_json_line_as(Layout::PromptCompletion), r#"{"completion":"Hello","prompt":"Hi"}"#);
        let preference = Example::Preference { prompt: "Q".into(), chosen: "A".into(), rejected: "B".into() };
        assert_eq!(
            preference.to_json_line_as(Layout::Messages),
            r#"{"chosen":[{"content":"A","role":"assistant"}],"prompt":[{"content":"Q","role":"user"}],"rejected":[{"content":"B","role":"assistant"}]}"#
        );
        let text = Example::Text("Once.".into());
        for layout in Layout::ALL {
            assert_eq!(text.to_json_line_as(layout), r#"{"text":"Once."}"#);
        }
    }

    #[test]
    fn syntax_errors_give_the_column() {
        let cut = problem(r#"{"text": "Once upon"#);
        assert_eq!((cut.kind, cut.column), (ProblemKind::Json, Some(19)));
        assert_eq!(cut.message, "not valid JSON (EOF while parsing a string at column 19) — is the line cut short?");
        let two = problem(r#"{"text": "a"} {"text": "b"}"#);
        assert!(two.message.ends_with("— put each example on its own line"), "{}", two.message);
        assert_eq!(problem("[1]").kind, ProblemKind::Json);
    }

    #[test]
    fn other_tools_field_names_get_a_rename_hint() {
        let alpaca = problem(r#"{"instruction": "a", "output": "b"}"#);
        assert_eq!(alpaca.kind, ProblemKind::Fields);
        assert!(
            alpaca.message.ends_with("; rename `instruction` → `prompt`, `output` → `response`"),
            "{}",
            alpaca.message
        );
        let sharegpt = problem(r#"{"conversations": [{"from": "human", "value": "hi"}]}"#);
        assert!(sharegpt.message.contains("rename `conversations` to `messages`"), "{}", sharegpt.message);
        let message = problem(r#"{"messages": [{"from": "human", "value": "hi"}]}"#);
        assert_eq!(message.field.as_deref(), Some("messages[1].from"));
        assert!(message.message.ends_with("rename `from` to `role` and `value` to `content`"), "{}", message.message);
    }

    #[test]
    fn problems_name_the_field() {
        let cases = [
            (r#"{"prompt": "a"}"#, ProblemKind::Fields, "response"),
            (r#"{"prompt": "a", "chosen": "b"}"#, ProblemKind::Fields, "rejected"),
            (r#"{"prompt": "a", "response": 6}"#, ProblemKind::Fields, "response"),
            (r#"{"text": "  "}"#, ProblemKind::Empty, "text"),
            (r#"{"messages": []}"#, ProblemKind::Empty, "messages"),
            (r#"{"messages": [{"role": "gpt", "content": "x"}]}"#, ProblemKind::Role, "messages[1].role"),
            (r#"{"messages": [{"role": "user", "content": ""}]}"#, ProblemKind::Empty, "messages[1].content"),
            (r#"{"messages": [{"role": "user", "content": "hi"}]}"#, ProblemKind::Role, "messages"),
            (r#"{"prompt": "a", "chosen": "b ", "rejected": "b"}"#, ProblemKind::SameAnswers, "rejected"),
            (r#"{"text": "a", "response": "b"}"#, ProblemKind::Fields, "response"),
        ];
        for (line, kind, field) in cases {
            let found = problem(line);
            assert_eq!((found.kind, found.field.as_deref()), (kind, Some(field)), "{line}: {}", found.message);
        }
        assert!(problem(r#"{"messages": [{"role": "gpt", "content": "x"}]}"#)
            .message
            .ends_with("(for this one, \"assistant\")"));
    }
}
