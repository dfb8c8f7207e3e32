//! A labelled input with its inline error, shared by the demos' forms.

use leptos::prelude::*;

use crate::settings::{NumberSetting, Range};

/// The error shows once `reveal` says so (after a first submit) and then follows the value as it is typed. Not
/// earlier, on leaving the field: the message would push the submit button down under a click that is on its way.
#[component]
pub fn Field(
    /// Unique on the page: the input's id, and the stem of its hint's and error's ids.
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] reveal: Signal<bool>,
    #[prop(default = "number")] kind: &'static str,
    /// The number setting this field edits: its range goes on the input and after the hint.
    #[prop(optional)]
    setting: Option<NumberSetting>,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let hint = hint.filter(|h| !h.is_empty());
    let shown_error = move || if reveal.get() { error.get() } else { None };
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let (min, max, step) = match setting.map(|s| s.range) {
        Some(Range::Whole { min, max }) => (Some(min.to_string()), Some(max.to_string()), Some("1")),
        Some(Range::Positive { max }) => (Some("0".to_string()), Some(max.to_string()), Some("any")),
        Some(Range::Fraction) => (Some("0".to_string()), None, Some("any")),
        Some(Range::Share { max }) => (Some("0".to_string()), Some(max.to_string()), Some("any")),
        None => (None, None, None),
    };
    let hint = match (hint, setting) {
        (Some(hint), Some(setting)) => Some(format!("{hint} {}.", capitalised(&setting.range_text()))),
        (None, Some(setting)) => Some(format!("{}.", capitalised(&setting.range_text()))),
        (hint, None) => hint.map(String::from),
    };
    let described_by = match hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                type=kind
                min=min
                max=max
                step=step
                prop:value=value
                disabled=disabled
                aria-describedby=described_by
                aria-invalid=move || shown_error().is_some().then_some("true")
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="field-error" id=error_id>{move || shown_error().map(|error| format!("✗ {error}"))}</p>
        </div>
    }
}

/// `"a whole number…"` → `"A whole number…"`.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A labelled range input with its value shown beside it (`shown` writes it), for settings a learner slides
/// through; `described_by` names a hint elsewhere in the form.
#[component]
pub fn Slider(
    /// Unique on the page.
    id: String,
    label: &'static str,
    value: RwSignal<f64>,
    min: f64,
    max: f64,
    step: f64,
    shown: fn(f64) -> String,
    #[prop(optional)] described_by: Option<String>,
    /// Off while it cannot change what it sets (a run in progress keeps the value it started with).
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                type="range"
                disabled=disabled
                min=min.to_string()
                max=max.to_string()
                step=step.to_string()
                aria-describedby=described_by
                aria-valuetext=move || shown(value.get())
                prop:value=move || value.get().to_string()
                on:input=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(min))
            />
            <output for=id>{move || shown(value.get())}</output>
        </div>
    }
}
