//! The data studio (`/studio`): the learner brings a data set (a file picked or dropped, or pasted text), sees
//! every problem with its line, decides what to drop, keep or fix, sees each example as the model sees it, splits
//! it, and trains on it in the playground or downloads it clean. The work happens in the trainer worker (reading,
//! checking, tokenizing: `worker::studio`), so the page stays responsive; the page's state changes only through
//! [`state::apply`]. Everything the learner writes is shown as text, never as HTML.

mod bring;
mod entry;
mod lengths;
mod problems;
pub mod state;

use std::rc::Rc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::demo::numbers::{format_bytes, format_count};
use super::demo::{save_file, STORIES_MODEL_URL, STUDIO_DATASET};
use super::site;
use super::trainer_client::{use_trainer, TrainerClient, TrainerState};
use crate::dataset::{Format, Layout};
use crate::protocol::{
    BackendChoice, DownloadPart, FromWorker, Kept, StudioReport, StudioSettings, ToWorker, TrainSettings,
};
use state::{apply, Phase, StudioState};

/// A file sent to be read: its name, format and bytes.
type PendingFile = (String, Format, Rc<Vec<u8>>);

/// The studio's handle for its widgets: its state, the worker, and the learner's last file until the worker has
/// read it (a table may need its columns mapped, and its bytes are sent again with the mapping).
#[derive(Clone, Copy)]
pub struct Studio {
    pub state: RwSignal<StudioState>,
    trainer: TrainerClient,
    pending: StoredValue<Option<PendingFile>, LocalStorage>,
    prefix: StoredValue<String>,
}

impl Studio {
    /// `"{prefix}-{part}"`: an element id unique on the page.
    pub fn id(&self, part: &str) -> String {
        format!("{}-{part}", self.prefix.with_value(String::clone))
    }

    pub fn send(&self, message: &ToWorker) {
        self.trainer.send(message);
    }

    /// Sends the learner's data set to be read; a table without `mapping` uses the columns its header suggests.
    pub fn open(
        &self,
        file_name: String,
        format: Format,
        bytes: Vec<u8>,
        mapping: Option<crate::dataset::ColumnMapping>,
    ) {
        self.state.update(|s| s.reading(&file_name));
        // Only a table may need its bytes again (for the column mapping); other files are not copied to keep.
        let kept = matches!(format, Format::Csv | Format::Tsv).then(|| Rc::new(bytes.clone()));
        self.pending.set_value(kept.map(|kept| (file_name.clone(), format, kept)));
        self.trainer.send(&ToWorker::StudioOpen { file_name, format, mapping, bytes });
    }

    /// The table waiting for its columns, read again with `mapping`.
    pub fn map_columns(&self, mapping: crate::dataset::ColumnMapping) {
        if let Some((file_name, format, bytes)) = self.pending.get_value() {
            self.open(file_name, format, (*bytes).clone(), Some(mapping));
        }
    }

    /// Shows the example on `line` of the file.
    pub fn show(&self, line: usize) {
        self.send(&ToWorker::StudioShowLine { line });
    }
}

#[component]
pub fn StudioPage() -> impl IntoView {
    let trainer = use_trainer();
    let state = RwSignal::new(StudioState::default());
    let studio = Studio {
        state,
        trainer,
        pending: StoredValue::new_local(None),
        prefix: StoredValue::new(trainer.id_prefix("studio")),
    };
    on_cleanup(move || trainer.forget_prefix("studio"));
    trainer.on_event(move |event| {
        state.update(|s| apply(s, event));
        if matches!(event, FromWorker::Ready { .. }) && state.with_untracked(|s| s.phase == Phase::Restoring) {
            trainer.send(&ToWorker::StudioRestore);
        }
        if matches!(event, FromWorker::StudioReport(_) | FromWorker::StudioEmpty) {
            studio.pending.set_value(None);
        }
    });
    // The studio tokenizes with the model's tokenizer: the worker loads the model first (reused if a demo did).
    trainer.send(&ToWorker::Init { backend: BackendChoice::Auto, model_url: STORIES_MODEL_URL.into() });

    let link = NodeRef::<leptos::html::A>::new();
    Effect::new(move |_| {
        let Some((file_name, bytes)) = state.with(|s| s.download.clone()) else { return };
        if let Some(link) = link.get_untracked() {
            if save_file(&link, &file_name, "application/jsonl", &bytes).is_err() {
                state.update(|s| s.problem = Some(format!("The browser would not save {file_name}.")));
            }
        }
        state.update(|s| s.download = None);
    });

    view! {
        <Title text="Data studio · Tinytune" />
        <h1 tabindex="-1" node_ref=super::focus_on_mount()>"Data studio"</h1>
        <p>
            "Bring your own data and see exactly what the model will train on: every problem with its line, each "
            "example as tokens with the ones it learns from marked, and a split that keeps look-alikes together. "
            "Your data never leaves this tab; the browser keeps it for your next visit."
        </p>
        <div class="studio">
            <Status studio />
            <bring::Bring studio />
            <bring::MapColumns studio />
            <Show when=move || state.with(|s| s.report.is_some())>
                <Overview studio />
                <problems::Problems studio />
                <entry::EntryView studio />
                <lengths::Lengths studio />
                <Split studio />
                <UseIt studio />
            </Show>
        </div>
        <a node_ref=link hidden></a>
    }
}

/// What the worker is doing, and what went wrong.
#[component]
fn Status(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let trainer = studio.trainer;
    let status = move || {
        if let TrainerState::Stopped(reason) = trainer.state().get() {
            return Some(view! { <p class="demo-alert" role="alert">{format!("The trainer stopped: {reason}. Reload the page to try again.")}</p> }.into_any());
        }
        match state.with(|s| s.phase.clone()) {
            Phase::LoadingModel { file, loaded_bytes, total_bytes } => Some(
                view! {
                    <p class="demo-loading">
                        <progress max=total_bytes value=total_bytes.map(|_| loaded_bytes) aria-label="Loading the model"></progress>
                        " "
                        {if file.is_empty() { "Loading the trainer and the model's tokenizer…".to_string() } else { format!("Loading {file}: {}", format_bytes(loaded_bytes)) }}
                    </p>
                }
                .into_any(),
            ),
            Phase::Restoring => Some(view! { <p class="demo-loading">"Looking for the data set you brought last time…"</p> }.into_any()),
            Phase::Reading { stage, done, total } => Some(
                view! {
                    <p class="demo-loading">
                        <progress max=(total > 0).then_some(total) value=(total > 0).then_some(done) aria-label=stage.clone()></progress>
                        " "
                        {if total > 0 { format!("{stage}: {} of {}", format_count(done as usize), format_count(total as usize)) } else { format!("{stage}…") }}
                    </p>
                }
                .into_any(),
            ),
            _ => None,
        }
    };
    view! {
        <div class="studio-status" role="status">{status}</div>
        {move || state.with(|s| s.problem.clone()).map(|problem| view! {
            <div class="demo-alert" role="alert">
                <p>{problem}</p>
                <button type="button" class="secondary" on:click=move |_| state.update(|s| s.problem = None)>"Dismiss"</button>
            </div>
        })}
    }
}

/// The data set in numbers, and whether it is kept.
#[component]
fn Overview(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let report = move || state.with(|s| s.report.clone());
    let goto_line = RwSignal::new("1".to_string());
    let goto_id = studio.id("goto-line");
    move || {
        report().map(|report: StudioReport| {
            let kept = match &report.kept {
                Kept::Saved => "Kept in this browser: a reload finds it again.".to_string(),
                Kept::InMemory(reason) => format!("Only in this tab: {reason}."),
            };
            let title = studio.id("overview-title");
            view! {
                <section class="studio-overview" aria-labelledby=title.clone()>
                    <h2 id=title.clone()>{report.file_name.clone()}</h2>
                    <p>
                        {format!(
                            "{} entries: {} to train on, {} held out, {} dropped, {} left out until fixed or dropped.",
                            format_count(report.entries),
                            format_count(report.train),
                            format_count(report.held_out),
                            format_count(report.dropped),
                            format_count(report.blocked),
                        )}
                    </p>
                    <p class="hint">{kept}</p>
                    <form class="studio-goto" on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        if let Ok(line) = goto_line.get_untracked().trim().parse::<usize>() {
                            studio.show(line);
                        }
                    }>
                        <label for=goto_id.clone()>"Show the example on line"</label>
                        " "
                        <input id=goto_id.clone() type="number" min="1" step="1" prop:value=move || goto_line.get()
                            on:input=move |ev| goto_line.set(event_target_value(&ev)) />
                        " "
                        <button type="submit" class="secondary">"Show"</button>
                    </form>
                    <button type="button" class="secondary" on:click=move |_| studio.send(&ToWorker::StudioClose)>
                        "Close this data set (and forget it in this browser)"
                    </button>
                </section>
            }
        })
    }
}

/// The held-out share, the seed, grouping, and the sequence length the lengths are judged against.
#[component]
fn Split(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let settings = move || state.with(|s| s.report.as_ref().map(|r| r.settings.clone()).unwrap_or_default());
    // A handler that changes one setting from the control's value and sends them all.
    let on = move |edit: fn(&mut StudioSettings, &str)| {
        move |ev: leptos::ev::Event| {
            let mut next = settings();
            edit(&mut next, &event_target_value(&ev));
            studio.send(&ToWorker::StudioSettings(next));
        }
    };
    let (title, held_out, seed, seq_len) =
        (studio.id("split-title"), studio.id("held-out"), studio.id("seed"), studio.id("seq-len"));
    view! {
        <section class="studio-split" aria-labelledby=title.clone()>
            <h2 id=title.clone()>"Split"</h2>
            <p>
                "A share of the examples is held out: the run never trains on them, so their loss tells whether it "
                "learned or memorised. Near-duplicates on both sides would make that loss look better than it is."
            </p>
            <div class="field">
                <label for=held_out.clone()>{move || format!("Held out: {:.0}%", settings().split.held_out_fraction * 100.0)}</label>
                <input id=held_out type="range" min="0" max="50" step="1"
                    prop:value=move || format!("{:.0}", settings().split.held_out_fraction * 100.0)
                    on:change=on(|s, v| s.split.held_out_fraction = v.parse::<f64>().map_or(s.split.held_out_fraction, |p| p / 100.0)) />
            </div>
            <div class="demo-fields">
                <div class="field">
                    <label for=seed.clone()>"Seed"</label>
                    <input id=seed type="number" min="0" step="1" prop:value=move || settings().split.seed.to_string()
                        on:change=on(|s, v| s.split.seed = v.trim().parse().unwrap_or(s.split.seed)) />
                </div>
                <div class="field">
                    <label for=seq_len.clone()>"Sequence length (tokens)"</label>
                    <input id=seq_len type="number" min="1" step="1" prop:value=move || settings().seq_len.to_string()
                        on:change=on(|s, v| s.seq_len = v.trim().parse().unwrap_or(s.seq_len)) />
                </div>
            </div>
            <label class="demo-checkbox">
                <input type="checkbox" prop:checked=move || settings().split.grouped
                    on:change=on(|s, _| s.split.grouped = !s.split.grouped) />
                "Keep each group of near-duplicates on one side of the split"
            </label>
        </section>
    }
}

/// Train on the data set, or take it away.
#[component]
fn UseIt(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let train = move || state.with(|s| s.report.as_ref().map_or(0, |r| r.train));
    let layout = RwSignal::new(Layout::AsRead);
    let download =
        move |part: DownloadPart| studio.send(&ToWorker::StudioDownload { part, layout: layout.get_untracked() });
    let layout_id = studio.id("layout");
    let title = studio.id("use-title");
    // The playground opens with the sequence length the lengths above were judged against.
    let playground_href = move || {
        let seq_len = state.with(|s| s.report.as_ref().map(|r| r.settings.seq_len));
        let defaults = TrainSettings::default();
        let settings = TrainSettings { seq_len: seq_len.unwrap_or(defaults.seq_len), ..defaults };
        site::href(&format!("/playground?{}", super::playground::query(&settings, &STUDIO_DATASET)))
    };
    view! {
        <section class="studio-use" aria-labelledby=title.clone()>
            <h2 id=title.clone()>"Use it"</h2>
            <p>
                {move || if train() == 0 {
                    "There is no example to train on yet: fix or keep some above.".to_string()
                } else {
                    format!("Train on the {} training examples in the playground, with every setting to try.", format_count(train()))
                }}
            </p>
            <p>
                <A href=playground_href>
                    "Train on this in the playground"
                </A>
            </p>
            <div class="field">
                <label for=layout_id.clone()>"Downloads are JSONL, one example per line, written"</label>
                <select id=layout_id on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if let Some(choice) = Layout::ALL.into_iter().find(|l| format!("{l:?}") == chosen) {
                        layout.set(choice);
                    }
                }>
                    {Layout::ALL.into_iter().map(|choice| view! {
                        <option value=format!("{choice:?}") selected=move || layout.get() == choice>{choice.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <p class="run-exports">
                <button type="button" class="secondary" on:click=move |_| download(DownloadPart::All)>"Download the clean data set"</button>
                <button type="button" class="secondary" on:click=move |_| download(DownloadPart::Train)>"Download the training split"</button>
                <button type="button" class="secondary" on:click=move |_| download(DownloadPart::HeldOut)>"Download the held-out split"</button>
            </p>
        </section>
    }
}
