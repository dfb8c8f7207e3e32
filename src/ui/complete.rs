//! The completion page: how far the learner got, then a recap to keep or print: their quiz scores, each prediction
//! against what the lesson's recorded run showed, and the runs this browser kept (the capstone's and the
//! playground's). Shown at any point of the course; the heading says whether it is finished.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::demo::numbers::count_of;
use super::demo::{DatasetChoice, ScrollingTable};
use super::progress_store::use_progress;
use super::run_journal::Journal;
use super::run_state::SavedRun;
use super::{course, site};

/// A kept run as its row shows it: the data set, steps, held-out loss at the first and last evaluation, the task.
fn run_cells(run: &SavedRun) -> [String; 4] {
    let dataset = match DatasetChoice::by_file(&run.dataset) {
        Some(choice) => choice.title.to_string(),
        None if run.dataset.is_empty() => "Your data set (from the data studio)".to_string(),
        None => run.dataset.clone(),
    };
    let steps = run.metrics.last().map_or(0, |m| m.step);
    let evals: Vec<f64> = run.metrics.iter().filter_map(|m| m.eval_loss).collect();
    let held_out = match (evals.first(), evals.last()) {
        (Some(first), Some(last)) => format!("{first:.3} → {last:.3}"),
        _ => "–".into(),
    };
    let task = run.task.as_ref().map_or("–".to_string(), |t| {
        format!("{}: {} of {} (base model: {})", t.name, t.passed, t.total, t.base_passed)
    });
    [dataset, count_of(steps, "step"), held_out, task]
}

#[component]
pub fn CompletionPage() -> impl IntoView {
    let store = use_progress();
    let total = course().lessons().count();
    let remaining = move || total - store.completed_lessons(course());
    let recap = Memo::new(move |_| {
        store
            .recap(course())
            .into_iter()
            .map(|r| {
                (
                    r.lesson.slug.clone(),
                    r.lesson.title.clone(),
                    r.right,
                    r.questions,
                    r.guesses.iter().map(|(p, g)| ((*p).clone(), *g)).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    });
    let runs: Vec<(Journal, SavedRun)> = Journal::ALL
        .into_iter()
        .flat_map(|journal| journal.load().into_iter().map(move |run| (journal, run)))
        .collect();
    let print = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let score = move || {
        recap.with(|lessons| {
            let (right, questions) = lessons.iter().fold((0, 0), |(r, q), l| (r + l.2, q + l.3));
            format!("{right} of {questions} questions answered right, over {total} lessons.")
        })
    };
    let guessed = move || {
        recap.with(|lessons| {
            let guesses: Vec<(usize, Option<usize>)> =
                lessons.iter().flat_map(|l| l.4.iter().map(|(p, g)| (p.outcome, *g))).collect();
            let made = guesses.iter().filter(|(_, g)| g.is_some()).count();
            let matched = guesses.iter().filter(|(outcome, g)| *g == Some(*outcome)).count();
            format!(
                "You committed to {made} of {} predictions; {matched} matched what the recorded run showed.",
                guesses.len()
            )
        })
    };
    view! {
        <Title text="Your course recap · Tinytune" />
        {move || if remaining() == 0 {
            view! {
                <h1 tabindex="-1" node_ref=super::focus_on_mount()>"You finished the course"</h1>
                <p>{format!("You passed the quiz of every one of the {total} lessons in “{}”.", course().title)}</p>
            }.into_any()
        } else {
            view! {
                <h1 tabindex="-1" node_ref=super::focus_on_mount()>"Your course so far"</h1>
                <p>
                    {format!("{} of {total} still to complete. ", count_of(remaining(), "lesson"))}
                    <A href=site::href("/")>"See which lessons are left"</A>
                </p>
            }.into_any()
        }}
        <p><button type="button" on:click=print>"Print this recap"</button></p>

        <h2>"Quiz scores"</h2>
        <p>{score}</p>
        <ScrollingTable caption_id="recap-scores-caption".to_string() caption=|| "Each lesson's quiz: questions whose last answer was right">
            <thead>
                <tr>
                    <th scope="col">"Lesson"</th>
                    <th scope="col">"Right"</th>
                </tr>
            </thead>
            <tbody>
                {move || recap.get().into_iter().map(|(slug, title, right, questions, _)| view! {
                    <tr>
                        <th scope="row"><A href=site::href(&format!("/learn/{slug}"))>{title}</A></th>
                        <td>{format!("{right} of {questions}")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </ScrollingTable>

        <h2>"Your predictions"</h2>
        <p>{guessed}</p>
        <ScrollingTable caption_id="recap-predictions-caption".to_string() caption=|| "Each prediction: your guess, and what the lesson's recorded run showed">
            <thead>
                <tr>
                    <th scope="col">"Prediction"</th>
                    <th scope="col">"Your guess"</th>
                    <th scope="col">"The recorded run showed"</th>
                </tr>
            </thead>
            <tbody>
                {move || recap.get().into_iter().flat_map(|(_, title, _, _, guesses)| guesses.into_iter().map(move |(prediction, guess)| {
                    let guess_html = guess.and_then(|g| prediction.choices_html.get(g).cloned());
                    let mark = match guess {
                        Some(g) if g == prediction.outcome => "✓ ",
                        Some(_) => "✗ ",
                        None => "",
                    };
                    view! {
                        <tr>
                            <th scope="row" class="demo-table-text">
                                <span class="recap-lesson">{format!("{title}: ")}</span>
                                <span inner_html=prediction.question_html.clone()></span>
                            </th>
                            <td>
                                {mark}
                                {match guess_html {
                                    Some(html) => view! { <span inner_html=html></span> }.into_any(),
                                    None => view! { <span>"Not made"</span> }.into_any(),
                                }}
                            </td>
                            <td inner_html=prediction.choices_html.get(prediction.outcome).cloned().unwrap_or_default()></td>
                        </tr>
                    }
                })).collect_view()}
            </tbody>
        </ScrollingTable>

        <h2>"Your runs"</h2>
        {if runs.is_empty() {
            view! {
                <p>
                    "No runs are kept in this browser yet. Runs you finish in the capstone and the "
                    <A href=site::href("/playground")>"playground"</A>
                    " are listed here."
                </p>
            }.into_any()
        } else {
            view! {
                <ScrollingTable caption_id="recap-runs-caption".to_string() caption=|| "The runs this browser kept: the capstone's and the playground's">
                    <thead>
                        <tr>
                            <th scope="col">"Run"</th>
                            <th scope="col">"Data set"</th>
                            <th scope="col">"Steps"</th>
                            <th scope="col">"Held-out loss, first → last"</th>
                            <th scope="col">"Task check"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {runs.iter().map(|(journal, run)| {
                            let [dataset, steps, held_out, task] = run_cells(run);
                            view! {
                                <tr>
                                    <th scope="row" class="demo-table-text">{format!("{} · {}", journal.title(), run.name)}</th>
                                    <td>{dataset}</td>
                                    <td>{steps}</td>
                                    <td>{held_out}</td>
                                    <td>{task}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </ScrollingTable>
            }.into_any()
        }}
        <p><A href=site::href("/")>"Back to the course home"</A></p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{FinishReason, StepMetrics, TaskScore, TrainSettings};
    use crate::ui::run_state::tests::metrics;

    #[test]
    fn a_kept_run_reads_as_its_data_steps_held_out_loss_and_task() {
        let step = |step, eval_loss| StepMetrics { eval_loss, ..metrics(step, 1.0) };
        let run = SavedRun {
            name: "Run 1".into(),
            dataset: "pip-the-purple-robot.jsonl".into(),
            settings: TrainSettings::default(),
            reason: FinishReason::Completed,
            metrics: vec![step(1, Some(2.1984)), step(2, None), step(60, Some(1.3461))],
            task: Some(TaskScore { name: "Pip rate".into(), passed: 7, base_passed: 0, total: 8 }),
        };
        assert_eq!(
            run_cells(&run),
            [
                "Pip the purple robot (style)".to_string(),
                "60 steps".into(),
                "2.198 → 1.346".into(),
                "Pip rate: 7 of 8 (base model: 0)".into()
            ]
        );
        let own = SavedRun { dataset: String::new(), metrics: vec![], task: None, ..run };
        assert_eq!(
            run_cells(&own),
            ["Your data set (from the data studio)".to_string(), "0 steps".into(), "–".into(), "–".into()]
        );
    }
}
