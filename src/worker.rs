//! The trainer worker: runs in a Web Worker, speaks [`crate::protocol`], and drives the same model, LoRA,
//! training and export code as the native CLI.
//!
//! Messages arrive through `onmessage` into a queue; one async task handles them in order. While training it
//! checks the queue between steps (so Pause and Stop take effect within one step) and yields to the event loop
//! after each step, so the worker keeps receiving messages even on the CPU backend, whose reads never await.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::rc::Rc;

use burn::prelude::*;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use crate::data::{parse_dataset, split_train_eval, tokenize_example, training_sequences, TrainingSequence};
use crate::export::{adapter_config_json, adapter_safetensors, load_model};
use crate::generate::{generate, GenerationConfig};
use crate::lora::LoraConfig;
use crate::model::{LlamaConfig, LlamaForCausalLM};
use crate::protocol::{
    BackendChoice, BackendKind, BackendReport, FinishReason, FromWorker, SampleSettings, StepMetrics, ToWorker,
    TrainSettings, TrainingMethod,
};
use crate::tokenizer::TextTokenizer;
use crate::train::{Method, Schedule, Trainer, TrainingConfig};

/// How many sequences of each held-out set the losses are measured on.
const EVAL_SEQUENCES: usize = 32;

/// Where the worker learns what to do: filled by `onmessage`, drained by the task.
#[derive(Default)]
struct Inbox {
    messages: VecDeque<ToWorker>,
    /// Wakes the task when it waits for a message.
    waker: Option<std::task::Waker>,
}

type SharedInbox = Rc<RefCell<Inbox>>;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(event: &FromWorker) {
    let _ = scope().post_message(&JsValue::from_str(&event.to_json()));
}

fn js_error(value: JsValue) -> String {
    value
        .as_string()
        .or_else(|| value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{value:?}"))
}

/// Starts listening for messages. Called once from the worker bundle's `main`.
pub fn start() {
    // A panic leaves the worker unusable: say so to the page, not only to the console.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&FromWorker::Error { message: format!("The trainer crashed ({info}). Reload the page to start again.") });
    }));
    let inbox: SharedInbox = Rc::default();
    let receiving = inbox.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let parsed = event.data().as_string().ok_or_else(|| "messages must be JSON strings".to_string());
        match parsed.and_then(|json| ToWorker::from_json(&json)) {
            Ok(message) => {
                let mut inbox = receiving.borrow_mut();
                inbox.messages.push_back(message);
                if let Some(waker) = inbox.waker.take() {
                    waker.wake();
                }
            }
            Err(message) => post(&FromWorker::Error { message }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Listening);
    wasm_bindgen_futures::spawn_local(run(inbox));
}

/// Resolves with the next message.
fn next_message(inbox: &SharedInbox) -> impl std::future::Future<Output = ToWorker> + '_ {
    std::future::poll_fn(move |context| {
        let mut inbox = inbox.borrow_mut();
        match inbox.messages.pop_front() {
            Some(message) => std::task::Poll::Ready(message),
            None => {
                inbox.waker = Some(context.waker().clone());
                std::task::Poll::Pending
            }
        }
    })
}

/// The loaded base model and data, kept across runs.
struct Session {
    model_url: String,
    dataset_url: String,
    backend_choice: BackendChoice,
    device: Device,
    config: LlamaConfig,
    /// The base model, loaded once, for base-model samples.
    base: LlamaForCausalLM,
    /// The base model's weights file, to build a fresh trainable copy on the autodiff device for each run.
    weights: Vec<u8>,
    config_json: Vec<u8>,
    tokenizer: TextTokenizer,
    train: Vec<TrainingSequence>,
    held_out: Vec<TrainingSequence>,
    reference: Vec<TrainingSequence>,
    backend: BackendReport,
    trained: Option<TrainedRun>,
}

/// The latest run: its model (adapters attached for LoRA), settings and last metrics.
struct TrainedRun {
    model: LlamaForCausalLM,
    settings: TrainSettings,
    /// The last step's metrics, with the last evaluated losses carried forward.
    last: StepMetrics,
}

fn merge_latest(previous: StepMetrics, latest: &StepMetrics) -> StepMetrics {
    StepMetrics {
        eval_loss: latest.eval_loss.or(previous.eval_loss),
        reference_eval_loss: latest.reference_eval_loss.or(previous.reference_eval_loss),
        ..latest.clone()
    }
}

async fn run(inbox: SharedInbox) {
    let mut session: Option<Session> = None;
    loop {
        let message = next_message(&inbox).await;
        let outcome = match message {
            ToWorker::Init { backend, model_url, dataset_url } => {
                let reuse = session.as_ref().is_some_and(|s| {
                    s.backend_choice == backend && s.model_url == model_url && s.dataset_url == dataset_url
                });
                if reuse {
                    let s = session.as_ref().expect("checked");
                    post(&ready_event(s));
                    Ok(())
                } else {
                    match load_session(backend, model_url, dataset_url).await {
                        Ok(loaded) => {
                            post(&ready_event(&loaded));
                            session = Some(loaded);
                            Ok(())
                        }
                        Err(message) => Err(message),
                    }
                }
            }
            ToWorker::Start(settings) => match session.as_mut() {
                Some(session) => train(session, settings, &inbox).await,
                None => Err("the trainer is not ready yet: wait for the model to load".into()),
            },
            ToWorker::Generate { request_id, sample, adapter_scale } => match session.as_ref() {
                Some(session) => {
                    let text = sample_text(session, None, &sample, adapter_scale).await;
                    post(&FromWorker::Sample { request_id, adapter_scale, text });
                    Ok(())
                }
                None => Err("the trainer is not ready yet: wait for the model to load".into()),
            },
            ToWorker::ExportAdapter => match session.as_ref() {
                Some(session) => export_zip(session),
                None => Err("nothing to export yet".into()),
            },
            // Outside a run there is nothing to pause, resume or stop.
            ToWorker::Pause | ToWorker::Resume | ToWorker::Stop => Ok(()),
        };
        if let Err(message) = outcome {
            post(&FromWorker::Error { message });
        }
    }
}

fn ready_event(session: &Session) -> FromWorker {
    FromWorker::Ready {
        backend: session.backend.clone(),
        model: session.config.shape(),
        training_examples: session.train.len(),
        held_out_examples: session.held_out.len(),
    }
}

/// How to tell a learner that WebGPU is missing, and what to do about it.
const ENABLE_WEBGPU: &str = "Training runs on the CPU instead, which is slower but gives the same results. \
    For the GPU, use a browser with WebGPU: Chrome or Edge 113+ on Windows, macOS or ChromeOS, Chrome on Linux \
    with chrome://flags/#enable-unsafe-webgpu, Firefox 141+ on Windows, or Safari 26+.";

/// Picks the backend: WebGPU when the browser gives an adapter good enough for training, else the CPU.
async fn choose_device(choice: BackendChoice) -> (Device, BackendReport) {
    let cpu = |reason: Option<String>| {
        (Device::flex(), BackendReport { kind: BackendKind::Cpu, adapter_name: None, fallback_reason: reason })
    };
    if choice == BackendChoice::Cpu {
        return cpu(None);
    }
    match webgpu_adapter_name().await {
        Err(why) => cpu(Some(format!("WebGPU is not available: {why}. {ENABLE_WEBGPU}"))),
        Ok(name) => match Device::wgpu_options().init_async().await {
            Ok(device) => {
                (device, BackendReport { kind: BackendKind::WebGpu, adapter_name: Some(name), fallback_reason: None })
            }
            Err(error) => {
                cpu(Some(format!("the WebGPU device for {name} could not be created ({error}). {ENABLE_WEBGPU}")))
            }
        },
    }
}

/// Asks `navigator.gpu` for an adapter (through plain JS calls: web-sys's WebGPU bindings are still unstable).
async fn webgpu_adapter_name() -> Result<String, String> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).map_err(js_error)?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).map_err(js_error)?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no navigator.gpu".into());
    }
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into()).map_err(js_error)?.unchecked_into();
    let promise: Promise = request.call0(&gpu).map_err(js_error)?.unchecked_into();
    let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter failed ({})", js_error(e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser offers no GPU adapter (WebGPU may be disabled, or this GPU is blocklisted)".into());
    }
    let limits = Reflect::get(&adapter, &"limits".into()).map_err(js_error)?;
    let limit = |name: &str| Reflect::get(&limits, &name.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    // The training kernels bind up to 8 storage buffers; model and activations need buffers of tens of MB.
    if limit("maxStorageBuffersPerShaderStage") < 8.0 || limit("maxStorageBufferBindingSize") < 64.0 * 1024.0 * 1024.0 {
        return Err("the GPU adapter is too limited for training (fewer than 8 storage buffers per shader or \
                    less than 64 MB per buffer)"
            .into());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let field = |name: &str| Reflect::get(&info, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let parts: Vec<String> =
        [field("vendor"), field("architecture"), field("description")].into_iter().filter(|p| !p.is_empty()).collect();
    Ok(if parts.is_empty() { "an unnamed GPU adapter".into() } else { parts.join(" ") })
}

/// Fetches `url`, reporting progress, from the Cache API when an earlier visit stored it under `cache_key`.
async fn fetch_cached(url: &str, cache_key: &str, label: &str) -> Result<Vec<u8>, String> {
    let scope = scope();
    let cache = match scope.caches() {
        Ok(caches) => {
            JsFuture::from(caches.open("tinytune-models-v1")).await.ok().map(|c| c.unchecked_into::<web_sys::Cache>())
        }
        Err(_) => None,
    };
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(cache_key)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                let bytes = read_body(&response, label, true).await?;
                return Ok(bytes);
            }
        }
    }
    let response: Response = JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(|e| format!("cannot download {label}: {}", js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "cannot download {label}: the server answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let bytes = read_body(&response, label, false).await?;
    if let Some(cache) = &cache {
        let copy = Uint8Array::from(bytes.as_slice());
        if let Ok(stored) = Response::new_with_opt_buffer_source(Some(&copy)) {
            let _ = JsFuture::from(cache.put_with_str(cache_key, &stored)).await;
        }
    }
    Ok(bytes)
}

/// Reads a response body chunk by chunk, posting `Loading` progress.
async fn read_body(response: &Response, label: &str, from_cache: bool) -> Result<Vec<u8>, String> {
    let total_bytes = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
    let progress = |loaded: usize| {
        post(&FromWorker::Loading { file: label.to_string(), loaded_bytes: loaded as u64, total_bytes, from_cache })
    };
    let Some(body) = response.body() else {
        let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        progress(bytes.len());
        return Ok(bytes);
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    progress(0);
    loop {
        let chunk =
            JsFuture::from(reader.read()).await.map_err(|e| format!("download of {label} failed: {}", js_error(e)))?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into()).map_err(js_error)?.unchecked_into();
        bytes.extend(value.to_vec());
        progress(bytes.len());
    }
    Ok(bytes)
}

/// The model folder's manifest: file name → sha256, written at build time beside the files.
async fn model_file(model_url: &str, manifest: &serde_json::Value, name: &str) -> Result<Vec<u8>, String> {
    let version = manifest["files"][name]["sha256"].as_str().ok_or_else(|| format!("manifest.json lists no {name}"))?;
    let url = format!("{model_url}{name}");
    fetch_cached(&url, &format!("{url}?sha256={version}"), name).await
}

async fn load_session(
    backend_choice: BackendChoice,
    model_url: String,
    dataset_url: String,
) -> Result<Session, String> {
    let (device, backend) = choose_device(backend_choice).await;
    let manifest_url = format!("{model_url}manifest.json");
    let manifest_bytes = fetch_plain(&manifest_url).await?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest_bytes).map_err(|e| format!("{manifest_url}: {e}"))?;
    let config_json = model_file(&model_url, &manifest, "config.json").await?;
    let weights = model_file(&model_url, &manifest, "model.safetensors").await?;
    let tokenizer_json = model_file(&model_url, &manifest, "tokenizer.json").await?;
    let reference_text = model_file(&model_url, &manifest, "reference-stories.jsonl").await?;
    let dataset = fetch_plain(&dataset_url).await?;

    let (config, base) = load_model(&config_json, &weights, &device)?;
    let tokenizer = TextTokenizer::from_json_bytes(&tokenizer_json).map_err(|e| e.to_string())?;
    let dataset_name = dataset_url.rsplit('/').next().unwrap_or("dataset.jsonl").to_string();
    let examples = parse_dataset(&dataset_name, &dataset).map_err(|e| e.to_string())?;
    let references = parse_dataset("reference-stories.jsonl", &reference_text).map_err(|e| e.to_string())?;
    let (train_examples, held_out_examples) = split_train_eval(&examples, 0.1, 0);
    let sequences = |examples: &[crate::data::Example], seq_len: usize| {
        let tokenized: Vec<_> = examples.iter().map(|e| tokenize_example(e, &tokenizer)).collect();
        training_sequences(&tokenized, seq_len, tokenizer.eos_id())
    };
    // Sequence length is a training setting; the data is re-cut when a run asks for another one.
    let seq_len = TrainSettings::default().seq_len;
    // Evaluation runs in the middle of training: a fixed sample of each held-out set keeps it to a few batches.
    let sample = |mut sequences: Vec<TrainingSequence>| {
        sequences.truncate(EVAL_SEQUENCES);
        sequences
    };
    let session = Session {
        train: sequences(&train_examples, seq_len),
        held_out: sample(sequences(&held_out_examples, seq_len)),
        reference: sample(sequences(&references, seq_len)),
        model_url,
        dataset_url,
        backend_choice,
        device,
        config,
        base,
        weights,
        config_json,
        tokenizer,
        backend,
        trained: None,
    };
    Ok(session)
}

async fn fetch_plain(url: &str) -> Result<Vec<u8>, String> {
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("cannot download {url}: {}", js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("cannot download {url}: the server answered {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn training_config(settings: &TrainSettings) -> TrainingConfig {
    let method = match settings.method {
        TrainingMethod::Lora => Method::Lora,
        TrainingMethod::Full => Method::Full,
        TrainingMethod::Frozen => Method::Frozen,
    };
    let lora = LoraConfig::new(settings.lora_rank, settings.lora_alpha, settings.lora_targets.clone());
    TrainingConfig::new(method, lora, settings.steps)
        .with_learning_rate(settings.learning_rate)
        .with_batch_size(settings.batch_size)
        .with_seq_len(settings.seq_len)
        .with_schedule(Schedule::Cosine)
        .with_warmup_steps((settings.steps / 10).min(10))
        .with_eval_every(settings.eval_every)
        .with_seed(settings.seed)
}

/// What the training loop should do after the messages that arrived during a step.
enum Control {
    Continue,
    Stop,
}

/// Handles the messages that arrived while a step ran; while paused, waits here for Resume or Stop.
async fn between_steps(inbox: &SharedInbox, session: &Session, trainer: &Trainer) -> Control {
    let mut paused = false;
    loop {
        let message = if paused { Some(next_message(inbox).await) } else { inbox.borrow_mut().messages.pop_front() };
        let Some(message) = message else { return Control::Continue };
        match message {
            ToWorker::Pause => {
                paused = true;
                post(&FromWorker::Paused { step: trainer.steps_done() });
            }
            ToWorker::Resume if paused => {
                paused = false;
                post(&FromWorker::Resumed { step: trainer.steps_done() });
            }
            ToWorker::Stop => return Control::Stop,
            ToWorker::Generate { request_id, sample, adapter_scale } => {
                let text = sample_text(session, Some(trainer.model()), &sample, adapter_scale).await;
                post(&FromWorker::Sample { request_id, adapter_scale, text });
            }
            ToWorker::Resume => {}
            other => post(&FromWorker::Error {
                message: format!("{} is not possible during training: pause or stop first", message_name(&other)),
            }),
        }
    }
}

fn message_name(message: &ToWorker) -> &'static str {
    match message {
        ToWorker::Init { .. } => "changing the backend",
        ToWorker::Start(_) => "starting another run",
        ToWorker::ExportAdapter => "exporting",
        _ => "this",
    }
}

async fn train(session: &mut Session, settings: TrainSettings, inbox: &SharedInbox) -> Result<(), String> {
    let config = training_config(&settings);
    config.validate()?;
    if settings.seq_len != TrainSettings::default().seq_len {
        return Err(format!("this demo trains on sequences of {} tokens", TrainSettings::default().seq_len));
    }
    let device = session.device.clone().autodiff();
    let (_, model) = load_model(&session.config_json, &session.weights, &device)?;
    let mut trainer = Trainer::new(model, session.train.clone(), session.held_out.clone(), config, &device)
        .map_err(|e| e.to_string())?
        .with_reference_eval(session.reference.clone());
    let metrics = trainer.step().await.map_err(|e| e.to_string())?;
    post(&FromWorker::TrainingStarted {
        total_steps: settings.steps,
        trainable_params: metrics.trainable_params,
        total_params: metrics.total_params,
    });
    let mut last = metrics.clone();
    post(&FromWorker::Metrics(metrics));
    let mut reason = FinishReason::Completed;
    while trainer.steps_done() < settings.steps {
        // Let onmessage run: on the CPU backend nothing in a step awaits.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if let Control::Stop = between_steps(inbox, session, &trainer).await {
            reason = FinishReason::Stopped;
            break;
        }
        match trainer.step().await {
            Ok(metrics) => {
                last = merge_latest(last, &metrics);
                post(&FromWorker::Metrics(metrics));
            }
            Err(error) => {
                post(&FromWorker::Error { message: error.to_string() });
                reason = FinishReason::Stopped;
                break;
            }
        }
    }
    let step = trainer.steps_done();
    session.trained = Some(TrainedRun { model: trainer.into_model().valid(), settings, last });
    post(&FromWorker::Finished { reason, step });
    Ok(())
}

/// Samples from the model being trained (`during`), else the latest trained one, else the base model.
async fn sample_text(
    session: &Session,
    during: Option<&LlamaForCausalLM>,
    sample: &SampleSettings,
    adapter_scale: f64,
) -> String {
    let device = session.device.clone();
    // Scale 0 is the base model itself, also after a full fine-tune, whose changes are not an adapter to scale.
    let model = match (during, &session.trained) {
        (Some(model), _) if adapter_scale > 0.0 => model.valid(),
        (None, Some(run)) if adapter_scale > 0.0 => run.model.clone(),
        _ => session.base.clone(),
    };
    let model = model.scale_adapters(adapter_scale);
    let mut prompt = vec![session.tokenizer.bos_id()];
    prompt.extend(session.tokenizer.encode(&sample.prompt));
    let settings = GenerationConfig::new(sample.max_new_tokens)
        .with_temperature(sample.temperature)
        .with_top_p(sample.top_p)
        .with_seed(sample.seed);
    let max_len = session.config.max_position_embeddings;
    let tokens = generate(&model, &prompt, &settings, session.tokenizer.eos_id(), max_len, &device).await;
    session.tokenizer.decode(&tokens)
}

fn export_zip(session: &Session) -> Result<(), String> {
    let Some(TrainedRun { model, settings, last }) = &session.trained else {
        return Err("train with LoRA first: there is no adapter to download yet".into());
    };
    if settings.method != TrainingMethod::Lora {
        return Err("only a LoRA run produces an adapter; this run trained with another method".into());
    }
    let lora = LoraConfig::new(settings.lora_rank, settings.lora_alpha, settings.lora_targets.clone());
    let weights = adapter_safetensors(model)?;
    let card = model_card(settings, last);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Stored, not deflated: safetensors hardly compress, and it keeps a compressor out of the worker bundle.
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in [
        ("tinytune-adapter/adapter_config.json", adapter_config_json(&lora, "stories260K").into_bytes()),
        ("tinytune-adapter/adapter_model.safetensors", weights),
        ("tinytune-adapter/README.md", card.into_bytes()),
    ] {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    let bytes = zip.finish().map_err(|e| e.to_string())?.into_inner();
    post(&FromWorker::AdapterZip { file_name: "tinytune-adapter.zip".into(), bytes });
    Ok(())
}

fn model_card(settings: &TrainSettings, last: &StepMetrics) -> String {
    let loss = |value: Option<f64>| value.map_or("not measured".to_string(), |v| format!("{v:.4}"));
    format!(
        "---\nlibrary_name: peft\nbase_model: stories260K\nlicense: mit\n---\n\n# A LoRA adapter for stories260K\n\n\
         Trained in the browser with Tinytune on the course data set \"Pip the purple robot\" (stories written for \
         the course).\n\n| setting | value |\n|---|---|\n| method | LoRA |\n| rank | {} |\n| alpha | {} |\n| targets | {} |\n\
         | learning rate | {} |\n| steps | {} |\n| batch size | {} |\n| sequence length | {} |\n| seed | {} |\n\n\
         ## Final losses (step {})\n\n| loss | value |\n|---|---|\n| training | {:.4} |\n| held-out Pip stories | {} |\n\
         | ordinary stories (forgetting) | {} |\n\n\
         Load it with PEFT:\n\n```python\nfrom transformers import AutoModelForCausalLM\nfrom peft import PeftModel\n\n\
         base = AutoModelForCausalLM.from_pretrained(\"path/to/stories260K\")\n\
         model = PeftModel.from_pretrained(base, \"tinytune-adapter\")\n```\n",
        settings.lora_rank,
        settings.lora_alpha,
        settings.lora_targets.join(", "),
        settings.learning_rate,
        settings.steps,
        settings.batch_size,
        settings.seq_len,
        settings.seed,
        last.step,
        last.loss,
        loss(last.eval_loss),
        loss(last.reference_eval_loss),
    )
}
