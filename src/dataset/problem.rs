//! What can be wrong with an example, in words that say what to do, and whether it keeps the example out of
//! training until the learner fixes or drops it.

use serde::{Deserialize, Serialize};

/// One problem with one example: what kind, which field and column when known, and what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The field it is about, e.g. `response` or `messages[2].role`; for a CSV row, the column's name.
    pub field: Option<String>,
    /// 1-based column in the line (characters), for JSON syntax errors.
    pub column: Option<usize>,
    pub message: String,
}

/// The kinds of [`Problem`]: the first group keeps an example out of training until it is fixed (it is not an
/// example yet); the second is the learner's call (keep it, fix it, or drop it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProblemKind {
    /// Bytes that are not UTF-8.
    Encoding,
    /// A line over [`super::MAX_LINE_BYTES`], reported without parsing it.
    LineTooLong,
    /// A CSV or TSV row with more or fewer fields than the header.
    Row,
    /// Not JSON, or JSON that is not an object.
    Json,
    /// Fields that are unknown, missing, of the wrong type, or from different shapes.
    Fields,
    /// A field that holds only whitespace.
    Empty,
    /// A chat role that is not `system`, `user` or `assistant`, or a conversation without an assistant message.
    Role,
    /// A preference pair whose two answers are the same: nothing to prefer.
    SameAnswers,
    /// The same example as an earlier one.
    Duplicate,
    /// Nearly the same text as an earlier example (estimated Jaccard similarity of 5-character pieces ≥ 0.8).
    NearDuplicate,
    /// A (near-)duplicate of an example on the other side of the train / held-out split: the held-out loss then
    /// measures memory, not generalisation.
    SplitLeak,
    /// An answer that shares no word with its request: often a labelling mistake (see `super::relevance`).
    OffTopic,
    /// More tokens than a training piece holds: the example is cut into pieces, and the later ones lose the start.
    TooLong,
    /// A trained span that does not end with the end-of-sequence token: the model never learns to stop.
    NoEos,
}

impl ProblemKind {
    /// Every kind, in the order the page lists them.
    pub const ALL: [ProblemKind; 14] = [
        ProblemKind::Encoding,
        ProblemKind::LineTooLong,
        ProblemKind::Row,
        ProblemKind::Json,
        ProblemKind::Fields,
        ProblemKind::Empty,
        ProblemKind::Role,
        ProblemKind::SameAnswers,
        ProblemKind::Duplicate,
        ProblemKind::NearDuplicate,
        ProblemKind::SplitLeak,
        ProblemKind::OffTopic,
        ProblemKind::TooLong,
        ProblemKind::NoEos,
    ];

    /// Whether an example with this problem cannot be trained on until it is fixed or dropped.
    pub fn blocks_training(self) -> bool {
        self < ProblemKind::Duplicate
    }

    /// A heading for the page's list.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::Encoding => "Not UTF-8",
            ProblemKind::LineTooLong => "Line too long to read",
            ProblemKind::Row => "Rows with the wrong number of fields",
            ProblemKind::Json => "Not valid JSON",
            ProblemKind::Fields => "Wrong or missing fields",
            ProblemKind::Empty => "Empty texts",
            ProblemKind::Role => "Unknown roles or no assistant turn",
            ProblemKind::SameAnswers => "Preference pairs with the same answers",
            ProblemKind::Duplicate => "Exact duplicates",
            ProblemKind::NearDuplicate => "Near-duplicates",
            ProblemKind::SplitLeak => "Near-duplicates across the split",
            ProblemKind::OffTopic => "Answers that share no word with their request",
            ProblemKind::TooLong => "Longer than the sequence length",
            ProblemKind::NoEos => "No end-of-sequence token",
        }
    }
}

impl Problem {
    pub fn new(kind: ProblemKind, field: Option<&str>, message: String) -> Problem {
        Problem { kind, field: field.map(str::to_string), column: None, message }
    }
}
