//! The data studio's judgement of whole files: every format, every kind of problem with its line, the masks the
//! model trains on, and the grouped split, on fixtures whose problems are known line by line.

use tinytune::data::tokenize_example;
use tinytune::dataset::review::{review, split_examples, Decision, EntryFacts, SplitSettings, TokenFacts};
use tinytune::dataset::source::{read_entries, table_preview};
use tinytune::dataset::{ColumnMapping, Entry, Example, Field, Format, ProblemKind};
use tinytune::tokenizer::{tokenizer_json_from_llama2c, TextTokenizer};

use crate::common;

fn fixture(path: &str) -> Vec<u8> {
    let path = crate::common::crate_dir().join("tests/fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn tokenizer() -> TextTokenizer {
    let json = tokenizer_json_from_llama2c(&common::stories260k_file("tok512.bin")).unwrap();
    TextTokenizer::from_json_bytes(json.as_bytes()).unwrap()
}

/// The problems of `entries` as (line, kind), measured with the stories260K tokenizer at `seq_len`.
fn problems(
    entries: &[Entry],
    decisions: &[Decision],
    split: &SplitSettings,
    seq_len: usize,
) -> Vec<(usize, ProblemKind)> {
    let tokenizer = tokenizer();
    let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
    let tokens: Vec<Option<TokenFacts>> = facts
        .iter()
        .map(|f| f.example.as_ref().ok().map(|e| tokenize_example(e, &tokenizer).unwrap().facts(tokenizer.eos_id())))
        .collect();
    let review = review(entries, &facts, decisions, split, Some((&tokens, seq_len)));
    review.problems.iter().map(|p| (p.line, p.problem.kind)).collect()
}

#[test]
fn every_problem_of_a_messy_file_is_listed_with_its_line() {
    let entries = read_entries(&fixture("studio/messy.jsonl"), Format::Jsonl, None).unwrap();
    assert_eq!(entries.len(), 12);
    let found = problems(&entries, &[], &SplitSettings::default(), 64);
    assert_eq!(
        found,
        vec![
            (3, ProblemKind::Json),
            (4, ProblemKind::Fields),
            (5, ProblemKind::Empty),
            (6, ProblemKind::Role),
            (7, ProblemKind::Duplicate),
            (8, ProblemKind::NearDuplicate),
            (11, ProblemKind::TooLong),
            (12, ProblemKind::Role),
        ]
    );
    // Dropping the broken lines and the duplicates leaves only the long example's problem.
    let mut decisions = vec![Decision::Undecided; entries.len()];
    for line in [3, 4, 5, 6, 7, 8, 12] {
        decisions[line - 1] = Decision::Drop;
    }
    assert_eq!(problems(&entries, &decisions, &SplitSettings::default(), 64), vec![(11, ProblemKind::TooLong)]);
    // A longer sequence length fits it.
    assert_eq!(problems(&entries, &decisions, &SplitSettings::default(), 2048), vec![]);
}

#[test]
fn an_ungrouped_split_can_leak_a_duplicate_into_the_held_out_side() {
    let entries = read_entries(&fixture("studio/messy.jsonl"), Format::Jsonl, None).unwrap();
    let leaks = |grouped: bool| {
        (0..40)
            .filter(|&seed| {
                let split = SplitSettings { held_out_fraction: 0.3, seed, grouped };
                problems(&entries, &[], &split, 512).contains(&(7, ProblemKind::SplitLeak))
                    || problems(&entries, &[], &split, 512).contains(&(1, ProblemKind::SplitLeak))
            })
            .count()
    };
    assert_eq!(leaks(true), 0);
    assert!(leaks(false) > 0, "no seed of 40 parted line 1 from its duplicate on line 7");
}

#[test]
fn tables_map_their_columns_and_name_the_rows() {
    let csv = fixture("studio/table.csv");
    let preview = table_preview(&csv, Format::Csv).unwrap();
    assert_eq!(preview.suggested, ColumnMapping { columns: vec![(Field::Prompt, 0), (Field::Response, 1)] });
    let entries = read_entries(&csv, Format::Csv, None).unwrap();
    let lines: Vec<usize> = entries.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    assert_eq!(
        Example::from_json_line(&entries[2].source).unwrap(),
        Example::PromptResponse { prompt: "Say \"hi\"".into(), response: "Hi!".into() }
    );
    let tsv = read_entries(&fixture("studio/table.tsv"), Format::Tsv, None).unwrap();
    assert_eq!(
        Example::from_json_line(&tsv[1].source).unwrap(),
        Example::PromptResponse { prompt: "Name a color.".into(), response: "Red.".into() }
    );
    // A ragged row and an empty mapped cell.
    let ragged = read_entries(b"text,label\nfine,1\nnot, fine,2\n,3\n", Format::Csv, None).unwrap();
    assert_eq!(
        problems(&ragged, &[], &SplitSettings::default(), 64),
        vec![(3, ProblemKind::Row), (4, ProblemKind::Empty)]
    );
}

#[test]
fn preference_pairs_train_on_the_chosen_answer_and_need_two_different_answers() {
    let entries = read_entries(&fixture("studio/preference.jsonl"), Format::Jsonl, None).unwrap();
    assert_eq!(problems(&entries, &[], &SplitSettings::default(), 64), vec![(2, ProblemKind::SameAnswers)]);
    let tokenizer = tokenizer();
    let pair = Example::from_json_line(&entries[0].source).unwrap();
    let tokenized = tokenize_example(&pair, &tokenizer).unwrap();
    let trained: Vec<u32> =
        tokenized.tokens.iter().zip(&tokenized.loss_mask).filter(|(_, &t)| t).map(|(&id, _)| id).collect();
    let mut chosen = tokenizer.encode("Hello, and welcome!");
    chosen.push(tokenizer.eos_id());
    assert_eq!(trained, chosen);
}

#[test]
fn every_trained_span_of_every_shipped_example_ends_with_eos() {
    let tokenizer = tokenizer();
    let folder = crate::common::crate_dir().join("public/datasets");
    for name in ["pip-the-purple-robot.jsonl", "animal-place-instructions.jsonl", "letters-home.txt"] {
        let bytes = std::fs::read(folder.join(name)).unwrap();
        let entries = read_entries(&bytes, Format::from_name(name).unwrap(), None).unwrap();
        for entry in &entries {
            let example = Example::from_json_line(&entry.source)
                .unwrap_or_else(|p| panic!("{name}:{}: {}", entry.line, p.message));
            let facts = tokenize_example(&example, &tokenizer).unwrap().facts(tokenizer.eos_id());
            assert_eq!(facts.spans_without_eos, 0, "{name}:{}", entry.line);
        }
    }
    // And the chat fixture, whose conversations have several assistant turns.
    let chat = read_entries(&fixture("data/chat.jsonl"), Format::Jsonl, None).unwrap();
    for entry in &chat {
        let example = Example::from_json_line(&entry.source).unwrap();
        assert_eq!(tokenize_example(&example, &tokenizer).unwrap().facts(tokenizer.eos_id()).spans_without_eos, 0);
    }
}

#[test]
fn the_trainers_split_of_a_shipped_data_set_without_near_duplicates_holds_out_the_share_asked_for() {
    // The instructions data set repeats its prompts' template, yet no two of its examples are near-duplicates.
    let bytes =
        std::fs::read(crate::common::crate_dir().join("public/datasets/animal-place-instructions.jsonl")).unwrap();
    let examples = tinytune::dataset::parse_dataset("animal-place-instructions.jsonl", &bytes).unwrap();
    let count = examples.len();
    let (train, held_out) = split_examples(examples, &SplitSettings::default());
    assert_eq!(held_out.len(), (count as f64 * 0.1).round() as usize);
    assert_eq!(train.len() + held_out.len(), count);
}

/// The lesson "Cleaning, labelling and splitting": the messy practice set is what its script writes, and the studio
/// finds each fault the script put in (the script checks where it put them), and nothing else: dropping every
/// flagged line leaves lines of the instruction set, each once, and every off-topic line pairs a prompt of the
/// instruction set with another prompt's story.
#[test]
fn the_studio_finds_every_fault_of_the_messy_practice_set_and_nothing_else() {
    let datasets = common::crate_dir().join("public/datasets");
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(common::crate_dir().join("tools/make_animal_place_messy.py"))
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tools/make_animal_place_messy.py failed");
    for file in ["animal-place-messy.jsonl", "animal-place-messy.check.json"] {
        let written = std::fs::read(out.path().join(file)).unwrap();
        assert!(written == std::fs::read(datasets.join(file)).unwrap(), "{file} is not what the script writes");
    }
    let instructions = tinytune::dataset::parse_dataset(
        "i.jsonl",
        &std::fs::read(datasets.join("animal-place-instructions.jsonl")).unwrap(),
    )
    .unwrap();
    let entries =
        read_entries(&std::fs::read(datasets.join("animal-place-messy.jsonl")).unwrap(), Format::Jsonl, None).unwrap();
    let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
    let found = review(&entries, &facts, &[], &SplitSettings::default(), None);
    let count = |kind: ProblemKind| found.problems.iter().filter(|p| p.problem.kind == kind).count();
    let counts: Vec<(ProblemKind, usize)> =
        ProblemKind::ALL.into_iter().map(|kind| (kind, count(kind))).filter(|(_, n)| *n > 0).collect();
    assert_eq!(
        counts,
        vec![
            (ProblemKind::Json, 2),
            (ProblemKind::Fields, 2),
            (ProblemKind::Empty, 1),
            (ProblemKind::Duplicate, 21),
            (ProblemKind::NearDuplicate, 10),
            (ProblemKind::OffTopic, 96),
        ]
    );
    let example = |i: usize| facts[i].example.clone().unwrap();
    let pair_of = |e: &Example| match e {
        Example::PromptResponse { prompt, response } => (prompt.clone(), response.clone()),
        other => panic!("{other:?}"),
    };
    // What is left after dropping every flagged line: 192 lines, each an instruction line or a copy of one with one
    // small edit (where the copy comes first in the file, the studio flags the original), no two of one line, and
    // nothing left to flag.
    let flagged: Vec<usize> = found.problems.iter().map(|p| p.entry).collect();
    let decisions: Vec<Decision> =
        (0..entries.len()).map(|i| if flagged.contains(&i) { Decision::Drop } else { Decision::Undecided }).collect();
    let kept = review(&entries, &facts, &decisions, &SplitSettings::default(), None);
    assert!(kept.problems.is_empty(), "{:?}", kept.problems);
    let kept: Vec<(String, String)> =
        (0..entries.len()).filter(|&i| kept.usable[i]).map(|i| pair_of(&example(i))).collect();
    assert_eq!(kept.len(), 192);
    let mut sources: Vec<usize> = kept
        .iter()
        .map(|(prompt, response)| {
            let words: Vec<&str> = response.split_whitespace().collect();
            instructions
                .iter()
                .map(pair_of)
                .position(|(p, r)| {
                    let theirs: Vec<&str> = r.split_whitespace().collect();
                    let differ = words.iter().zip(&theirs).filter(|(a, b)| a != b).count();
                    p == *prompt && differ <= 5 && words.len().abs_diff(theirs.len()) <= 2
                })
                .unwrap_or_else(|| panic!("not an instruction line, nor a near copy of one: {prompt} {response}"))
        })
        .collect();
    sources.sort_unstable();
    sources.dedup();
    assert_eq!(sources.len(), 192, "an instruction line left twice");
    // Every off-topic line pairs a request of the instruction set with the story of another request.
    for p in found.problems.iter().filter(|p| p.problem.kind == ProblemKind::OffTopic) {
        let (prompt, response) = pair_of(&example(p.entry));
        let owner = instructions.iter().map(pair_of).find(|(_, r)| *r == response).expect("a story of the set");
        assert!(owner.0 != prompt && instructions.iter().any(|e| pair_of(e).0 == prompt), "line {}", p.line);
    }
}
