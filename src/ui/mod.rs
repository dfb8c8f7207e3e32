//! The course UI: a Leptos single-page app. It knows lessons, quizzes and progress; it never links Burn.

mod complete;
mod demo;
mod embed;
mod home;
mod lesson;
mod playground;
mod prediction;
mod progress_store;
mod quiz;
mod run_journal;
pub mod run_state;
mod site;
mod studio;
mod theme;
mod trainer_client;

use std::sync::LazyLock;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::course::{embedded_course, Course};

static COURSE: LazyLock<Course> = LazyLock::new(embedded_course);

/// The course, validated at build time; immutable for the life of the page.
fn course() -> &'static Course {
    &COURSE
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    provide_meta_context();
    progress_store::provide_progress_store(course());
    trainer_client::provide_trainer_client();
    let base = site::base_path();
    view! {
        <Router base>
            <SiteHeader />
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::HomePage />
                    <Route path=path!("/learn/:slug") view=lesson::LessonPage />
                    <Route path=path!("/complete") view=complete::CompletionPage />
                    <Route path=path!("/playground") view=playground::PlaygroundPage />
                    <Route path=path!("/studio") view=studio::StudioPage />
                    <Route path=path!("/embed/:demo") view=embed::EmbedPage />
                </Routes>
            </main>
            <SiteFooter />
        </Router>
    }
}

/// Not on embeds: an embed is part of someone else's page.
fn on_site() -> Memo<bool> {
    let location = use_location();
    Memo::new(move |_| !embed::is_embed(&location.pathname.get()))
}

#[component]
fn SiteHeader() -> impl IntoView {
    let on_site = on_site();
    view! {
        <Show when=move || on_site.get()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <A href=site::href("/") attr:class="brand">"Tinytune"</A>
                <nav aria-label="Site">
                    <A href=site::href("/playground")>"Playground"</A>
                    <A href=site::href("/studio")>"Data studio"</A>
                </nav>
                <theme::ThemePicker />
            </header>
            <progress_store::StorageNotice />
        </Show>
    }
}

#[component]
fn SiteFooter() -> impl IntoView {
    let on_site = on_site();
    view! {
        <Show when=move || on_site.get()>
            <footer class="site-footer">
                <p>"Everything runs in this tab: your answers and data never leave your browser."</p>
            </footer>
        </Show>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <Title text="Page not found · Tinytune" />
        <h1 tabindex="-1" node_ref=focus_on_mount()>"Page not found"</h1>
        <p>"There is no page at this address. It may have moved, or the link may have a typo."</p>
        <p><A href=site::href("/")>"Go to the course home"</A></p>
    }
}

/// A heading ref that takes keyboard focus once mounted, so screen readers announce the new page.
fn focus_on_mount() -> NodeRef<leptos::html::H1> {
    let heading = NodeRef::<leptos::html::H1>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    heading
}
