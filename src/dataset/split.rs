//! The train / held-out split: seeded, so the same data set and seed always hold out the same examples, and
//! grouped, so duplicates and near-duplicates land on the same side (otherwise the held-out loss partly measures
//! memory). Without duplicates it holds out exactly the examples a plain shuffle with `rand`'s `StdRng` would (the
//! generator is pinned by Cargo.lock, so a saved data set keeps its split).

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// How many of `count` examples to hold out: `fraction` of them, rounded, at least one when there are two or
/// more, and never all of them.
pub fn held_out_count(count: usize, fraction: f64) -> usize {
    if count < 2 {
        return 0;
    }
    let fraction = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    ((count as f64 * fraction).round() as usize).clamp(1, count - 1)
}

/// Which examples are held out. `groups[i]` names example i's group (any id; examples with `None` take no part
/// and are never held out). The examples are shuffled (seeded); walking that order, each example brings its whole
/// group, which is held out if it fits in [`held_out_count`] (a group that would overshoot stays in training, and
/// the walk goes on to fill the rest). So the split differs from a plain seeded shuffle only where that would have
/// parted a group. With `grouped` false every example is its own group.
pub fn held_out(groups: &[Option<usize>], fraction: f64, seed: u64, grouped: bool) -> Vec<bool> {
    let group_of = |index: usize| groups[index].map(|group| if grouped { group } else { index });
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..groups.len() {
        if let Some(group) = group_of(index) {
            members.entry(group).or_default().push(index);
        }
    }
    let mut order: Vec<usize> = (0..groups.len()).filter(|&index| groups[index].is_some()).collect();
    let count = order.len();
    let target = held_out_count(count, fraction);
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut held_out = vec![false; groups.len()];
    let mut seen = BTreeSet::new();
    let mut taken = 0;
    for index in order {
        if taken == target {
            break;
        }
        let Some(group) = group_of(index) else { continue };
        if !seen.insert(group) {
            continue;
        }
        let group = &members[&group];
        if taken + group.len() <= target && taken + group.len() < count {
            taken += group.len();
            for &member in group {
                held_out[member] = true;
            }
        }
    }
    held_out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_seeded_and_holds_out_the_fraction() {
        let groups: Vec<Option<usize>> = (0..20).map(Some).collect();
        let split = held_out(&groups, 0.2, 7, true);
        assert_eq!(split.iter().filter(|&&h| h).count(), 4);
        assert_eq!(held_out(&groups, 0.2, 7, true), split);
        assert_ne!(held_out(&groups, 0.2, 8, true), split);
    }

    #[test]
    fn groups_stay_on_one_side_and_ungrouped_splits_may_part_them() {
        // Ten pairs of near-duplicates: 0 and 1 are a group, 2 and 3, and so on.
        let groups: Vec<Option<usize>> = (0..20).map(|i| Some(i / 2 * 2)).collect();
        for seed in 0..50 {
            let split = held_out(&groups, 0.3, seed, true);
            assert_eq!(split.iter().filter(|&&h| h).count(), 6, "seed {seed}");
            assert!(split.chunks(2).all(|pair| pair[0] == pair[1]), "seed {seed}: {split:?}");
        }
        let parted = (0..50).any(|seed| held_out(&groups, 0.3, seed, false).chunks(2).any(|pair| pair[0] != pair[1]));
        assert!(parted, "an ungrouped split never parted a pair in 50 seeds");
    }

    #[test]
    fn grouping_changes_nothing_where_a_plain_split_parts_no_group() {
        // One pair (examples 3 and 17) in twenty; for each seed where the plain split keeps the pair together, the
        // grouped split is the same.
        let plain: Vec<Option<usize>> = (0..20).map(Some).collect();
        let paired: Vec<Option<usize>> = (0..20).map(|i| Some(if i == 17 { 3 } else { i })).collect();
        let mut compared = 0;
        for seed in 0..50 {
            let split = held_out(&plain, 0.2, seed, false);
            if split[3] == split[17] {
                assert_eq!(held_out(&paired, 0.2, seed, true), split, "seed {seed}");
                compared += 1;
            }
        }
        assert!(compared > 30);
    }

    #[test]
    fn skipped_examples_are_never_held_out_and_tiny_sets_keep_one_for_training() {
        let groups = [Some(0), None, Some(2), Some(3)];
        for seed in 0..20 {
            let split = held_out(&groups, 0.5, seed, true);
            assert!(!split[1]);
            assert_eq!(split.iter().filter(|&&h| h).count(), 2);
        }
        assert_eq!(held_out(&[Some(0)], 0.5, 0, true), vec![false]);
        assert_eq!(held_out(&[Some(0), Some(0)], 0.5, 0, true), vec![false, false], "one group cannot be split");
        assert_eq!(held_out_count(4, f64::NAN), 1);
        assert_eq!(held_out_count(3, 1.0), 2);
    }
}
