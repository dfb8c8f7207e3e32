//! One training run in the worker: the training loop of [`crate::train`] with the page's messages handled
//! between steps (pause, resume, stop, samples of the model so far), metrics posted after every step, and the
//! run's state saved in the browser's storage every few steps and on pause ([`crate::train::checkpoint`]), so a
//! reload, a crash or a lost GPU can resume it ([`resume`]).

use burn::prelude::*;

use super::mailbox::Mailbox;
use super::session::{Session, TrainedRun};
use super::storage::Folder;
use super::studio::Studio;
use super::{handle_studio, is_for_studio, load_dataset, post, Failure};
use crate::data::tokenize_example;
use crate::dataset::Example;
use crate::preflight::need;
use crate::protocol::{FinishReason, FromWorker, InterruptedRun, RunId, StepMetrics, ToWorker, TrainSettings};
use crate::train::checkpoint::Checkpoint;
use crate::train::{site_run, SiteData, TrainError, Trainer, TrainingConfig};

/// Where the run in progress is saved: one run at a time, the latest.
const SAVED: Folder = Folder::new("run");
const SAVED_FILE: &str = "checkpoint.safetensors";

/// Steps between saves; a run is also saved when paused.
const SAVE_EVERY: usize = 10;

/// What the training loop should do after the messages that arrived during a step, and the step saved on a
/// pause.
enum Control {
    Continue { saved: Option<usize> },
    Stop,
}

pub async fn train(
    session: &mut Session,
    studio: &mut Studio,
    mailbox: &mut Mailbox,
    id: RunId,
    dataset_url: &str,
    settings: TrainSettings,
    from: Option<RunId>,
) -> Result<(), Failure> {
    let fail = |message: String| Failure::of_run(id, message);
    if let Some(problem) = settings.problems().into_iter().next() {
        return Err(fail(problem.message));
    }
    let max_len = session.config.max_position_embeddings;
    if settings.seq_len > max_len {
        return Err(fail(format!(
            "{} reads at most {max_len} tokens at a time: choose a shorter sequence length",
            session.manifest.model
        )));
    }
    let mut trainer = trainer_for(session, dataset_url, &settings).map_err(fail)?;
    if let Some(from) = from {
        let adapter =
            session.model_of(from).ok_or_else(|| fail("the adapter to start from is gone: open it again".into()))?;
        trainer =
            trainer.start_from(adapter).map_err(|why| fail(format!("the run cannot start from the adapter: {why}")))?;
    }
    let metrics = trainer.step().await.map_err(|e| fail(e.to_string()))?;
    let dataset = session.dataset(dataset_url).expect("the trainer was made from it");
    let record = InterruptedRun {
        model_url: session.model_url.clone(),
        dataset_url: dataset_url.to_string(),
        dataset_name: dataset.summary.name.clone(),
        settings,
        training_sequences: trainer.training_sequences(),
        metrics: vec![metrics],
    };
    drive(session, studio, mailbox, id, trainer, record).await;
    Ok(())
}

/// Carries on the run saved in the browser's storage as `id`, on the session's backend.
pub async fn resume(
    session: &mut Session,
    studio: &mut Studio,
    mailbox: &mut Mailbox,
    id: RunId,
) -> Result<(), Failure> {
    let fail = |message: String| Failure::of_run(id, format!("the saved run cannot be resumed: {message}"));
    let (checkpoint, record) = read_saved().await.map_err(fail)?.ok_or_else(|| fail("it is gone".into()))?;
    if record.model_url != session.model_url {
        return Err(fail(format!("it trained {}, not the model loaded now", record.model_url)));
    }
    post(&FromWorker::DatasetLoaded(Box::new(load_dataset(session, studio, &record.dataset_url).await.map_err(fail)?)));
    let trainer = trainer_for(session, &record.dataset_url, &record.settings).map_err(fail)?;
    let trainer = trainer.resume(checkpoint).map_err(fail)?;
    drive(session, studio, mailbox, id, trainer, record).await;
    Ok(())
}

/// A fresh trainer for a site run with `settings` on the loaded data set at `dataset_url`.
fn trainer_for(session: &Session, dataset_url: &str, settings: &TrainSettings) -> Result<Trainer, String> {
    let dataset = session
        .dataset(dataset_url)
        .ok_or_else(|| format!("the data set {dataset_url} is not loaded yet: wait for it"))?;
    // The preflight's judgement, again: a run that cannot fit does not start.
    need(&session.config.shape(), settings, session.storage())
        .fits(&session.device_limits, session.backend.kind)
        .map_err(|why| format!("this run does not fit here: {why}"))?;
    let device = session.device.clone().autodiff();
    let model = session.fresh_model(&device)?;
    let eos = session.tokenizer.eos_id();
    let data = SiteData {
        train: &dataset.train,
        preferences: &dataset.preferences,
        held_out: &dataset.held_out,
        held_out_preferences: &dataset.held_out_preferences,
        reference: &session.reference,
        replay: &session.replay,
    };
    site_run(model, &data, settings, eos, &device).map_err(|e| e.to_string())
}

/// The training loop from where `trainer` is (its metrics so far in `record`) to the end, a stop or an error;
/// then the task check, and the model kept for samples and export.
async fn drive(
    session: &mut Session,
    studio: &mut Studio,
    mailbox: &mut Mailbox,
    id: RunId,
    mut trainer: Trainer,
    mut record: InterruptedRun,
) {
    let first = record.metrics.first().expect("a run starts after its first step").clone();
    post(&FromWorker::TrainingStarted {
        run: id,
        total_steps: record.settings.steps,
        training_sequences: record.training_sequences,
        trainable_params: first.trainable_params,
        total_params: first.total_params,
    });
    // A resumed run's page hears its earlier steps again.
    for metrics in &record.metrics {
        post(&FromWorker::Metrics { run: id, metrics: metrics.clone() });
    }
    let mut last = record.metrics.iter().skip(1).fold(first, carry_evaluations);
    let mut reason = FinishReason::Completed;
    let mut keep_saved = false;
    let mut saved_at = None;
    while trainer.steps_done() < record.settings.steps {
        if trainer.steps_done().is_multiple_of(SAVE_EVERY) {
            saved_at = save(&trainer, &record, id).await.or(saved_at);
        }
        // Let onmessage run: on the CPU backend nothing in a step awaits.
        gloo_timers::future::TimeoutFuture::new(0).await;
        match between_steps(mailbox, session, studio, id, &trainer, &record).await {
            Control::Stop => {
                reason = FinishReason::Stopped;
                break;
            }
            Control::Continue { saved } => saved_at = saved.or(saved_at),
        }
        match trainer.step().await {
            Ok(metrics) => {
                last = carry_evaluations(last, &metrics);
                record.metrics.push(metrics.clone());
                post(&FromWorker::Metrics { run: id, metrics });
            }
            Err(error) => {
                // A lost device leaves the last save to resume, on the CPU if need be; other errors would recur.
                let mut message = error.to_string();
                if let (TrainError::Device(_), Some(step)) = (&error, saved_at) {
                    keep_saved = true;
                    message.push_str(&format!(" The run was saved at step {step}: resume it from there."));
                }
                post(&FromWorker::Error { run: Some(id), request_id: None, message });
                reason = FinishReason::Stopped;
                break;
            }
        }
    }
    if !keep_saved {
        // A finished or stopped run has nothing to resume; failing to remove it only offers it again.
        let _ = SAVED.remove().await;
    }
    offer_saved(session).await;
    let step = trainer.steps_done();
    let model = trainer.into_model().valid();
    post(&FromWorker::Finished { run: id, reason, step });
    if let Some((score, samples)) = session.check_task(&record.dataset_url, &model).await {
        post(&FromWorker::TaskChecked { run: id, score, samples });
    }
    if let Some(dataset) = session.dataset(&record.dataset_url).map(|d| d.summary.clone()) {
        session.keep_run(id, TrainedRun { model, settings: record.settings, dataset, last });
    }
}

/// Saves the run's state in the browser's storage, tells the page how that went, and returns the step saved.
async fn save(trainer: &Trainer, record: &InterruptedRun, id: RunId) -> Option<usize> {
    let saved = match trainer.checkpoint().await {
        Ok(checkpoint) => SAVED.write(SAVED_FILE, &checkpoint.to_bytes(record)).await,
        Err(error) => Err(error.to_string()),
    };
    let step = trainer.steps_done();
    match saved {
        Ok(()) => {
            post(&FromWorker::Checkpointed { run: id, step });
            Some(step)
        }
        Err(message) => {
            post(&FromWorker::CheckpointFailed { run: id, message });
            None
        }
    }
}

/// The saved run and what it is about, or `None`: a save cut short never reaches the file (see
/// [`Folder::write`]), and a damaged file is refused by [`Checkpoint::from_bytes`].
async fn read_saved() -> Result<Option<(Checkpoint, InterruptedRun)>, String> {
    match SAVED.read(SAVED_FILE).await? {
        Some(bytes) => Checkpoint::from_bytes(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Tells the page which saved run it can resume on the loaded model. A saved run that cannot be read is removed,
/// and the page told why.
pub async fn offer_saved(session: &Session) {
    let offer = match read_saved().await {
        Ok(saved) => saved.map(|(_, record)| record).filter(|record| record.model_url == session.model_url),
        Err(why) => {
            let _ = SAVED.remove().await;
            let message = format!("A run saved in this browser could not be resumed and was removed: {why}.");
            post(&FromWorker::Error { run: None, request_id: None, message });
            None
        }
    };
    post(&FromWorker::Interrupted(offer));
}

/// Forgets the saved run.
pub async fn discard_saved() -> Result<(), String> {
    SAVED.remove().await?;
    post(&FromWorker::Interrupted(None));
    Ok(())
}

/// Steps timed for the studio's estimate: the first is left out (it compiles kernels on WebGPU).
const PACE_STEPS: usize = 3;

/// Seconds per optimizer step with `settings` on the session's backend, timed on `examples` (the studio's data
/// set) without evaluations: the second and third steps, after a first that warms up.
pub async fn seconds_per_step(
    session: &Session,
    examples: &[Example],
    settings: &TrainSettings,
) -> Result<f64, String> {
    // Only as many examples as the timed steps use: a 20 MB data set is not tokenized again for three steps.
    let needed = settings.batch_size * settings.grad_accum * PACE_STEPS;
    let mut tokenized = Vec::new();
    let mut pieces = 0;
    for example in examples {
        let example = tokenize_example(example, &session.tokenizer)?;
        pieces += example.tokens.len().saturating_sub(1).div_ceil(settings.seq_len.max(1));
        tokenized.push(example);
        if pieces >= needed {
            break;
        }
    }
    let sequences = session.sequences(&tokenized, settings.seq_len);
    if sequences.is_empty() {
        return Err("the data set has nothing to train on at this sequence length".into());
    }
    // A step takes as long at any learning rate, and a warmup longer than the timed steps is refused.
    let settings = TrainSettings { steps: PACE_STEPS, warmup_steps: 0, eval_every: 0, ..settings.clone() };
    let device = session.device.clone().autodiff();
    let model = session.fresh_model(&device)?;
    let mut trainer = Trainer::new(model, sequences, Vec::new(), TrainingConfig::from_settings(&settings), &device)
        .map_err(|e| e.to_string())?;
    trainer.step().await.map_err(|e| e.to_string())?;
    let started = web_time::Instant::now();
    for _ in 1..PACE_STEPS {
        trainer.step().await.map_err(|e| e.to_string())?;
    }
    Ok(started.elapsed().as_secs_f64() / (PACE_STEPS - 1) as f64)
}

/// The latest metrics, with the last evaluated losses carried forward for the model card.
fn carry_evaluations(previous: StepMetrics, latest: &StepMetrics) -> StepMetrics {
    StepMetrics {
        eval_loss: latest.eval_loss.or(previous.eval_loss),
        reference_eval_loss: latest.reference_eval_loss.or(previous.reference_eval_loss),
        eval_rewards: latest.eval_rewards.or(previous.eval_rewards),
        ..latest.clone()
    }
}

/// Handles the messages that arrived while a step ran; while paused, waits here for Resume or Stop.
async fn between_steps(
    mailbox: &mut Mailbox,
    session: &Session,
    studio: &mut Studio,
    id: RunId,
    trainer: &Trainer,
    record: &InterruptedRun,
) -> Control {
    let mut paused = false;
    let mut saved = None;
    loop {
        let message = if paused { Some(mailbox.next().await) } else { mailbox.try_next() };
        let Some(message) = message else { return Control::Continue { saved } };
        if is_for_studio(&message) {
            handle_studio(message, Some(session), studio).await;
            continue;
        }
        match message {
            ToWorker::Pause { run } if run == id => {
                paused = true;
                post(&FromWorker::Paused { run: id, step: trainer.steps_done() });
                saved = save(trainer, record, id).await.or(saved);
            }
            ToWorker::Resume { run } if run == id && paused => {
                paused = false;
                post(&FromWorker::Resumed { run: id, step: trainer.steps_done() });
            }
            ToWorker::Stop { run } if run == id => return Control::Stop,
            // Commands for runs that are not training have nothing to act on.
            ToWorker::Pause { .. } | ToWorker::Resume { .. } | ToWorker::Stop { .. } => {}
            ToWorker::Generate { request_id, run, sample, adapter_scale } => {
                // During a run the page cannot load the model again (below), so nothing interrupts a sample.
                let text = if run == Some(id) {
                    session.sample(Some(&trainer.model().valid()), &sample, adapter_scale, |_| false).await
                } else {
                    let model = run.and_then(|other| session.model_of(other));
                    session.sample(model, &sample, adapter_scale, |_| false).await
                };
                let text = text.expect("never interrupted");
                post(&FromWorker::Sample { request_id, adapter_scale, text });
            }
            // One forward pass, one step on one sequence, or the held-out split read 17 times by a small model:
            // quick enough to answer between steps.
            ToWorker::Inspect { request_id, text, then } => post(&session.inspect(request_id, &text, &then).await),
            ToWorker::ReadWeights { request_id, run, layer, projection } => {
                post(&session.read_weights(request_id, run, layer, projection).await)
            }
            ToWorker::TakeOneStep { request_id, dataset_url, sequence, settings } => {
                post(&session.one_step(request_id, &dataset_url, sequence, &settings).await)
            }
            ToWorker::Quantize { request_id, dataset_url } => post(&session.quantize(request_id, &dataset_url).await),
            ToWorker::Compare { request_id, .. } => {
                let message = "comparing is not possible while a run trains: wait for it to end, or stop it".into();
                post(&FromWorker::Error { run: None, request_id: Some(request_id), message })
            }
            ToWorker::Evaluate { request_id, .. } => {
                let message = "the bench cannot run while a run trains: wait for it to end, or stop it".into();
                post(&FromWorker::Error { run: None, request_id: Some(request_id), message })
            }
            ToWorker::TrainGrpo { request_id, .. } => {
                let message = "the GRPO toy cannot train while a run trains: wait for it to end, or stop it";
                post(&FromWorker::Error { run: None, request_id: Some(request_id), message: message.into() })
            }
            ToWorker::Mix { request_id, .. } => {
                let message = "mixing adapters is not possible while a run trains: wait for it to end, or stop it";
                post(&FromWorker::Error { run: None, request_id: Some(request_id), message: message.into() })
            }
            ToWorker::ExportMix { request_id } => post(&super::export::mix_zip(session, request_id)),
            ToWorker::Init { .. } => post(&busy(None, "changing the backend")),
            ToWorker::LoadDataset { .. } => post(&busy(None, "loading another data set")),
            ToWorker::LoadAdapter { run, .. } => post(&busy(Some(run), "loading an adapter")),
            ToWorker::Start { run, .. } | ToWorker::ResumeInterrupted { run } => {
                post(&busy(Some(run), "starting another run"))
            }
            ToWorker::OpenAdapter { run, .. } => post(&busy(Some(run), "opening an adapter")),
            ToWorker::DiscardInterrupted => post(&busy(None, "discarding the saved run")),
            ToWorker::ExportAdapter { run } => post(&busy(Some(run), "exporting")),
            ToWorker::ExportJob { request_id, dataset_url, settings, target } => {
                post(&super::export::job_zip(session, request_id, &dataset_url, &settings, &target))
            }
            ToWorker::StudioMeasurePace { .. } => {
                post(&FromWorker::StudioError { message: "the pace cannot be measured while a run trains".into() })
            }
            // The studio's messages were handled above.
            _ => {}
        }
    }
}

fn busy(run: Option<RunId>, what: &str) -> FromWorker {
    let message = format!("{what} is not possible while a run trains: pause or stop it first");
    FromWorker::Error { run, request_id: None, message }
}
