//! Interactive demos placed in lessons by ```` ```demo ```` blocks.

use leptos::prelude::*;

#[component]
pub fn Demo(name: String) -> impl IntoView {
    view! { <p>{format!("Demo {name} is being built.")}</p> }
}
