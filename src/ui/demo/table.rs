//! A data table that can be wider than the page: in a region that scrolls sideways on a narrow screen, focusable
//! so the keyboard can scroll it too (axe: "scrollable region must have keyboard access"), and named by the
//! table's caption.

use leptos::prelude::*;

#[component]
pub fn ScrollingTable(
    /// The caption's element id, which names the region.
    caption_id: String,
    #[prop(into)] caption: ViewFn,
    /// More classes for the region.
    #[prop(optional)]
    class: &'static str,
    /// The table's head and body.
    children: Children,
) -> impl IntoView {
    view! {
        <div class=format!("demo-table {class}") role="region" tabindex="0" aria-labelledby=caption_id.clone()>
            <table>
                <caption id=caption_id.clone()>{move || caption.run()}</caption>
                {children()}
            </table>
        </div>
    }
}
