//! Interactive demos placed in lessons by ```` ```demo ```` blocks (the build checks their names against
//! `course::content::KNOWN_DEMOS`). They talk to the trainer worker through `super::trainer_client`.

mod backend;
mod chart_scale;
mod download;
mod field;
mod first_lora;
mod loading;
mod loss_chart;
mod numbers;
mod prediction;
mod run_progress;
mod samples;
mod settings_form;

use leptos::prelude::*;

#[component]
pub fn Demo(name: String) -> impl IntoView {
    match name.as_str() {
        "first-lora" => view! { <first_lora::FirstLoraDemo /> }.into_any(),
        _ => view! { <p class="notice">{format!("The demo “{name}” is not part of this version of the course.")}</p> }
            .into_any(),
    }
}
