//! Course home: the parts and their lessons, what is done, and a way to start over.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::progress_store::use_progress;
use super::{course, site};

#[component]
pub fn HomePage() -> impl IntoView {
    let store = use_progress();
    let total = course().lessons().count();
    let completed = Memo::new(move |_| store.completed_lessons(course()));
    view! {
        <Title text=format!("{} · Tinytune", course().title) />
        <h1 tabindex="-1" node_ref=super::focus_on_mount()>{course().title.clone()}</h1>
        <p class="lead">{course().description.clone()}</p>
        <section aria-labelledby="overall-progress" class="overall-progress">
            <h2 id="overall-progress">"Your progress"</h2>
            <p>
                <progress max=total value=move || completed.get() aria-labelledby="overall-progress-text"></progress>
                <span id="overall-progress-text">
                    {move || format!("{} of {total} lessons complete", completed.get())}
                </span>
            </p>
            <p>
                <A href=site::href("/complete")>
                    {move || if completed.get() == total {
                        "You have finished the course — see your completion page"
                    } else {
                        "Your recap so far: quiz scores, predictions and runs"
                    }}
                </A>
            </p>
        </section>
        {course().parts.iter().map(|part| view! {
            <section class="part">
                <h2>{part.title.clone()}</h2>
                <ol class="lesson-list">
                    {part.lessons.iter().map(|lesson| {
                        let done = move || store.is_lesson_complete(lesson);
                        view! {
                            <li class:done=done>
                                <A href=site::href(&format!("/learn/{}", lesson.slug))>{lesson.title.clone()}</A>
                                <span class="lesson-meta">
                                    {format!("{} min", lesson.minutes)} " · "
                                    <span class="lesson-status">
                                        {move || if done() { "✓ Complete" } else { "Not complete" }}
                                    </span>
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        }).collect_view()}
        <ResetCourse />
    }
}

/// Clears all progress, with an undo for the slip of a finger.
#[component]
fn ResetCourse() -> impl IntoView {
    let store = use_progress();
    let undo = RwSignal::new(None);
    view! {
        <section class="reset" aria-label="Reset progress">
            <button type="button" class="secondary" on:click=move |_| undo.set(Some(store.reset_all()))>
                "Reset all progress"
            </button>
            <div role="status">
                {move || undo.get().map(|earlier| view! {
                    <p>
                        "All progress cleared. "
                        <button type="button" on:click=move |_| {
                            store.restore(earlier.clone());
                            undo.set(None);
                        }>"Undo"</button>
                    </p>
                })}
            </div>
        </section>
    }
}
