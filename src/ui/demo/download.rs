//! "Download adapter": a run's trained LoRA adapter as a PEFT folder in a zip, saved by the browser; and the saving
//! of the other zips a demo asks for.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::js_sys::{Array, Uint8Array};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use super::live::LiveDemo;
use super::numbers::format_bytes;
use crate::protocol::{RunId, TrainingMethod};
use crate::ui::run_state::{Awaited, Export, RunState, SavedFile};

#[component]
pub fn DownloadAdapter(
    demo: LiveDemo,
    /// The run whose adapter is offered (the demo's latest).
    #[prop(into)]
    run: Signal<Option<RunId>>,
) -> impl IntoView {
    let state = demo.state;
    let link = NodeRef::<leptos::html::A>::new();
    let export = Memo::new(move |_| run.get().and_then(|id| state.with(|s| s.run(id).map(|run| run.export.clone()))));
    let available = move || {
        state.with(|s| {
            s.ready()
                && run.get().and_then(|id| s.run(id)).and_then(|run| run.trained_method()) == Some(TrainingMethod::Lora)
        })
    };
    let preparing = move || export.get() == Some(Export::Preparing);
    // The zip arrived: hand it to the browser once, then keep only its size.
    Effect::new(move |_| {
        let (Some(Export::Ready { file_name, bytes }), Some(id)) = (export.get(), run.get_untracked()) else { return };
        let Some(link) = link.get_untracked() else { return };
        match save_file(&link, &file_name, "application/zip", &bytes) {
            Ok(()) => state.update(|s| {
                s.export_saved(id);
                s.status = format!("Adapter downloaded ({})", format_bytes(bytes.len() as u64));
            }),
            Err(_) => state.update(|s| {
                s.export_saved(id);
                s.problem = Some("The browser would not save the adapter's zip file.".into());
            }),
        }
    });
    let (heading_id, hint_id) = (demo.id("download-heading"), demo.id("download-hint"));

    view! {
        <section class="demo-download" aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>"Keep your adapter"</h4>
            <p class="hint" id=hint_id.clone()>
                "A zip of a PEFT adapter folder (adapter_config.json, adapter_model.safetensors and a model card), "
                "ready for PeftModel.from_pretrained. Available after a LoRA run of at least one step."
            </p>
            <button
                type="button"
                aria-describedby=hint_id.clone()
                disabled=move || !available()
                // Not `disabled` while preparing: that would throw the keyboard focus off the button.
                aria-disabled=move || preparing().then_some("true")
                on:click=move |_| {
                    if let (false, Some(id)) = (preparing(), run.get_untracked()) {
                        demo.export(id);
                    }
                }
            >
                {move || if preparing() { "Preparing the adapter…" } else { "Download adapter" }}
            </button>
            <a node_ref=link hidden></a>
        </section>
    }
}

/// Hands each zip that lands in the state's `awaited` file (the job's, the mix's) to the browser once, through the
/// hidden `link`, and says so in the status line; `what` names it there ("job", "mix").
pub fn save_when_ready(
    state: RwSignal<RunState>,
    link: NodeRef<leptos::html::A>,
    awaited: fn(&mut RunState) -> &mut Awaited<SavedFile>,
    what: &'static str,
) {
    Effect::new(move |_| {
        state.track();
        let Some(link) = link.get_untracked() else { return };
        // Taken out without notifying: the status below notifies once.
        let Some(file) = state.try_update_untracked(|s| awaited(s).latest.take()).flatten() else { return };
        let saved = save_file(&link, &file.file_name, "application/zip", &file.bytes);
        state.update(|s| match saved {
            Ok(()) => {
                let (first, rest) = what.split_at(1);
                s.status =
                    format!("{}{rest} downloaded ({})", first.to_uppercase(), format_bytes(file.bytes.len() as u64))
            }
            Err(_) => s.problem = Some(format!("The browser would not save the {what}'s zip file.")),
        });
    });
}

/// Hands `bytes` to the browser as a download named `file_name`, through a hidden link to an object URL.
pub fn save_file(link: &HtmlAnchorElement, file_name: &str, mime: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&Array::of1(&Uint8Array::from(bytes)), &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    // The download reads the URL after this click returns; revoking it at once can cancel it in some browsers.
    set_timeout(move || drop(Url::revoke_object_url(&url)), Duration::from_secs(10));
    Ok(())
}
