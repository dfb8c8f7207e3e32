//! The problems of the data set, grouped by kind, each with its line and what to do, and the learner's choice for
//! it: show (and fix) the example, keep it, or drop it; for a whole kind at once, keep or drop them all.

use leptos::prelude::*;

use super::Studio;
use crate::protocol::{Decision, KindCount, ProblemRow, ToWorker, PROBLEMS_PER_KIND};
use crate::ui::demo::numbers::format_count;

/// "line 12, field `response`, column 4".
fn place(row: &ProblemRow) -> String {
    let mut place = format!("Line {}", row.at.line);
    if let Some(field) = &row.at.problem.field {
        place.push_str(&format!(", field `{field}`"));
    }
    if let Some(column) = row.at.problem.column {
        place.push_str(&format!(", column {column}"));
    }
    place
}

#[component]
pub fn Problems(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let kinds = move || state.with(|s| s.report.as_ref().map(|r| r.kinds.clone()).unwrap_or_default());
    let title = studio.id("problems-title");
    view! {
        <section class="studio-problems" aria-labelledby=title.clone()>
            <h2 id=title.clone()>"Problems"</h2>
            <p class="hint">
                "Nothing is dropped without you: examples that cannot be read stay out of training until you fix or "
                "drop them; the rest are trained on unless you drop them."
            </p>
            <Show when=move || kinds().is_empty()>
                <p>"No problems found."</p>
            </Show>
            <For each=kinds key=|count| (count.kind, count.total, count.open) let:count>
                <KindGroup studio count />
            </For>
            <Dropped studio />
        </section>
    }
}

/// The dropped entries, each with Undo.
#[component]
fn Dropped(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let dropped =
        move || state.with(|s| s.report.as_ref().map_or((0, Vec::new()), |r| (r.dropped, r.dropped_entries.clone())));
    let title = studio.id("dropped-title");
    move || {
        let (count, entries) = dropped();
        (count > 0).then(|| view! {
            <section class="problem-kind" aria-labelledby=title.clone()>
                <h3 id=title.clone()>{format!("Dropped ({})", format_count(count))}</h3>
                <ul class="problem-list">
                    {entries.into_iter().map(|(entry, line)| view! {
                        <li class="problem decided">
                            {format!("Line {line} is left out of training and downloads. ")}
                            <button type="button" class="secondary" on:click=move |_| studio.show(line)>{format!("Show line {line}")}</button>
                            <button type="button" class="secondary" on:click=move |_| studio.send(&ToWorker::StudioDecide { entries: vec![entry], decision: Decision::Undecided })>
                                {format!("Undo dropping line {line}")}
                            </button>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

#[component]
fn KindGroup(studio: Studio, count: KindCount) -> impl IntoView {
    let state = studio.state;
    let KindCount { kind, total, open } = count;
    let rows = move || {
        state.with(|s| {
            s.report
                .as_ref()
                .map_or(Vec::new(), |r| r.problems.iter().filter(|p| p.at.problem.kind == kind).cloned().collect())
        })
    };
    let decide_all = move |decision: Decision| studio.send(&ToWorker::StudioDecideKind { kind, decision });
    let title = studio.id(&format!("kind-{kind:?}"));
    let blocks = kind.blocks_training();
    view! {
        <section class="problem-kind" aria-labelledby=title.clone()>
            <h3 id=title.clone()>{format!("{} ({} · {} undecided)", kind.title(), format_count(total), format_count(open))}</h3>
            {(total > PROBLEMS_PER_KIND).then(|| view! {
                <p class="hint">{format!("The first {PROBLEMS_PER_KIND} are listed; the buttons below act on all {}.", format_count(total))}</p>
            })}
            <p class="problem-actions">
                <button type="button" class="secondary" disabled=open == 0 on:click=move |_| decide_all(Decision::Drop)>
                    {format!("Drop all {} undecided", format_count(open))}
                </button>
                {(!blocks).then(|| view! {
                    " "
                    <button type="button" class="secondary" disabled=open == 0 on:click=move |_| decide_all(Decision::Keep)>
                        {format!("Keep all {} undecided", format_count(open))}
                    </button>
                })}
            </p>
            <ul class="problem-list">
                <For each=rows key=|row| (row.at.entry, row.at.problem.message.clone(), row.decision) let:row>
                    <ProblemItem studio row blocks />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn ProblemItem(studio: Studio, row: ProblemRow, blocks: bool) -> impl IntoView {
    let entry = row.at.entry;
    let decide = move |decision: Decision| studio.send(&ToWorker::StudioDecide { entries: vec![entry], decision });
    // Dropped entries are listed apart (see `Dropped`), so a decided problem here is a kept one.
    let decided = (row.decision == Decision::Keep).then_some("Kept");
    view! {
        <li class="problem" class:decided=decided.is_some()>
            <span class="problem-place">{place(&row)}</span>
            {row.edited.then_some(" (edited)")}
            ": "
            <span class="problem-message">{row.at.problem.message.clone()}</span>
            <span class="problem-buttons">
                <button type="button" class="secondary" on:click=move |_| studio.show(row.at.line)>{format!("Show line {}", row.at.line)}</button>
                {match decided {
                    Some(label) => view! {
                        <span class="problem-decision">{label}</span>
                        <button type="button" class="secondary" on:click=move |_| decide(Decision::Undecided)>{format!("Undo keeping line {}", row.at.line)}</button>
                    }.into_any(),
                    None => view! {
                        {(!blocks).then(|| view! { <button type="button" class="secondary" on:click=move |_| decide(Decision::Keep)>{format!("Keep line {}", row.at.line)}</button> })}
                        <button type="button" class="secondary" on:click=move |_| decide(Decision::Drop)>{format!("Drop line {}", row.at.line)}</button>
                    }.into_any(),
                }}
            </span>
        </li>
    }
}
