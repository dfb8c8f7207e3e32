//! Grading a learner's answers. Pure functions: the UI owns the state, this decides right and wrong.

use std::collections::BTreeSet;

use super::schema::{Question, QuestionKind, Quiz};

/// What the learner gave for one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Indices into the question's choices.
    Choices(BTreeSet<usize>),
    Text(String),
}

/// Lower-cases, trims, collapses inner whitespace and drops trailing full stops, so "  LoRA. " matches "lora".
pub fn normalise_answer(answer: &str) -> String {
    let words: Vec<&str> = answer.split_whitespace().collect();
    words.join(" ").trim_end_matches('.').trim_end().to_lowercase()
}

/// A multiple-choice answer is right only when it selects exactly the correct choices.
pub fn is_correct(question: &Question, response: &Response) -> bool {
    match (&question.kind, response) {
        (QuestionKind::MultipleChoice { choices }, Response::Choices(selected)) => {
            let correct: BTreeSet<usize> =
                choices.iter().enumerate().filter(|(_, c)| c.correct).map(|(i, _)| i).collect();
            *selected == correct
        }
        (QuestionKind::ShortAnswer { answers }, Response::Text(text)) => {
            let given = normalise_answer(text);
            !given.is_empty() && answers.contains(&given)
        }
        _ => false,
    }
}

/// The result of submitting a whole quiz.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    /// One entry per question, in quiz order; `None` when the question was left unanswered.
    pub results: Vec<Option<bool>>,
}

impl Score {
    pub fn correct_count(&self) -> usize {
        self.results.iter().filter(|r| **r == Some(true)).count()
    }

    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| *r == Some(true))
    }

    /// Questions to ask again in a retry: the wrong and the unanswered ones.
    pub fn to_retry(&self) -> Vec<usize> {
        self.results.iter().enumerate().filter(|(_, r)| **r != Some(true)).map(|(i, _)| i).collect()
    }
}

/// Scores `responses` (one per question, `None` for no answer) against `quiz`.
pub fn score(quiz: &Quiz, responses: &[Option<Response>]) -> Score {
    let results = quiz
        .questions
        .iter()
        .enumerate()
        .map(|(i, question)| responses.get(i).and_then(|r| r.as_ref()).map(|r| is_correct(question, r)))
        .collect();
    Score { results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::schema::Choice;

    fn choice(correct: bool) -> Choice {
        Choice { text_html: String::new(), correct, explanation_html: String::new() }
    }

    fn multiple_choice(correct: &[bool]) -> Question {
        let choices = correct.iter().map(|&c| choice(c)).collect();
        Question {
            id: "q".into(),
            key: "k".into(),
            prompt_html: String::new(),
            context_html: String::new(),
            kind: QuestionKind::MultipleChoice { choices },
        }
    }

    fn short_answer(answers: &[&str]) -> Question {
        let answers = answers.iter().map(|a| normalise_answer(a)).collect();
        Question { kind: QuestionKind::ShortAnswer { answers }, ..multiple_choice(&[]) }
    }

    fn picked(indices: &[usize]) -> Response {
        Response::Choices(indices.iter().copied().collect())
    }

    #[test]
    fn single_answer_is_right_only_when_the_correct_choice_alone_is_picked() {
        let question = multiple_choice(&[false, true, false]);
        assert!(is_correct(&question, &picked(&[1])));
        assert!(!is_correct(&question, &picked(&[0])));
        assert!(!is_correct(&question, &picked(&[0, 1])));
        assert!(!is_correct(&question, &picked(&[])));
    }

    #[test]
    fn several_answers_need_exactly_the_correct_set() {
        let question = multiple_choice(&[true, false, true]);
        assert!(question.kind.allows_several_answers());
        assert!(is_correct(&question, &picked(&[0, 2])));
        assert!(!is_correct(&question, &picked(&[0])), "a partial answer is wrong");
        assert!(!is_correct(&question, &picked(&[0, 1, 2])), "an extra wrong choice is wrong");
    }

    #[test]
    fn short_answers_ignore_case_spacing_and_a_final_full_stop() {
        let question = short_answer(&["LoRA", "low-rank adaptation"]);
        assert!(is_correct(&question, &Response::Text("  lora. ".into())));
        assert!(is_correct(&question, &Response::Text("Low-rank   Adaptation".into())));
        assert!(!is_correct(&question, &Response::Text("lor".into())));
        assert!(!is_correct(&question, &Response::Text("   ".into())));
    }

    #[test]
    fn a_response_of_the_wrong_kind_is_wrong() {
        assert!(!is_correct(&short_answer(&["x"]), &picked(&[0])));
        assert!(!is_correct(&multiple_choice(&[true]), &Response::Text("x".into())));
    }

    #[test]
    fn score_counts_right_answers_and_retries_wrong_and_unanswered_only() {
        let quiz = Quiz {
            questions: vec![multiple_choice(&[true, false]), short_answer(&["yes"]), multiple_choice(&[false, true])],
        };
        let score = score(&quiz, &[Some(picked(&[0])), Some(Response::Text("no".into())), None]);
        assert_eq!(score.results, vec![Some(true), Some(false), None]);
        assert_eq!(score.correct_count(), 1);
        assert!(!score.passed());
        assert_eq!(score.to_retry(), vec![1, 2]);

        let all_right =
            super::score(&quiz, &[Some(picked(&[0])), Some(Response::Text("Yes".into())), Some(picked(&[1]))]);
        assert!(all_right.passed());
        assert!(all_right.to_retry().is_empty());
    }
}
