//! The order in which a learner sees a question's choices: shuffled per learner, so the position of the right
//! answer says nothing, and stable, so a reload shows the same quiz.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::schema::{Question, QuestionKind};

/// A shuffle of `question`'s choice indices, seeded by the learner's seed (`Progress::quiz_seed`) and the question's
/// key: it differs between learners and between questions but not between visits. Responses, grading and progress
/// keep using the indices in the file; only the page shows this order.
pub fn choice_order(learner_seed: u64, question: &Question) -> Vec<usize> {
    let count = match &question.kind {
        QuestionKind::MultipleChoice { choices } => choices.len(),
        QuestionKind::ShortAnswer { .. } => 0,
    };
    // The key is hex SHA-256: its first 16 digits are as good a seed as any.
    let question_seed = question.key.get(..16).and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(0);
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut StdRng::seed_from_u64(learner_seed ^ question_seed));
    order
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::course::schema::Choice;

    fn question(choices: usize, key: &str) -> Question {
        let choice = |i: usize| Choice { text_html: format!("{i}"), correct: i == 0, explanation_html: String::new() };
        Question {
            id: "q".into(),
            key: key.into(),
            prompt_html: String::new(),
            context_html: String::new(),
            kind: QuestionKind::MultipleChoice { choices: (0..choices).map(choice).collect() },
        }
    }

    #[test]
    fn a_learner_sees_the_same_order_on_every_visit_and_other_learners_see_others() {
        let question = question(4, "0123456789abcdef0123456789abcdef");
        let order = choice_order(7, &question);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3], "a permutation of the choices");
        assert_eq!(choice_order(7, &question), order, "stable for one learner");
        let orders: BTreeSet<Vec<usize>> = (0..50).map(|seed| choice_order(seed, &question)).collect();
        assert!(orders.len() > 10, "learners see many different orders: {orders:?}");
        let other = Question { key: "fedcba9876543210fedcba9876543210".into(), ..question.clone() };
        assert!((0..20).any(|seed| choice_order(seed, &other) != choice_order(seed, &question)), "and so do questions");
    }

    #[test]
    fn the_right_answer_is_shown_at_every_position_about_equally_often() {
        let question = question(4, "00000000000000ff0123456789abcdef");
        let mut shown_at = [0usize; 4];
        for seed in 0..4000 {
            let position = choice_order(seed, &question).iter().position(|&choice| choice == 0).unwrap();
            shown_at[position] += 1;
        }
        for count in shown_at {
            assert!((850..1150).contains(&count), "the right answer's positions over 4,000 learners: {shown_at:?}");
        }
    }

    #[test]
    fn short_answers_have_no_choices_to_order() {
        let short = Question { kind: QuestionKind::ShortAnswer { answers: vec!["x".into()] }, ..question(0, "") };
        assert!(choice_order(1, &short).is_empty());
    }
}
