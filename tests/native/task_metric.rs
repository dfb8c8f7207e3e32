//! The shipped data sets and their task metrics (`public/datasets/*.check.json`, see `tinytune::task`): every
//! check parses and holds out its instruction prompts, and a LoRA run on stories260K moves the metric (the base
//! model rarely passes, the fine-tuned one mostly does): the lesson's default run for a new character and a new
//! form, the "Instruction tuning" preset for instructions. The runs go through the CLI, which reports the metric
//! with the same code as the worker.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use tinytune::dataset::review::{split_examples, SplitSettings};
use tinytune::dataset::{parse_dataset, Example};
use tinytune::settings::{Choice, RunPreset, TrainSettings};
use tinytune::task::TaskCheck;

/// The shipped data sets (the UI's list is `ui::demo::DATASETS`, which checks each has its files).
const DATASETS: [&str; 4] = [
    "pip-the-purple-robot.jsonl",
    "animal-place-instructions.jsonl",
    "letters-home.txt",
    "animal-place-preferences.jsonl",
];

fn datasets_dir() -> PathBuf {
    crate::common::crate_dir().join("public/datasets")
}

fn check_of(dataset: &str) -> TaskCheck {
    let path = PathBuf::from(TaskCheck::url_beside(&datasets_dir().join(dataset).to_string_lossy()));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    TaskCheck::parse(&path.display().to_string(), &bytes).unwrap()
}

#[test]
fn every_check_parses_and_no_instruction_check_is_a_training_prompt() {
    for dataset in DATASETS {
        let examples = parse_dataset(dataset, &std::fs::read(datasets_dir().join(dataset)).unwrap()).unwrap();
        let check = check_of(dataset);
        assert_eq!(check.samples.len(), 8, "{dataset}: eight samples keep the check to seconds on a CPU");
        let prompts: Vec<&str> = examples
            .iter()
            .filter_map(|e| match e {
                Example::PromptResponse { prompt, .. } | Example::Preference { prompt, .. } => Some(prompt.as_str()),
                _ => None,
            })
            .collect();
        for sample in &check.samples {
            // A held-out prompt: the run must learn to follow prompts, not remember these.
            assert!(!prompts.contains(&sample.prompt.as_str()), "{dataset}: `{}` is a training prompt", sample.prompt);
        }
    }
}

/// Runs `tools/<script>` into a scratch folder and checks that it writes each of `stems`' data and check files
/// exactly as `public/datasets/` holds them.
fn assert_script_writes(script: &str, stems: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(common::crate_dir().join("tools").join(script))
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tools/{script} failed");
    for file in stems.iter().flat_map(|stem| [format!("{stem}.jsonl"), format!("{stem}.check.json")]) {
        let written = std::fs::read(out.path().join(&file)).unwrap();
        assert!(written == std::fs::read(datasets_dir().join(&file)).unwrap(), "{file} is not what {script} writes");
    }
}

#[test]
fn the_instruction_and_preference_sets_are_what_their_script_writes_and_each_pair_differs_in_the_request_alone() {
    assert_script_writes(
        "make_animal_place_instructions.py",
        &["animal-place-instructions", "animal-place-preferences"],
    );
    let read = |file: &str| parse_dataset(file, &std::fs::read(datasets_dir().join(file)).unwrap()).unwrap();
    let (instructions, preferences) = (read("animal-place-instructions.jsonl"), read("animal-place-preferences.jsonl"));
    assert_eq!(instructions.len(), preferences.len());
    for (instruction, preference) in instructions.iter().zip(&preferences) {
        let (Example::PromptResponse { prompt, response }, Example::Preference { prompt: asked, chosen, rejected }) =
            (instruction, preference)
        else {
            panic!("{instruction:?} / {preference:?}")
        };
        assert_eq!((prompt, response), (asked, chosen), "the chosen story is the instruction line's");
        // The same story but for the animal and the place (and the place's own sentences): at most a quarter of
        // the chosen story's words are not in the rejected one.
        let mut left: Vec<&str> = rejected.split_whitespace().collect();
        let words = chosen.split_whitespace().count();
        let unmatched = chosen
            .split_whitespace()
            .filter(|word| match left.iter().position(|other| other == word) {
                Some(at) => {
                    left.swap_remove(at);
                    false
                }
                None => true,
            })
            .count();
        assert!(
            chosen != rejected && unmatched * 4 <= words,
            "{unmatched} of {words} words differ:\n{chosen}\n{rejected}"
        );
    }
}

#[test]
fn the_town_sets_are_what_their_script_writes_and_the_split_leaves_every_probed_fact_in_training() {
    assert_script_writes("make_town_facts.py", &["town-notes", "town-questions"]);
    let check = check_of("town-notes.jsonl");
    assert_eq!(check, check_of("town-questions.jsonl"), "both sets are asked the same probes");
    assert!(check.judge_first_sentence);
    let kinds: Vec<&str> = check.kinds.iter().map(|kind| kind.key.as_str()).collect();
    assert_eq!(kinds, ["asked", "reworded", "no-where", "reversed", "finish"]);
    for kind in kinds {
        assert_eq!(
            check.samples.iter().filter(|s| s.kind.as_deref() == Some(kind)).count(),
            8,
            "one probe a character"
        );
    }
    // What the runs train on: the site's split (10% held out, grouped), as the worker makes it.
    let trained = |file: &str| {
        let examples = parse_dataset(file, &std::fs::read(datasets_dir().join(file)).unwrap()).unwrap();
        split_examples(examples, &SplitSettings::default()).0
    };
    let (notes, questions) = (trained("town-notes.jsonl"), trained("town-questions.jsonl"));
    let prompts: Vec<&str> = questions
        .iter()
        .map(|e| match e {
            Example::PromptResponse { prompt, .. } => prompt.as_str(),
            other => panic!("not a question: {other:?}"),
        })
        .collect();
    for (i, probe) in check.samples.iter().enumerate() {
        let asked_as_trained = probe.kind.as_deref() == Some("asked");
        // "Asked as trained" is a question a run trains on; no other probe is.
        assert_eq!(prompts.contains(&probe.prompt.as_str()), asked_as_trained, "{}", probe.prompt);
        // Each probe's fact is in both trained sets: the finish probe's opening with its answer word.
        if probe.kind.as_deref() == Some("finish") {
            let fact = |text: &str| text.split_once(&probe.prompt).is_some_and(|(_, rest)| check.passes(i, rest));
            assert!(notes.iter().any(|e| matches!(e, Example::Text(t) if fact(t))), "notes: {}", probe.prompt);
            let answers =
                questions.iter().filter(|e| matches!(e, Example::PromptResponse { response, .. } if fact(response)));
            assert!(answers.count() >= 1, "questions: {}", probe.prompt);
        }
    }
}

#[test]
fn the_role_sets_are_what_their_script_writes_and_differ_in_pronouns_alone() {
    assert_script_writes("make_role_stories.py", &["role-stories-skewed", "role-stories-balanced"]);
    let check = check_of("role-stories-skewed.jsonl");
    assert_eq!(check, check_of("role-stories-balanced.jsonl"), "both sets are asked the same probes");
    let texts = |file: &str| -> Vec<String> {
        let examples = parse_dataset(file, &std::fs::read(datasets_dir().join(file)).unwrap()).unwrap();
        examples
            .into_iter()
            .map(|e| match e {
                Example::Text(text) => text,
                other => panic!("{file}: not a story: {other:?}"),
            })
            .collect()
    };
    let (skewed, balanced) = (texts("role-stories-skewed.jsonl"), texts("role-stories-balanced.jsonl"));
    let pronoun = |word: &str| {
        matches!(
            word.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase().as_str(),
            "he" | "she" | "his" | "her" | "him"
        )
    };
    let mut she = [0; 2];
    for (a, b) in skewed.iter().zip(&balanced) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split_whitespace().collect(), b.split_whitespace().collect());
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x == y || (pronoun(x) && pronoun(y))), "{a:?} / {b:?}");
        she[0] += a.iter().any(|w| w.to_lowercase().trim_matches('.') == "she") as usize;
        she[1] += b.iter().any(|w| w.to_lowercase().trim_matches('.') == "she") as usize;
    }
    assert_eq!(she, [120, 120], "half the stories say she in each set (three roles of six, and half of each)");
}

/// The CLI's flags for `settings`.
fn cli_args(settings: &TrainSettings) -> Vec<String> {
    let targets: Vec<&str> = settings.lora_targets.iter().map(|p| p.name()).collect();
    [
        ("--method", settings.method.name().to_string()),
        ("--rank", settings.lora_rank.to_string()),
        ("--alpha", settings.lora_alpha.to_string()),
        ("--dropout", settings.lora_dropout.to_string()),
        ("--targets", targets.join(",")),
        ("--learning-rate", settings.learning_rate.to_string()),
        ("--schedule", settings.schedule.name().to_string()),
        ("--warmup", settings.warmup_steps.to_string()),
        ("--steps", settings.steps.to_string()),
        ("--batch-size", settings.batch_size.to_string()),
        ("--grad-accum", settings.grad_accum.to_string()),
        ("--seq-len", settings.seq_len.to_string()),
        ("--seed", settings.seed.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_string(), value])
    .collect()
}

/// `(passed, base_passed, total)` from the CLI's report, e.g. `Pip rate: 7/8 samples pass (base model: 0)`.
fn train_and_check(dataset: &str, settings: &TrainSettings) -> (usize, usize, usize) {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tinytune"))
        .arg("train")
        .args(cli_args(settings))
        .arg("--model")
        .arg(common::converted_model_dir())
        .arg("--data")
        .arg(datasets_dir().join(dataset))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "training on {dataset} failed:\n{stderr}");
    let name = check_of(dataset).name;
    let line = stderr.lines().rev().find(|l| l.starts_with(&format!("{name}: "))).unwrap_or_else(|| {
        panic!("no `{name}:` line after training on {dataset}:\n{stderr}");
    });
    let numbers: Vec<usize> =
        line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let [passed, total, base_passed] = numbers[..] else { panic!("unreadable: {line}") };
    eprintln!("{dataset}: {line}");
    (passed, base_passed, total)
}

#[test]
fn the_lessons_default_run_teaches_a_character_and_a_form_and_the_instruction_preset_teaches_instructions() {
    let runs = [
        ("pip-the-purple-robot.jsonl", TrainSettings::default()),
        ("letters-home.txt", TrainSettings::default()),
        ("animal-place-instructions.jsonl", RunPreset::Instructions.settings()),
    ];
    for (dataset, settings) in runs {
        let (passed, base_passed, total) = train_and_check(dataset, &settings);
        assert_eq!(total, 8);
        assert!(
            base_passed <= 2,
            "{dataset}: the base model passes {base_passed} of 8: the check measures nothing new"
        );
        assert!(passed >= base_passed + 4, "{dataset}: only {passed} of 8 after the run (base: {base_passed})");
    }
}
