//! The data studio's side of the worker: the learner's data set read, judged (`crate::dataset`), tokenized with
//! the model's tokenizer and template (`crate::data`), changed by the learner's decisions and edits, kept in the
//! browser's storage ([`super::storage`]) and offered to runs as [`STUDIO_DATASET_URL`].
//!
//! What is kept: the file's bytes as they came, and a small JSON state (decisions, edits, settings) holding the
//! bytes' sha256, so a restore never pairs a state with another file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fetch::fetch_plain;
use super::post;
use super::storage::Folder;
use crate::data::tokenize_example;
use crate::dataset::review::{review, Decision, EntryFacts, Review, TokenFacts};
use crate::dataset::source::{read_entries, table_preview};
use crate::dataset::{ColumnMapping, Entry, Example, Format, Layout};
use crate::protocol::{
    DownloadPart, FromWorker, Kept, KindCount, ProblemKind, ProblemRow, StudioEntryView, StudioReport, StudioSettings,
    ToWorker, TokenChip, TokenStats, PROBLEMS_PER_KIND,
};
use crate::tokenizer::TextTokenizer;

const FOLDER: Folder = Folder::new("studio");
const FILE: &str = "data";
const STATE: &str = "state.json";
/// Bumped when [`Saved`] changes shape: an older state is then not restored (the file is read afresh).
const STATE_VERSION: u32 = 1;
/// Progress is posted every this many entries.
const PROGRESS_EVERY: usize = 2000;
/// Bins of the token-length histogram.
const HISTOGRAM_BINS: usize = 24;

/// What the studio writes beside the file.
#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    file_name: String,
    format: Format,
    mapping: Option<ColumnMapping>,
    sha256: String,
    /// Entries edited in the studio: (index, JSONL line).
    edits: Vec<(usize, String)>,
    /// Entries with a decision other than `Undecided`.
    decisions: Vec<(usize, Decision)>,
    settings: StudioSettings,
    /// The shipped data set's address when it was opened from the site (the lesson's practice set): its runs are
    /// scored by the task check beside it. Older states have none.
    #[serde(default)]
    origin: Option<String>,
}

/// The data set under review.
struct Data {
    file_name: String,
    format: Format,
    mapping: Option<ColumnMapping>,
    sha256: String,
    entries: Vec<Entry>,
    edited: Vec<bool>,
    facts: Vec<EntryFacts>,
    /// Each example's tokens facts and how many of its tokens are targets.
    tokens: Vec<Option<(TokenFacts, usize)>>,
    decisions: Vec<Decision>,
    settings: StudioSettings,
    review: Review,
    kept: Kept,
    /// See [`Saved::origin`].
    origin: Option<String>,
}

/// The studio's usable examples for a run, split as the studio shows them.
pub struct StudioExamples {
    pub file_name: String,
    /// See [`Saved::origin`].
    pub origin: Option<String>,
    pub train: Vec<Example>,
    pub held_out: Vec<Example>,
}

#[derive(Default)]
pub struct Studio {
    data: Option<Data>,
}

fn progress(stage: &str, done: usize, total: usize) {
    post(&FromWorker::StudioProgress { stage: stage.into(), done: done as u64, total: total as u64 });
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// An example's token facts and target count, as training will see it; `None` when the model's chat template
/// refuses it (the entry's view says why).
fn measure(example: &Example, tokenizer: &TextTokenizer) -> Option<(TokenFacts, usize)> {
    let tokenized = tokenize_example(example, tokenizer).ok()?;
    Some((tokenized.facts(tokenizer.eos_id()), tokenized.loss_mask.iter().filter(|&&t| t).count()))
}

impl Studio {
    /// Handles one studio message, posting what it answers. Errors leave the data set as it was.
    pub async fn handle(&mut self, message: ToWorker, tokenizer: &TextTokenizer) -> Result<(), String> {
        match message {
            ToWorker::StudioOpen { file_name, format, mapping, bytes } => {
                self.open(file_name, format, mapping, bytes, None, tokenizer).await
            }
            ToWorker::StudioOpenUrl { url } => {
                let bytes = fetch_plain(&url).await?;
                let file_name = url.rsplit('/').next().unwrap_or("dataset.jsonl").to_string();
                let format = Format::from_name(&file_name)?;
                self.open(file_name, format, None, bytes, Some(url), tokenizer).await
            }
            ToWorker::StudioRestore => {
                if self.data.is_none() {
                    self.data = restore(tokenizer).await;
                }
                match &self.data {
                    Some(data) => post(&FromWorker::StudioReport(data.report())),
                    None => post(&FromWorker::StudioEmpty),
                }
                Ok(())
            }
            ToWorker::StudioClose => {
                self.data = None;
                FOLDER.remove().await?;
                post(&FromWorker::StudioEmpty);
                Ok(())
            }
            ToWorker::StudioShowLine { line } => {
                let data = self.data.as_ref().ok_or(NOTHING_OPEN)?;
                // The last entry that starts on or before the line: a line inside a paragraph or a quoted
                // multi-line cell finds its example.
                let entry =
                    data.entries.partition_point(|entry| entry.line <= line).checked_sub(1).ok_or_else(|| {
                        format!(
                            "{} has no example on line {line}: its first starts on line {}",
                            data.file_name, data.entries[0].line
                        )
                    })?;
                post(&FromWorker::StudioEntry(data.view(entry, tokenizer)?));
                Ok(())
            }
            ToWorker::StudioDownload { part, layout } => {
                let data = self.data.as_ref().ok_or(NOTHING_OPEN)?;
                let (file_name, bytes) = data.download(part, layout);
                post(&FromWorker::StudioFile { file_name, bytes });
                Ok(())
            }
            change => {
                let data = self.data.as_mut().ok_or(NOTHING_OPEN)?;
                let shown = data.change(change, tokenizer)?;
                data.save_state().await;
                post(&FromWorker::StudioReport(data.report()));
                if let Some(entry) = shown {
                    post(&FromWorker::StudioEntry(data.view(entry, tokenizer)?));
                }
                Ok(())
            }
        }
    }

    /// The usable examples, split as the studio shows, for a run. After a reload the data set comes from the
    /// browser's storage.
    pub async fn examples(&mut self, tokenizer: &TextTokenizer) -> Option<StudioExamples> {
        if self.data.is_none() {
            self.data = restore(tokenizer).await;
        }
        let data = self.data.as_ref()?;
        let side = |held_out: bool| -> Vec<Example> {
            data.review.side(held_out).filter_map(|i| data.facts[i].example.as_ref().ok().cloned()).collect()
        };
        Some(StudioExamples {
            file_name: data.file_name.clone(),
            origin: data.origin.clone(),
            train: side(false),
            held_out: side(true),
        })
    }

    async fn open(
        &mut self,
        file_name: String,
        format: Format,
        mapping: Option<ColumnMapping>,
        bytes: Vec<u8>,
        origin: Option<String>,
        tokenizer: &TextTokenizer,
    ) -> Result<(), String> {
        let settings = self.data.as_ref().map(|data| data.settings.clone()).unwrap_or_default();
        if matches!(format, Format::Csv | Format::Tsv) && mapping.is_none() {
            let preview = table_preview(&bytes, format).map_err(|message| format!("{file_name}: {message}"))?;
            if preview.suggested.shape_problem().is_some() {
                post(&FromWorker::StudioNeedsMapping { file_name, format, preview });
                return Ok(());
            }
        }
        progress("Reading", 0, bytes.len());
        let entries =
            read_entries(&bytes, format, mapping.as_ref()).map_err(|message| format!("{file_name}: {message}"))?;
        let sha256 = sha256_hex(&bytes);
        let mut data = Data::new(file_name, format, mapping, sha256, entries, settings, tokenizer);
        data.origin = origin;
        data.kept = match FOLDER.write(FILE, &bytes).await {
            Ok(()) => Kept::Saved,
            Err(reason) => Kept::InMemory(reason),
        };
        data.save_state().await;
        post(&FromWorker::StudioReport(data.report()));
        self.data = Some(data);
        Ok(())
    }
}

const NOTHING_OPEN: &str = "the studio has no data set open: bring one first";

/// The data set the browser's storage holds, if it holds one whose state matches its file.
async fn restore(tokenizer: &TextTokenizer) -> Option<Data> {
    let state = FOLDER.read(STATE).await.ok()??;
    let saved: Saved = serde_json::from_slice(&state).ok()?;
    let bytes = FOLDER.read(FILE).await.ok()??;
    if saved.version != STATE_VERSION || sha256_hex(&bytes) != saved.sha256 {
        return None;
    }
    let mut entries = read_entries(&bytes, saved.format, saved.mapping.as_ref()).ok()?;
    let mut edited = vec![false; entries.len()];
    for (index, source) in saved.edits {
        if let Some(entry) = entries.get_mut(index) {
            entry.source = source;
            entry.read_problem = None;
            edited[index] = true;
        }
    }
    let mut data =
        Data::new(saved.file_name, saved.format, saved.mapping, saved.sha256, entries, saved.settings, tokenizer);
    data.edited = edited;
    data.origin = saved.origin;
    for (index, decision) in saved.decisions {
        if let Some(slot) = data.decisions.get_mut(index) {
            *slot = decision;
        }
    }
    data.rereview();
    Some(data)
}

impl Data {
    fn new(
        file_name: String,
        format: Format,
        mapping: Option<ColumnMapping>,
        sha256: String,
        entries: Vec<Entry>,
        settings: StudioSettings,
        tokenizer: &TextTokenizer,
    ) -> Data {
        let total = entries.len();
        let mut facts = Vec::with_capacity(total);
        let mut tokens = Vec::with_capacity(total);
        for (index, entry) in entries.iter().enumerate() {
            if index % PROGRESS_EVERY == 0 {
                progress("Checking and tokenizing", index, total);
            }
            let entry_facts = EntryFacts::of(entry);
            tokens.push(entry_facts.example.as_ref().ok().and_then(|example| measure(example, tokenizer)));
            facts.push(entry_facts);
        }
        progress("Checking and tokenizing", total, total);
        let mut data = Data {
            file_name,
            format,
            mapping,
            sha256,
            edited: vec![false; total],
            decisions: vec![Decision::Undecided; total],
            entries,
            facts,
            tokens,
            settings,
            review: Review { problems: Vec::new(), usable: Vec::new(), held_out: Vec::new() },
            kept: Kept::Saved,
            origin: None,
        };
        data.rereview();
        data
    }

    fn rereview(&mut self) {
        let measured: Vec<Option<TokenFacts>> = self.tokens.iter().map(|t| t.map(|(facts, _)| facts)).collect();
        self.review = review(
            &self.entries,
            &self.facts,
            &self.decisions,
            &self.settings.split,
            Some((&measured, self.settings.seq_len)),
        );
    }

    /// Applies a decision, edit or setting; returns the entry to show again when one was edited.
    fn change(&mut self, change: ToWorker, tokenizer: &TextTokenizer) -> Result<Option<usize>, String> {
        let mut shown = None;
        match change {
            ToWorker::StudioDecide { entries, decision } => {
                for entry in entries {
                    *self.decisions.get_mut(entry).ok_or_else(|| no_entry(entry))? = decision;
                }
            }
            ToWorker::StudioDecideKind { kind, decision } => {
                let entries: Vec<usize> = self
                    .review
                    .problems
                    .iter()
                    .filter(|p| p.problem.kind == kind && self.decisions[p.entry] == Decision::Undecided)
                    .map(|p| p.entry)
                    .collect();
                for entry in entries {
                    self.decisions[entry] = decision;
                }
            }
            ToWorker::StudioEdit { entry, source } => {
                let slot = self.entries.get_mut(entry).ok_or_else(|| no_entry(entry))?;
                // One JSONL line: a newline typed in the editor belongs inside a string, as \n.
                slot.source = source.lines().collect::<Vec<_>>().join(" ");
                slot.read_problem = None;
                self.facts[entry] = EntryFacts::of(slot);
                self.tokens[entry] =
                    self.facts[entry].example.as_ref().ok().and_then(|example| measure(example, tokenizer));
                self.edited[entry] = true;
                self.decisions[entry] = Decision::Undecided;
                shown = Some(entry);
            }
            ToWorker::StudioSettings(settings) => {
                let fraction = settings.split.held_out_fraction;
                if !(0.0..=0.5).contains(&fraction) {
                    return Err(format!("the held-out share must be between 0 and 50%, not {:.0}%", fraction * 100.0));
                }
                if settings.seq_len == 0 {
                    return Err("the sequence length must be at least 1 token".into());
                }
                self.settings = settings;
            }
            other => return Err(format!("not a studio change: {other:?}")),
        }
        self.rereview();
        Ok(shown)
    }

    async fn save_state(&mut self) {
        if let Kept::InMemory(_) = self.kept {
            return;
        }
        let saved = Saved {
            version: STATE_VERSION,
            file_name: self.file_name.clone(),
            format: self.format,
            mapping: self.mapping.clone(),
            sha256: self.sha256.clone(),
            edits: (0..self.entries.len())
                .filter(|&i| self.edited[i])
                .map(|i| (i, self.entries[i].source.clone()))
                .collect(),
            decisions: (0..self.entries.len())
                .filter(|&i| self.decisions[i] != Decision::Undecided)
                .map(|i| (i, self.decisions[i]))
                .collect(),
            settings: self.settings.clone(),
            origin: self.origin.clone(),
        };
        let json = serde_json::to_vec(&saved).expect("the state serialises");
        if let Err(reason) = FOLDER.write(STATE, &json).await {
            self.kept = Kept::InMemory(reason);
        }
    }

    fn report(&self) -> StudioReport {
        let review = &self.review;
        let dropped = self.decisions.iter().filter(|&&d| d == Decision::Drop).count();
        let blocked = (0..self.entries.len())
            .filter(|&i| self.decisions[i] != Decision::Drop && self.facts[i].example.is_err())
            .count();
        let kinds = ProblemKind::ALL
            .iter()
            .map(|&kind| {
                let of_kind = review.problems.iter().filter(|p| p.problem.kind == kind);
                let total = of_kind.clone().count();
                let open = of_kind.filter(|p| self.decisions[p.entry] == Decision::Undecided).count();
                KindCount { kind, total, open }
            })
            .filter(|count| count.total > 0)
            .collect();
        let mut listed = std::collections::BTreeMap::<ProblemKind, usize>::new();
        let problems = review
            .problems
            .iter()
            .filter(|p| {
                let count = listed.entry(p.problem.kind).or_default();
                *count += 1;
                *count <= PROBLEMS_PER_KIND
            })
            .map(|p| ProblemRow { at: p.clone(), decision: self.decisions[p.entry], edited: self.edited[p.entry] })
            .collect();
        StudioReport {
            file_name: self.file_name.clone(),
            format: self.format,
            settings: self.settings.clone(),
            entries: self.entries.len(),
            train: review.side(false).count(),
            held_out: review.side(true).count(),
            dropped,
            dropped_entries: (0..self.entries.len())
                .filter(|&i| self.decisions[i] == Decision::Drop)
                .take(PROBLEMS_PER_KIND)
                .map(|i| (i, self.entries[i].line))
                .collect(),
            blocked,
            kinds,
            problems,
            tokens: self.token_stats(),
            kept: self.kept.clone(),
        }
    }

    fn token_stats(&self) -> TokenStats {
        let lengths: Vec<(usize, usize)> = self
            .review
            .side(false)
            .filter_map(|i| self.tokens[i])
            .map(|(facts, trained)| (facts.tokens, trained))
            .collect();
        let longest = lengths.iter().map(|&(tokens, _)| tokens).max().unwrap_or(0);
        let seq_len = self.settings.seq_len.max(1);
        // Bins wide enough for the longest example and for the cut at seq_len + 1 to fall inside the chart.
        let span = longest.max(seq_len + 2);
        let bin_tokens = span.div_ceil(HISTOGRAM_BINS).max(1);
        let bins = span.div_ceil(bin_tokens);
        let mut histogram = vec![0; bins];
        for &(tokens, _) in &lengths {
            histogram[(tokens / bin_tokens).min(bins - 1)] += 1;
        }
        TokenStats {
            tokens: lengths.iter().map(|&(tokens, _)| tokens).sum(),
            trained_tokens: lengths.iter().map(|&(_, trained)| trained).sum(),
            pieces: lengths.iter().map(|&(tokens, _)| (tokens.saturating_sub(1)).div_ceil(seq_len)).sum(),
            longest,
            histogram,
            bin_tokens,
        }
    }

    fn view(&self, entry: usize, tokenizer: &TextTokenizer) -> Result<StudioEntryView, String> {
        let source = self.entries.get(entry).ok_or_else(|| no_entry(entry))?;
        let example = self.facts[entry].example.as_ref().ok();
        let tokens = example
            .map(|example| -> Result<_, String> {
                let tokenized = tokenize_example(example, tokenizer)?;
                Ok(tokenized
                    .tokens
                    .iter()
                    .zip(&tokenized.loss_mask)
                    .map(|(&id, &trained)| TokenChip { piece: tokenizer.piece(id), trained })
                    .collect())
            })
            .transpose()?
            .unwrap_or_default();
        Ok(StudioEntryView {
            entry,
            line: source.line,
            source: source.source.clone(),
            decision: self.decisions[entry],
            held_out: self.review.usable[entry].then_some(self.review.held_out[entry]),
            shape: example.map(|e| e.shape().to_string()),
            problems: self.review.problems.iter().filter(|p| p.entry == entry).cloned().collect(),
            tokens,
        })
    }

    fn download(&self, part: DownloadPart, layout: Layout) -> (String, Vec<u8>) {
        let stem = self.file_name.rsplit_once('.').map_or(self.file_name.as_str(), |(stem, _)| stem);
        let (suffix, indices): (&str, Vec<usize>) = match part {
            DownloadPart::All => ("clean", (0..self.entries.len()).filter(|&i| self.review.usable[i]).collect()),
            DownloadPart::Train => ("train", self.review.side(false).collect()),
            DownloadPart::HeldOut => ("held-out", self.review.side(true).collect()),
        };
        let mut bytes = Vec::new();
        for index in indices {
            if let Ok(example) = &self.facts[index].example {
                bytes.extend(example.to_json_line_as(layout).as_bytes());
                bytes.push(b'\n');
            }
        }
        (format!("{stem}.{suffix}.jsonl"), bytes)
    }
}

fn no_entry(entry: usize) -> String {
    format!("the data set has no entry {entry}: it may have changed; open it again")
}
