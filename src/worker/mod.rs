//! The trainer worker: runs in a Web Worker, speaks [`crate::protocol`], and drives the same model, LoRA,
//! training and export code as the native CLI.
//!
//! One task handles the messages in order ([`mailbox`]). While a run trains ([`run`]) it reads the mailbox
//! between steps, so Pause and Stop take effect within one step, and yields to the event loop after each step so
//! messages keep arriving on the CPU backend too, whose reads never await. [`backend`] picks WebGPU or the CPU,
//! [`fetch`] downloads and caches the model's files, [`session`] holds the loaded model, data sets and finished
//! runs, [`export`] packs an adapter for PEFT, and [`studio`] reviews the learner's own data set, kept across
//! reloads by [`storage`].

mod backend;
mod export;
mod fetch;
mod mailbox;
mod run;
mod session;
mod storage;
mod studio;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

use crate::evaluation::measure;
use crate::protocol::{DatasetSummary, FromWorker, RunId, ToWorker, STUDIO_DATASET_URL};
use crate::train::grpo::{toy_step, toy_trainer};
use mailbox::Mailbox;
use session::Session;
use studio::Studio;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `event` to the page, its bytes transferred beside it (see [`crate::transfer`]).
fn post(event: &FromWorker) {
    let _ = match crate::transfer::pack(&event.to_json(), event.payload()) {
        (value, None) => scope().post_message(&value),
        (value, Some(transfer)) => scope().post_message_with_transfer(&value, &transfer),
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
    let mut studio = Studio::default();
    loop {
        let message = mailbox.next().await;
        if let Err(Failure { run, request_id, message }) =
            handle(message, &mut session, &mut studio, &mut mailbox).await
        {
            post(&FromWorker::Error { run, request_id, message });
        }
    }
}

/// Whether a message is for the studio, which works the same while a run trains.
fn is_for_studio(message: &ToWorker) -> bool {
    matches!(
        message,
        ToWorker::StudioOpen { .. }
            | ToWorker::StudioOpenUrl { .. }
            | ToWorker::StudioRestore
            | ToWorker::StudioDecide { .. }
            | ToWorker::StudioDecideKind { .. }
            | ToWorker::StudioEdit { .. }
            | ToWorker::StudioSettings(_)
            | ToWorker::StudioShowLine { .. }
            | ToWorker::StudioDownload { .. }
            | ToWorker::StudioClose
    )
}

/// Hands a studio message to the studio, which needs the model's tokenizer; its failures are the studio's.
async fn handle_studio(message: ToWorker, session: Option<&Session>, studio: &mut Studio) {
    let result = match session {
        Some(session) => studio.handle(message, &session.tokenizer).await,
        None => Err(NOT_READY.to_string()),
    };
    if let Err(message) = result {
        post(&FromWorker::StudioError { message });
    }
}

/// The files of one message: `names[i]`, `sizes[i]` bytes long, one after another in `bytes`.
fn split_files(names: Vec<String>, sizes: &[usize], bytes: Vec<u8>) -> Result<Vec<(String, Vec<u8>)>, String> {
    if names.len() != sizes.len() || sizes.iter().sum::<usize>() != bytes.len() {
        return Err("the files arrived incomplete: choose them again".into());
    }
    let mut rest = bytes.as_slice();
    Ok(names
        .into_iter()
        .zip(sizes)
        .map(|(name, &size)| {
            let (file, after) = rest.split_at(size);
            rest = after;
            (name, file.to_vec())
        })
        .collect())
}

/// Loads the data set at `url`: a shipped one (once), or the studio's (afresh each time: the learner may have
/// changed it in the studio since).
async fn load_dataset(session: &mut Session, studio: &mut Studio, url: &str) -> Result<DatasetSummary, String> {
    if url != STUDIO_DATASET_URL {
        return session.load_dataset(url).await;
    }
    let examples = studio
        .examples(&session.tokenizer)
        .await
        .ok_or("the studio has no data set: bring one in the data studio first".to_string())?;
    if examples.train.is_empty() {
        let name = examples.file_name;
        return Err(format!("{name} has no example to train on: fix or keep some in the data studio"));
    }
    // A data set the site ships keeps its task check, so a learner's cleaning of it is scored as the recordings.
    let task = match &examples.origin {
        Some(origin) => session::task_check_beside(origin).await?,
        None => None,
    };
    session.add_dataset(url, examples.file_name, &examples.train, &examples.held_out, task, None)
}

async fn handle(
    message: ToWorker,
    session: &mut Option<Session>,
    studio: &mut Studio,
    mailbox: &mut Mailbox,
) -> Result<(), Failure> {
    if is_for_studio(&message) {
        handle_studio(message, session.as_ref(), studio).await;
        return Ok(());
    }
    match message {
        ToWorker::Init { backend, model_url } => {
            let reuse = session.as_ref().is_some_and(|s| s.backend_choice == backend && s.model_url == model_url);
            if !reuse {
                // On failure the session that was loaded stays as it was.
                *session = Some(Session::load(backend, model_url).await?);
            }
            let session = session.as_ref().expect("loaded above");
            post(&session.ready_event());
            run::offer_saved(session).await;
            Ok(())
        }
        ToWorker::StudioMeasurePace { settings } => {
            let session = session.as_ref().ok_or_else(|| NOT_READY.to_string())?;
            let measured = match studio.examples(&session.tokenizer).await {
                Some(examples) => run::seconds_per_step(session, &examples.train, &settings).await,
                None => Err("the studio has no data set to time".to_string()),
            };
            match measured {
                Ok(seconds_per_step) => {
                    post(&FromWorker::StudioPace { seconds_per_step, backend: session.backend.kind, settings })
                }
                Err(message) => post(&FromWorker::StudioError { message }),
            }
            Ok(())
        }
        ToWorker::LoadDataset { url } => {
            let session = session.as_mut().ok_or_else(|| NOT_READY.to_string())?;
            post(&FromWorker::DatasetLoaded(Box::new(load_dataset(session, studio, &url).await?)));
            Ok(())
        }
        ToWorker::Start { run: id, dataset_url, settings, from } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_run(id, NOT_READY))?;
            run::train(session, studio, mailbox, id, &dataset_url, settings, from).await
        }
        ToWorker::OpenAdapter { run, names, sizes, bytes } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_run(run, NOT_READY))?;
            let opened = split_files(names, &sizes, bytes).and_then(|files| session.open_adapter(run, files));
            post(&opened.map_err(|message| Failure::of_run(run, message))?);
            Ok(())
        }
        ToWorker::ResumeInterrupted { run: id } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_run(id, NOT_READY))?;
            run::resume(session, studio, mailbox, id).await
        }
        ToWorker::DiscardInterrupted => Ok(run::discard_saved().await?),
        ToWorker::Generate { request_id, run, sample, adapter_scale } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            let model = run.and_then(|id| session.model_of(id));
            // Loading the model again (say, on the CPU instead) or starting a run does not wait for this sample: on
            // an emulated GPU one takes minutes.
            let progress = |text| {
                post(&FromWorker::SampleProgress { request_id, text });
                mailbox.urgent_waiting()
            };
            match session.sample(model, &sample, adapter_scale, progress).await {
                Some(text) => post(&FromWorker::Sample { request_id, adapter_scale, text }),
                None => post(&FromWorker::SampleSetAside { request_id }),
            }
            Ok(())
        }
        ToWorker::LoadAdapter { run, url } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_run(run, NOT_READY))?;
            session.load_adapter(run, &url).await.map_err(|message| Failure::of_run(run, message))?;
            post(&FromWorker::AdapterLoaded { run });
            Ok(())
        }
        ToWorker::Inspect { request_id, text, then } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&session.inspect(request_id, &text, &then).await);
            Ok(())
        }
        ToWorker::TakeOneStep { request_id, dataset_url, sequence, settings } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&session.one_step(request_id, &dataset_url, sequence, &settings).await);
            Ok(())
        }
        ToWorker::Quantize { request_id, dataset_url } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&session.quantize(request_id, &dataset_url).await);
            Ok(())
        }
        ToWorker::ReadWeights { request_id, run, layer, projection } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&session.read_weights(request_id, run, layer, projection).await);
            Ok(())
        }
        ToWorker::Compare { request_id, dataset_url, run, lineup } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            let (comparison, base, adapted) =
                session.comparison(&dataset_url, run).map_err(|message| Failure::of_request(request_id, message))?;
            let max_len = session.config.max_position_embeddings;
            for (approach, index) in comparison.plan(lineup.ways()) {
                // Let onmessage run between samples: on the CPU backend nothing in a sample awaits.
                gloo_timers::future::TimeoutFuture::new(0).await;
                let model = if approach.uses_adapter() { adapted } else { base };
                let (tokenizer, device) = (&session.tokenizer, &session.device);
                let interrupted = |_: &[u32]| mailbox.urgent_waiting();
                match comparison.write(approach, index, model, tokenizer, max_len, device, interrupted).await {
                    Some(sample) => post(&FromWorker::Compared { request_id, sample }),
                    None => {
                        post(&FromWorker::SampleSetAside { request_id });
                        break;
                    }
                }
            }
            Ok(())
        }
        ToWorker::Evaluate { request_id, dataset_url, models, rounds } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            let fail = |message: String| Failure::of_request(request_id, message);
            let (comparison, held_out, base) = session.bench(&dataset_url, rounds).map_err(fail)?;
            let total = models.len() * comparison.samples_per_approach();
            let max_len = session.config.max_position_embeddings;
            for (done, benched) in models.into_iter().enumerate() {
                let adapted = match &benched.adapter {
                    Some(url) => Some(session.adapter_model(url).await.map_err(fail)?),
                    None => None,
                };
                let before = done * comparison.samples_per_approach();
                let after_sample = async |written, _| {
                    post(&FromWorker::Evaluating { request_id, written: before + written, total });
                    // Let onmessage run between samples: on the CPU backend nothing in a sample awaits.
                    gloo_timers::future::TimeoutFuture::new(0).await;
                };
                let (tokenizer, device) = (&session.tokenizer, &session.device);
                // A run or a reload (another lesson's demo loading its model) sets the bench aside between tokens.
                let interrupted = || mailbox.urgent_waiting();
                let model = adapted.as_ref().unwrap_or(base);
                let row = measure(
                    benched,
                    model,
                    &held_out,
                    &comparison,
                    tokenizer,
                    max_len,
                    device,
                    after_sample,
                    interrupted,
                );
                match row.await {
                    Some(row) => post(&FromWorker::Evaluated { request_id, row: row.map_err(fail)? }),
                    None => {
                        post(&FromWorker::SampleSetAside { request_id });
                        break;
                    }
                }
            }
            Ok(())
        }
        ToWorker::Mix { request_id, sources, how, checks } => {
            let session = session.as_mut().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&session.mix(request_id, &sources, how, &checks).await);
            Ok(())
        }
        ToWorker::TrainGrpo { request_id, settings } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            if let Some(problem) = settings.problem() {
                return Err(Failure::of_request(request_id, problem));
            }
            let fail = |e: String| Failure::of_request(request_id, e);
            let device = session.device.clone().autodiff();
            let mut trainer =
                toy_trainer(session.fresh_model(&device)?, &settings, &device).map_err(|e| fail(e.to_string()))?;
            let max_len = session.config.max_position_embeddings;
            for _ in 0..settings.steps {
                // Let onmessage run between steps: on the CPU backend nothing in a step awaits.
                gloo_timers::future::TimeoutFuture::new(0).await;
                let interrupted = || mailbox.urgent_waiting();
                let step = toy_step(&mut trainer, &session.tokenizer, &settings, max_len, &session.device, interrupted);
                match step.await.map_err(|e| fail(e.to_string()))? {
                    Some(step) => post(&FromWorker::GrpoStepped { request_id, step }),
                    None => {
                        post(&FromWorker::GrpoFinished { request_id, stopped: true });
                        return Ok(());
                    }
                }
            }
            post(&FromWorker::GrpoFinished { request_id, stopped: false });
            Ok(())
        }
        ToWorker::ExportMix { request_id } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&export::mix_zip(session, request_id));
            Ok(())
        }
        ToWorker::ExportJob { request_id, dataset_url, settings, target } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_request(request_id, NOT_READY))?;
            post(&export::job_zip(session, request_id, &dataset_url, &settings, &target));
            Ok(())
        }
        ToWorker::Preflight { request_id } => {
            post(&FromWorker::Preflight { request_id, report: backend::device_report().await });
            Ok(())
        }
        ToWorker::ExportAdapter { run } => {
            let session = session.as_ref().ok_or_else(|| Failure::of_run(run, "nothing to export yet"))?;
            post(&export::adapter_zip(session, run).map_err(|message| Failure::of_run(run, message))?);
            Ok(())
        }
        // Outside a run there is nothing to pause, resume or stop; studio messages went to the studio above.
        _ => Ok(()),
    }
}
