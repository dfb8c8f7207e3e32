//! Resuming a run from a checkpoint (`tinytune::train::checkpoint`): the resumed run gives the loss rows of the
//! run that was never interrupted, and a checkpoint that is damaged or belongs to another run is refused with the
//! reason.

use burn::prelude::*;
use tinytune::lora::LoraConfig;
use tinytune::settings::{Choice, Projection};
use tinytune::train::checkpoint::Checkpoint;
use tinytune::train::{Schedule, Trainer, TrainingConfig, TrainingMethod};

use crate::trainer::{load, sequences};

/// Everything a step reports that depends on the training state: loss, held-out and drift losses, learning
/// rate, gradient norm.
type Row = (f64, Option<f64>, Option<f64>, f64, f64);

fn row(trainer: &mut Trainer) -> Row {
    let m = pollster::block_on(trainer.step()).unwrap();
    (m.loss, m.eval_loss, m.reference_eval_loss, m.learning_rate, m.grad_norm)
}

/// Accumulation, warmup into a cosine decay, weight decay, held-out evaluations, and 6 sequences a step from 8, so
/// the data is reshuffled (a new epoch) in most steps. No dropout: its masks come from the CPU backend's one
/// generator, which the tests running beside this one reseed; the browser test resumes a run with dropout.
fn config(method: TrainingMethod, rank: usize) -> TrainingConfig {
    let lora = LoraConfig::new(rank, 8.0, Projection::ALL.to_vec());
    TrainingConfig::new(method, lora, 9)
        .with_batch_size(3)
        .with_grad_accum(2)
        .with_seq_len(16)
        .with_learning_rate(5e-3)
        .with_warmup_steps(2)
        .with_schedule(Schedule::Cosine)
        .with_eval_every(3)
        .with_weight_decay(0.01)
        .with_seed(11)
}

fn trainer(config: TrainingConfig, data_seed: u64, device: &Device) -> Trainer {
    let (train, held_out) = (sequences(8, 16, data_seed), sequences(4, 16, 99));
    Trainer::new(load(device), train, held_out, config, device).unwrap()
}

fn close(a: &[Row], b: &[Row]) -> bool {
    let near = |x: f64, y: f64| (x - y).abs() <= 1e-5;
    let near_opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => near(x, y),
        (x, y) => x == y,
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            near(a.0, b.0) && near_opt(a.1, b.1) && near_opt(a.2, b.2) && near(a.3, b.3) && near(a.4, b.4)
        })
}

fn resumed_equals_uninterrupted(method: TrainingMethod) {
    let device = Device::flex().autodiff();
    let mut whole = trainer(config(method, 4), 5, &device);
    let uninterrupted: Vec<Row> = (0..9).map(|_| row(&mut whole)).collect();

    let mut first = trainer(config(method, 4), 5, &device);
    let mut rows: Vec<Row> = (0..4).map(|_| row(&mut first)).collect();
    let bytes = pollster::block_on(first.checkpoint()).unwrap().to_bytes(&"about the run");
    drop(first);
    let (checkpoint, about): (Checkpoint, String) = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(about, "about the run");
    assert_eq!(checkpoint.position.step, 4);
    let mut resumed = trainer(config(method, 4), 5, &device).resume(checkpoint).unwrap();
    assert_eq!(resumed.steps_done(), 4);
    rows.extend((4..9).map(|_| row(&mut resumed)));
    assert!(close(&rows, &uninterrupted), "{method:?}: resumed {rows:#?}\nuninterrupted {uninterrupted:#?}");

    // What resuming restores matters: without AdamW's moments, the steps after go elsewhere.
    let (mut checkpoint, _) = Checkpoint::from_bytes::<String>(&bytes).unwrap();
    checkpoint.params.iter_mut().for_each(|param| param.moments = None);
    let mut forgetful = trainer(config(method, 4), 5, &device).resume(checkpoint).unwrap();
    let rows: Vec<Row> = (4..9).map(|_| row(&mut forgetful)).collect();
    assert!(!close(&rows, &uninterrupted[4..]), "{method:?}: the moments made no difference");
}

#[test]
fn a_lora_run_resumed_at_step_4_gives_the_loss_rows_of_the_uninterrupted_run() {
    resumed_equals_uninterrupted(TrainingMethod::Lora);
}

#[test]
fn a_full_fine_tune_resumed_at_step_4_gives_the_loss_rows_of_the_uninterrupted_run() {
    resumed_equals_uninterrupted(TrainingMethod::Full);
}

#[test]
fn a_damaged_or_foreign_checkpoint_is_refused_with_the_reason() {
    let device = Device::flex().autodiff();
    let mut run = trainer(config(TrainingMethod::Lora, 4), 5, &device);
    row(&mut run);
    let bytes = pollster::block_on(run.checkpoint()).unwrap().to_bytes(&"run");
    let refused = |bytes: &[u8]| Checkpoint::from_bytes::<String>(bytes).map(drop).unwrap_err();

    assert!(refused(b"not a checkpoint").contains("it is not a checkpoint"), "{}", refused(b"not a checkpoint"));
    assert!(refused(&bytes[..bytes.len() - 7]).contains("it is not a checkpoint"));
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    assert_eq!(refused(&flipped), "it is damaged: its contents do not match their checksum");

    let resume = |config: TrainingConfig, data_seed: u64| {
        let (checkpoint, _) = Checkpoint::from_bytes::<String>(&bytes).unwrap();
        trainer(config, data_seed, &device).resume(checkpoint).map(drop).unwrap_err()
    };
    assert_eq!(resume(config(TrainingMethod::Lora, 4), 6), "the data set changed since the run was saved");
    let other_rank = resume(config(TrainingMethod::Lora, 8), 5);
    assert!(other_rank.contains("has shape [4, 64] where these settings train [8, 64]"), "{other_rank}");
    let frozen = resume(config(TrainingMethod::Frozen, 4), 5);
    assert!(frozen.contains("more trainable weights than a run with these settings trains"), "{frozen}");
    let full = resume(config(TrainingMethod::Full, 4), 5);
    assert!(full.contains("has shape"), "{full}");
}
