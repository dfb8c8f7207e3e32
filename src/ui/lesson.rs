//! One lesson: its text (rendered and sanitised at build time), its quiz, and the way to the next one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::prediction::PredictionView;
use super::progress_store::use_progress;
use super::quiz::QuizView;
use super::{course, site};
use crate::course::{Lesson, LessonBlock, Prediction};

#[component]
pub fn LessonPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.read().get("slug").unwrap_or_default());
    // Keyed on the slug: moving to another lesson builds a fresh view (and quiz state) for it.
    move || match course().lesson_by_slug(&slug.get()) {
        Some(lesson) => view! { <LessonView lesson /> }.into_any(),
        None => view! { <super::NotFound /> }.into_any(),
    }
}

#[component]
fn LessonView(lesson: &'static Lesson) -> impl IntoView {
    let store = use_progress();
    let (previous, next) = course().neighbours(&lesson.slug);
    // Bumped by "reset this lesson" so the quiz starts again from a clean slate.
    let attempt = RwSignal::new(0u32);
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
    view! {
        <Title text=format!("{} · Tinytune", lesson.title) />
        <article class="lesson">
            <header>
                <h1 tabindex="-1" node_ref=super::focus_on_mount()>{lesson.title.clone()}</h1>
                <p class="lesson-meta">
                    {format!("About {} minutes", lesson.minutes)} " · "
                    <span class="lesson-status">
                        {move || if store.is_lesson_complete(lesson) { "✓ Complete" } else { "Not complete" }}
                    </span>
                </p>
                <section class="objectives" aria-label="Learning objectives">
                    <h2>"You will be able to"</h2>
                    <ul>{lesson.objectives.iter().map(|o| view! { <li>{o.clone()}</li> }).collect_view()}</ul>
                </section>
            </header>
            {body(lesson)}
            {lesson.quiz.as_ref().map(|quiz| view! {
                <section class="quiz" aria-labelledby="quiz-heading">
                    <h2 id="quiz-heading">"Check your understanding"</h2>
                    {move || { attempt.track(); view! { <QuizView lesson quiz /> } }}
                    <button type="button" class="secondary" on:click=move |_| {
                        store.reset_lesson(lesson);
                        attempt.update(|n| *n += 1);
                    }>"Reset this lesson's progress"</button>
                </section>
            })}
        </article>
        <nav class="lesson-nav" aria-label="Lessons">
            {previous.map(|p| view! {
                <A href=site::href(&format!("/learn/{}", p.slug)) attr:rel="prev">"← Previous: " {p.title.clone()}</A>
            })}
            <A href=site::href("/")>"All lessons"</A>
            {next.map(|n| view! {
                <A href=site::href(&format!("/learn/{}", n.slug)) attr:rel="next">"Next: " {n.title.clone()} " →"</A>
            })}
        </nav>
    }
}

/// The lesson's blocks in order. A demo opens once every prediction before it is answered, and stays open for the
/// rest of the visit (a lesson reset does not tear down a run under way).
fn body(lesson: &'static Lesson) -> impl IntoView {
    let store = use_progress();
    let mut predictions_so_far: Vec<&'static Prediction> = Vec::new();
    lesson
        .body
        .iter()
        .map(|block| match block {
            LessonBlock::Html(html) => view! { <div class="lesson-body" inner_html=html.clone()></div> }.into_any(),
            LessonBlock::Prediction(prediction) => {
                predictions_so_far.push(prediction);
                view! { <PredictionView prediction /> }.into_any()
            }
            LessonBlock::Demo(kind) => {
                let needed = predictions_so_far.clone();
                let open = Memo::new(move |was_open: Option<&bool>| {
                    was_open.copied().unwrap_or(false) || needed.iter().all(|p| store.prediction(p).is_some())
                });
                let kind = *kind;
                // A lesson may hold more than one demo: each sits in a slot named after it.
                view! {
                    <div class="demo-slot" data-demo=kind.name()>
                        <Show
                            when=move || open.get()
                            fallback=|| view! { <p class="demo-locked">"Answer the predictions above to open the live demo."</p> }
                        >
                            <super::demo::Demo kind />
                        </Show>
                    </div>
                }
                .into_any()
            }
        })
        .collect_view()
}
