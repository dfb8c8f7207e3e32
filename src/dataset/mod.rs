//! Data sets as people bring them, before any tokenizer sees them: files in four formats read into entries
//! (`source`), each entry judged as an example of one of four shapes (`example`), the problems a learner must see
//! (`problem`), answers that may not be about their request (`relevance`), duplicates and near-duplicates
//! (`duplicates`), the seeded, grouped train / held-out split (`split`), and the studio's review of a whole data set with the learner's decisions (`review`). Burn-free, so
//! the page, the trainer worker, the CLI and the tests share it; turning examples into tokens is `crate::data`.
//!
//! ## File formats
//! - `.jsonl`: one JSON object per line, in one of four shapes (lines may mix them; blank lines are skipped):
//!   `{"text"}`, `{"prompt", "response"}`, `{"messages": [{"role", "content"}, ...]}` with the roles `system`,
//!   `user` and `assistant`, and preference pairs `{"prompt", "chosen", "rejected"}`.
//! - `.csv` / `.tsv`: a header row, then one example per row; a mapping says which column holds which field
//!   (guessed from the header: `text`, `prompt`, `response`, ..., and the names other tools use).
//! - `.txt`: plain text; paragraphs separated by blank lines become text examples.

pub mod duplicates;
pub mod example;
pub mod problem;
pub mod relevance;
pub mod review;
pub mod source;
pub mod split;

use std::fmt;

pub use example::{ChatMessage, Example, Layout};
pub use problem::{Problem, ProblemKind};
pub use source::{ColumnMapping, Entry, Field, Format, TablePreview};

/// The longest line a data set may have. A longer one is almost always a wrong file (minified JSON, binary
/// data), and it is reported without being parsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The largest data set file read (64 MB: three times the 20 MB a learner's own data set is promised).
pub const MAX_FILE_BYTES: usize = 64_000_000;

/// A problem that stops a data set from being used as it is: which file, which line (1-based) if it is about one
/// line, and what to change.
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

/// Reads a whole data set file strictly, for the CLI and the shipped data sets: every entry must be an example;
/// the first that is not is the error. The format comes from the file name's extension; a table's columns from
/// its header. The studio reads the same files leniently ([`source::read_entries`], [`review::review`]) to show
/// every problem at once.
pub fn parse_dataset(file_name: &str, bytes: &[u8]) -> Result<Vec<Example>, DataError> {
    let error = |line: Option<usize>, message: String| DataError { file: file_name.to_string(), line, message };
    let format = Format::from_name(file_name).map_err(|message| error(None, message))?;
    let entries = source::read_entries(bytes, format, None).map_err(|message| error(None, message))?;
    entries
        .iter()
        .map(|entry| match &entry.read_problem {
            Some(problem) => Err(error(Some(entry.line), problem.message.clone())),
            None => Example::from_json_line(&entry.source).map_err(|problem| error(Some(entry.line), problem.message)),
        })
        .collect()
}
