//! "Download adapter": the trained LoRA adapter as a PEFT folder in a zip, saved by the browser.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::js_sys::{Array, Uint8Array};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use super::first_lora::Notices;
use super::numbers::format_bytes;
use crate::protocol::{FromWorker, ToWorker};
use crate::ui::trainer_client::use_trainer;

#[component]
pub fn DownloadAdapter(
    /// After a LoRA run of at least one step, with the model still loaded.
    #[prop(into)]
    available: Signal<bool>,
    notices: Notices,
) -> impl IntoView {
    let trainer = use_trainer();
    let preparing = RwSignal::new(false);
    let link = NodeRef::<leptos::html::A>::new();
    trainer.on_event(move |event| match event {
        FromWorker::AdapterZip { file_name, bytes } if preparing.get_untracked() => {
            preparing.set(false);
            let Some(link) = link.get_untracked() else { return };
            match save(&link, file_name, bytes) {
                Ok(()) => notices.status.set(format!("Adapter downloaded ({})", format_bytes(bytes.len() as u64))),
                Err(_) => notices.problem.set(Some("The browser would not save the adapter's zip file.".into())),
            }
        }
        FromWorker::Error { .. } => preparing.set(false),
        _ => {}
    });

    view! {
        <section class="demo-download" aria-labelledby="first-lora-download-heading">
            <h4 id="first-lora-download-heading">"Keep your adapter"</h4>
            <p class="hint" id="first-lora-download-hint">
                "A zip of a PEFT adapter folder (adapter_config.json, adapter_model.safetensors and a model card), "
                "ready for PeftModel.from_pretrained. Available after a LoRA run of at least one step."
            </p>
            <button
                type="button"
                aria-describedby="first-lora-download-hint"
                disabled=move || !available.get()
                // Not `disabled` while preparing: that would throw the keyboard focus off the button.
                aria-disabled=move || preparing.get().then_some("true")
                on:click=move |_| {
                    if !preparing.get_untracked() {
                        preparing.set(true);
                        trainer.send(&ToWorker::ExportAdapter);
                    }
                }
            >
                {move || if preparing.get() { "Preparing the adapter…" } else { "Download adapter" }}
            </button>
            <a node_ref=link hidden></a>
        </section>
    }
}

/// Hands `bytes` to the browser as a download named `file_name`, through a hidden link to an object URL.
fn save(link: &HtmlAnchorElement, file_name: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let options = BlobPropertyBag::new();
    options.set_type("application/zip");
    let blob = Blob::new_with_u8_array_sequence_and_options(&Array::of1(&Uint8Array::from(bytes)), &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    // The download reads the URL after this click returns; revoking it at once can cancel it in some browsers.
    set_timeout(move || drop(Url::revoke_object_url(&url)), Duration::from_secs(10));
    Ok(())
}
