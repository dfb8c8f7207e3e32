//! An evaluation bench (lesson "An evaluation bench"): models compared on a data set's held-out loss, its
//! perplexity, and its task check over rounds of samples, each pass rate with its 95% Wilson interval; and a small
//! instruction model as a judge of pairs of stories, each pair asked in both orders so that its position bias
//! shows.
//!
//! Round `r` of the task check writes one sample per check prompt with the seeds `r·n … r·n + n − 1` (n prompts),
//! as [`crate::approach::Comparison`] numbers its samples, so round 1 draws exactly what the task check draws
//! everywhere else. The CLI records the bench when the site is built (`tinytune evaluate`, with the judge); the worker
//! runs the same code when a learner asks, at the number of rounds they choose.

use serde::{Deserialize, Serialize};

use crate::task::CheckedSample;

/// The rounds a learner can ask for; the recording has the most.
pub const ROUNDS_OFFERED: [usize; 4] = [1, 2, 4, 8];

/// The normal quantile for a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// A share's 95% interval, both ends between 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The Wilson score interval of `passed` of `total` at 95% (Wilson 1927; without continuity correction, as
/// `scipy.stats.binomtest(…).proportion_ci(method="wilson")` gives it). Unlike p ± 1.96·√(p(1−p)/n) it keeps a
/// width at 0 and at n passes and never leaves 0 to 1. A few lines: a statistics crate for one formula is not worth
/// its weight in the page.
pub fn wilson(passed: usize, total: usize) -> Interval {
    if total == 0 {
        return Interval { low: 0.0, high: 1.0 };
    }
    let (n, z2) = (total as f64, Z_95 * Z_95);
    let p = passed as f64 / n;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval { low: (centre - half).max(0.0), high: (centre + half).min(1.0) }
}

impl Interval {
    /// Whether the two intervals share any value: then the bench cannot tell the two rates apart.
    pub fn overlaps(self, other: Interval) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// A model to bench: its name in the table, and the adapter folder on the base model (none for the base model),
/// relative to the model's folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchedModel {
    pub name: String,
    pub adapter: Option<String>,
}

/// One model on the bench.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub model: BenchedModel,
    /// Mean loss per response token on the data set's held-out sequences, as a run measures it.
    pub held_out_loss: f64,
    /// Samples that passed the task check in each round, of `prompts` each.
    pub passed_per_round: Vec<usize>,
    /// The check's prompts: the samples in a round.
    pub prompts: usize,
    /// Round 1's samples, judged, in the check's order.
    pub first_round: Vec<CheckedSample>,
}

impl BenchRow {
    /// e^loss: the number of equally likely tokens that would leave the model as unsure as it is, on average.
    pub fn perplexity(&self) -> f64 {
        self.held_out_loss.exp()
    }

    pub fn passed(&self) -> usize {
        self.passed_per_round.iter().sum()
    }

    pub fn total(&self) -> usize {
        self.prompts * self.passed_per_round.len()
    }

    pub fn interval(&self) -> Interval {
        wilson(self.passed(), self.total())
    }
}

/// What `tinytune evaluate` records when the site is built: every model at the most rounds, and the judge's verdicts
/// on the first two models' round-1 stories.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedBench {
    pub rows: Vec<BenchRow>,
    /// The model that judged, as its publisher names it.
    pub judge_model: String,
    pub judged: Vec<JudgedPair>,
}

/// One request's two stories (the first model's, then the second's, as the check judged them) and the judge's
/// probability of picking the story it was shown first, asked with the first model's story first and then with
/// the second's first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgedPair {
    pub request: String,
    pub stories: [CheckedSample; 2],
    pub picks_shown_first: [f64; 2],
}

impl JudgedPair {
    /// The story (0 or 1) the judge picks when story `shown_first` is shown first.
    pub fn picked(&self, shown_first: usize) -> usize {
        let first_wins = self.picks_shown_first[shown_first] > 0.5;
        if first_wins {
            shown_first
        } else {
            1 - shown_first
        }
    }

    /// Whether the judge picks the same story in both orders.
    pub fn consistent(&self) -> bool {
        self.picked(0) == self.picked(1)
    }

    /// The story the task check passes when it passes exactly one.
    pub fn check_prefers(&self) -> Option<usize> {
        match (self.stories[0].passed, self.stories[1].passed) {
            (true, false) => Some(0),
            (false, true) => Some(1),
            _ => None,
        }
    }
}

/// The judge's record over all pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JudgeSummary {
    /// Verdicts (two a pair) that picked the story shown first.
    pub picked_first: usize,
    pub verdicts: usize,
    /// Pairs given the same story in both orders.
    pub consistent: usize,
    pub pairs: usize,
    /// Pairs where the check passes exactly one story, and of those, the ones the judge picks that story for in
    /// both orders.
    pub check_splits: usize,
    pub agrees_with_check: usize,
}

pub fn summarize(pairs: &[JudgedPair]) -> JudgeSummary {
    let picked_first = pairs.iter().map(|p| (0..2).filter(|&order| p.picked(order) == order).count()).sum();
    let splits: Vec<(&JudgedPair, usize)> = pairs.iter().filter_map(|p| p.check_prefers().map(|s| (p, s))).collect();
    JudgeSummary {
        picked_first,
        verdicts: 2 * pairs.len(),
        consistent: pairs.iter().filter(|p| p.consistent()).count(),
        pairs: pairs.len(),
        check_splits: splits.len(),
        agrees_with_check: splits.iter().filter(|(p, story)| p.consistent() && p.picked(0) == *story).count(),
    }
}

/// What the judge reads: the request and the two stories, as "A" and "B", and the question it answers with one of
/// those letters.
pub fn judge_request(request: &str, first: &str, second: &str) -> String {
    format!(
        "Here is a request and two stories written for it.\n\nRequest: {request}\n\nStory A: {}\n\nStory B: {}\n\n\
         Which story does what the request asks? Answer with one letter, A or B.",
        first.trim(),
        second.trim()
    )
}

/// The letters the judge answers with, the first story's first.
pub const JUDGE_LETTERS: [&str; 2] = ["A", "B"];

#[cfg(feature = "trainer")]
mod measuring {
    use burn::prelude::*;

    use super::{judge_request, BenchRow, BenchedModel, JudgedPair, JUDGE_LETTERS};
    use crate::approach::{Approach, Comparison};
    use crate::data::TrainingSequence;
    use crate::generate::last_position_logits;
    use crate::model::LlamaForCausalLM;
    use crate::task::CheckedSample;
    use crate::tokenizer::TextTokenizer;
    use crate::train::evaluate;

    /// `model` on the bench: its loss on `held_out` and `comparison`'s task check over its rounds, the request
    /// alone as the check asks it. `None` if `interrupted` said to give up first. `after_sample` is given the
    /// samples written and all of them after each one; it is async so that the worker can let its event loop run
    /// there (on the CPU backend nothing in a sample awaits, and a message the page sends meanwhile would wait for
    /// the whole bench). Async for the browser's GPU reads too; natively, drive it with `pollster::block_on`.
    #[allow(clippy::too_many_arguments)]
    pub async fn measure(
        name: BenchedModel,
        model: &LlamaForCausalLM,
        held_out: &[TrainingSequence],
        comparison: &Comparison<'_>,
        tokenizer: &TextTokenizer,
        max_len: usize,
        device: &Device,
        mut after_sample: impl AsyncFnMut(usize, usize),
        mut interrupted: impl FnMut() -> bool,
    ) -> Option<Result<BenchRow, String>> {
        let held_out_loss = match evaluate(model, held_out, 32, device).await {
            Ok(loss) => loss,
            Err(e) => return Some(Err(e.to_string())),
        };
        let prompts = comparison.prompts();
        let total = comparison.samples_per_approach();
        let mut passed_per_round = vec![0; total / prompts.max(1)];
        let mut first_round = Vec::with_capacity(prompts);
        for index in 0..total {
            let written =
                comparison.write(Approach::Plain, index, model, tokenizer, max_len, device, |_| interrupted());
            let sample = written.await?.sample;
            passed_per_round[index / prompts] += usize::from(sample.passed);
            if index < prompts {
                first_round.push(sample);
            }
            after_sample(index + 1, total).await;
        }
        Some(Ok(BenchRow { model: name, held_out_loss, passed_per_round, prompts, first_round }))
    }

    /// The probability that `judge` (an instruction model) picks the story shown first, read off its reply's first
    /// token: the softmax of the two letters' logits alone.
    pub async fn picks_first(
        judge: &LlamaForCausalLM,
        tokenizer: &TextTokenizer,
        request: &str,
        first: &str,
        second: &str,
        device: &Device,
    ) -> Result<f64, String> {
        let letters = JUDGE_LETTERS.map(|letter| tokenizer.encode(letter));
        let [Some(&a), Some(&b)] = letters.each_ref().map(|ids| ids.first().filter(|_| ids.len() == 1)) else {
            return Err(format!("the judge's tokenizer does not read {JUDGE_LETTERS:?} as one token each"));
        };
        let ids = tokenizer.request_ids(&judge_request(request, first, second));
        let logits = last_position_logits(judge, &ids, device).await;
        let (la, lb) = (logits[a as usize] as f64, logits[b as usize] as f64);
        Ok(1.0 / (1.0 + (lb - la).exp()))
    }

    /// Each request's two stories (`ours[i]`, `theirs[i]`) judged in both orders.
    pub async fn judge_pairs(
        judge: &LlamaForCausalLM,
        tokenizer: &TextTokenizer,
        ours: &[CheckedSample],
        theirs: &[CheckedSample],
        device: &Device,
    ) -> Result<Vec<JudgedPair>, String> {
        let mut judged = Vec::with_capacity(ours.len());
        for (one, other) in ours.iter().zip(theirs) {
            let forward = picks_first(judge, tokenizer, &one.prompt, &one.text, &other.text, device).await?;
            let swapped = picks_first(judge, tokenizer, &one.prompt, &other.text, &one.text, device).await?;
            judged.push(JudgedPair {
                request: one.prompt.clone(),
                stories: [one.clone(), other.clone()],
                picks_shown_first: [forward, swapped],
            });
        }
        Ok(judged)
    }
}

#[cfg(feature = "trainer")]
pub use measuring::{judge_pairs, measure, picks_first};

#[cfg(test)]
mod tests {
    use super::*;

    fn close(interval: Interval, low: f64, high: f64) -> bool {
        (interval.low - low).abs() < 5e-5 && (interval.high - high).abs() < 5e-5
    }

    #[test]
    fn wilsons_interval_is_newcombes_published_one() {
        // Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven methods",
        // Statistics in Medicine 17 (1998), Table I, method 3 (score, no continuity correction), to 4 places.
        assert!(close(wilson(81, 263), 0.2553, 0.3662), "{:?}", wilson(81, 263));
        assert!(close(wilson(15, 148), 0.0624, 0.1605), "{:?}", wilson(15, 148));
        assert!(close(wilson(0, 20), 0.0, 0.1611), "{:?}", wilson(0, 20));
        assert!(close(wilson(1, 29), 0.0061, 0.1718), "{:?}", wilson(1, 29));
    }

    #[test]
    fn an_interval_narrows_with_more_samples_and_keeps_a_width_at_all_or_nothing() {
        let (eight, sixty_four) = (wilson(6, 8), wilson(48, 64));
        assert!(sixty_four.high - sixty_four.low < eight.high - eight.low);
        assert!(wilson(8, 8).low < 1.0 && wilson(8, 8).high == 1.0);
        assert!(wilson(0, 8).high > 0.0);
        assert!(wilson(3, 8).overlaps(wilson(6, 8)) && !wilson(0, 64).overlaps(wilson(40, 64)));
    }

    fn story(passed: bool) -> CheckedSample {
        CheckedSample { prompt: "Write a story about a fox on the farm.".into(), passed, text: String::new() }
    }

    #[test]
    fn a_judge_that_always_picks_the_first_story_is_never_consistent_and_agrees_with_nothing() {
        let always_first =
            |a, b| JudgedPair { request: String::new(), stories: [story(a), story(b)], picks_shown_first: [0.9, 0.8] };
        let pairs = [always_first(false, true), always_first(true, true)];
        let summary = summarize(&pairs);
        assert_eq!(
            summary,
            JudgeSummary {
                picked_first: 4,
                verdicts: 4,
                consistent: 0,
                pairs: 2,
                check_splits: 1,
                agrees_with_check: 0
            }
        );
    }

    #[test]
    fn a_consistent_judge_counts_as_agreeing_only_where_the_check_splits_the_pair() {
        // Picks the second model's story in both orders: shown second (0.3 for the first), then shown first (0.7).
        let second =
            |a, b| JudgedPair { request: String::new(), stories: [story(a), story(b)], picks_shown_first: [0.3, 0.7] };
        let pairs = [second(false, true), second(true, false), second(false, false)];
        assert_eq!(pairs[0].picked(0), 1);
        assert_eq!(pairs[0].picked(1), 1);
        let summary = summarize(&pairs);
        assert_eq!((summary.picked_first, summary.consistent), (3, 3));
        assert_eq!((summary.check_splits, summary.agrees_with_check), (2, 1));
    }

    #[test]
    fn a_row_counts_every_round_and_its_perplexity_is_e_to_the_loss() {
        let model = BenchedModel { name: "Base model".into(), adapter: None };
        let row = BenchRow { model, held_out_loss: 2.0, passed_per_round: vec![1, 3], prompts: 8, first_round: vec![] };
        assert_eq!((row.passed(), row.total()), (4, 16));
        assert!((row.perplexity() - 7.389_056).abs() < 1e-6);
        assert_eq!(row.interval(), wilson(4, 16));
    }
}
