//! Ways to the instruction data set's goal side by side, every way scored by the data set's task check over the
//! same requests and seeds ([`crate::approach`]): a [`Lineup`] of four ways on the same base model (lesson
//! “Prompt, retrieve, or fine-tune”), or the instruction adapter asked in three templates (lesson “Data: formats,
//! templates and the loss mask”). The worker writes the samples; the page tallies them. Until the learner runs
//! it, the comparison recorded when the site was built (`tinytune compare`, every way) is shown, labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::instruction_adapter::INSTRUCTION_ADAPTER_URL;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::format_count;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::{INSTRUCTIONS, STORIES_MODEL_URL};
use crate::approach::{tally, Approach, ApproachSample, Lineup, Tally, ROUNDS};
use crate::task::TaskCheck;

/// What each way writes in front of the request, in words.
fn reads(approach: Approach) -> &'static str {
    match approach {
        Approach::Plain => "The request, nothing else",
        Approach::WorkedExample => "One request and its story from the data set, then the request",
        Approach::Retrieved => "The two training examples most like the request, then the request",
        Approach::Adapter => "The request, nothing else, through the adapter",
        Approach::AdapterChatLabels => "“User:”, the request, “Assistant:”, through the adapter",
        Approach::AdapterAlpaca => {
            "“### Instruction:”, the request, “### Response:”, on lines of their own, through the adapter"
        }
    }
}

/// What the page says of a lineup: its heading, the ways it sets side by side, and its button.
struct Words {
    title: &'static str,
    ways: &'static str,
    button: &'static str,
}

fn words(lineup: Lineup) -> Words {
    match lineup {
        Lineup::Approaches => Words {
            title: "Try it: four ways to the same goal",
            ways: "four ways, all on the same base model",
            button: "Score the four ways",
        },
        Lineup::Templates => Words {
            title: "Try it: the adapter asked in three templates",
            ways: "through the instruction adapter asked three ways: as it trained, and in two templates it never saw",
            button: "Score the three templates",
        },
    }
}

#[component]
pub fn ApproachesDemo(lineup: Lineup) -> impl IntoView {
    let instructions = &INSTRUCTIONS;
    let ways = lineup.ways();
    let Words { title, ways: ways_text, button } = words(lineup);
    let name = match lineup {
        Lineup::Approaches => "approaches",
        Lineup::Templates => "templates",
    };
    let demo = LiveDemo::new(name, STORIES_MODEL_URL, &instructions.url());
    let state = demo.state;
    demo.load();
    demo.use_shipped_adapter(INSTRUCTION_ADAPTER_URL);
    let recorded = RwSignal::new(None::<Vec<ApproachSample>>);
    fetch_json(format!("{INSTRUCTION_ADAPTER_URL}compared.json"), recorded);
    let check = RwSignal::new(None::<TaskCheck>);
    fetch_json(TaskCheck::url_beside(&instructions.url()), check);

    let per_approach = move || check.with(|c| c.as_ref().map(|c| c.samples.len() * ROUNDS));
    let total = move || per_approach().map(|n| n * ways.len());
    let own = move || state.with(|s| s.comparison.clone());
    // Asked for, not cut short, and not all written yet.
    let comparing = move || own().is_some_and(|c| !c.cut_short && Some(c.samples.len()) != total());
    let can_compare = move || state.with(|s| s.loaded_adapter().is_some() && s.dataset.is_some()) && !comparing();
    let start = move |_| {
        if let Some(run) = state.with_untracked(|s| s.loaded_adapter()) {
            demo.compare(run, lineup);
        }
    };
    // The learner's samples once they asked, the recorded ones of this lineup's ways until then.
    let shown = move || match own() {
        Some(comparing) => (comparing.samples, false),
        None => {
            let mut samples = recorded.get().unwrap_or_default();
            samples.retain(|s| ways.contains(&s.approach));
            (samples, true)
        }
    };

    let caption = demo.id("caption");
    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>{title}</h3>
            <p>
                "The goal: a story that names the animal and the place the request asks for, for the eight requests \
                 the data set holds out, reached "
                {ways_text}
                ". Each way writes "
                {move || per_approach().map(format_count)}
                " samples (each request three times, with the same seeds for every way), judged like the task check: \
                 does what the model wrote name both?"
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <p class="demo-actions">
                <button type="button" on:click=start disabled=move || !can_compare()>{button}</button>
                {move || (state.with(|s| s.model.is_some()) && state.with(|s| s.loaded_adapter().is_none())).then(|| {
                    view! { <span class="hint">" Loading the instruction adapter…"</span> }
                })}
            </p>
            <p class="demo-status" role="status">
                {move || own().zip(total()).map(|(comparing, total)| {
                    let done = comparing.samples.len();
                    if comparing.cut_short {
                        format!("Stopped after {done} of {total} samples: press the button to start again.")
                    } else if done == total {
                        format!("Done: {total} samples written and judged.")
                    } else {
                        format!("Writing sample {} of {total}…", done + 1)
                    }
                })}
            </p>
            {move || {
                let (done, total) = (own().map_or(0, |c| c.samples.len()), total().unwrap_or(0));
                comparing().then(|| view! {
                    <progress max=total.to_string() value=done.to_string() aria-label="Samples written"></progress>
                })
            }}
            <Notices demo />
            {move || (own().is_none() && recorded.with(Option::is_some)).then(|| view! {
                <p class="demo-recorded">
                    <strong>"Recorded"</strong>
                    {format!(" when this site was built, with the same model, adapter, requests and seeds. Press \
                              “{button}” to write your own.")}
                </p>
            })}
            <ScrollingTable caption_id=caption.clone() caption=move || if shown().1 { "The recorded comparison" } else { "Your comparison" }>
                <thead>
                    <tr>
                        <th scope="col">"Way"</th>
                        <th scope="col">"What the model reads"</th>
                        <th scope="col">"Tokens read per request"</th>
                        <th scope="col">"Named both"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let per_approach = per_approach().unwrap_or(0);
                        tally(ways, &shown().0).into_iter().map(|t| view! { <TallyRow tally=t per_approach /> })
                            .collect_view()
                    }}
                </tbody>
            </ScrollingTable>
            {move || {
                let samples = shown().0;
                ways.iter().map(|&approach| {
                    let mine: Vec<ApproachSample> =
                        samples.iter().filter(|s| s.approach == approach).cloned().collect();
                    (!mine.is_empty()).then(|| view! { <SampleList approach samples=mine /> })
                }).collect_view()
            }}
        </section>
    }
}

#[component]
fn TallyRow(tally: Tally, per_approach: usize) -> impl IntoView {
    let tokens = tally.mean_prompt_tokens().map_or_else(|| "–".to_string(), |t| format!("{t:.0}"));
    let named = if tally.written < per_approach && tally.written > 0 {
        format!("{} of {} so far", tally.passed, tally.written)
    } else {
        format!("{} of {}", tally.passed, per_approach)
    };
    view! {
        <tr>
            <th scope="row">{tally.approach.title()}</th>
            <td class="demo-table-text">{reads(tally.approach)}</td>
            <td>{tokens}</td>
            <td>{named}</td>
        </tr>
    }
}

/// Every sample of one way: the request, what was in front of it, what the model wrote, and the verdict.
#[component]
fn SampleList(approach: Approach, samples: Vec<ApproachSample>) -> impl IntoView {
    let passed = samples.iter().filter(|s| s.sample.passed).count();
    view! {
        <details class="demo-sample-list">
            <summary>{format!("{}: the {} samples ({passed} name both)", approach.title(), samples.len())}</summary>
            <ol>
                {samples.into_iter().map(|s| view! {
                    <li>
                        <p class="demo-sample-text">
                            <span class="demo-prompt">{s.sample.prompt.clone()}</span>
                            " "
                            <span class="demo-continuation">{s.sample.text.trim_start().to_string()}</span>
                        </p>
                        {(!s.in_front.is_empty()).then(|| view! {
                            <p class="hint">{format!("In front: {}", s.in_front.join(" · "))}</p>
                        })}
                        <p class="demo-verdict">
                            {if s.sample.passed { "✓ Names both." } else { "✗ Does not name both." }}
                        </p>
                    </li>
                }).collect_view()}
            </ol>
        </details>
    }
}
