//! A data set under review in the studio: every entry judged on its own (parsed, hashed for duplicates) and
//! together (duplicates, near-duplicates, the split, and, once the tokenizer has seen them, length and the
//! end-of-sequence token), with the learner's decision for each: keep, drop, or (by editing it) fix.

use serde::{Deserialize, Serialize};

use super::duplicates::{self, Signature, Twin};
use super::example::Example;
use super::problem::{Problem, ProblemKind};
use super::relevance;
use super::source::Entry;
use super::split;

/// What the learner decided for an entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    /// Trained on when it is an example; its problems stay listed.
    #[default]
    Undecided,
    /// Trained on, its problems acknowledged.
    Keep,
    /// Left out of training and of the download.
    Drop,
}

/// How the usable examples are split into training and held-out examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitSettings {
    /// Share of examples held out, 0–0.5.
    pub held_out_fraction: f64,
    pub seed: u64,
    /// Keep each group of (near-)duplicates on one side of the split.
    pub grouped: bool,
}

impl Default for SplitSettings {
    fn default() -> Self {
        SplitSettings { held_out_fraction: 0.1, seed: 0, grouped: true }
    }
}

/// What one entry is on its own: recomputed only when the entry changes.
#[derive(Clone, Debug)]
pub struct EntryFacts {
    pub example: Result<Example, Problem>,
    /// For duplicates: the hash of the normalised text and its MinHash signature (for examples only).
    fingerprint: Option<(u64, Signature)>,
    /// When the answer shares no word with its request ([`relevance::off_topic`]).
    off_topic: Option<Problem>,
}

impl EntryFacts {
    pub fn of(entry: &Entry) -> EntryFacts {
        let example = match &entry.read_problem {
            Some(problem) => Err(problem.clone()),
            None => Example::from_json_line(&entry.source),
        };
        let fingerprint = example.as_ref().ok().map(fingerprint);
        let off_topic = example.as_ref().ok().and_then(relevance::off_topic);
        EntryFacts { example, fingerprint, off_topic }
    }
}

/// What duplicates are judged on: the hash of the example's normalised text, and its MinHash signature.
fn fingerprint(example: &Example) -> (u64, Signature) {
    let text = duplicates::normalise(&example.all_text());
    (duplicates::exact_key(&text), duplicates::signature(&text))
}

/// Splits examples as the studio does when the learner has decided nothing (grouped by duplicates when
/// `settings.grouped`): the training examples, then the held-out ones, each in file order.
pub fn split_examples(examples: Vec<Example>, settings: &SplitSettings) -> (Vec<Example>, Vec<Example>) {
    let fingerprints: Vec<(u64, Signature)> = examples.iter().map(fingerprint).collect();
    let twins =
        duplicates::find(&fingerprints.iter().map(|(key, signature)| Some((*key, signature))).collect::<Vec<_>>());
    let groups: Vec<Option<usize>> = twins.groups.into_iter().map(Some).collect();
    let held_out = split::held_out(&groups, settings.held_out_fraction, settings.seed, settings.grouped);
    let (held, train): (Vec<_>, Vec<_>) = examples.into_iter().zip(held_out).partition(|(_, held)| *held);
    (train.into_iter().map(|(e, _)| e).collect(), held.into_iter().map(|(e, _)| e).collect())
}

/// An example's length in tokens and the trained spans that do not end with the end-of-sequence token, as the
/// trainer's template and tokenizer make them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFacts {
    pub tokens: usize,
    pub spans_without_eos: usize,
}

/// A problem and the entry (index and file line) it is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemAt {
    pub entry: usize,
    pub line: usize,
    pub problem: Problem,
}

/// The data set as the learner's decisions leave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    /// Every problem of every entry not dropped, in file order.
    pub problems: Vec<ProblemAt>,
    /// Whether each entry is trained on: an example, and not dropped.
    pub usable: Vec<bool>,
    /// Whether each usable entry is held out.
    pub held_out: Vec<bool>,
}

impl Review {
    /// Indices of the usable entries on one side of the split.
    pub fn side(&self, held_out: bool) -> impl Iterator<Item = usize> + '_ {
        (0..self.usable.len()).filter(move |&i| self.usable[i] && self.held_out[i] == held_out)
    }
}

/// Judges the entries together. `tokens`, when the tokenizer has measured the examples, adds the length and
/// end-of-sequence checks against `seq_len` (the tokens a training piece holds, plus one for the last target).
pub fn review(
    entries: &[Entry],
    facts: &[EntryFacts],
    decisions: &[Decision],
    split_settings: &SplitSettings,
    tokens: Option<(&[Option<TokenFacts>], usize)>,
) -> Review {
    let count = entries.len();
    let dropped = |i: usize| decisions.get(i) == Some(&Decision::Drop);
    let usable: Vec<bool> = (0..count).map(|i| !dropped(i) && facts[i].example.is_ok()).collect();
    let fingerprints: Vec<Option<(u64, &Signature)>> = (0..count)
        .map(|i| if usable[i] { facts[i].fingerprint.as_ref().map(|(key, signature)| (*key, signature)) } else { None })
        .collect();
    let twins = duplicates::find(&fingerprints);
    let groups: Vec<Option<usize>> = (0..count).map(|i| usable[i].then_some(twins.groups[i])).collect();
    let held_out =
        split::held_out(&groups, split_settings.held_out_fraction, split_settings.seed, split_settings.grouped);

    let mut problems = Vec::new();
    for index in 0..count {
        if dropped(index) {
            continue;
        }
        let line = entries[index].line;
        let mut add = |problem: Problem| problems.push(ProblemAt { entry: index, line, problem });
        if let Err(problem) = &facts[index].example {
            add(problem.clone());
            continue;
        }
        let side = |i: usize| if held_out[i] { "held-out" } else { "training" };
        let (kind, of, what) = match twins.twins[index] {
            Twin::Original => (None, index, String::new()),
            Twin::Exact { of } => (Some(ProblemKind::Duplicate), of, "the same as".to_string()),
            Twin::Near { of, similarity } => (
                Some(ProblemKind::NearDuplicate),
                of,
                format!("nearly the same as ({:.0}% of their 5-character pieces shared)", similarity * 100.0),
            ),
        };
        if let Some(kind) = kind {
            let of_line = entries[of].line;
            add(Problem::new(
                kind,
                None,
                format!("{what} line {of_line}: drop one, or keep both if they really are different examples"),
            ));
            if held_out[index] != held_out[of] {
                add(Problem::new(
                    ProblemKind::SplitLeak,
                    None,
                    format!(
                        "on the {} side, and its twin on line {of_line} on the {} side: the held-out loss then rewards \
                         memory; group near-duplicates in the split, or drop one",
                        side(index),
                        side(of)
                    ),
                ));
            }
        }
        if let Some(problem) = &facts[index].off_topic {
            add(problem.clone());
        }
        if let Some((measured, seq_len)) = tokens {
            if let Some(Some(facts)) = measured.get(index) {
                let piece = seq_len + 1;
                if facts.tokens > piece {
                    let pieces = (facts.tokens - 1).div_ceil(seq_len);
                    add(Problem::new(
                        ProblemKind::TooLong,
                        None,
                        format!(
                            "{} tokens, {} more than a training piece of {piece} holds: it is cut into {pieces} \
                             pieces and the later ones train without the start; shorten it, split it, or raise the \
                             sequence length",
                            facts.tokens,
                            facts.tokens - piece
                        ),
                    ));
                }
                if facts.spans_without_eos > 0 {
                    add(Problem::new(
                        ProblemKind::NoEos,
                        None,
                        format!(
                            "{} trained span(s) do not end with the end-of-sequence token, so the model does not learn \
                             where to stop",
                            facts.spans_without_eos
                        ),
                    ));
                }
            }
        }
    }
    Review { problems, usable, held_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(sources: &[&str]) -> Vec<Entry> {
        sources
            .iter()
            .enumerate()
            .map(|(i, s)| Entry { line: i + 1, source: s.to_string(), read_problem: None })
            .collect()
    }

    fn kinds(review: &Review) -> Vec<(usize, ProblemKind)> {
        review.problems.iter().map(|p| (p.line, p.problem.kind)).collect()
    }

    const STORY: &str = "Once upon a time, a little purple robot called Pip found a red ball in the garden.";

    #[test]
    fn every_kind_of_problem_is_listed_with_its_line() {
        let near = STORY.replace("little", "small");
        let lines = [
            format!(r#"{{"text": "{STORY}"}}"#),
            r#"{"text": "#.to_string(),
            format!(r#"{{"text": "{STORY}"}}"#),
            format!(r#"{{"text": "{near}"}}"#),
            r#"{"prompt": "Hi", "response": " "}"#.to_string(),
            r#"{"messages": [{"role": "bot", "content": "x"}]}"#.to_string(),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let entries = entries(&lines);
        let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
        let settings = SplitSettings { grouped: true, ..SplitSettings::default() };
        let review = review(&entries, &facts, &[], &settings, None);
        assert_eq!(
            kinds(&review),
            vec![
                (2, ProblemKind::Json),
                (3, ProblemKind::Duplicate),
                (4, ProblemKind::NearDuplicate),
                (5, ProblemKind::Empty),
                (6, ProblemKind::Role),
            ]
        );
        assert_eq!(review.usable, vec![true, false, true, true, false, false]);
        assert!(review.problems[1].problem.message.starts_with("the same as line 1"));
    }

    #[test]
    fn dropped_entries_have_no_problems_and_are_not_trained_on() {
        let entries = entries(&[r#"{"text": "a story"}"#, r#"{"text": "a story"}"#, "not json"]);
        let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
        let decisions = [Decision::Undecided, Decision::Drop, Decision::Drop];
        let review = review(&entries, &facts, &decisions, &SplitSettings::default(), None);
        assert!(review.problems.is_empty(), "{:?}", review.problems);
        assert_eq!(review.usable, vec![true, false, false]);
    }

    #[test]
    fn an_ungrouped_split_shows_the_leaks_a_grouped_one_prevents() {
        // Twenty distinct stories, each with an exact copy.
        let stories: Vec<String> =
            (0..20).map(|i| format!(r#"{{"text": "Story number {i}: {}"}}"#, "x".repeat(i + 1))).collect();
        let lines: Vec<&str> = stories.iter().flat_map(|s| [s.as_str(), s.as_str()]).collect();
        let entries = entries(&lines);
        let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
        let leaks = |grouped: bool| {
            let settings = SplitSettings { held_out_fraction: 0.3, seed: 3, grouped };
            let review = review(&entries, &facts, &[], &settings, None);
            review.problems.iter().filter(|p| p.problem.kind == ProblemKind::SplitLeak).count()
        };
        assert_eq!(leaks(true), 0);
        assert!(leaks(false) > 0);
    }

    #[test]
    fn split_examples_keeps_duplicates_together_and_the_file_order() {
        let examples: Vec<Example> =
            (0..30).map(|i| Example::Text(format!("Story {}: {}", i / 2, "word ".repeat(i / 2 + 1)))).collect();
        let (train, held_out) =
            split_examples(examples.clone(), &SplitSettings { held_out_fraction: 0.2, seed: 1, grouped: true });
        assert_eq!((train.len(), held_out.len()), (24, 6));
        for pair in examples.chunks(2) {
            assert_eq!(held_out.contains(&pair[0]), held_out.contains(&pair[1]));
        }
        let position = |e: &Example| examples.iter().position(|x| x == e).unwrap();
        assert!(train.windows(2).all(|w| position(&w[0]) <= position(&w[1])));
    }

    #[test]
    fn token_checks_name_the_overshoot_and_missing_eos() {
        let entries = entries(&[r#"{"text": "long"}"#, r#"{"text": "short"}"#]);
        let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
        let measured = [
            Some(TokenFacts { tokens: 150, spans_without_eos: 0 }),
            Some(TokenFacts { tokens: 10, spans_without_eos: 1 }),
        ];
        let review = review(&entries, &facts, &[], &SplitSettings::default(), Some((&measured, 64)));
        assert_eq!(kinds(&review), vec![(1, ProblemKind::TooLong), (2, ProblemKind::NoEos)]);
        assert!(
            review.problems[0]
                .problem
                .message
                .starts_with("150 tokens, 85 more than a training piece of 65 holds: it is cut into 3 pieces"),
            "{}",
            review.problems[0].problem.message
        );
    }
}
