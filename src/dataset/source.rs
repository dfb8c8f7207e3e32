//! Reading a data set file into entries: one per JSONL line, CSV/TSV row or text paragraph, each kept as the JSONL
//! line it stands for (so one parser judges every format, and the editor edits one kind of thing) with the line
//! of the file where it starts. Nothing is dropped here: a line that cannot be read becomes an entry with its
//! problem, for the learner to fix or drop.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::problem::{Problem, ProblemKind};
use super::{MAX_FILE_BYTES, MAX_LINE_BYTES};

/// A data set file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header row; no quoting (a field cannot hold a tab or a newline).
    Tsv,
    /// Plain text: paragraphs separated by blank lines are examples.
    Text,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Jsonl, Format::Csv, Format::Tsv, Format::Text];

    /// The format a file name's extension says, or a message naming the ones we read.
    pub fn from_name(name: &str) -> Result<Format, String> {
        let extension = std::path::Path::new(name).extension().map(|e| e.to_string_lossy().to_lowercase());
        match extension.as_deref() {
            Some("jsonl") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            Some("tsv") => Ok(Format::Tsv),
            Some("txt") => Ok(Format::Text),
            Some("json") => Err("a `.json` file: if it holds one JSON object per line, rename it to `.jsonl`; if it \
                 is one JSON list, write each item on its own line as `.jsonl`"
                .into()),
            other => {
                let found = other.map_or("no extension".to_string(), |e| format!("`.{e}`"));
                Err(format!(
                    "unsupported file type ({found}); use .jsonl (one JSON object per line), .csv or .tsv (a header \
                     row, then one example per row) or .txt (plain text, examples separated by blank lines)"
                ))
            }
        }
    }

    /// A guess for pasted text: JSON objects, tab-separated columns, or plain text. The learner can change it.
    pub fn sniff(text: &str) -> Format {
        let first_line = text.trim_start().lines().next().unwrap_or("");
        if first_line.starts_with('{') {
            Format::Jsonl
        } else if first_line.contains('\t') {
            Format::Tsv
        } else {
            Format::Text
        }
    }

    /// The usual file extension, for the names of pasted data sets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Text => "txt",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Jsonl => "JSONL (one JSON object per line)",
            Format::Csv => "CSV (comma-separated, with a header row)",
            Format::Tsv => "TSV (tab-separated, with a header row)",
            Format::Text => "Plain text (paragraphs are examples)",
        }
    }
}

/// The example fields a table column can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    Text,
    Prompt,
    Response,
    Chosen,
    Rejected,
}

impl Field {
    pub const ALL: [Field; 5] = [Field::Text, Field::Prompt, Field::Response, Field::Chosen, Field::Rejected];

    /// The JSON field name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Text => "text",
            Field::Prompt => "prompt",
            Field::Response => "response",
            Field::Chosen => "chosen",
            Field::Rejected => "rejected",
        }
    }

    /// Header names other tools use for this field, besides its own name.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Text => &["content", "document", "body"],
            Field::Prompt => &["instruction", "question", "input", "query"],
            Field::Response => &["output", "answer", "completion", "reply"],
            Field::Chosen => &["preferred", "accepted"],
            Field::Rejected => &["dispreferred"],
        }
    }
}

/// Which column of a table holds which field: `(field, column index)`, in field order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub columns: Vec<(Field, usize)>,
}

impl ColumnMapping {
    /// The mapping a header suggests: a column named after a field (or an alias such as `instruction` or
    /// `output`), case and surrounding spaces ignored. Empty when nothing matches.
    pub fn guess(header: &[String]) -> ColumnMapping {
        let mut columns = Vec::new();
        for field in Field::ALL {
            let matches = |name: &str| {
                let name = name.trim().to_lowercase();
                name == field.name() || field.aliases().contains(&name.as_str())
            };
            if let Some(index) = header.iter().position(|name| matches(name)) {
                if !columns.iter().any(|&(_, used)| used == index) {
                    columns.push((field, index));
                }
            }
        }
        ColumnMapping { columns }
    }

    /// Whether the fields make one example shape: text; prompt and response; or prompt, chosen and rejected.
    pub fn shape_problem(&self) -> Option<String> {
        let mut fields: Vec<Field> = self.columns.iter().map(|&(field, _)| field).collect();
        fields.sort();
        match fields.as_slice() {
            [Field::Text] | [Field::Prompt, Field::Response] | [Field::Prompt, Field::Chosen, Field::Rejected] => None,
            [] => Some("choose which column holds the text, or which hold the prompt and the response".into()),
            _ => Some(
                "map one text column, or a prompt and a response column, or prompt, chosen and rejected columns".into(),
            ),
        }
    }
}

/// A table's header and its first rows, for the page's column-mapping step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TablePreview {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The mapping the header suggests (see [`ColumnMapping::guess`]).
    pub suggested: ColumnMapping,
}

/// One example of the file as it was read: the line where it starts, and its JSONL form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based line of the file where the example starts.
    pub line: usize,
    /// The example as one line of JSONL: the line itself for JSONL, built from the row or paragraph otherwise.
    pub source: String,
    /// A problem found while reading (bytes that are not UTF-8, a line too long, a ragged row), which editing the
    /// entry clears.
    pub read_problem: Option<Problem>,
}

/// Why a file could not be read at all (rather than one of its lines).
pub type FileProblem = String;

/// Reads the file's entries in `format`; a table needs a complete `mapping` (see [`table_preview`]).
pub fn read_entries(bytes: &[u8], format: Format, mapping: Option<&ColumnMapping>) -> Result<Vec<Entry>, FileProblem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {:.1} MB, over the limit of {} MB; split it and bring the parts one at a time",
            bytes.len() as f64 / 1e6,
            MAX_FILE_BYTES / 1_000_000
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // a UTF-8 byte order mark
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let entries = match format {
        Format::Jsonl => jsonl_entries(bytes),
        Format::Text => text_entries(bytes),
        Format::Csv | Format::Tsv => {
            let preview = table_preview(bytes, format)?;
            let mapping = match mapping {
                Some(mapping) => mapping.clone(),
                None => preview.suggested.clone(),
            };
            if let Some(problem) = mapping.shape_problem() {
                return Err(format!(
                    "the header row has the columns {}: {problem} (rename the header, or map the columns in the studio)",
                    preview.header.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            if let Some(&(field, column)) = mapping.columns.iter().find(|&&(_, c)| c >= preview.header.len()) {
                return Err(format!(
                    "`{}` is mapped to column {}, but the header has only {} columns",
                    field.name(),
                    column + 1,
                    preview.header.len()
                ));
            }
            table_entries(bytes, format, &mapping, preview.header.len())
        }
    };
    if entries.is_empty() {
        return Err("the file has only blank lines, so it holds no examples".into());
    }
    Ok(entries)
}

/// The file's lines without "\n" or "\r\n", each with its 1-based number.
fn numbered_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// A line as text, with the problem when it is not UTF-8 (then the text has U+FFFD in place of the bad bytes).
fn line_text(line: &[u8]) -> (String, Option<Problem>) {
    match std::str::from_utf8(line) {
        Ok(text) => (text.to_string(), None),
        Err(error) => (String::from_utf8_lossy(line).into_owned(), Some(encoding_problem(error.valid_up_to() + 1))),
    }
}

fn encoding_problem(byte: usize) -> Problem {
    Problem::new(
        ProblemKind::Encoding,
        None,
        format!("not valid UTF-8 at byte {byte} of the line; save the file as UTF-8, or fix the characters shown as �"),
    )
}

fn jsonl_entries(bytes: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (line, raw) in numbered_lines(bytes) {
        if raw.len() > MAX_LINE_BYTES {
            let problem = Problem::new(
                ProblemKind::LineTooLong,
                None,
                format!(
                    "the line is {} bytes long, over the limit of {MAX_LINE_BYTES} bytes (1 MiB) per line; split it \
                     into smaller examples",
                    raw.len()
                ),
            );
            let (source, _) = line_text(&raw[..MAX_LINE_BYTES.min(4096)]);
            entries.push(Entry { line, source, read_problem: Some(problem) });
            continue;
        }
        let (source, read_problem) = line_text(raw);
        if read_problem.is_none() && source.trim().is_empty() {
            continue;
        }
        entries.push(Entry { line, source, read_problem });
    }
    entries
}

/// Paragraphs (runs of non-blank lines, joined with "\n") as `{"text"}` entries.
fn text_entries(bytes: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut paragraph: Vec<String> = Vec::new();
    let mut start = 0;
    let mut problem = None;
    let mut finish = |paragraph: &mut Vec<String>, start: usize, problem: &mut Option<Problem>| {
        if !paragraph.is_empty() {
            let source = Value::Object(Map::from_iter([("text".to_string(), Value::String(paragraph.join("\n")))]));
            entries.push(Entry { line: start, source: source.to_string(), read_problem: problem.take() });
            paragraph.clear();
        }
    };
    for (line, raw) in numbered_lines(bytes) {
        let (text, line_problem) = line_text(raw);
        if line_problem.is_none() && text.trim().is_empty() {
            finish(&mut paragraph, start, &mut problem);
            continue;
        }
        if paragraph.is_empty() {
            start = line;
        }
        if let Some(mut line_problem) = line_problem.filter(|_| problem.is_none()) {
            line_problem.message = format!("line {line}: {}", line_problem.message);
            problem = Some(line_problem);
        }
        paragraph.push(text);
    }
    finish(&mut paragraph, start, &mut problem);
    entries
}

fn table_reader(bytes: &[u8], format: Format) -> csv::Reader<&[u8]> {
    let mut builder = csv::ReaderBuilder::new();
    builder.flexible(true).has_headers(true);
    if format == Format::Tsv {
        builder.delimiter(b'\t').quoting(false);
    }
    builder.from_reader(bytes)
}

/// The header row and the first rows of a CSV or TSV file, with the mapping its header suggests.
pub fn table_preview(bytes: &[u8], format: Format) -> Result<TablePreview, FileProblem> {
    let mut reader = table_reader(bytes, format);
    let header: Vec<String> = match reader.byte_headers() {
        Ok(header) => header.iter().map(|field| String::from_utf8_lossy(field).trim().to_string()).collect(),
        Err(error) => return Err(format!("the header row cannot be read: {error}")),
    };
    if header.iter().all(|name| name.is_empty()) {
        return Err("the first row, the header, is empty: it must name the columns (e.g. `prompt,response`)".into());
    }
    let rows = reader
        .byte_records()
        .take(3)
        .filter_map(Result::ok)
        .map(|row| row.iter().map(|field| String::from_utf8_lossy(field).into_owned()).collect())
        .collect();
    let suggested = ColumnMapping::guess(&header);
    Ok(TablePreview { header, rows, suggested })
}

fn table_entries(bytes: &[u8], format: Format, mapping: &ColumnMapping, header_len: usize) -> Vec<Entry> {
    let mut reader = table_reader(bytes, format);
    let header: Vec<String> = match reader.byte_headers() {
        Ok(header) => header.iter().map(|field| String::from_utf8_lossy(field).trim().to_string()).collect(),
        Err(_) => return Vec::new(),
    };
    let mut entries = Vec::new();
    let mut row = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                // Only an I/O error can end a read of bytes in memory; report where, and stop.
                let line = error.position().map_or(line, |p| p.line() as usize);
                let problem = Problem::new(ProblemKind::Row, None, format!("the row cannot be read: {error}"));
                entries.push(Entry { line, source: String::new(), read_problem: Some(problem) });
                break;
            }
        }
        let line = row.position().map_or(line, |p| p.line() as usize);
        let mut object = Map::new();
        let mut read_problem = None;
        for &(field, column) in &mapping.columns {
            let (text, problem) = match row.get(column) {
                Some(bytes) => line_text(bytes),
                None => (String::new(), None),
            };
            if let Some(mut problem) = problem.filter(|_| read_problem.is_none()) {
                problem.field = Some(header[column].clone());
                read_problem = Some(problem);
            }
            object.insert(field.name().to_string(), Value::String(text));
        }
        if row.len() != header_len && read_problem.is_none() {
            let hint = if row.len() < header_len {
                "a missing separator, or a quote opened and not closed?"
            } else if format == Format::Csv {
                "a comma inside a field that is not in double quotes?"
            } else {
                "a tab inside a field?"
            };
            read_problem = Some(Problem::new(
                ProblemKind::Row,
                None,
                format!("the row has {} fields, the header {header_len}: {hint}", row.len()),
            ));
        }
        entries.push(Entry { line, source: Value::Object(object).to_string(), read_problem });
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(entries: &[Entry]) -> Vec<(usize, &str)> {
        entries.iter().map(|e| (e.line, e.source.as_str())).collect()
    }

    #[test]
    fn jsonl_lines_are_entries_and_blank_lines_are_skipped() {
        let entries =
            read_entries(b"\xEF\xBB\xBF{\"text\": \"a\"}\n\n  \r\n{\"text\": \"b\"}\r\n", Format::Jsonl, None).unwrap();
        assert_eq!(sources(&entries), vec![(1, "{\"text\": \"a\"}"), (4, "{\"text\": \"b\"}")]);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_entry_with_its_problem() {
        let entries = read_entries(b"{\"text\": \"a\"}\n{\"text\": \"caf\xE9\"}\n", Format::Jsonl, None).unwrap();
        let problem = entries[1].read_problem.as_ref().unwrap();
        assert_eq!((entries[1].line, problem.kind), (2, ProblemKind::Encoding));
        assert!(problem.message.starts_with("not valid UTF-8 at byte 14 of the line"), "{}", problem.message);
        assert_eq!(entries[1].source, "{\"text\": \"caf\u{FFFD}\"}");
    }

    #[test]
    fn text_paragraphs_start_at_their_first_line() {
        let entries = read_entries(b"One.\nStill one.\n\n\n  \nTwo.\r\n", Format::Text, None).unwrap();
        assert_eq!(sources(&entries), vec![(1, r#"{"text":"One.\nStill one."}"#), (6, r#"{"text":"Two."}"#)]);
    }

    #[test]
    fn csv_columns_are_mapped_from_the_header_with_quoting_and_line_numbers() {
        let csv = "Instruction,Output,id\n\"Say \"\"hi\"\"\",\"Hi,\nfriend\",1\nAsk,Answer,2\n";
        let preview = table_preview(csv.as_bytes(), Format::Csv).unwrap();
        assert_eq!(preview.header, ["Instruction", "Output", "id"]);
        assert_eq!(preview.suggested.columns, [(Field::Prompt, 0), (Field::Response, 1)]);
        let entries = read_entries(csv.as_bytes(), Format::Csv, None).unwrap();
        assert_eq!(
            sources(&entries),
            vec![
                (2, r#"{"prompt":"Say \"hi\"","response":"Hi,\nfriend"}"#),
                (4, r#"{"prompt":"Ask","response":"Answer"}"#)
            ]
        );
    }

    #[test]
    fn a_ragged_row_is_reported_with_a_hint() {
        let entries = read_entries(b"text,label\nhello, world,1\nfine,2\n", Format::Csv, None).unwrap();
        let problem = entries[0].read_problem.as_ref().unwrap();
        assert_eq!(problem.kind, ProblemKind::Row);
        assert_eq!(
            problem.message,
            "the row has 3 fields, the header 2: a comma inside a field that is not in double quotes?"
        );
        assert!(entries[1].read_problem.is_none());
    }

    #[test]
    fn tsv_has_no_quoting_and_a_mapping_can_be_chosen() {
        let tsv = "a\tb\n\"quoted\tplain\n";
        let mapping = ColumnMapping { columns: vec![(Field::Prompt, 1), (Field::Response, 0)] };
        let entries = read_entries(tsv.as_bytes(), Format::Tsv, Some(&mapping)).unwrap();
        assert_eq!(sources(&entries), vec![(2, r#"{"prompt":"plain","response":"\"quoted"}"#)]);
    }

    #[test]
    fn files_that_cannot_be_read_say_what_to_do() {
        assert_eq!(read_entries(b"", Format::Jsonl, None).unwrap_err(), "the file is empty");
        assert_eq!(
            read_entries(b"\n \n", Format::Jsonl, None).unwrap_err(),
            "the file has only blank lines, so it holds no examples"
        );
        let error = read_entries(b"name,age\nx,1\n", Format::Csv, None).unwrap_err();
        assert!(error.starts_with("the header row has the columns `name`, `age`: choose which column"), "{error}");
        assert!(Format::from_name("data.parquet").unwrap_err().starts_with("unsupported file type (`.parquet`)"));
        assert_eq!(Format::from_name("Data.JSONL"), Ok(Format::Jsonl));
        assert_eq!(Format::sniff("  {\"text\": 1}"), Format::Jsonl);
        assert_eq!(Format::sniff("a\tb\n1\t2"), Format::Tsv);
    }
}
