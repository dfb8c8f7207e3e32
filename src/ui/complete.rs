//! Shown when every lesson is complete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::progress_store::use_progress;
use super::{course, site};

#[component]
pub fn CompletionPage() -> impl IntoView {
    let store = use_progress();
    let total = course().lessons().count();
    let remaining = move || total - store.completed_lessons(course());
    view! {
        <Title text="Course complete · Tinytune" />
        {move || if remaining() == 0 {
            view! {
                <h1 tabindex="-1" node_ref=super::focus_on_mount()>"You finished the course"</h1>
                <p>{format!("You passed the quiz of every one of the {total} lessons in “{}”.", course().title)}</p>
                <p><A href=site::href("/")>"Back to the course home"</A></p>
            }.into_any()
        } else {
            view! {
                <h1 tabindex="-1" node_ref=super::focus_on_mount()>"Not finished yet"</h1>
                <p>{format!("{} of {total} lessons still to complete.", remaining())}</p>
                <p><A href=site::href("/")>"See which lessons are left"</A></p>
            }.into_any()
        }}
    }
}
