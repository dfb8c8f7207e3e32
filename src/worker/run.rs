//! One training run in the worker: the training loop of [`crate::train`] with the page's messages handled
//! between steps (pause, resume, stop, samples of the model so far), metrics posted after every step.

use burn::prelude::*;

use super::mailbox::Mailbox;
use super::session::{Session, TrainedRun};
use super::studio::Studio;
use super::{handle_studio, is_for_studio, post, Failure};
use crate::data::tokenize_example;
use crate::dataset::Example;
use crate::protocol::{FinishReason, FromWorker, RunId, StepMetrics, ToWorker, TrainSettings};
use crate::train::{site_run, Trainer, TrainingConfig};

/// What the training loop should do after the messages that arrived during a step.
enum Control {
    Continue,
    Stop,
}

pub async fn train(
    session: &mut Session,
    studio: &mut Studio,
    mailbox: &mut Mailbox,
    id: RunId,
    dataset_url: &str,
    settings: TrainSettings,
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
    let dataset = session
        .dataset(dataset_url)
        .ok_or_else(|| fail(format!("the data set {dataset_url} is not loaded yet: wait for it")))?;
    let summary = dataset.summary.clone();
    let device = session.device.clone().autodiff();
    let model = session.fresh_model(&device).map_err(fail)?;
    let eos = session.tokenizer.eos_id();
    let mut trainer = site_run(model, &dataset.train, &dataset.held_out, &session.reference, &settings, eos, &device)
        .map_err(|e| fail(e.to_string()))?;
    let training_sequences = trainer.training_sequences();
    let metrics = trainer.step().await.map_err(|e| fail(e.to_string()))?;
    post(&FromWorker::TrainingStarted {
        run: id,
        total_steps: settings.steps,
        training_sequences,
        trainable_params: metrics.trainable_params,
        total_params: metrics.total_params,
    });
    let mut last = metrics.clone();
    post(&FromWorker::Metrics { run: id, metrics });
    let mut reason = FinishReason::Completed;
    while trainer.steps_done() < settings.steps {
        // Let onmessage run: on the CPU backend nothing in a step awaits.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if let Control::Stop = between_steps(mailbox, session, studio, id, &trainer).await {
            reason = FinishReason::Stopped;
            break;
        }
        match trainer.step().await {
            Ok(metrics) => {
                last = carry_evaluations(last, &metrics);
                post(&FromWorker::Metrics { run: id, metrics });
            }
            Err(error) => {
                post(&FromWorker::Error { run: Some(id), request_id: None, message: error.to_string() });
                reason = FinishReason::Stopped;
                break;
            }
        }
    }
    let step = trainer.steps_done();
    let model = trainer.into_model().valid();
    post(&FromWorker::Finished { run: id, reason, step });
    if let Some((score, samples)) = session.check_task(dataset_url, &model).await {
        post(&FromWorker::TaskChecked { run: id, score, samples });
    }
    session.keep_run(id, TrainedRun { model, settings, dataset: summary, last });
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
        let example = tokenize_example(example, &session.tokenizer);
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
) -> Control {
    let mut paused = false;
    loop {
        let message = if paused { Some(mailbox.next().await) } else { mailbox.try_next() };
        let Some(message) = message else { return Control::Continue };
        if is_for_studio(&message) {
            handle_studio(message, Some(session), studio).await;
            continue;
        }
        match message {
            ToWorker::Pause { run } if run == id => {
                paused = true;
                post(&FromWorker::Paused { run: id, step: trainer.steps_done() });
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
                    session.sample(Some(&trainer.model().valid()), &sample, adapter_scale, || false).await
                } else {
                    let model = run.and_then(|other| session.model_of(other));
                    session.sample(model, &sample, adapter_scale, || false).await
                };
                let text = text.expect("never interrupted");
                post(&FromWorker::Sample { request_id, adapter_scale, text });
            }
            // One forward pass, or one step on one sequence: quick enough to answer between steps.
            ToWorker::Inspect { request_id, text, then } => post(&session.inspect(request_id, &text, &then).await),
            ToWorker::ReadWeights { request_id, run, layer, projection } => {
                post(&session.read_weights(request_id, run, layer, projection).await)
            }
            ToWorker::TakeOneStep { request_id, dataset_url, sequence, settings } => {
                post(&session.one_step(request_id, &dataset_url, sequence, &settings).await)
            }
            ToWorker::Compare { request_id, .. } => {
                let message = "comparing is not possible while a run trains: wait for it to end, or stop it".into();
                post(&FromWorker::Error { run: None, request_id: Some(request_id), message })
            }
            ToWorker::Init { .. } => post(&busy(None, "changing the backend")),
            ToWorker::LoadDataset { .. } => post(&busy(None, "loading another data set")),
            ToWorker::LoadAdapter { run, .. } => post(&busy(Some(run), "loading an adapter")),
            ToWorker::Start { run, .. } => post(&busy(Some(run), "starting another run")),
            ToWorker::ExportAdapter { run } => post(&busy(Some(run), "exporting")),
            ToWorker::ExportJob { request_id, dataset_url, settings, base_model } => {
                post(&super::export::job_zip(session, request_id, &dataset_url, &settings, &base_model))
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
