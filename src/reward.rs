//! Learning from a reward a program checks (lesson "ORPO, KTO and GRPO"): the rule that scores a completion
//! ([`SentenceRule`]), the settings of the GRPO toy ([`GrpoSettings`], the same for the tab and `tinytune grpo`),
//! and what each of its steps shows ([`GrpoStep`]). The training itself is `train::grpo`.

use serde::{Deserialize, Serialize};

/// A reward anyone can check, with no reward model: the first sentence a completion writes must end with the
/// word `ending` (a name, say) and stay within `max_words` words. Each rule met scores 1; a completion that ends
/// no sentence scores 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentenceRule {
    pub ending: String,
    pub max_words: usize,
}

impl SentenceRule {
    pub fn reward(&self, completion: &str) -> f64 {
        let Some(end) = completion.find(['.', '!', '?']) else { return 0.0 };
        let words: Vec<&str> = completion[..end].split_whitespace().collect();
        let ends_right =
            words.last().is_some_and(|word| word.trim_matches(|c: char| !c.is_alphanumeric()) == self.ending);
        f64::from(u8::from(ends_right)) + f64::from(u8::from(words.len() <= self.max_words))
    }

    /// The most a completion can score.
    pub const MAX_REWARD: f64 = 2.0;
}

/// The GRPO toy: `groups` groups of `group_size` completions of `prompt`, each `max_new_tokens` long at
/// temperature 1, scored by `rule`; `steps` GRPO steps of a fresh LoRA adapter at `learning_rate`, with KL
/// coefficient `beta`. Completion k of step s is sampled with seed `seed + s · groups · group_size + k`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrpoSettings {
    pub prompt: String,
    pub rule: SentenceRule,
    pub groups: usize,
    pub group_size: usize,
    pub max_new_tokens: usize,
    pub steps: usize,
    pub learning_rate: f64,
    pub beta: f64,
    pub seed: u64,
}

impl Default for GrpoSettings {
    /// About one story in ten ends its first sentence with "Max" before training (stories260K's favourite name
    /// is Lily), so groups of 8 mostly have some spread; at 3e-3 the reward climbs within 20 steps and the text
    /// stays readable, at 1e-2 it degenerates (tinytune grpo, measured).
    fn default() -> Self {
        GrpoSettings {
            prompt: "Once upon a time".into(),
            rule: SentenceRule { ending: "Max".into(), max_words: 12 },
            groups: 2,
            group_size: 8,
            max_new_tokens: 24,
            steps: 20,
            learning_rate: 3e-3,
            beta: 0.0,
            seed: 0,
        }
    }
}

impl GrpoSettings {
    /// The seed of completion `index` (from 0) of step `step` (from 1).
    pub fn seed_of(&self, step: usize, index: usize) -> u64 {
        self.seed + (step * self.groups * self.group_size + index) as u64
    }

    /// What is wrong with these settings for the tab, naming the field; `None` when they can run.
    pub fn problem(&self) -> Option<String> {
        if self.rule.ending.trim().is_empty() || self.rule.ending.contains(char::is_whitespace) {
            return Some("the ending is one word, such as Max".into());
        }
        if !(1..=100).contains(&self.steps) {
            return Some("steps: a whole number from 1 to 100".into());
        }
        if !(0.0..=1.0).contains(&self.beta) {
            return Some("β: a number from 0 to 1".into());
        }
        None
    }
}

/// One completion of a step: its text (after the prompt), its reward and its advantage in its group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredCompletion {
    pub text: String,
    pub reward: f64,
    pub advantage: f64,
}

/// One GRPO step: every group's completions, scored, and the step's mean reward, loss and gradient norm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrpoStep {
    pub step: usize,
    pub mean_reward: f64,
    pub loss: f64,
    pub grad_norm: f64,
    pub groups: Vec<Vec<ScoredCompletion>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_scores_the_first_sentence_for_its_ending_and_its_length() {
        let rule = SentenceRule { ending: "Max".into(), max_words: 8 };
        assert_eq!(rule.reward(", there was a boy named Max. He was happy."), 2.0);
        assert_eq!(rule.reward(", there was a little girl named Lily."), 1.0);
        assert_eq!(rule.reward(", in a big house far away there lived a dog called Max!"), 1.0, "too long");
        assert_eq!(rule.reward(", there was a boy named Maxwell."), 1.0, "a whole word");
        assert_eq!(rule.reward(", there was a boy who ran and ran"), 0.0, "no sentence ends");
    }

    #[test]
    fn each_completion_has_a_seed_of_its_own_and_bad_settings_are_named() {
        let settings = GrpoSettings::default();
        let seeds: std::collections::BTreeSet<u64> =
            (1..=3).flat_map(|step| (0..16).map(move |k| (step, k))).map(|(s, k)| settings.seed_of(s, k)).collect();
        assert_eq!(seeds.len(), 48);
        assert_eq!(settings.problem(), None);
        let bad = GrpoSettings { rule: SentenceRule { ending: "two words".into(), max_words: 12 }, ..settings.clone() };
        assert!(bad.problem().unwrap().contains("ending"));
        assert!(GrpoSettings { beta: 2.0, ..settings.clone() }.problem().unwrap().contains("β"));
        assert!(GrpoSettings { steps: 0, ..settings }.problem().unwrap().contains("steps"));
    }
}
