//! The evaluation bench (`tinytune evaluate`) against the run it evaluates: its held-out loss is the one the run
//! measured at its last step, its first round is the task check the run's record wrote, and later rounds sample anew.

use crate::common;

use std::path::Path;
use std::process::Command;

use tinytune::evaluation::RecordedBench;
use tinytune::protocol::RecordedRun;

fn tinytune(args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_tinytune")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tinytune {args:?} failed:\n{stderr}");
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_bench_measures_what_the_run_measured_and_round_one_is_its_task_check() {
    let out = tempfile::tempdir().unwrap();
    let model = common::converted_model_dir().to_str().unwrap().to_string();
    let data = common::crate_dir().join("public/datasets/animal-place-instructions.jsonl");
    let data = data.to_str().unwrap();
    let adapter = out.path().join("adapter");
    let recorded_path = adapter.join("recorded.json");
    let adapter = adapter.to_str().unwrap();
    // A short run: the adapter, and what the worker reports after it.
    let settings = "steps=20&eval=10";
    tinytune(
        &["record", "--model", &model, "--data", data, "--settings", settings, "--adapter-out", adapter, "--out"]
            .into_iter()
            .chain([recorded_path.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let bench_path = out.path().join("evaluation.json");
    let served_as = format!("short-run={adapter}");
    let bench_out = bench_path.to_str().unwrap();
    tinytune(&[
        "evaluate",
        "--model",
        &model,
        "--adapter",
        &served_as,
        "--data",
        data,
        "--rounds",
        "2",
        "--out",
        bench_out,
    ]);
    let run: RecordedRun = read_json(&recorded_path);
    let bench: RecordedBench = read_json(&bench_path);

    let [base, adapted] = &bench.rows[..] else { panic!("two rows: {:?}", bench.rows.len()) };
    assert_eq!(base.model.adapter, None);
    assert_eq!(adapted.model.adapter.as_deref(), Some("short-run/"));
    assert_eq!(adapted.model.name, "Adapter: 20 steps, training seed 42");
    let last_held_out = run.metrics.iter().rev().find_map(|m| m.eval_loss).expect("the run measured its held-out loss");
    assert!(
        (adapted.held_out_loss - last_held_out).abs() < 1e-5,
        "the bench's held-out loss {} is the run's last {last_held_out}",
        adapted.held_out_loss
    );
    assert!(
        base.held_out_loss > adapted.held_out_loss + 0.2,
        "20 steps fit the data: {} vs {}",
        base.held_out_loss,
        adapted.held_out_loss
    );
    assert_eq!(base.first_round, run.base_checked, "round 1 of the base model is the run's base check");
    assert_eq!(adapted.first_round, run.tuned_checked, "round 1 of the adapter is the run's task check");
    for row in [base, adapted] {
        assert_eq!((row.prompts, row.passed_per_round.len()), (8, 2));
        assert_eq!(row.passed_per_round[0], row.first_round.iter().filter(|s| s.passed).count());
    }
    assert!(bench.judged.is_empty() && bench.judge_model.is_empty(), "no judge without --judge");
}
