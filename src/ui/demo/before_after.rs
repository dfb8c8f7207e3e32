//! A run before and after: the held-out loss and its perplexity at the run's first evaluation and at its last, the
//! drift from the base model, and the task check for the base model and the tuned one, each with its 95% interval.
//! The demo's latest run, or the recorded one until the learner has one.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::table::ScrollingTable;
use crate::evaluation::wilson;
use crate::protocol::{RecordedRun, StepMetrics, TaskScore};

/// One measure's row: its name, before, after.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    measure: String,
    before: String,
    after: String,
}

/// "7 of 8 (53–98%)": a count with its 95% interval.
fn passes(passed: usize, total: usize) -> String {
    let interval = wilson(passed, total);
    format!("{passed} of {total} ({:.0}–{:.0}%)", 100.0 * interval.low, 100.0 * interval.high)
}

/// The rows for a run's `metrics` and `task`, and the steps of its first and last evaluations.
fn rows(metrics: &[StepMetrics], task: Option<&TaskScore>) -> (Vec<Row>, Option<(usize, usize)>) {
    let evaluated: Vec<&StepMetrics> = metrics.iter().filter(|m| m.eval_loss.is_some()).collect();
    let mut rows = Vec::new();
    let mut steps = None;
    if let (Some(first), Some(last)) = (evaluated.first(), evaluated.last()) {
        steps = Some((first.step, last.step));
        let pair = |read: fn(&StepMetrics) -> Option<f64>, shown: fn(f64) -> String| {
            (read(first).map_or("–".into(), shown), read(last).map_or("–".into(), shown))
        };
        let (before, after) = pair(|m| m.eval_loss, |l| format!("{l:.3}"));
        rows.push(Row { measure: "Held-out loss".into(), before, after });
        let (before, after) = pair(|m| m.eval_loss, |l| format!("{:.2}", l.exp()));
        rows.push(Row { measure: "Perplexity (e to the held-out loss)".into(), before, after });
        if first.reference_eval_loss.is_some() {
            let (before, after) = pair(|m| m.reference_eval_loss, |l| format!("{l:.3}"));
            rows.push(Row { measure: "Drift: loss on the base model's own stories".into(), before, after });
        }
    }
    if let Some(task) = task {
        rows.push(Row {
            measure: format!("{} (base model, then tuned)", task.name),
            before: passes(task.base_passed, task.total),
            after: passes(task.passed, task.total),
        });
    }
    (rows, steps)
}

#[component]
pub fn BeforeAfter(demo: LiveDemo, #[prop(into)] recorded: Signal<Option<RecordedRun>>) -> impl IntoView {
    let state = demo.state;
    // The latest finished run's, else the recording's.
    let shown = Memo::new(move |_| {
        let own = state.with(|s| {
            s.latest_run().filter(|run| !run.in_progress()).map(|run| (run.metrics.clone(), run.task.clone(), false))
        });
        own.or_else(|| recorded.with(|r| r.as_ref().map(|r| (r.metrics.clone(), r.task.clone(), true))))
    });
    let caption_id = demo.id("before-after-caption");
    move || {
        shown.get().map(|(metrics, task, is_recorded)| {
            let (rows, steps) = rows(&metrics, task.as_ref());
            let whose = if is_recorded { "The recorded run" } else { "Your run" };
            let caption = match steps {
                Some((first, last)) => {
                    format!("{whose} before and after: losses at its first evaluation (step {first}) and its last (step {last})")
                }
                None => format!("{whose} before and after"),
            };
            view! {
                <ScrollingTable caption_id=caption_id.clone() caption=move || caption.clone()>
                    <thead>
                        <tr>
                            <th scope="col">"Measure"</th>
                            <th scope="col">"Before"</th>
                            <th scope="col">"After"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! {
                            <tr>
                                <th scope="row" class="demo-table-text">{row.measure}</th>
                                <td>{row.before}</td>
                                <td>{row.after}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </ScrollingTable>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::run_state::tests::metrics;

    fn step(step: usize, eval_loss: Option<f64>, drift: Option<f64>) -> StepMetrics {
        StepMetrics { eval_loss, reference_eval_loss: drift, ..metrics(step, 1.0) }
    }

    #[test]
    fn before_is_the_first_evaluation_and_after_the_last_with_the_task_checks_intervals() {
        let metrics = [step(1, Some(2.198), Some(1.569)), step(2, None, None), step(60, Some(1.346), Some(2.042))];
        let task = TaskScore { name: "Pip rate".into(), passed: 7, base_passed: 0, total: 8 };
        let (rows, steps) = rows(&metrics, Some(&task));
        assert_eq!(steps, Some((1, 60)));
        let cells: Vec<(&str, &str)> = rows.iter().map(|r| (r.before.as_str(), r.after.as_str())).collect();
        // e^2.198 = 9.007, e^1.346 = 3.842; Wilson's 95% interval for 0 of 8 is 0–32%, for 7 of 8 53–98%.
        assert_eq!(
            cells,
            [("2.198", "1.346"), ("9.01", "3.84"), ("1.569", "2.042"), ("0 of 8 (0–32%)", "7 of 8 (53–98%)")]
        );
        assert_eq!(rows[3].measure, "Pip rate (base model, then tuned)");
    }

    #[test]
    fn a_run_without_evaluations_or_check_has_no_rows() {
        let (rows, steps) = rows(&[step(1, None, None)], None);
        assert!(rows.is_empty() && steps.is_none());
    }
}
