//! A demo's two voices: the status line that screen readers read out politely, and an alert for what went
//! wrong, with a way to try loading again when loading is what failed.

use leptos::prelude::*;

use super::live::LiveDemo;
use crate::settings::SettingProblem;
use crate::ui::trainer_client::TrainerState;

/// The settings in the page's address that could not be used, each with what was used instead; nothing when
/// every one could.
#[component]
pub fn SettingProblems(problems: Vec<SettingProblem>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        view! {
            <div class="demo-alert" role="alert">
                <p>"Some settings in the address could not be used:"</p>
                <ul>{problems.into_iter().map(|problem| view! { <li>{problem.message}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

#[component]
pub fn Notices(demo: LiveDemo) -> impl IntoView {
    let state = demo.state;
    let trainer = demo.trainer;
    let loaded = move || state.with(|s| s.ready());
    view! {
        <p class="demo-status" role="status">{move || state.with(|s| s.status.clone())}</p>
        {move || match trainer.state().get() {
            TrainerState::Stopped(reason) => Some(view! {
                <div class="demo-alert" role="alert">
                    <p>"⚠ " {format!("The trainer stopped: {reason}.")}</p>
                    <p>"Reload the page to start it again. Your prediction is kept."</p>
                </div>
            }),
            _ => None,
        }}
        {move || state.with(|s| s.problem.clone()).map(|message| view! {
            <div class="demo-alert" role="alert">
                <p>"⚠ " {message}</p>
                {move || (!loaded() && trainer.state().get() == TrainerState::Running).then(|| view! {
                    <button type="button" on:click=move |_| demo.load()>"Try loading again"</button>
                })}
                <button type="button" class="secondary" on:click=move |_| state.update(|s| s.problem = None)>
                    "Dismiss"
                </button>
            </div>
        })}
    }
}
