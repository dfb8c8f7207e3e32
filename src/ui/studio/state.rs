//! What the data studio page knows: whether the trainer (whose tokenizer the studio uses) is ready, what the
//! worker is reading, the table waiting for its columns, the data set's report, the entry on show, a download
//! to hand to the browser, and the problem to say. Changed only by [`apply`], a pure function tested natively.

use std::sync::Arc;

use crate::dataset::Format;
use crate::protocol::{BackendKind, FromWorker, StudioEntryView, StudioReport, TablePreview, TrainSettings};

/// Where the studio stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// The model (and its tokenizer) is loading; `file` and bytes say how far.
    LoadingModel { file: String, loaded_bytes: u64, total_bytes: Option<u64> },
    /// Looking in the browser's storage for a data set kept from an earlier visit.
    Restoring,
    /// Nothing open: waiting for the learner to bring data.
    Empty,
    /// A table whose columns the learner must map.
    Mapping { file_name: String, format: Format, preview: TablePreview },
    /// The worker reads, checks and tokenizes the data set.
    Reading { stage: String, done: u64, total: u64 },
    /// A data set is open: see [`StudioState::report`].
    Open,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StudioState {
    pub phase: Phase,
    pub report: Option<StudioReport>,
    pub entry: Option<StudioEntryView>,
    /// A download that arrived and waits for the page to hand it to the browser.
    pub download: Option<(String, Arc<Vec<u8>>)>,
    /// What went wrong last, in words for the learner; cleared by the next report.
    pub problem: Option<String>,
    /// The training pace measured on this device: asked for (`Measuring`) or known.
    pub pace: Pace,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Pace {
    #[default]
    Unknown,
    Measuring,
    Measured {
        seconds_per_step: f64,
        backend: BackendKind,
        settings: TrainSettings,
    },
}

impl Default for StudioState {
    fn default() -> Self {
        StudioState {
            phase: Phase::LoadingModel { file: String::new(), loaded_bytes: 0, total_bytes: None },
            report: None,
            entry: None,
            download: None,
            problem: None,
            pace: Pace::Unknown,
        }
    }
}

impl StudioState {
    /// The learner sent a data set to read: say so until the worker reports.
    pub fn reading(&mut self, file_name: &str) {
        self.phase = Phase::Reading { stage: format!("Sending {file_name}"), done: 0, total: 0 };
        self.problem = None;
    }

    /// After an error the page goes back to what it showed before reading.
    fn settled(&self) -> Phase {
        if self.report.is_some() {
            Phase::Open
        } else {
            Phase::Empty
        }
    }
}

/// The worker's `event`, applied to the studio's state. Events of runs and samples are not the studio's.
pub fn apply(state: &mut StudioState, event: &FromWorker) {
    match event {
        FromWorker::Loading { file, loaded_bytes, total_bytes, .. } => {
            if let Phase::LoadingModel { .. } = state.phase {
                state.phase =
                    Phase::LoadingModel { file: file.clone(), loaded_bytes: *loaded_bytes, total_bytes: *total_bytes };
            }
        }
        FromWorker::Ready { .. } => {
            if let Phase::LoadingModel { .. } = state.phase {
                state.phase = Phase::Restoring;
            }
        }
        FromWorker::StudioProgress { stage, done, total } => {
            state.phase = Phase::Reading { stage: stage.clone(), done: *done, total: *total };
        }
        FromWorker::StudioNeedsMapping { file_name, format, preview } => {
            state.phase = Phase::Mapping { file_name: file_name.clone(), format: *format, preview: preview.clone() };
        }
        FromWorker::StudioReport(report) => {
            let reopened = state.report.as_ref().is_none_or(|old| old.file_name != report.file_name);
            if reopened {
                state.entry = None;
            }
            state.report = Some(report.clone());
            state.phase = Phase::Open;
            state.problem = None;
        }
        FromWorker::StudioEntry(view) => state.entry = Some(view.clone()),
        FromWorker::StudioEmpty => {
            *state = StudioState { phase: Phase::Empty, ..StudioState::default() };
        }
        FromWorker::StudioFile { file_name, bytes } => {
            state.download = Some((file_name.clone(), Arc::new(bytes.clone())))
        }
        FromWorker::StudioPace { seconds_per_step, backend, settings } => {
            state.pace =
                Pace::Measured { seconds_per_step: *seconds_per_step, backend: *backend, settings: settings.clone() };
        }
        FromWorker::StudioError { message } => {
            if state.pace == Pace::Measuring {
                state.pace = Pace::Unknown;
            }
            state.problem = Some(message.clone());
            if !matches!(state.phase, Phase::Mapping { .. }) {
                state.phase = state.settled();
            }
        }
        // A failure while loading the model (not a run's, not a sample's) leaves the studio without a tokenizer.
        FromWorker::Error { run: None, request_id: None, message } => {
            if let Phase::LoadingModel { .. } = state.phase {
                state.problem = Some(format!("The model could not load, so the studio cannot tokenize: {message}"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ColumnMapping, Kept, StudioSettings, TokenStats};

    fn report(file_name: &str) -> StudioReport {
        StudioReport {
            file_name: file_name.into(),
            format: Format::Jsonl,
            settings: StudioSettings::default(),
            entries: 3,
            train: 2,
            held_out: 1,
            dropped: 0,
            dropped_entries: Vec::new(),
            blocked: 0,
            kinds: Vec::new(),
            problems: Vec::new(),
            tokens: TokenStats {
                tokens: 30,
                trained_tokens: 28,
                pieces: 3,
                longest: 12,
                histogram: vec![3],
                bin_tokens: 24,
            },
            kept: Kept::Saved,
        }
    }

    #[test]
    fn the_studio_waits_for_the_model_then_restores_then_shows_the_report() {
        let mut state = StudioState::default();
        apply(
            &mut state,
            &FromWorker::Loading {
                file: "model.safetensors".into(),
                loaded_bytes: 5,
                total_bytes: Some(10),
                from_cache: false,
            },
        );
        assert!(matches!(&state.phase, Phase::LoadingModel { loaded_bytes: 5, .. }));
        let shape = crate::protocol::tests::STORIES260K;
        let backend = crate::protocol::BackendReport {
            kind: crate::protocol::BackendKind::Cpu,
            adapter_name: None,
            fallback_reason: None,
        };
        apply(
            &mut state,
            &FromWorker::Ready {
                backend,
                model_name: "stories260K".into(),
                model: shape,
                storage: crate::protocol::BaseStorage::F32,
            },
        );
        assert_eq!(state.phase, Phase::Restoring);
        apply(&mut state, &FromWorker::StudioEmpty);
        assert_eq!(state.phase, Phase::Empty);
        state.reading("mine.jsonl");
        apply(&mut state, &FromWorker::StudioProgress { stage: "Checking and tokenizing".into(), done: 2, total: 3 });
        assert!(matches!(&state.phase, Phase::Reading { done: 2, total: 3, .. }));
        apply(&mut state, &FromWorker::StudioReport(report("mine.jsonl")));
        assert_eq!(state.phase, Phase::Open);
        assert_eq!(state.report.as_ref().map(|r| r.train), Some(2));
    }

    #[test]
    fn an_error_goes_back_to_what_was_shown_and_keeps_a_table_waiting_for_its_columns() {
        let mut state = StudioState { phase: Phase::Empty, ..StudioState::default() };
        state.reading("bad.jsonl");
        apply(&mut state, &FromWorker::StudioError { message: "bad.jsonl: the file is empty".into() });
        assert_eq!(
            (state.phase.clone(), state.problem.as_deref()),
            (Phase::Empty, Some("bad.jsonl: the file is empty"))
        );
        apply(&mut state, &FromWorker::StudioReport(report("good.jsonl")));
        assert_eq!((state.phase.clone(), state.problem.clone()), (Phase::Open, None));
        let preview = TablePreview { header: vec!["a".into()], rows: Vec::new(), suggested: ColumnMapping::default() };
        apply(&mut state, &FromWorker::StudioNeedsMapping { file_name: "t.csv".into(), format: Format::Csv, preview });
        apply(&mut state, &FromWorker::StudioError { message: "map a column".into() });
        assert!(matches!(state.phase, Phase::Mapping { .. }));
    }

    #[test]
    fn a_new_file_forgets_the_entry_on_show_and_a_closed_one_forgets_everything() {
        let mut state = StudioState::default();
        apply(&mut state, &FromWorker::StudioReport(report("a.jsonl")));
        let view = StudioEntryView {
            entry: 0,
            line: 1,
            source: "{}".into(),
            decision: crate::protocol::Decision::Undecided,
            held_out: None,
            shape: None,
            problems: Vec::new(),
            tokens: Vec::new(),
        };
        apply(&mut state, &FromWorker::StudioEntry(view));
        apply(&mut state, &FromWorker::StudioReport(report("a.jsonl")));
        assert!(state.entry.is_some(), "a new report of the same file keeps the entry on show");
        apply(&mut state, &FromWorker::StudioReport(report("b.jsonl")));
        assert!(state.entry.is_none());
        apply(&mut state, &FromWorker::StudioEmpty);
        assert_eq!(state, StudioState { phase: Phase::Empty, ..StudioState::default() });
    }

    #[test]
    fn a_measured_pace_is_kept_and_a_failed_measurement_can_be_asked_again() {
        let mut state = StudioState { pace: Pace::Measuring, ..StudioState::default() };
        apply(&mut state, &FromWorker::StudioError { message: "nothing to train on".into() });
        assert_eq!(state.pace, Pace::Unknown);
        let settings = TrainSettings::default();
        let pace =
            FromWorker::StudioPace { seconds_per_step: 0.09, backend: BackendKind::Cpu, settings: settings.clone() };
        apply(&mut state, &pace);
        assert_eq!(state.pace, Pace::Measured { seconds_per_step: 0.09, backend: BackendKind::Cpu, settings });
    }
}
