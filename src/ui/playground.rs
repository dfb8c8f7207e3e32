//! The hyperparameter playground (`/playground`): every setting a LoRA user expects, runs kept and overlaid on one
//! chart, a list of what sets the runs apart, and the settings in the address so a copied link repeats a run (the
//! same seed gives the same loss rows on the same backend). Finished runs are kept in the browser's storage.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use super::demo::numbers::format_count;
use super::demo::{
    save_file, BackendLine, Controls, DatasetChoice, DatasetSelect, LiveDemo, LoadingProgress, Measure, Notices,
    OpenAdapter, Presets, ResumeOffer, RunItBigger, RunProgress, RunsChart, Samples, SettingProblems, TaskResult,
    TrainingForm, DATA_KEY, STORIES_MODEL_URL,
};
use super::run_journal::Journal;
use super::run_state::{runs_csv, Run};
use super::{embed, site};
use crate::protocol::{RunId, TrainSettings};

/// Runs on the chart at most; the oldest finished run makes way for a new one.
const MAX_RUNS: usize = 8;

/// The playground's address query: the settings, then the data set.
pub fn query(settings: &TrainSettings, dataset: &DatasetChoice) -> String {
    format!("{}&{DATA_KEY}={}", settings.to_query(), dataset.key)
}

#[component]
pub fn PlaygroundPage() -> impl IntoView {
    let location = use_location();
    let search = location.search.get_untracked();
    let (initial, mut problems) = TrainSettings::from_query(&search);
    let (initial_dataset, dataset_problem) = DatasetChoice::from_query(&search);
    problems.extend(dataset_problem);
    let form_settings = RwSignal::new(initial.clone());
    let dataset = RwSignal::new(initial_dataset);
    let demo = LiveDemo::new("playground", STORIES_MODEL_URL, &initial_dataset.url());
    let state = demo.state;
    demo.load();
    // The settings and data set of the latest run, for the link and the embed snippet.
    let shared = RwSignal::new((initial.clone(), initial_dataset));
    let storage_problem = Journal::Playground.keep(demo);

    let train_from = RwSignal::new(None::<RunId>);
    let navigate = use_navigate();
    let start = move |settings: TrainSettings| {
        let query = query(&settings, dataset.get_untracked());
        navigate(
            &format!("/playground?{query}"),
            NavigateOptions { replace: true, scroll: false, ..Default::default() },
        );
        shared.set((settings.clone(), dataset.get_untracked()));
        // Room for the new run: the oldest finished one goes.
        state.update(|s| {
            while s.runs.len() >= MAX_RUNS {
                match s.runs.iter().find(|run| !run.in_progress()).map(|run| run.id) {
                    Some(oldest) => s.remove(oldest),
                    None => break,
                }
            }
        });
        demo.start_from(settings, train_from.get_untracked());
    };
    let latest_run = demo.latest_run();
    let runs = Signal::derive(move || {
        state.with(|s| s.runs.iter().map(|run| (run.name.clone(), run.metrics.clone())).collect::<Vec<_>>())
    });
    let total_steps =
        Signal::derive(move || state.with(|s| s.runs.iter().map(|r| r.settings.steps).max().unwrap_or(0)));

    view! {
        <Title text="Playground · Tinytune" />
        <h1 tabindex="-1" node_ref=super::focus_on_mount()>"Playground"</h1>
        <p>
            "Every setting of a LoRA run, on a real model in this tab. Change one thing at a time, train, and compare "
            "the runs on one chart. The address holds the settings: copy it to share a run."
        </p>
        <SettingProblems problems />
        <section class="demo playground" aria-labelledby=demo.id("title")>
            <h2 class="visually-hidden" id=demo.id("title")>"Training runs"</h2>
            <div class="playground-controls">
                <LoadingProgress demo />
                <BackendLine demo />
                <Presets demo settings=form_settings />
                <DatasetSelect demo dataset />
                <TrainingForm
                    demo
                    controls=Controls::All
                    initial=form_settings
                    locked=demo.locked()
                    on_train=start
                />
                <OpenAdapter
                    demo
                    train_from
                    on_train_from=move |adapter: TrainSettings| form_settings.update(|settings| {
                        settings.method = adapter.method;
                        settings.lora_rank = adapter.lora_rank;
                        settings.lora_alpha = adapter.lora_alpha;
                        settings.lora_targets = adapter.lora_targets;
                        settings.use_rslora = adapter.use_rslora;
                    })
                />
                <CopyField
                    id=demo.id("link")
                    label="Link to these settings"
                    value=Signal::derive(move || shared.with(|(settings, data)| site::url(&format!("/playground?{}", query(settings, data)))))
                />
                <CopyField
                    id=demo.id("embed")
                    label="Embed these settings in your docs"
                    value=Signal::derive(move || shared.with(|(settings, data)| embed::snippet(settings, data)))
                    multiline=true
                />
            </div>
            <div class="playground-results">
                <RunProgress demo run=latest_run />
                <ResumeOffer demo />
                <Notices demo />
                {move || storage_problem.get().map(|message| view! { <p class="demo-alert" role="alert">"⚠ " {message}</p> })}
                <RunsChart demo runs total_steps choice_label="Compare the runs by" line="run" initial=Measure::Training />
                <RunList demo />
                <TaskResult demo run=latest_run />
                <Samples demo run=latest_run />
                <RunItBigger demo settings=Signal::derive(move || shared.with(|(settings, _)| settings.clone())) />
            </div>
        </section>
    }
}

/// A read-only field with a Copy button; the text is also selected on focus, for copying by hand where the
/// browser keeps the clipboard from the page (an address that is not https or localhost).
#[component]
fn CopyField(
    id: String,
    label: &'static str,
    value: Signal<String>,
    #[prop(optional)] multiline: bool,
) -> impl IntoView {
    let select_all = |ev: leptos::ev::FocusEvent| {
        use wasm_bindgen::JsCast;
        let target = ev.target();
        if let Some(input) = target.as_ref().and_then(|t| t.dyn_ref::<web_sys::HtmlInputElement>()) {
            input.select();
        } else if let Some(area) = target.as_ref().and_then(|t| t.dyn_ref::<web_sys::HtmlTextAreaElement>()) {
            area.select();
        }
    };
    let copied = RwSignal::new(String::new());
    // A new value makes an old "Copied" untrue.
    Effect::new(move |_| {
        value.track();
        copied.set(String::new());
    });
    let copy = move |_| {
        let text = value.get_untracked();
        let Some(window) = web_sys::window() else { return };
        let clipboard = window.navigator().clipboard();
        let written = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text));
        leptos::task::spawn_local(async move {
            copied.set(match written.await {
                Ok(_) => "Copied.".into(),
                Err(_) => "This browser keeps the clipboard from the page: select the text and copy it.".into(),
            });
        });
    };
    let status_id = format!("{id}-copied");
    let field = if multiline {
        view! { <textarea id=id.clone() rows="6" readonly prop:value=value on:focus=select_all></textarea> }.into_any()
    } else {
        view! { <input id=id.clone() type="text" readonly prop:value=value on:focus=select_all /> }.into_any()
    };
    view! {
        <div class="field copy-field">
            <label for=id>{label}</label>
            {field}
            <p>
                <button type="button" class="secondary" on:click=copy aria-describedby=status_id.clone()>"Copy"</button>
                " "
                <span id=status_id role="status">{move || copied.get()}</span>
            </p>
        </div>
    }
}

/// The runs, what sets each apart from the first, their final losses, and rename, delete and export.
#[component]
fn RunList(demo: LiveDemo) -> impl IntoView {
    let state = demo.state;
    let link = NodeRef::<leptos::html::A>::new();
    let rows = move || {
        state.with(|s| {
            let Some(first) = s.runs.first() else { return Vec::new() };
            s.runs.iter().map(|run| Row::of(run, first, s.dataset.as_ref())).collect::<Vec<_>>()
        })
    };
    let export = move |name: &str, mime: &str, text: String| {
        if let Some(link) = link.get_untracked() {
            if save_file(&link, name, mime, text.as_bytes()).is_err() {
                state.update(|s| s.problem = Some(format!("The browser would not save {name}.")));
            }
        }
    };
    let caption_id = demo.id("runs-caption");
    let table_labelled_by = caption_id.clone();
    let loss = |value: Option<f64>| value.map_or("–".to_string(), |v| format!("{v:.4}"));

    view! {
        <section class="run-list" aria-labelledby=caption_id.clone()>
            <h3 id=caption_id.clone()>"Runs"</h3>
            <Show when=move || state.with(|s| !s.runs.is_empty()) fallback=|| view! { <p class="hint">"Runs appear here as you train."</p> }>
                <div class="demo-table" role="region" tabindex="0" aria-labelledby=table_labelled_by.clone()>
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">"Run"</th>
                                <th scope="col">"Differs from the first run in"</th>
                                <th scope="col">"Steps"</th>
                                <th scope="col">"Final training loss"</th>
                                <th scope="col">"Last held-out loss"</th>
                                <th scope="col">"Task metric (base model)"</th>
                                <th scope="col">"Remove"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=rows key=|row| (row.id, row.name.clone(), row.finished, row.steps, row.task.clone()) let:row>
                                <RunRow demo row loss />
                            </For>
                        </tbody>
                    </table>
                </div>
                <p class="run-exports">
                    <button type="button" class="secondary" on:click=move |_| export("tinytune-runs.csv", "text/csv", runs_csv(&state.with_untracked(|s| s.saved_runs())))>
                        "Download all runs (CSV)"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| {
                        let json = serde_json::to_string_pretty(&state.with_untracked(|s| s.saved_runs())).unwrap_or_default();
                        export("tinytune-runs.json", "application/json", json)
                    }>
                        "Download all runs (JSON)"
                    </button>
                </p>
            </Show>
            <a node_ref=link hidden></a>
        </section>
    }
}

/// What the run list shows of a run; a row is drawn again when any of it changes.
#[derive(Clone, PartialEq)]
struct Row {
    id: RunId,
    name: String,
    differs: Vec<String>,
    finished: bool,
    steps: usize,
    final_loss: Option<f64>,
    eval_loss: Option<f64>,
    task: String,
}

impl Row {
    fn of(run: &Run, first: &Run, dataset: Option<&crate::protocol::DatasetSummary>) -> Row {
        let mut differs = Vec::new();
        if run.dataset != first.dataset {
            let key = DatasetChoice::by_file(&run.dataset).map_or(run.dataset.as_str(), |d| d.key);
            differs.push(format!("{DATA_KEY}={key}"));
        }
        differs.extend(run.settings.differences(&first.settings));
        let task = match &run.task {
            Some(score) => format!("{}: {}/{} ({})", score.name, score.passed, score.total, score.base_passed),
            None if run.checking(dataset) => "checking…".into(),
            None => "–".into(),
        };
        Row {
            id: run.id,
            name: run.name.clone(),
            differs,
            finished: !run.in_progress(),
            steps: run.latest_step(),
            final_loss: run.metrics.last().map(|m| m.loss),
            eval_loss: run.metrics.iter().rev().find_map(|m| m.eval_loss),
            task,
        }
    }
}

#[component]
fn RunRow(demo: LiveDemo, row: Row, loss: fn(Option<f64>) -> String) -> impl IntoView {
    let Row { id, name, differs, finished, steps, final_loss, eval_loss, task } = row;
    let state = demo.state;
    let name_id = demo.id(&format!("run-{id}-name"));
    view! {
        <tr>
            <th scope="row">
                <label class="visually-hidden" for=name_id.clone()>{format!("Name of {name}")}</label>
                <input
                    id=name_id.clone()
                    type="text"
                    class="run-name"
                    prop:value=name.clone()
                    on:change=move |ev| state.update(|s| s.rename(id, &event_target_value(&ev)))
                />
            </th>
            <td>{if differs.is_empty() { "—".to_string() } else { differs.join(", ") }}</td>
            <td>{format_count(steps)}</td>
            <td>{loss(final_loss)}</td>
            <td>{loss(eval_loss)}</td>
            <td>{task}</td>
            <td>
                <button type="button" class="secondary" disabled=!finished on:click=move |_| state.update(|s| s.remove(id))>
                    {format!("Remove {name}")}
                </button>
            </td>
        </tr>
    }
}
