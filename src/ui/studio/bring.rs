//! Bringing data: pick a file, drop one, paste text, or open a shipped data set; and, for a table whose header
//! does not say which column is which, the column-mapping step.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::Uint8Array;
use web_sys::File;

use super::state::Phase;
use super::Studio;
use crate::dataset::{ColumnMapping, Field, Format};
use crate::protocol::ToWorker;
use crate::ui::demo::{DATASETS, MESSY};

/// Reads a file the learner picked or dropped and sends it to be read, or says why it cannot be.
fn open_file(studio: Studio, file: File) {
    let name = file.name();
    let format = match Format::from_name(&name) {
        Ok(format) => format,
        Err(problem) => {
            studio.state.update(|s| s.problem = Some(format!("{name}: {problem}")));
            return;
        }
    };
    studio.state.update(|s| s.reading(&name));
    leptos::task::spawn_local(async move {
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => studio.open(name, format, Uint8Array::new(&buffer).to_vec(), None),
            Err(_) => studio.state.update(|s| {
                s.problem = Some(format!("{name} could not be read: the browser refused the file (moved or deleted?)"));
                s.phase = if s.report.is_some() { Phase::Open } else { Phase::Empty };
            }),
        }
    });
}

#[component]
pub fn Bring(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let busy = move || {
        state.with(|s| matches!(s.phase, Phase::LoadingModel { .. } | Phase::Restoring | Phase::Reading { .. }))
    };
    let dragging = RwSignal::new(false);
    let pasted = RwSignal::new(String::new());
    let paste_format = RwSignal::new(None::<Format>);
    let (title, file_id, file_hint, paste_id, format_id) = (
        studio.id("bring-title"),
        studio.id("file"),
        studio.id("file-hint"),
        studio.id("paste"),
        studio.id("paste-format"),
    );
    let on_pick = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            open_file(studio, file);
        }
        // The same file picked again (after editing it elsewhere) must fire `change` again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev.data_transfer().and_then(|data| data.files()).and_then(|files| files.get(0)) {
            open_file(studio, file);
        }
    };
    let read_pasted = move |_| {
        let text = pasted.get_untracked();
        if text.trim().is_empty() {
            state.update(|s| s.problem = Some("Paste some examples into the box first.".into()));
            return;
        }
        let format = paste_format.get_untracked().unwrap_or_else(|| Format::sniff(&text));
        studio.open(format!("pasted.{}", format.extension()), format, text.into_bytes(), None);
    };
    let labelled_by = title.clone();
    view! {
        <section class="studio-bring" aria-labelledby=labelled_by>
            <h2 id=title.clone()>"Bring data"</h2>
            <div
                class="drop-zone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <label for=file_id.clone()>"Choose a file, or drop one here"</label>
                <input id=file_id type="file" accept=".jsonl,.csv,.tsv,.txt" aria-describedby=file_hint.clone() disabled=busy on:change=on_pick />
                <p class="hint" id=file_hint>
                    "JSONL ({\"text\"}, {\"prompt\", \"response\"}, {\"messages\": [...]} or {\"prompt\", \"chosen\", "
                    "\"rejected\"} per line), CSV or TSV with a header row, or plain text (paragraphs are examples). "
                    "Up to 64 MB."
                </p>
            </div>
            <div class="field">
                <label for=paste_id.clone()>"Or paste examples"</label>
                <textarea id=paste_id rows="5" prop:value=move || pasted.get() on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
            </div>
            <div class="studio-paste-actions">
                <label for=format_id.clone()>"Pasted text is "</label>
                <select id=format_id on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    paste_format.set(Format::ALL.into_iter().find(|f| f.extension() == chosen));
                }>
                    <option value="" selected=move || paste_format.get().is_none()>"recognised from its first line"</option>
                    {Format::ALL.into_iter().map(|format| view! {
                        <option value=format.extension() selected=move || paste_format.get() == Some(format)>{format.label()}</option>
                    }).collect_view()}
                </select>
                " "
                <button type="button" disabled=busy on:click=read_pasted>"Read the pasted text"</button>
            </div>
            <p>
                "Or look inside a data set this site ships: "
                {DATASETS.iter().chain([&MESSY]).map(|dataset| view! {
                    <button type="button" class="secondary" disabled=busy on:click=move |_| {
                        state.update(|s| s.reading(dataset.file));
                        studio.send(&ToWorker::StudioOpenUrl { url: dataset.url() });
                    }>{dataset.title}</button>
                    " "
                }).collect_view()}
            </p>
        </section>
    }
}

/// Which column holds which field, for a table whose header does not say.
#[component]
pub fn MapColumns(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let chosen = RwSignal::new(Vec::<(Field, usize)>::new());
    move || {
        let Phase::Mapping { file_name, preview, .. } = state.with(|s| s.phase.clone()) else { return None };
        chosen.set(preview.suggested.columns.clone());
        let title = studio.id("mapping-title");
        let header = preview.header.clone();
        let selects = Field::ALL.into_iter().map(|field| {
            let id = studio.id(&format!("column-{}", field.name()));
            let header = header.clone();
            view! {
                <div class="field">
                    <label for=id.clone()>{format!("`{}` is in column", field.name())}</label>
                    <select id=id on:change=move |ev| {
                        let value = event_target_value(&ev);
                        chosen.update(|columns| {
                            columns.retain(|&(f, _)| f != field);
                            if let Ok(column) = value.parse::<usize>() {
                                columns.push((field, column));
                                columns.sort();
                            }
                        });
                    }>
                        <option value="" selected=move || chosen.with(|c| !c.iter().any(|&(f, _)| f == field))>"— none —"</option>
                        {header.iter().enumerate().map(|(index, name)| view! {
                            <option value=index.to_string() selected=move || chosen.with(|c| c.contains(&(field, index)))>
                                {format!("{} ({name})", index + 1)}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
            }
        }).collect_view();
        let problem = move || ColumnMapping { columns: chosen.get() }.shape_problem();
        let labelled_by = title.clone();
        Some(view! {
            <section class="studio-mapping" aria-labelledby=labelled_by>
                <h2 id=title.clone()>{format!("Which column is which in {file_name}?")}</h2>
                <div class="demo-table" role="region" tabindex="0" aria-label="The first rows of the table">
                    <table>
                        <thead><tr>{header.iter().enumerate().map(|(i, name)| view! { <th scope="col">{format!("{} ({name})", i + 1)}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {preview.rows.iter().map(|row| view! {
                                <tr>{row.iter().map(|cell| view! { <td>{cell.clone()}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="demo-fields">{selects}</div>
                <p class="field-error" role="status">{move || problem().map(|p| format!("To read it, {p}."))}</p>
                <button type="button" disabled=move || problem().is_some() on:click=move |_| studio.map_columns(ColumnMapping { columns: chosen.get_untracked() })>
                    "Read with these columns"
                </button>
            </section>
        })
    }
}
