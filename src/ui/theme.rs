//! Light or dark: follows the system (`prefers-color-scheme`) unless the learner picks one, which is remembered.

use leptos::prelude::*;

const THEME_KEY: &str = "tinytune.theme";

/// Shows the page in `theme` (`light`, `dark`, or anything else for the system's choice), without remembering it.
pub fn apply(theme: &str) {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else { return };
    let _ = match theme {
        "light" | "dark" => root.set_attribute("data-theme", theme),
        _ => root.remove_attribute("data-theme"),
    };
}

#[component]
pub fn ThemePicker() -> impl IntoView {
    let storage = || web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let stored = storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten()).unwrap_or_else(|| "system".into());
    let theme = RwSignal::new(stored);
    Effect::new(move |_| {
        let chosen = theme.get();
        apply(&chosen);
        if let Some(storage) = storage() {
            let _ = storage.set_item(THEME_KEY, &chosen);
        }
    });
    view! {
        <label class="theme-picker">
            "Theme "
            <select on:change=move |ev| theme.set(event_target_value(&ev)) prop:value=move || theme.get()>
                <option value="system">"System"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}
