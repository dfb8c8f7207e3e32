//! A lesson's quiz: native radio buttons, checkboxes and text fields in fieldsets, the choices in this learner's
//! own order; right and wrong said in words and icons; retry only what was missed; every explanation once passed
//! or revealed.

use std::collections::BTreeSet;

use leptos::ev::SubmitEvent;
use leptos::leptos_dom::helpers::request_animation_frame;
use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use super::progress_store::use_progress;
use super::{course, site};
use crate::course::quiz::{self as grading, Response};
use crate::course::{Lesson, Question, QuestionKind, Quiz};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Answering,
    /// Checked, some answers wrong.
    Graded,
    /// The learner asked to see every answer without passing.
    Revealed,
    Passed,
}

/// The quiz's state, shared by its questions.
#[derive(Clone, Copy)]
struct QuizState {
    quiz: &'static Quiz,
    phase: RwSignal<Phase>,
    /// Latest verdict per question; `None` until answered.
    results: RwSignal<Vec<Option<bool>>>,
    /// Indices of the questions open in this round; the others keep their earlier (right) answer.
    asking: RwSignal<Vec<usize>>,
    responses: RwSignal<Vec<Option<Response>>>,
}

impl QuizState {
    fn wrong_or_unanswered(&self) -> Vec<usize> {
        self.results.with_untracked(|r| (0..r.len()).filter(|&i| r[i] != Some(true)).collect())
    }

    fn correct_count(&self) -> usize {
        self.results.with(|r| r.iter().filter(|r| **r == Some(true)).count())
    }
}

#[component]
pub fn QuizView(lesson: &'static Lesson, quiz: &'static Quiz) -> impl IntoView {
    let store = use_progress();
    let count = quiz.questions.len();
    // Questions answered right in an earlier visit stay answered.
    let earlier: Vec<Option<bool>> =
        untrack(|| quiz.questions.iter().map(|q| store.is_answered_correctly(q).then_some(true)).collect());
    let state = QuizState {
        quiz,
        phase: RwSignal::new(if earlier.iter().all(|r| *r == Some(true)) { Phase::Passed } else { Phase::Answering }),
        asking: RwSignal::new((0..count).filter(|&i| earlier[i] != Some(true)).collect()),
        results: RwSignal::new(earlier),
        responses: RwSignal::new(vec![None; count]),
    };
    let summary = NodeRef::<leptos::html::P>::new();

    let check_answers = move |ev: SubmitEvent| {
        ev.prevent_default();
        if state.phase.get_untracked() != Phase::Answering {
            return;
        }
        let score = state.responses.with_untracked(|responses| grading::score(quiz, responses));
        let asked = state.asking.get_untracked();
        state.results.update(|results| {
            for &i in &asked {
                results[i] = score.results[i];
            }
        });
        for &i in &asked {
            if let Some(correct) = score.results[i] {
                store.record(&quiz.questions[i], correct);
            }
        }
        let passed = state.wrong_or_unanswered().is_empty();
        state.phase.set(if passed { Phase::Passed } else { Phase::Graded });
        request_animation_frame(move || {
            if let Some(summary) = summary.get_untracked() {
                let _ = summary.focus();
            }
        });
    };

    let retry_wrong = move |_| {
        let wrong = state.wrong_or_unanswered();
        state.responses.update(|responses| wrong.iter().for_each(|&i| responses[i] = None));
        let first = wrong.first().map(|&i| quiz.questions[i].id.clone());
        state.asking.set(wrong);
        state.phase.set(Phase::Answering);
        request_animation_frame(move || {
            let input = first.and_then(|id| document().query_selector(&format!("#question-{id} input")).ok().flatten());
            if let Some(input) = input.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = input.focus();
            }
        });
    };

    let summary_text = move || {
        let correct = state.correct_count();
        match state.phase.get() {
            Phase::Answering => String::new(),
            Phase::Graded => format!(
                "{correct} of {count} correct. Read the explanations, then retry the {} you missed or show the answers.",
                count - correct
            ),
            Phase::Revealed => format!("{correct} of {count} correct. All answers are shown; retry the missed ones when ready."),
            Phase::Passed => format!("✓ All {count} correct: lesson complete."),
        }
    };
    let (_, next) = course().neighbours(&lesson.slug);

    view! {
        <form class="quiz-form" on:submit=check_answers novalidate>
            {quiz.questions.iter().enumerate().map(|(index, question)| view! {
                <QuestionView index question state />
            }).collect_view()}
            <p class="quiz-summary" role="status" tabindex="-1" node_ref=summary>{summary_text}</p>
            <div class="quiz-actions">
                {move || match state.phase.get() {
                    Phase::Answering => view! { <button type="submit">"Check answers"</button> }.into_any(),
                    Phase::Graded => view! {
                        <button type="button" on:click=retry_wrong>"Retry wrong questions"</button>
                        <button type="button" class="secondary" on:click=move |_| state.phase.set(Phase::Revealed)>
                            "Show answers"
                        </button>
                    }.into_any(),
                    Phase::Revealed => view! {
                        <button type="button" on:click=retry_wrong>"Retry wrong questions"</button>
                    }.into_any(),
                    Phase::Passed => {
                        let finished = store.completed_lessons(course()) == course().lessons().count();
                        match (finished, next) {
                            (true, _) => view! { <A href=site::href("/complete")>"You finished the course: see your completion page"</A> }.into_any(),
                            (false, Some(next)) => view! {
                                <A href=site::href(&format!("/learn/{}", next.slug))>"Next lesson: " {next.title.clone()} " →"</A>
                            }.into_any(),
                            (false, None) => view! { <A href=site::href("/")>"Back to the course home"</A> }.into_any(),
                        }
                    }
                }}
            </div>
        </form>
    }
}

#[component]
fn QuestionView(index: usize, question: &'static Question, state: QuizState) -> impl IntoView {
    let order = use_progress().choice_order(question);
    let shown_order = order.clone();
    let count = state.quiz.questions.len();
    let is_asked = move || state.asking.with(|asking| asking.contains(&index));
    let locked = move || !is_asked() || state.phase.get() != Phase::Answering;
    let show_every_explanation = move || matches!(state.phase.get(), Phase::Revealed | Phase::Passed);
    let show_feedback = move || state.phase.get() != Phase::Answering || !is_asked();
    let input_name = format!("question-{}", question.id);

    let answer_input = match &question.kind {
        QuestionKind::MultipleChoice { choices } => {
            let several = question.kind.allows_several_answers();
            let is_checked =
                move |choice: usize| state.responses.with(|r| matches!(&r[index], Some(Response::Choices(s)) if s.contains(&choice)));
            let choose = move |choice: usize, checked: bool| {
                state.responses.update(|responses| {
                    let mut selected = match responses[index].take() {
                        Some(Response::Choices(selected)) if several => selected,
                        _ => BTreeSet::new(),
                    };
                    if checked {
                        selected.insert(choice);
                    } else {
                        selected.remove(&choice);
                    }
                    responses[index] = Some(Response::Choices(selected));
                })
            };
            view! {
                {several.then(|| view! { <p class="hint">"Select all that apply."</p> })}
                <ul class="choices">
                    {order.into_iter().map(|choice_index| (choice_index, &choices[choice_index])).map(|(choice_index, choice)| view! {
                        <li>
                            <label>
                                <input
                                    type=if several { "checkbox" } else { "radio" }
                                    name=input_name.clone()
                                    value=choice_index
                                    prop:checked=move || is_checked(choice_index)
                                    on:change=move |ev| choose(choice_index, event_target_checked(&ev))
                                />
                                <span inner_html=choice.text_html.clone()></span>
                            </label>
                            {move || show_every_explanation().then(|| view! {
                                <p class="choice-explanation" class:right=choice.correct>
                                    {if choice.correct { "✓ Correct answer. " } else { "✗ Not correct. " }}
                                    <span inner_html=choice.explanation_html.clone()></span>
                                </p>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }
        QuestionKind::ShortAnswer { answers } => view! {
            <label class="short-answer">
                "Your answer "
                <input
                    type="text"
                    name=input_name.clone()
                    autocomplete="off"
                    prop:value=move || state.responses.with(|r| match &r[index] {
                        Some(Response::Text(text)) => text.clone(),
                        _ => String::new(),
                    })
                    on:input=move |ev| state.responses.update(|r| r[index] = Some(Response::Text(event_target_value(&ev))))
                />
            </label>
            {move || show_every_explanation().then(|| view! {
                <p class="choice-explanation right">"✓ Accepted answers: " {answers.join(", ")}</p>
            })}
        }
        .into_any(),
    };

    let chosen_explanations = move || {
        let QuestionKind::MultipleChoice { choices } = &question.kind else { return vec![] };
        state.responses.with(|r| match &r[index] {
            // In the order the learner sees them.
            Some(Response::Choices(selected)) => {
                shown_order.iter().filter(|i| selected.contains(i)).map(|&i| &choices[i]).collect()
            }
            _ => vec![],
        })
    };

    view! {
        <fieldset class="question" id=input_name.clone() disabled=locked>
            <legend>
                <span class="question-number">{format!("Question {} of {count}", index + 1)}</span>
                <span class="question-prompt" inner_html=question.prompt_html.clone()></span>
            </legend>
            {answer_input}
            <div class="feedback" role="status">
                {move || show_feedback().then(|| {
                    let verdict = match state.results.with(|r| r[index]) {
                        Some(true) => view! { <p class="verdict right">"✓ Correct"</p> },
                        Some(false) => view! { <p class="verdict wrong">"✗ Not quite"</p> },
                        None => view! { <p class="verdict unanswered">"– Not answered"</p> },
                    };
                    let chosen = (!show_every_explanation()).then(|| chosen_explanations().into_iter().map(|choice| view! {
                        <p class="chosen-explanation">
                            <span class="visually-hidden">"About your choice: "</span>
                            <span inner_html=choice.explanation_html.clone()></span>
                        </p>
                    }).collect_view());
                    view! {
                        {verdict}
                        {chosen}
                        <p class="context" inner_html=question.context_html.clone()></p>
                    }
                })}
            </div>
        </fieldset>
    }
}
