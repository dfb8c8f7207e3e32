//! A sweep on one of the site's data sets ([`crate::sweep`]): its grid as a table, each cell's held-out loss and
//! task metric (the recording made when the site was built until the learner runs the cell), the cells the learner
//! chooses run one after another, and the chosen cells' curves overlaid on one chart.

use std::collections::{BTreeMap, VecDeque};

use leptos::prelude::*;

use super::backend::BackendLine;
use super::chart::{Measure, RunsChart};
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::count_of;
use super::reading::fetch_json;
use super::run_progress::RunProgress;
use super::table::ScrollingTable;
use super::{DATASETS, STORIES_MODEL_URL};
use crate::protocol::{FinishReason, RecordedRun, RunId, StepMetrics, TrainSettings};
use crate::settings::Choice;
use crate::sweep::Sweep;
use crate::task::TaskScore;
use crate::ui::run_state::{Run, RunPhase, RunState};

/// The chart tells eight runs apart (see `chart::RunsChart`): no more cells can be chosen at once.
const MOST_CHOSEN: usize = 8;

/// What a cell shows: the learner's run of it, or the recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub metrics: Vec<StepMetrics>,
    pub task: Option<TaskScore>,
    pub recorded: bool,
    /// How many times the run went over its training pieces, once it knows how many there are.
    pub passes: Option<f64>,
}

impl Shown {
    pub fn held_out_loss(&self) -> Option<f64> {
        self.metrics.iter().rev().find_map(|m| m.eval_loss)
    }

    /// The loss on the base model's own stories at the last step that measured it.
    pub fn drift(&self) -> Option<f64> {
        self.metrics.iter().rev().find_map(|m| m.reference_eval_loss)
    }
}

/// Passes over `pieces` training pieces that `settings` makes: the pieces its steps read, over the pieces there are.
fn passes(settings: &TrainSettings, pieces: usize) -> Option<f64> {
    let read = settings.steps * settings.batch_size * settings.grad_accum;
    (pieces > 0).then(|| read as f64 / pieces as f64)
}

/// The learner's run of a cell once it has a step, else the recording of it.
fn shown(learner: Option<&Run>, recorded: Option<&RecordedRun>) -> Option<Shown> {
    match (learner, recorded) {
        (Some(run), _) if !run.metrics.is_empty() => Some(Shown {
            metrics: run.metrics.clone(),
            task: run.task.clone(),
            recorded: false,
            passes: run.training_sequences.and_then(|pieces| passes(&run.settings, pieces)),
        }),
        (_, Some(recorded)) => Some(Shown {
            metrics: recorded.metrics.clone(),
            task: recorded.task.clone(),
            recorded: true,
            passes: passes(&recorded.settings, recorded.training_sequences),
        }),
        _ => None,
    }
}

/// The worker is free for the next cell: the model and data are there, no run is under way, and the last run's
/// task check is done.
fn free_for_next(state: &RunState) -> bool {
    state.ready() && !state.busy() && !state.runs.iter().any(|run| run.checking(state.dataset.as_ref()))
}

#[component]
pub fn SweepDemo(sweep: Sweep) -> impl IntoView {
    let dataset = DATASETS.iter().find(|d| d.file == sweep.dataset_file()).expect("a sweep runs on a shipped data set");
    let dataset_url = dataset.url();
    let demo = LiveDemo::new(sweep.name(), STORIES_MODEL_URL, &dataset_url);
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<Vec<RecordedRun>>);
    fetch_json(sweep.recorded_url(&dataset_url), recorded);

    let cells = StoredValue::new(sweep.cells());
    let chosen = RwSignal::new(sweep.suggested());
    // The learner's latest run of each cell, and the cells waiting their turn.
    let runs = RwSignal::new(BTreeMap::<usize, RunId>::new());
    let queue = RwSignal::new(VecDeque::<usize>::new());
    let current = RwSignal::new(None::<(usize, RunId)>);
    // Starts the next waiting cell whenever the worker is free. Reads and writes only what cannot set it off
    // again for ever: each write below is followed by a pass that returns early.
    Effect::new(move |_| {
        queue.track();
        let (free, stopped) = state.with(|s| {
            let stopped = current.get_untracked().is_some_and(|(_, id)| {
                s.problem.is_some()
                    || s.run(id)
                        .is_some_and(|r| matches!(r.phase, RunPhase::Finished { reason: FinishReason::Stopped, .. }))
            });
            (free_for_next(s), stopped)
        });
        if stopped && !queue.with_untracked(VecDeque::is_empty) {
            queue.update(VecDeque::clear);
            return;
        }
        if !free {
            return;
        }
        if queue.with_untracked(VecDeque::is_empty) {
            if current.get_untracked().is_some() {
                current.set(None);
            }
            return;
        }
        let Some(next) = queue.try_update(VecDeque::pop_front).flatten() else { return };
        let id = demo.start(cells.with_value(|cells| cells[next].settings.clone()));
        runs.update(|runs| {
            runs.insert(next, id);
        });
        current.set(Some((next, id)));
    });
    let run_chosen = move |_| {
        queue.set(chosen.get_untracked().into_iter().collect());
    };
    let running = Memo::new(move |_| current.get().is_some() || !queue.with(VecDeque::is_empty));

    let shown_cell = move |cell: usize| {
        let learner = runs.with(|runs| runs.get(&cell).copied());
        state.with(|s| {
            recorded.with(|recorded| {
                let recorded = recorded.as_deref().map(|r| sweep.recorded_cells(r)).and_then(|r| r[cell]);
                shown(learner.and_then(|id| s.run(id)), recorded)
            })
        })
    };
    let lines = Signal::derive(move || {
        chosen
            .get()
            .into_iter()
            .filter_map(|i| {
                let shown = shown_cell(i)?;
                let label = cells.with_value(|cells| sweep.cell_label(&cells[i]));
                let label = if shown.recorded { format!("{label} (recorded)") } else { label };
                Some((label, shown.metrics))
            })
            .collect::<Vec<_>>()
    });
    let total_steps = cells.with_value(|cells| cells.iter().map(|c| c.settings.steps).max().unwrap_or(0));
    let progress = move || {
        let (cell, _) = current.get()?;
        let label = cells.with_value(|cells| sweep.cell_label(&cells[cell]));
        Some(format!("Running {label}; {} to run after it.", count_of(queue.with(VecDeque::len), "more cell")))
    };

    let caption_id = demo.id("grid-caption");
    let column_labels = sweep.column_labels();
    let row_labels = sweep.row_labels();
    let columns = column_labels.len();
    view! {
        <section class="demo sweep" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: a sweep you launch"</h3>
            <p>
                {format!(
                    "Each cell is one run on the data set “{}”: the default run, with only what its row and column \
                     name changed. Until you run a cell it shows the run recorded when this site was built, with \
                     the same settings. Choose up to {MOST_CHOSEN} cells for the chart, and run them: one after \
                     another, in this tab.",
                    dataset.title,
                )}
            </p>
            <LoadingProgress demo />
            <BackendLine demo />
            <ScrollingTable caption_id=caption_id.clone() class="sweep-grid" caption=move || view! {
                "Held-out loss at the last step (lower is better)"
                {sweep.shows_passes_and_drift().then_some(
                    ", drift from the base model at the last step (lower has forgotten less), passes over the \
                     training pieces",
                )}
                {move || state.with(|s| s.dataset.as_ref()?.task.as_ref().map(|task| {
                    format!(" and “{}”: {}", task.name, task.description)
                }))}
            }>
                <thead>
                    <tr>
                        <th scope="col">{sweep.rows_title()}</th>
                        {column_labels.iter().map(|&label| view! { <th scope="col">{label}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {row_labels.into_iter().enumerate().map(|(row, row_label)| view! {
                        <tr>
                            <th scope="row">{row_label}</th>
                            {(0..columns).map(|column| {
                                let cell = row * columns + column;
                                let label = cells.with_value(|cells| sweep.cell_label(&cells[cell]));
                                let is_chosen = move || chosen.with(|c| c.contains(&cell));
                                view! {
                                    <td class:chosen=is_chosen>
                                        <label class="sweep-cell">
                                            <input
                                                type="checkbox"
                                                aria-label=label
                                                prop:checked=is_chosen
                                                disabled=move || running.get() || (!is_chosen() && chosen.with(Vec::len) >= MOST_CHOSEN)
                                                on:change=move |_| chosen.update(|c| match c.iter().position(|&i| i == cell) {
                                                    Some(at) => { c.remove(at); }
                                                    None => c.push(cell),
                                                })
                                            />
                                            <CellFigures shown=Signal::derive(move || shown_cell(cell)) passes_and_drift=sweep.shows_passes_and_drift() />
                                            {move || (queue.with(|q| q.contains(&cell))).then_some(view! { <span class="sweep-source">"waiting"</span> })}
                                        </label>
                                    </td>
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </ScrollingTable>
            <p class="demo-actions">
                <button type="button" on:click=run_chosen disabled=move || running.get() || chosen.with(Vec::is_empty) || !state.with(|s| s.ready())>
                    {move || format!("Run the {}", count_of(chosen.with(Vec::len), "chosen cell"))}
                </button>
            </p>
            <p role="status">{progress}</p>
            <RunProgress demo run=Signal::derive(move || current.get().map(|(_, id)| id)) />
            <Notices demo />
            <RunsChart demo runs=lines total_steps choice_label="Chart" line="chosen cell" initial=Measure::HeldOut />
        </section>
    }
}

/// A cell's figures: its held-out loss (with `passes_and_drift`, its drift and passes too) and task metric, and
/// whose run they come from.
#[component]
fn CellFigures(shown: Signal<Option<Shown>>, passes_and_drift: bool) -> impl IntoView {
    move || {
        shown.get().map(|shown| {
            let loss = shown.held_out_loss().map_or_else(|| "–".to_string(), |loss| format!("{loss:.3}"));
            let task = shown.task.as_ref().map(|task| format!("{} of {}", task.passed, task.total));
            let more = passes_and_drift.then(|| {
                let drift = shown.drift().map_or_else(|| "–".to_string(), |drift| format!("drift {drift:.3}"));
                let passes = shown.passes.map_or_else(|| "…".to_string(), |p| format!("{p:.1} passes"));
                view! {
                    <span class="sweep-drift">{drift}</span>
                    <span class="sweep-passes">{passes}</span>
                }
            });
            view! {
                <span class="sweep-loss">{loss}</span>
                {more}
                {task.map(|task| view! { <span class="sweep-task">{task}</span> })}
                <span class="sweep-source">{if shown.recorded { "recorded" } else { "yours" }}</span>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::TrainSettings;

    fn step(step: usize, eval_loss: Option<f64>) -> StepMetrics {
        StepMetrics {
            step,
            loss: 2.0,
            eval_loss,
            reference_eval_loss: None,
            learning_rate: 0.01,
            grad_norm: 1.0,
            tokens_per_second: 100.0,
            elapsed_seconds: step as f64,
            trainable_params: 1,
            total_params: 2,
            rewards: None,
            eval_rewards: None,
        }
    }

    #[test]
    fn a_cell_shows_the_learners_run_once_it_has_a_step_else_the_recording() {
        let recorded = RecordedRun {
            settings: TrainSettings::default(),
            training_sequences: 10,
            metrics: vec![step(1, Some(3.0)), step(2, None)],
            task: None,
            base_sample: String::new(),
            tuned_sample: String::new(),
            base_checked: Vec::new(),
            tuned_checked: Vec::new(),
        };
        let shown_recorded = shown(None, Some(&recorded)).unwrap();
        assert!(shown_recorded.recorded);
        assert_eq!(shown_recorded.passes, Some(48.0), "60 steps of 8 pieces over 10 pieces");
        assert_eq!(shown_recorded.held_out_loss(), Some(3.0), "the last step that measured it");

        let mut state = RunState::new("pip.jsonl");
        state.start(7, TrainSettings::default());
        let starting = state.run(7);
        assert!(shown(starting, Some(&recorded)).unwrap().recorded, "no step yet: the recording stays");
        assert_eq!(shown(starting, None), None);
        state.runs[0].metrics.push(step(1, Some(2.5)));
        let own = shown(state.run(7), Some(&recorded)).unwrap();
        assert!(!own.recorded);
        assert_eq!(own.held_out_loss(), Some(2.5));
    }
}
