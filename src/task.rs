//! A data set's task metric: whether a run taught the behaviour its data shows, checked on samples rather than
//! read off the loss.
//!
//! A shipped data set declares its check in a file beside it, `<name>.check.json`, written by the script in
//! `tools/` that generates the data (that script knows, say, which animal-and-place pairs it held out): a name, a
//! sentence for learners, and prompts, each with the words its continuation must contain. After a run the worker
//! writes one sample per prompt (the prompt's index is its seed) with the base model and with the fine-tuned one,
//! and counts the samples that pass. The loss says how well a model predicts the data; this says whether it now
//! does what the data does.

use serde::{Deserialize, Serialize};

use crate::protocol::SampleSettings;

/// New tokens per check sample: a few sentences of stories260K's tokenizer, enough for a story's opening, a
/// short letter, or the first lines where an instruction shows.
pub const CHECK_NEW_TOKENS: usize = 60;

/// The file beside the data set at `dataset_url` that ends in `suffix` instead of the data's extension:
/// (`…/letters-home.txt`, `check.json`) → `…/letters-home.check.json`.
pub fn file_beside(dataset_url: &str, suffix: &str) -> String {
    let (folder, file) = dataset_url.rsplit_once('/').map_or(("", dataset_url), |(folder, file)| (folder, file));
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let slash = if dataset_url.contains('/') { "/" } else { "" };
    format!("{folder}{slash}{stem}.{suffix}")
}

/// What a data set's samples should show, from its `.check.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCheck {
    /// Short, for tables: "Pip rate".
    pub name: String,
    /// One sentence for learners: what share is measured.
    pub description: String,
    /// New tokens per sample, when the data's answers need more than [`CHECK_NEW_TOKENS`] (an instruction model's
    /// replies, with the sign-off a check looks for at their end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_new_tokens: Option<usize>,
    /// Judge each answer on its first sentence alone (a question's answer), not the whole sample: past it, a model
    /// that half-learned a set of facts strings names and places together at random and would pass by luck.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub judge_first_sentence: bool,
    /// The kinds of probe the samples belong to, in the order tables show them, when they are of several (asked
    /// as trained, reversed…): each sample names one by its `kind`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ProbeKind>,
    pub samples: Vec<CheckPrompt>,
    /// The shape every answer of the data has, judged on the same samples, when the data has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<ShapeCheck>,
}

/// One way a check asks about what a run learned: "asked in reverse".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeKind {
    /// What samples name it by: `reversed`.
    pub key: String,
    /// For tables: "Asked in reverse".
    pub name: String,
}

/// The shape every answer of a data set has, whatever was asked: its first sentence names a word of each list
/// (an animal and a place, any of the data's). Judged on the check's samples beside the check itself, it tells
/// learning the answers' format apart from following the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeCheck {
    /// Short, for tables: "Story shape".
    pub name: String,
    /// One sentence for learners: what is counted.
    pub description: String,
    /// Lists of words: the first sentence names at least one word of each (whole words, in any case).
    pub first_sentence_names: Vec<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckPrompt {
    pub prompt: String,
    /// Words (or a word with its punctuation, like `Love,`) that must all appear in the continuation, in any case,
    /// as whole words.
    pub must_contain: Vec<String>,
    /// The key of the check's [`ProbeKind`] this sample is, when the check has kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// How many check samples passed after a run, and with the base model, out of how many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskScore {
    /// The check's name: "Pip rate".
    pub name: String,
    pub passed: usize,
    pub base_passed: usize,
    pub total: usize,
}

/// One sample the check counted, so a learner can see what passed and what did not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckedSample {
    pub prompt: String,
    /// The continuation alone, without the prompt.
    pub text: String,
    pub passed: bool,
}

impl TaskCheck {
    /// Where the check of the data set at `dataset_url` lives: `…/letters-home.txt` → `…/letters-home.check.json`.
    pub fn url_beside(dataset_url: &str) -> String {
        file_beside(dataset_url, "check.json")
    }

    /// Reads and validates a check file; an error names the file and what to change.
    pub fn parse(file_name: &str, bytes: &[u8]) -> Result<TaskCheck, String> {
        let check: TaskCheck =
            serde_json::from_slice(bytes).map_err(|e| format!("{file_name}: not a task check ({e})"))?;
        let problem = |what: String| Err(format!("{file_name}: {what}"));
        if check.name.trim().is_empty() || check.description.trim().is_empty() {
            return problem("give the check a `name` and a `description`".into());
        }
        if check.samples.is_empty() {
            return problem("`samples` is empty: list at least one prompt to check".into());
        }
        if let Some(shape) = &check.shape {
            let lists = &shape.first_sentence_names;
            if lists.is_empty()
                || lists.iter().any(|words| words.is_empty() || words.iter().any(|w| w.trim().is_empty()))
            {
                return problem("`shape.first_sentence_names` needs lists of words, none empty".into());
            }
        }
        let keys: Vec<&str> = check.kinds.iter().map(|kind| kind.key.as_str()).collect();
        if keys.iter().enumerate().any(|(i, key)| key.trim().is_empty() || keys[..i].contains(key)) {
            return problem("`kinds` needs a different, non-empty `key` for each kind".into());
        }
        for (i, sample) in check.samples.iter().enumerate() {
            if sample.prompt.trim().is_empty() {
                return problem(format!("sample {}: the prompt is empty", i + 1));
            }
            if sample.must_contain.is_empty() || sample.must_contain.iter().any(|w| w.trim().is_empty()) {
                return problem(format!("sample {}: `must_contain` needs at least one word, and no empty ones", i + 1));
            }
            match (&sample.kind, keys.is_empty()) {
                (Some(kind), _) if !keys.contains(&kind.as_str()) => {
                    let known = if keys.is_empty() { "none: add `kinds`".to_string() } else { keys.join(", ") };
                    return problem(format!("sample {}: kind `{kind}` is not in `kinds` ({known})", i + 1));
                }
                (None, false) => {
                    return problem(format!("sample {}: give it a `kind`, one of {}", i + 1, keys.join(", ")));
                }
                _ => {}
            }
        }
        Ok(check)
    }

    /// Whether `continuation` (the text after sample `index`'s prompt) does what that sample asks: all of it, or
    /// its first sentence when the check judges answers.
    pub fn passes(&self, index: usize, continuation: &str) -> bool {
        self.samples[index].passes(self.judged_part(continuation))
    }

    /// How sample `index` is written: the demos' sampling settings, with the index as the seed so every run is
    /// checked on the same draws.
    pub fn sample_settings(&self, index: usize) -> SampleSettings {
        SampleSettings {
            prompt: self.samples[index].prompt.clone(),
            max_new_tokens: self.max_new_tokens.unwrap_or(CHECK_NEW_TOKENS),
            seed: index as u64,
            ..SampleSettings::default()
        }
    }

    /// The score of `samples` (judged by this check), given how many the base model passed.
    pub fn score(&self, samples: &[CheckedSample], base_passed: usize) -> TaskScore {
        let passed = samples.iter().filter(|sample| sample.passed).count();
        TaskScore { name: self.name.clone(), passed, base_passed, total: samples.len() }
    }

    /// For each of the check's kinds, in order: the kind, and how many of `samples` (judged by this check, in its
    /// order) of that kind passed, out of how many.
    pub fn passed_by_kind(&self, samples: &[CheckedSample]) -> Vec<(&ProbeKind, usize, usize)> {
        self.kinds
            .iter()
            .map(|kind| {
                let of_kind: Vec<bool> = (self.samples.iter().zip(samples))
                    .filter(|(prompt, _)| prompt.kind.as_deref() == Some(kind.key.as_str()))
                    .map(|(_, sample)| sample.passed)
                    .collect();
                (kind, of_kind.iter().filter(|&&passed| passed).count(), of_kind.len())
            })
            .collect()
    }

    /// What the check judges of a continuation: its first sentence, or all of it.
    pub fn judged_part<'a>(&self, continuation: &'a str) -> &'a str {
        if self.judge_first_sentence {
            first_sentence(continuation)
        } else {
            continuation
        }
    }

    /// Marks each continuation (in the order of `samples`) as passing or not.
    pub fn judge(&self, continuations: Vec<String>) -> Vec<CheckedSample> {
        self.samples
            .iter()
            .zip(continuations)
            .enumerate()
            .map(|(index, (sample, text))| CheckedSample {
                prompt: sample.prompt.clone(),
                passed: self.passes(index, &text),
                text,
            })
            .collect()
    }
}

impl ShapeCheck {
    pub fn passes(&self, continuation: &str) -> bool {
        let first = first_sentence(continuation);
        self.first_sentence_names.iter().all(|words| words.iter().any(|word| contains_word(first, word)))
    }
}

/// `text` up to its first full stop, question or exclamation mark (all of it without one).
fn first_sentence(text: &str) -> &str {
    text.find(['.', '!', '?']).map_or(text, |end| &text[..=end])
}

impl CheckPrompt {
    /// Every word in `text`; [`TaskCheck::passes`] says which part of a continuation is judged.
    fn passes(&self, continuation: &str) -> bool {
        self.must_contain.iter().all(|word| contains_word(continuation, word))
    }
}

/// `word` in `text`, ignoring ASCII case, not as part of a longer word: "cat" is in "The cat sat." but not in
/// "catch". Only letters and digits at the word's own ends need a boundary, so `Love,` matches "Love, Tom".
fn contains_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.to_ascii_lowercase(), word.trim().to_ascii_lowercase());
    let is_word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let needs_left = is_word_char(word.chars().next());
    let needs_right = is_word_char(word.chars().last());
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !(needs_left && is_word_char(before) || needs_right && is_word_char(after))
    })
}

#[cfg(feature = "trainer")]
mod sampling {
    use super::{CheckedSample, TaskCheck};
    use crate::generate::sample;
    use crate::model::LlamaForCausalLM;
    use crate::tokenizer::TextTokenizer;
    use burn::prelude::*;

    impl TaskCheck {
        /// Writes one sample per prompt with `model` and judges each. Async because reading logits back from a
        /// GPU in the browser is; natively, drive it with `pollster::block_on`.
        pub async fn run(
            &self,
            model: &LlamaForCausalLM,
            tokenizer: &TextTokenizer,
            max_len: usize,
            device: &Device,
        ) -> Vec<CheckedSample> {
            let mut continuations = Vec::with_capacity(self.samples.len());
            for index in 0..self.samples.len() {
                let settings = self.sample_settings(index);
                let (tokens, prompt_len) = sample(model, tokenizer, &settings, max_len, device, |_, _| false)
                    .await
                    .expect("never interrupted");
                continuations.push(tokenizer.decode(&tokens[prompt_len..]));
            }
            self.judge(continuations)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(words: &[&str]) -> CheckPrompt {
        let must_contain = words.iter().map(|w| w.to_string()).collect();
        CheckPrompt { prompt: "Write a story.".into(), must_contain, kind: None }
    }

    #[test]
    fn words_match_whole_and_in_any_case() {
        assert!(check(&["cat", "park"]).passes("Once upon a time, a Cat went to the PARK."));
        assert!(!check(&["cat"]).passes("Tom wanted to catch the ball."));
        assert!(!check(&["cat", "park"]).passes("The cat sat on the mat."));
        assert!(check(&["Pip"]).passes("Pip's light blinked."));
        assert!(!check(&["Pip"]).passes("The pipe was long."));
    }

    #[test]
    fn punctuation_at_a_words_end_needs_no_boundary() {
        assert!(check(&["Love,"]).passes("See you soon!\nLove,\nTom"));
        assert!(!check(&["Love,"]).passes("I love you. Love you, Tom"));
    }

    #[test]
    fn the_check_file_sits_beside_the_data_set() {
        assert_eq!(TaskCheck::url_beside("/datasets/letters-home.txt"), "/datasets/letters-home.check.json");
        assert_eq!(TaskCheck::url_beside("/site/datasets/a.b.jsonl"), "/site/datasets/a.b.check.json");
        assert_eq!(TaskCheck::url_beside("stories.jsonl"), "stories.check.json");
        assert_eq!(crate::protocol::RecordedRun::url_beside("/datasets/pip.jsonl"), "/datasets/pip.recorded.json");
    }

    #[test]
    fn a_bad_check_file_is_named_with_what_to_change() {
        let parse = |json: &str| TaskCheck::parse("pip.check.json", json.as_bytes());
        let error = parse(r#"{"name": "Pip rate", "description": "d", "samples": []}"#).unwrap_err();
        assert_eq!(error, "pip.check.json: `samples` is empty: list at least one prompt to check");
        let error = parse(r#"{"name": "n", "description": "d", "samples": [{"prompt": "Hi", "must_contain": []}]}"#)
            .unwrap_err();
        assert_eq!(error, "pip.check.json: sample 1: `must_contain` needs at least one word, and no empty ones");
        assert!(parse(r#"{"name": "n"}"#).unwrap_err().starts_with("pip.check.json: not a task check"));
        let error = parse(
            r#"{"name": "n", "description": "d", "samples": [{"prompt": "Hi", "must_contain": ["hi"]}],
                "shape": {"name": "s", "description": "d", "first_sentence_names": [["cat"], []]}}"#,
        )
        .unwrap_err();
        assert_eq!(error, "pip.check.json: `shape.first_sentence_names` needs lists of words, none empty");
    }

    #[test]
    fn the_shape_is_one_word_of_each_list_in_the_first_sentence() {
        let shape = ShapeCheck {
            name: "Story shape".into(),
            description: "d".into(),
            first_sentence_names: vec![vec!["cat".into(), "owl".into()], vec!["park".into(), "farm".into()]],
        };
        assert!(shape.passes("One day, a little Owl went to the park. Then it slept."));
        assert!(!shape.passes("Once upon a time, there was a girl named Lily. She saw an owl in the park."));
        assert!(!shape.passes("A cat lived in a house by the farmer's field."), "whole words only");
        assert!(shape.passes("A cat lived on the farm"), "a sample cut off before its first full stop");
    }

    /// A check of two kinds, judged on the answer's first sentence: "Where does Bo live?" (asked) and "Who lives
    /// by the old mill?" (reversed).
    fn probes() -> TaskCheck {
        let probe = |prompt: &str, word: &str, kind: &str| CheckPrompt {
            prompt: prompt.into(),
            must_contain: vec![word.into()],
            kind: Some(kind.into()),
        };
        let kind = |key: &str, name: &str| ProbeKind { key: key.into(), name: name.into() };
        TaskCheck {
            name: "Knows where they live".into(),
            description: "d".into(),
            max_new_tokens: None,
            judge_first_sentence: true,
            kinds: vec![kind("asked", "Asked as trained"), kind("reversed", "Asked in reverse")],
            samples: vec![
                probe("Where does Bo live?", "mill", "asked"),
                probe("Who lives by the old mill?", "Bo", "reversed"),
                probe("Where does Kit live?", "bridge", "asked"),
            ],
            shape: None,
        }
    }

    #[test]
    fn a_check_that_judges_answers_reads_the_first_sentence_alone() {
        let check = probes();
        let judged = check.judge(vec![
            " Bo lives by the old mill. Kit likes honey.".into(),
            " Kit lives by the old mill. Bo is a frog.".into(),
            " Kit lives by the old mill".into(),
        ]);
        assert_eq!(judged.iter().map(|s| s.passed).collect::<Vec<_>>(), [true, false, false]);
        assert_eq!(check.judged_part(" Kit lives by the old mill. Bo is a frog."), " Kit lives by the old mill.");
        let whole = TaskCheck { judge_first_sentence: false, ..probes() };
        assert!(whole.passes(1, " Kit lives by the old mill. Bo is a frog."), "the whole answer names Bo");
        assert_eq!(whole.judged_part("A. B."), "A. B.");
    }

    #[test]
    fn answers_are_counted_by_kind_in_the_checks_order() {
        let check = probes();
        let judged = check.judge(vec!["Bo lives by the old mill.".into(), "Bo.".into(), "Kit lives by a tree.".into()]);
        let counts: Vec<(&str, usize, usize)> = check
            .passed_by_kind(&judged)
            .into_iter()
            .map(|(kind, passed, total)| (kind.name.as_str(), passed, total))
            .collect();
        assert_eq!(counts, [("Asked as trained", 1, 2), ("Asked in reverse", 1, 1)]);
    }

    #[test]
    fn every_sample_of_a_check_with_kinds_names_one_of_them() {
        let parse = |json: &str| TaskCheck::parse("town.check.json", json.as_bytes());
        let kinds = r#""kinds": [{"key": "asked", "name": "Asked as trained"}]"#;
        let sample = |kind: &str| format!(r#"{{"prompt": "Where does Bo live?", "must_contain": ["mill"]{kind}}}"#);
        let check = |kinds: &str, sample: String| {
            format!(r#"{{"name": "n", "description": "d", {kinds} "samples": [{sample}]}}"#)
        };
        assert!(parse(&check(&format!("{kinds},"), sample(r#", "kind": "asked""#))).is_ok());
        assert_eq!(
            parse(&check(&format!("{kinds},"), sample(r#", "kind": "asekd""#))).unwrap_err(),
            "town.check.json: sample 1: kind `asekd` is not in `kinds` (asked)"
        );
        assert_eq!(
            parse(&check(&format!("{kinds},"), sample(""))).unwrap_err(),
            "town.check.json: sample 1: give it a `kind`, one of asked"
        );
        assert_eq!(
            parse(&check("", sample(r#", "kind": "asked""#))).unwrap_err(),
            "town.check.json: sample 1: kind `asked` is not in `kinds` (none: add `kinds`)"
        );
        let twice = r#""kinds": [{"key": "asked", "name": "A"}, {"key": "asked", "name": "B"}],"#;
        assert_eq!(
            parse(&check(twice, sample(r#", "kind": "asked""#))).unwrap_err(),
            "town.check.json: `kinds` needs a different, non-empty `key` for each kind"
        );
    }

    #[test]
    fn each_sample_is_judged_against_its_own_prompt() {
        let check = TaskCheck {
            name: "Follows the instruction".into(),
            description: "d".into(),
            max_new_tokens: None,
            judge_first_sentence: false,
            kinds: Vec::new(),
            samples: vec![check(&["fox", "farm"]), check(&["owl", "beach"])],
            shape: None,
        };
        let judged = check.judge(vec!["A fox lived on a farm.".into(), "A fox lived on a farm.".into()]);
        assert_eq!(judged.iter().map(|s| s.passed).collect::<Vec<_>>(), [true, false]);
        assert_eq!(check.sample_settings(1).seed, 1);
    }
}
