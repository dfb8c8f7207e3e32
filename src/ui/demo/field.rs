//! A labelled input with its inline error, shared by the demo's forms.

use leptos::prelude::*;

/// The error shows once `reveal` says so (after a first submit) and then follows the value as it is typed. Not
/// earlier, on leaving the field: the message would push the submit button down under a click that is on its way.
#[component]
pub fn Field(
    /// Unique on the page: the input's id, and the stem of its hint's and error's ids.
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] reveal: Signal<bool>,
    #[prop(default = "number")] kind: &'static str,
    #[prop(optional)] min: Option<u64>,
    #[prop(optional)] max: Option<u64>,
    /// `"1"` for whole numbers, `"any"` for decimals.
    #[prop(optional)]
    step: Option<&'static str>,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let shown_error = move || if reveal.get() { error.get() } else { None };
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = match hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
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
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <p class="field-error" id=error_id>{move || shown_error().map(|error| format!("✗ {error}"))}</p>
        </div>
    }
}
