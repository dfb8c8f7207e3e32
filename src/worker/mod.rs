//! The trainer worker: runs in a Web Worker, speaks [`crate::protocol`], and drives the same model, LoRA,
//! training and export code as the native CLI.
//!
//! One task handles the messages in order ([`mailbox`]). While a run trains ([`run`]) it reads the mailbox
//! between steps, so Pause and Stop take effect within one step, and yields to the event loop after each step so
//! messages keep arriving on the CPU backend too, whose reads never await. [`backend`] picks WebGPU or the CPU,
//! [`fetch`] downloads and caches the model's files, [`session`] holds the loaded model, data sets and finished
//! runs, and [`export`] packs an adapter for PEFT.

mod backend;
mod export;
mod fetch;
mod mailbox;
mod run;
mod session;

use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

use crate::protocol::{FromWorker, RunId, ToWorker};
use mailbox::Mailbox;
use session::Session;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `event` to the page: its JSON alone, or `[json, ArrayBuffer]` with the buffer transferred (not copied)
/// when the event carries bytes.
fn post(event: &FromWorker) {
    let json = JsValue::from_str(&event.to_json());
    let _ = match event.payload() {
        None => scope().post_message(&json),
        Some(bytes) => {
            let buffer: ArrayBuffer = Uint8Array::from(bytes).buffer();
            scope().post_message_with_transfer(&Array::of2(&json, &buffer), &Array::of1(&buffer))
        }
    };
}

fn js_error(value: JsValue) -> String {
    value
        .as_string()
        .or_else(|| value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{value:?}"))
}

/// What went wrong, and the run or sample request it belongs to.
struct Failure {
    run: Option<RunId>,
    request_id: Option<u32>,
    message: String,
}

impl Failure {
    fn of_run(run: RunId, message: impl Into<String>) -> Failure {
        Failure { run: Some(run), request_id: None, message: message.into() }
    }

    fn of_request(request_id: u32, message: impl Into<String>) -> Failure {
        Failure { run: None, request_id: Some(request_id), message: message.into() }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { run: None, request_id: None, message }
    }
}

const NOT_READY: &str = "the trainer is not ready yet: wait for the model to load";
const SAMPLE_INTERRUPTED: &str = "the sample was left unfinished: the model is loading again";

/// Starts listening for messages. Called once from the worker bundle's `main`.
pub fn start() {
    // A panic leaves the worker unusable: say so to the page, not only to the console.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = format!("The trainer crashed ({info}). Reload the page to start again.");
        post(&FromWorker::Error { run: None, request_id: None, message });
    }));
    let mailbox = Mailbox::listen();
    post(&FromWorker::Listening);
    wasm_bindgen_futures::spawn_local(serve(mailbox));
}

async fn serve(mut mailbox: Mailbox) {
    let mut session: Option<Session> = None;
    loop {
        let message = mailbox.next().await;
        if let Err(Failure { run, request_id, message }) = handle(message, &mut session, &mut mailbox).await {
            post(&FromWorker::Error { run, request_id, message });
        }
    }
}

async fn handle(message: ToWorker, session: &mut Option<Session>, mailbox: &mut Mailbox) -> Result<(), Failure> {
    match message {
        ToWorker::Init { backend, model_url } => {
            let reuse = session.as_ref().is_some_and(|s| s.backend_choice == backend && s.model_url == model_url);
            if !reuse {
                // On failure the session that was loaded stays as it was.
                *session = Some(Session::load(backend, model_url).await?);
            }
            post(&session.as_ref().expect("loaded above").ready_event());
            Ok(())
        }
        ToWorker::LoadDataset { url } => {
            let session = session.as_mut().ok_or_else(|| NOT_READY.to_string())?;
            let summary = session.load_dataset(&url).await?;
            post(&FromWorker::DatasetLoaded(summary));
            Ok(())
        }
        ToWorker::Start { run: id, dataset_url, settings } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_run(id, NOT_READY))?;
            run::train(session, mailbox, id, &dataset_url, settings).await
        }
        ToWorker::Generate { request_id, run, sample, adapter_scale } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            let model = run.and_then(|id| session.trained(id)).map(|trained| &trained.model);
            // A page that loads the model again (say, on the CPU instead) does not wait for this sample: on an
            // emulated GPU one takes minutes.
            let text = session.sample(model, &sample, adapter_scale, || mailbox.init_waiting()).await;
            let text = text.ok_or_else(|| Failure::of_request(request_id, SAMPLE_INTERRUPTED))?;
            post(&FromWorker::Sample { request_id, adapter_scale, text });
            Ok(())
        }
        ToWorker::ExportAdapter { run } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_run(run, "nothing to export yet"))?;
            post(&export::adapter_zip(session, run).map_err(|message| Failure::of_run(run, message))?);
            Ok(())
        }
        // Outside a run there is nothing to pause, resume or stop.
        ToWorker::Pause { .. } | ToWorker::Resume { .. } | ToWorker::Stop { .. } => Ok(()),
    }
}
