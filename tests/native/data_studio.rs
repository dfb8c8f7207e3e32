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
