//! Ways to one goal, a data set's task check, each scored the same way: the lineups lessons set side by side.
//!
//! The goal is the instruction data set's: a story that names the animal and the place the request asks for, on
//! pairs no example holds. The ways differ only in what the model sees or is. [`Lineup::Approaches`] (the lesson
//! "Prompt, retrieve, or fine-tune"): the request alone; a worked example (the data set's first) written in front
//! of it; the examples most like the request, retrieved from the data set, in front of it; and the request alone
//! through the instruction adapter trained on that data set. [`Lineup::Templates`] (the lesson on data formats):
//! the adapter asked in the template it trained on, and in two it never saw. Each way writes [`ROUNDS`] samples for
//! every check prompt, with the seeds 0, 1, 2…, so the first round draws exactly what the task check draws. The CLI
//! records every way when the site is built; the worker runs the same code when a learner asks.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::dataset::Example;
use crate::protocol::SampleSettings;
use crate::task::{CheckPrompt, CheckedSample, TaskCheck, CHECK_NEW_TOKENS};

/// One way to reach the goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approach {
    /// The base model, the request alone: the baseline.
    Plain,
    /// The base model, with one worked example (a request and its story) written in front: prompt engineering.
    WorkedExample,
    /// The base model, with the [`RETRIEVED`] examples most like the request written in front: retrieval.
    Retrieved,
    /// The request alone, through the instruction adapter: fine-tuning, asked as it trained (`crate::data`'s
    /// prompt/response template: the prompt, then the response).
    Adapter,
    /// The request between chat role labels, `User:` … `Assistant:`, through the adapter: a template it never saw.
    AdapterChatLabels,
    /// The request between Alpaca's markers, `### Instruction:` … `### Response:`, through the adapter: another.
    AdapterAlpaca,
}

impl Approach {
    /// Every way, in the order the CLI records them.
    pub const ALL: [Approach; 6] = [
        Approach::Plain,
        Approach::WorkedExample,
        Approach::Retrieved,
        Approach::Adapter,
        Approach::AdapterChatLabels,
        Approach::AdapterAlpaca,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Approach::Plain => "The request alone",
            Approach::WorkedExample => "A worked example in front",
            Approach::Retrieved => "Retrieved examples in front",
            Approach::Adapter => "The instruction adapter",
            Approach::AdapterChatLabels => "The adapter, asked with chat role labels",
            Approach::AdapterAlpaca => "The adapter, asked with Alpaca's markers",
        }
    }

    /// Whether this way samples through the adapter rather than the base model.
    pub fn uses_adapter(self) -> bool {
        matches!(self, Approach::Adapter | Approach::AdapterChatLabels | Approach::AdapterAlpaca)
    }

    /// The request as this way's template writes it.
    fn templated(self, request: &str) -> String {
        match self {
            Approach::Plain | Approach::WorkedExample | Approach::Retrieved | Approach::Adapter => request.to_string(),
            Approach::AdapterChatLabels => format!("User: {request} Assistant:"),
            Approach::AdapterAlpaca => format!("### Instruction:\n{request}\n\n### Response:\n"),
        }
    }
}

/// The ways a lesson sets side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lineup {
    /// Prompt, retrieve or fine-tune: the base model three ways, and the adapter.
    Approaches,
    /// The adapter asked in its own template and in two others.
    Templates,
}

impl Lineup {
    pub fn ways(self) -> &'static [Approach] {
        match self {
            Lineup::Approaches => &[Approach::Plain, Approach::WorkedExample, Approach::Retrieved, Approach::Adapter],
            Lineup::Templates => &[Approach::Adapter, Approach::AdapterChatLabels, Approach::AdapterAlpaca],
        }
    }
}

/// Samples per check prompt and approach.
pub const ROUNDS: usize = 3;
/// Examples retrieval puts in front of a request.
pub const RETRIEVED: usize = 2;

/// One sample of the comparison: which way, which of its samples, how long its prompt was, and how it was judged
/// (`sample.prompt` is the request alone, without the examples in front).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApproachSample {
    pub approach: Approach,
    pub index: usize,
    /// Tokens the model read before writing: BOS, any examples, the request.
    pub prompt_tokens: usize,
    /// The requests of the examples written in front of this one, in order.
    pub in_front: Vec<String>,
    pub sample: CheckedSample,
}

/// How one way did over the samples written so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    pub approach: Approach,
    pub written: usize,
    pub passed: usize,
    /// Tokens read over all its samples.
    pub prompt_tokens: usize,
}

impl Tally {
    /// Tokens read per request, on average; `None` before the first sample.
    pub fn mean_prompt_tokens(&self) -> Option<f64> {
        (self.written > 0).then(|| self.prompt_tokens as f64 / self.written as f64)
    }
}

/// The tally of each of `ways` over `samples`, in their order.
pub fn tally(ways: &[Approach], samples: &[ApproachSample]) -> Vec<Tally> {
    ways.iter()
        .map(|&approach| {
            let mine = samples.iter().filter(|s| s.approach == approach);
            let (written, passed, prompt_tokens) =
                mine.fold((0, 0, 0), |(w, p, t), s| (w + 1, p + usize::from(s.sample.passed), t + s.prompt_tokens));
            Tally { approach, written, passed, prompt_tokens }
        })
        .collect()
}

/// The comparison on a data set's check, retrieving from `examples` (the training split).
pub struct Comparison<'a> {
    check: &'a TaskCheck,
    examples: &'a [Example],
    retriever: Retriever,
    rounds: usize,
}

impl<'a> Comparison<'a> {
    pub fn new(check: &'a TaskCheck, examples: &'a [Example]) -> Comparison<'a> {
        let retriever = Retriever::new(examples.iter().map(Example::all_text));
        Comparison { check, examples, retriever, rounds: ROUNDS }
    }

    /// The same, writing `rounds` samples for every check prompt instead of [`ROUNDS`] (the evaluation bench's).
    pub fn with_rounds(self, rounds: usize) -> Comparison<'a> {
        Comparison { rounds, ..self }
    }

    /// The check's prompts: the samples of one round.
    pub fn prompts(&self) -> usize {
        self.check.samples.len()
    }

    /// Samples each approach writes.
    pub fn samples_per_approach(&self) -> usize {
        self.prompts() * self.rounds
    }

    /// Every sample of `ways` to write, one way after another.
    pub fn plan(&self, ways: &[Approach]) -> Vec<(Approach, usize)> {
        ways.iter().flat_map(|&approach| (0..self.samples_per_approach()).map(move |i| (approach, i))).collect()
    }

    /// The check prompt sample `index` asks for.
    pub fn request(&self, index: usize) -> &CheckPrompt {
        &self.check.samples[index % self.check.samples.len()]
    }

    /// The examples `approach` writes in front of sample `index`'s request.
    fn in_front(&self, approach: Approach, index: usize) -> Vec<&Example> {
        match approach {
            Approach::Plain | Approach::Adapter | Approach::AdapterChatLabels | Approach::AdapterAlpaca => Vec::new(),
            Approach::WorkedExample => self.examples.first().into_iter().collect(),
            Approach::Retrieved => {
                let request = &self.request(index).prompt;
                self.retriever.closest(request, RETRIEVED).into_iter().map(|i| &self.examples[i]).collect()
            }
        }
    }

    /// What the model reads for sample `index` of `approach`, and how it samples: the task check's settings, with
    /// the index as the seed.
    pub fn settings(&self, approach: Approach, index: usize) -> SampleSettings {
        let request = approach.templated(&self.request(index).prompt);
        let in_front = self.in_front(approach, index).into_iter().map(context_text);
        let prompt = in_front.chain([request]).collect::<Vec<_>>();
        SampleSettings {
            prompt: prompt.join("\n"),
            max_new_tokens: CHECK_NEW_TOKENS,
            seed: index as u64,
            ..SampleSettings::default()
        }
    }

    /// Sample `index` of `approach` judged on its `continuation` (the text after the prompt).
    pub fn judge(
        &self,
        approach: Approach,
        index: usize,
        continuation: String,
        prompt_tokens: usize,
    ) -> ApproachSample {
        let request = self.request(index);
        let in_front = self.in_front(approach, index).into_iter().map(headline).collect();
        let passed = self.check.passes(index % self.check.samples.len(), &continuation);
        let sample = CheckedSample { prompt: request.prompt.clone(), passed, text: continuation };
        ApproachSample { approach, index, prompt_tokens, in_front, sample }
    }
}

/// An example as it is written in front of a request: as the model trains on it, the prompt and then its answer.
fn context_text(example: &Example) -> String {
    match example {
        Example::PromptResponse { prompt, response } => format!("{prompt} {response}"),
        other => other.all_text(),
    }
}

/// What names an example in a list: its request, or its first line.
fn headline(example: &Example) -> String {
    match example {
        Example::PromptResponse { prompt, .. } => prompt.clone(),
        other => other.all_text().lines().next().unwrap_or_default().to_string(),
    }
}

/// Finds the texts most like a query: every word they share counts by its rarity among the texts (inverse
/// document frequency, BM25 without its length terms), so "fox" weighs and "story" (in every request) does not.
/// A few lines for a few hundred texts; a search crate would bring an index this lesson does not need.
struct Retriever {
    texts: Vec<BTreeSet<String>>,
    rarity: BTreeMap<String, f64>,
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

impl Retriever {
    fn new(texts: impl Iterator<Item = String>) -> Retriever {
        let texts: Vec<BTreeSet<String>> = texts.map(|text| words(&text)).collect();
        let mut counts = BTreeMap::<String, usize>::new();
        for word in texts.iter().flatten() {
            *counts.entry(word.clone()).or_default() += 1;
        }
        let n = texts.len() as f64;
        let rarity = counts.into_iter().map(|(word, count)| (word, (n / count as f64).ln())).collect();
        Retriever { texts, rarity }
    }

    /// The indices of the `k` texts that share the most weight with `query`, best first (earlier first on a tie);
    /// texts that share nothing rare are never returned.
    fn closest(&self, query: &str, k: usize) -> Vec<usize> {
        let query = words(query);
        let mut scored: Vec<(f64, usize)> = self
            .texts
            .iter()
            .enumerate()
            .map(|(i, text)| (query.intersection(text).map(|w| self.rarity[w]).sum::<f64>(), i))
            .filter(|&(score, _)| score > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().take(k).map(|(_, i)| i).collect()
    }
}

#[cfg(feature = "trainer")]
mod writing {
    use super::{Approach, ApproachSample, Comparison};
    use crate::generate::sample;
    use crate::model::LlamaForCausalLM;
    use crate::tokenizer::TextTokenizer;
    use burn::prelude::*;

    impl Comparison<'_> {
        /// Writes and judges sample `index` of `approach` with `model` (the adapted one for the adapter's way), or
        /// `None` if `interrupted` said to give up first. Async for the browser's GPU reads; natively, drive it
        /// with `pollster::block_on`.
        #[allow(clippy::too_many_arguments)]
        pub async fn write(
            &self,
            approach: Approach,
            index: usize,
            model: &LlamaForCausalLM,
            tokenizer: &TextTokenizer,
            max_len: usize,
            device: &Device,
            mut interrupted: impl FnMut(&[u32]) -> bool,
        ) -> Option<ApproachSample> {
            let settings = self.settings(approach, index);
            let interrupted = |tokens: &[u32], _| interrupted(tokens);
            let (tokens, prompt_len) = sample(model, tokenizer, &settings, max_len, device, interrupted).await?;
            Some(self.judge(approach, index, tokenizer.decode(&tokens[prompt_len..]), prompt_len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(prompt: &str, response: &str) -> Example {
        Example::PromptResponse { prompt: prompt.into(), response: response.into() }
    }

    fn check() -> TaskCheck {
        let prompt = |prompt: &str, words: [&str; 2]| CheckPrompt {
            prompt: prompt.into(),
            must_contain: words.iter().map(|w| w.to_string()).collect(),
            kind: None,
        };
        TaskCheck {
            name: "Follows the instruction".into(),
            description: "Names both.".into(),
            max_new_tokens: None,
            judge_first_sentence: false,
            kinds: Vec::new(),
            samples: vec![
                prompt("Write a story about a fox on the farm.", ["fox", "farm"]),
                prompt("Tell me a story about a duck at the school.", ["duck", "school"]),
            ],
            shape: None,
        }
    }

    fn examples() -> Vec<Example> {
        vec![
            pair("Write a story about a mouse at the zoo.", "A mouse went to the zoo."),
            pair("Tell me a story about a fox in the park.", "A fox ran in the park."),
            pair("Write a story about a pig on the farm.", "A pig lived on the farm."),
            pair("Write a story about a duck in the park.", "A duck swam in the park."),
        ]
    }

    #[test]
    fn retrieval_finds_the_examples_that_share_the_rare_words() {
        let (check, examples) = (check(), examples());
        let comparison = Comparison::new(&check, &examples);
        // "fox", "on" and "farm" are each in one example; "story", "about" and "a" are in all, so they weigh nothing:
        // the pig on the farm shares two rare words, the fox in the park one.
        let settings = comparison.settings(Approach::Retrieved, 0);
        assert_eq!(
            settings.prompt,
            "Write a story about a pig on the farm. A pig lived on the farm.\n\
             Tell me a story about a fox in the park. A fox ran in the park.\n\
             Write a story about a fox on the farm."
        );
        // A request that shares nothing rare with any example gets none in front.
        assert!(comparison.retriever.closest("About a bear.", 2).is_empty());
    }

    #[test]
    fn each_way_reads_its_own_prompt_and_the_first_round_is_the_checks_own() {
        let (check, examples) = (check(), examples());
        let comparison = Comparison::new(&check, &examples);
        assert_eq!(comparison.samples_per_approach(), 2 * ROUNDS);
        let plan = comparison.plan(Lineup::Approaches.ways());
        assert_eq!(plan.len(), 4 * 2 * ROUNDS);
        assert_eq!(plan[0], (Approach::Plain, 0));
        assert_eq!(comparison.plan(Lineup::Templates.ways())[2 * ROUNDS], (Approach::AdapterChatLabels, 0));
        // The request alone and the adapter read what the task check reads, so round one repeats its samples.
        for approach in [Approach::Plain, Approach::Adapter] {
            assert_eq!(comparison.settings(approach, 1), check.sample_settings(1));
        }
        // Later rounds ask the same requests again with new seeds.
        assert_eq!(comparison.request(3).prompt, check.samples[1].prompt);
        assert_eq!(comparison.settings(Approach::Plain, 3).seed, 3);
        assert_eq!(
            comparison.settings(Approach::WorkedExample, 1).prompt,
            "Write a story about a mouse at the zoo. A mouse went to the zoo.\n\
             Tell me a story about a duck at the school."
        );
    }

    #[test]
    fn the_template_ways_wrap_the_request_and_judge_the_request_alone() {
        let (check, examples) = (check(), examples());
        let comparison = Comparison::new(&check, &examples);
        assert!(Lineup::Templates.ways().iter().all(|way| way.uses_adapter()));
        assert_eq!(comparison.settings(Approach::Adapter, 0).prompt, "Write a story about a fox on the farm.");
        assert_eq!(
            comparison.settings(Approach::AdapterChatLabels, 0).prompt,
            "User: Write a story about a fox on the farm. Assistant:"
        );
        let alpaca = comparison.settings(Approach::AdapterAlpaca, 1);
        assert_eq!(alpaca.prompt, "### Instruction:\nTell me a story about a duck at the school.\n\n### Response:\n");
        // Only the prompt differs: the same seed and length as the task check's own sample.
        assert_eq!(SampleSettings { prompt: check.samples[1].prompt.clone(), ..alpaca }, check.sample_settings(1));
        let judged = comparison.judge(Approach::AdapterAlpaca, 1, "A duck went to school.".into(), 60);
        assert_eq!(judged.sample.prompt, "Tell me a story about a duck at the school.");
        assert!(judged.sample.passed && judged.in_front.is_empty());
    }

    #[test]
    fn a_sample_is_judged_on_its_continuation_and_keeps_the_request_alone() {
        let (check, examples) = (check(), examples());
        let comparison = Comparison::new(&check, &examples);
        let judged = comparison.judge(Approach::Retrieved, 2, "The fox slept on the farm.".into(), 40);
        assert_eq!(judged.sample.prompt, "Write a story about a fox on the farm.");
        assert!(judged.sample.passed);
        assert_eq!(judged.prompt_tokens, 40);
        let retrieved = ["Write a story about a pig on the farm.", "Tell me a story about a fox in the park."];
        assert_eq!(judged.in_front, retrieved, "the requests of the examples in front, best first");
        let plain = comparison.judge(Approach::Plain, 0, "The fox slept.".into(), 12);
        assert!(!plain.sample.passed);
        assert!(plain.in_front.is_empty());
    }

    #[test]
    fn the_tally_counts_each_way_apart() {
        let (check, examples) = (check(), examples());
        let comparison = Comparison::new(&check, &examples);
        let samples = [
            comparison.judge(Approach::Adapter, 0, "A fox on a farm.".into(), 20),
            comparison.judge(Approach::Adapter, 1, "A duck.".into(), 30),
            comparison.judge(Approach::Retrieved, 0, "A fox on a farm.".into(), 400),
        ];
        let tallies = tally(Lineup::Approaches.ways(), &samples);
        assert_eq!(tallies.iter().map(|t| t.approach).collect::<Vec<_>>(), Lineup::Approaches.ways());
        let adapter = &tallies[3];
        assert_eq!((adapter.written, adapter.passed, adapter.mean_prompt_tokens()), (2, 1, Some(25.0)));
        assert_eq!((tallies[2].passed, tallies[2].mean_prompt_tokens()), (1, Some(400.0)));
        assert_eq!((tallies[0].written, tallies[0].mean_prompt_tokens()), (0, None));
    }
}
