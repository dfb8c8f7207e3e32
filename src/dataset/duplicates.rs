//! Exact and near-duplicate examples, found the way data-cleaning pipelines find them at scale: MinHash
//! signatures of each example's 5-character pieces, locality-sensitive hashing to find candidate pairs without
//! comparing every pair, and the estimated Jaccard similarity to confirm them. Examples linked by either kind of
//! duplicate form a group, which the split keeps on one side.
//!
//! Written here rather than taken from a crate: the crates that do this (e.g. `gaoya`, `probabilistic-collections`)
//! pull in threads or random state that does not build for the browser or is not reproducible across platforms,
//! and the whole method is the ~100 lines below, with fixed hash constants so a data set gets the same groups
//! natively and in the tab.

use std::collections::HashMap;

/// Length of the character pieces (shingles) compared.
pub const SHINGLE_CHARS: usize = 5;
/// MinHash lanes: the estimate's standard error is about `sqrt(J(1-J)/LANES)`, 0.035 at J = 0.8.
pub const LANES: usize = 128;
/// LSH bands of [`ROWS`] lanes each: a pair with similarity s becomes a candidate with probability
/// `1 - (1 - s^8)^16`: 0.95 at s = 0.8, 0.0004 at s = 0.3.
const BANDS: usize = 16;
const ROWS: usize = LANES / BANDS;
/// The estimated Jaccard similarity from which two examples count as near-duplicates.
pub const NEAR_DUPLICATE_SIMILARITY: f64 = 0.8;

/// An example's MinHash signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    lanes: [u32; LANES],
}

/// What duplicates an example is part of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Twin {
    /// Not a duplicate of an earlier example.
    Original,
    /// The same as the earlier example `of` (an index into the examples).
    Exact { of: usize },
    /// Nearly the same as the earlier example `of`, with this estimated similarity.
    Near { of: usize, similarity: f64 },
}

/// For each example (by index), its [`Twin`] and its group (the index of the group's first example).
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicates {
    pub twins: Vec<Twin>,
    pub groups: Vec<usize>,
}

/// Text compared for duplicates: lowercase, runs of whitespace as one space, trimmed.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// 64-bit FNV-1a, then SplitMix64's finaliser to spread the bits.
fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for &byte in bytes {
        hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
    }
    mix(hash)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash that decides exact duplicates: of the normalised text.
pub fn exact_key(normalised: &str) -> u64 {
    hash_bytes(normalised.as_bytes())
}

/// The MinHash signature of normalised text: for each lane, the least of a lane-specific hash
/// (`(a·x + b) >> 32`, multiply-shift with fixed odd `a`) over the hashes `x` of the text's shingles.
pub fn signature(normalised: &str) -> Signature {
    // Lane constants from SplitMix64 seeded with a fixed value, computed once per call (cheap next to hashing).
    let mut state = 0x5eed_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(state)
    };
    let lane_constants: Vec<(u64, u64)> = (0..LANES).map(|_| (next() | 1, next())).collect();
    let mut lanes = [u32::MAX; LANES];
    let boundaries: Vec<usize> = normalised.char_indices().map(|(i, _)| i).chain([normalised.len()]).collect();
    let pieces = boundaries.len().saturating_sub(SHINGLE_CHARS).max(1);
    for start in 0..pieces {
        let end = boundaries[(start + SHINGLE_CHARS).min(boundaries.len() - 1)];
        let x = hash_bytes(&normalised.as_bytes()[boundaries[start]..end]);
        for (lane, &(a, b)) in lanes.iter_mut().zip(&lane_constants) {
            *lane = (*lane).min((a.wrapping_mul(x).wrapping_add(b) >> 32) as u32);
        }
    }
    Signature { lanes }
}

impl Signature {
    /// The share of equal lanes: an unbiased estimate of the Jaccard similarity of the two shingle sets.
    pub fn similarity(&self, other: &Signature) -> f64 {
        self.lanes.iter().zip(&other.lanes).filter(|(a, b)| a == b).count() as f64 / LANES as f64
    }
}

/// Union-find over example indices, with the smallest index as each group's root.
struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        let (low, high) = (a.min(b), a.max(b));
        self.parent[high] = low;
    }
}

/// Finds the exact and near-duplicates among examples given as (exact key, signature); `None` for an example
/// that takes no part (dropped, or not an example yet).
pub fn find(examples: &[Option<(u64, &Signature)>]) -> Duplicates {
    let count = examples.len();
    let mut twins = vec![Twin::Original; count];
    let mut groups = Groups { parent: (0..count).collect() };

    // Exact duplicates: the first with each key is the original; only originals go on to the near search.
    let mut first_with_key: HashMap<u64, usize> = HashMap::new();
    for (index, example) in examples.iter().enumerate() {
        let Some((key, _)) = example else { continue };
        match first_with_key.get(key) {
            Some(&first) => {
                twins[index] = Twin::Exact { of: first };
                groups.join(first, index);
            }
            None => {
                first_with_key.insert(*key, index);
            }
        }
    }

    // Near duplicates: candidates share all ROWS lanes of at least one band.
    let mut buckets: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (index, example) in examples.iter().enumerate() {
        let Some((_, signature)) = example else { continue };
        if twins[index] != Twin::Original {
            continue;
        }
        for band in 0..BANDS {
            let lanes = &signature.lanes[band * ROWS..(band + 1) * ROWS];
            let key = hash_bytes(&lanes.iter().flat_map(|lane| lane.to_le_bytes()).collect::<Vec<u8>>());
            buckets.entry((band, key)).or_default().push(index);
        }
    }
    let signature_of = |index: usize| examples[index].map(|(_, signature)| signature);
    for members in buckets.values().filter(|members| members.len() > 1) {
        // Each member is compared with the bucket's earlier members, most recent first, up to a bound that keeps
        // a bucket of thousands of look-alike examples from taking quadratic time; its group links the rest.
        for (position, &index) in members.iter().enumerate().skip(1) {
            let Some(signature) = signature_of(index) else { continue };
            for &earlier in members[..position].iter().rev().take(32) {
                let Some(other) = signature_of(earlier) else { continue };
                let similarity = signature.similarity(other);
                if similarity >= NEAR_DUPLICATE_SIMILARITY {
                    groups.join(earlier, index);
                    let closer = match twins[index] {
                        Twin::Near { similarity: known, of } => {
                            similarity > known || (similarity == known && earlier < of)
                        }
                        _ => true,
                    };
                    if closer {
                        twins[index] = Twin::Near { of: earlier, similarity };
                    }
                }
            }
        }
    }
    let groups = (0..count).map(|index| groups.root(index)).collect();
    Duplicates { twins, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(texts: &[&str]) -> Vec<(u64, Signature)> {
        texts.iter().map(|text| normalise(text)).map(|text| (exact_key(&text), signature(&text))).collect()
    }

    fn find_in(texts: &[&str]) -> Duplicates {
        let prepared = prepared(texts);
        find(&prepared.iter().map(|(key, signature)| Some((*key, signature))).collect::<Vec<_>>())
    }

    const STORY: &str = "Once upon a time, a little purple robot called Pip found a red ball in the garden and \
                         rolled it to his friend Lily, who laughed and rolled it back.";

    /// The Jaccard similarity of the two texts' 5-character shingle sets, computed exactly.
    fn jaccard(a: &str, b: &str) -> f64 {
        let set = |text: &str| {
            let chars: Vec<char> = normalise(text).chars().collect();
            chars.windows(SHINGLE_CHARS).map(|w| w.iter().collect::<String>()).collect::<std::collections::HashSet<_>>()
        };
        let (a, b) = (set(a), set(b));
        a.intersection(&b).count() as f64 / a.union(&b).count() as f64
    }

    #[test]
    fn the_signature_estimates_the_exact_jaccard_similarity() {
        let edited = STORY.replace("red ball", "blue kite").replace("laughed", "smiled");
        let other = "The letters from camp were short: we swam, we ate, and the bus home is on Friday at noon.";
        for text in [edited.as_str(), other] {
            let exact = jaccard(STORY, text);
            let estimate = signature(&normalise(STORY)).similarity(&signature(&normalise(text)));
            // Four standard errors of a 128-lane estimate.
            assert!((estimate - exact).abs() < 0.18, "exact {exact}, estimated {estimate}");
        }
    }

    #[test]
    fn exact_duplicates_ignore_case_and_spacing_and_name_the_first() {
        let found =
            find_in(&[STORY, "Something else entirely, about letters home.", &STORY.to_uppercase().replace(' ', "  ")]);
        assert_eq!(found.twins, vec![Twin::Original, Twin::Original, Twin::Exact { of: 0 }]);
        assert_eq!(found.groups, vec![0, 1, 0]);
    }

    #[test]
    fn a_lightly_edited_copy_is_a_near_duplicate_and_joins_the_group() {
        let edited = STORY.replace("his friend", "her friend");
        assert!(jaccard(STORY, &edited) > 0.9);
        let found = find_in(&["An unrelated letter: dear mum, camp is fun and the food is fine.", STORY, &edited]);
        let Twin::Near { of, similarity } = found.twins[2] else { panic!("{:?}", found.twins) };
        assert_eq!(of, 1);
        assert!(similarity >= NEAR_DUPLICATE_SIMILARITY);
        assert_eq!(found.groups, vec![0, 1, 1]);
    }

    #[test]
    fn templated_examples_that_differ_in_content_are_not_duplicates() {
        // Same template, different stories: similarity well under 0.8.
        let a = "Tell me a story about a frog in the forest. One morning a frog found a shiny stone by the river.";
        let b = "Tell me a story about a mouse at the zoo. A small mouse heard a boy crying near the big cage.";
        assert!(jaccard(a, b) < 0.5);
        assert_eq!(find_in(&[a, b]).twins, vec![Twin::Original, Twin::Original]);
    }

    #[test]
    fn groups_are_transitive_and_skipped_examples_take_no_part() {
        let one = STORY.replace("red ball", "red bat");
        let two = one.replace("laughed", "giggled");
        let prepared = prepared(&[STORY, "gone", &one, &two]);
        let examples: Vec<_> =
            prepared.iter().enumerate().map(|(i, (k, s))| if i == 1 { None } else { Some((*k, s)) }).collect();
        let found = find(&examples);
        assert_eq!(found.groups, vec![0, 1, 0, 0]);
        assert_eq!(found.twins[1], Twin::Original);
    }

    #[test]
    fn short_texts_have_one_shingle() {
        assert_eq!(signature("hi"), signature("hi"));
        assert!(signature("hi").similarity(&signature("ho")) < 0.1);
        assert_eq!(signature("").similarity(&signature("")), 1.0);
    }
}
