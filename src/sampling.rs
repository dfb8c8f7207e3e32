//! The distribution the next token is drawn from: the model's logits, divided by a temperature, turned into
//! probabilities, and cut to the top-p nucleus (the most likely tokens whose probabilities add up to `top_p`).
//!
//! Plain arithmetic on one short vector, with no tensors, so that the generator (`crate::generate`) and the page
//! that draws the distribution as bars (`ui::demo::next_token`) share it: the bars show what the sampler draws from.

use rand::Rng;

/// One token of the vocabulary, ranked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub token: u32,
    /// After the temperature, over the whole vocabulary.
    pub probability: f64,
    /// Whether the sampler may draw it.
    pub in_nucleus: bool,
}

/// The next-token distribution for `logits` (indexed by token id), most likely first (ties: the lower id first).
/// A temperature of 0 or less means greedy: the most likely token has probability 1 and is the whole nucleus.
pub fn next_token_distribution(logits: &[f32], temperature: f64, top_p: f64) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = if temperature <= 0.0 {
        let best = argmax(logits);
        (0..logits.len() as u32)
            .map(|token| {
                let chosen = token == best;
                Ranked { token, probability: if chosen { 1.0 } else { 0.0 }, in_nucleus: chosen }
            })
            .collect()
    } else {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let weights: Vec<f64> = logits.iter().map(|&l| ((l as f64 - max) / temperature).exp()).collect();
        let total: f64 = weights.iter().sum();
        weights
            .into_iter()
            .enumerate()
            .map(|(token, w)| Ranked { token: token as u32, probability: w / total, in_nucleus: false })
            .collect()
    };
    ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability).then(a.token.cmp(&b.token)));
    if temperature > 0.0 {
        let mut mass = 0.0;
        for entry in &mut ranked {
            entry.in_nucleus = true;
            mass += entry.probability;
            // At top-p 1 the whole vocabulary: a sum of rounded probabilities can reach 1 before the last token.
            if top_p < 1.0 && mass >= top_p {
                break;
            }
        }
    }
    ranked
}

/// The probability mass the nucleus holds (1 when greedy).
pub fn nucleus_mass(distribution: &[Ranked]) -> f64 {
    distribution.iter().filter(|r| r.in_nucleus).map(|r| r.probability).sum()
}

/// A draw from the nucleus, each token in proportion to its probability.
pub fn draw(distribution: &[Ranked], rng: &mut impl Rng) -> u32 {
    let nucleus: Vec<&Ranked> = distribution.iter().filter(|r| r.in_nucleus).collect();
    let mut left = rng.random::<f64>() * nucleus_mass(distribution);
    for entry in &nucleus {
        left -= entry.probability;
        if left <= 0.0 {
            return entry.token;
        }
    }
    nucleus.last().expect("the nucleus holds at least one token").token
}

/// The most likely token; the first of equals.
fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn greedy_keeps_only_the_largest_logit_and_the_first_on_ties() {
        let ranked = next_token_distribution(&[0.1, 3.0, -1.0, 3.0], 0.0, 0.9);
        assert_eq!(ranked[0], Ranked { token: 1, probability: 1.0, in_nucleus: true });
        assert!(ranked[1..].iter().all(|r| !r.in_nucleus && r.probability == 0.0));
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(draw(&ranked, &mut rng), 1);
    }

    #[test]
    fn probabilities_follow_the_softmax_at_the_temperature() {
        // Logits ln 1, ln 3: probabilities 1/4 and 3/4 at temperature 1; at temperature 2, √1 : √3.
        let logits = [0.0f32, 3f32.ln()];
        let at_one = next_token_distribution(&logits, 1.0, 1.0);
        assert_eq!(at_one[0].token, 1);
        assert!((at_one[0].probability - 0.75).abs() < 1e-6);
        let at_two = next_token_distribution(&logits, 2.0, 1.0);
        let expected = 3f64.sqrt() / (1.0 + 3f64.sqrt());
        assert!((at_two[0].probability - expected).abs() < 1e-6, "a higher temperature flattens the distribution");
    }

    #[test]
    fn the_nucleus_is_the_shortest_head_reaching_top_p() {
        // Probabilities 0.5, 0.3, 0.2 (logits are their logs).
        let logits = [0.2f32.ln(), 0.5f32.ln(), 0.3f32.ln()];
        let nucleus = |top_p| {
            let ranked = next_token_distribution(&logits, 1.0, top_p);
            ranked.iter().filter(|r| r.in_nucleus).map(|r| r.token).collect::<Vec<_>>()
        };
        assert_eq!(nucleus(0.01), [1]);
        assert_eq!(nucleus(0.5), [1]);
        assert_eq!(nucleus(0.6), [1, 2]);
        assert_eq!(nucleus(1.0), [1, 2, 0]);
        let many: Vec<f32> = (0..512).map(|i| -(i as f32) / 9.0).collect();
        let all = next_token_distribution(&many, 0.8, 1.0);
        assert!(all.iter().all(|r| r.in_nucleus), "top-p 1 keeps every token, however unlikely");
        assert!((nucleus_mass(&next_token_distribution(&logits, 1.0, 0.6)) - 0.8).abs() < 1e-6);
    }

    #[test]
    fn draws_follow_the_nucleus_and_the_seed() {
        let logits = [0.0f32, 3f32.ln(), -30.0];
        let ranked = next_token_distribution(&logits, 1.0, 0.99);
        let draws = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..4000).map(|_| draw(&ranked, &mut rng)).collect::<Vec<_>>()
        };
        let ones = draws(3).iter().filter(|&&t| t == 1).count() as f64 / 4000.0;
        assert!((ones - 0.75).abs() < 0.03, "{ones}");
        assert!(!draws(3).contains(&2), "a token outside the nucleus is never drawn");
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }
}
