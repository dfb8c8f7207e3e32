//! Where training runs (WebGPU or the CPU, and why), with the choice to use the CPU anyway.

use leptos::prelude::*;

use crate::protocol::{BackendChoice, BackendKind, BackendReport};

#[component]
pub fn BackendLine(
    #[prop(into)] backend: Signal<Option<BackendReport>>,
    choice: RwSignal<BackendChoice>,
    #[prop(into)] locked: Signal<bool>,
    /// Called after `choice` changes, to load the model again on the chosen backend.
    on_change: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <div class="demo-backend">
            {move || backend.get().map(|report| match report.kind {
                BackendKind::WebGpu => view! {
                    <p>
                        <strong>"Training on WebGPU"</strong>
                        {report.adapter_name.map(|name| format!(" — {name}"))}
                    </p>
                }.into_any(),
                BackendKind::Cpu => view! {
                    <p><strong>"Training on the CPU"</strong></p>
                    {report.fallback_reason.map(|reason| view! { <p class="hint">{reason}</p> })}
                }.into_any(),
            })}
            <label class="demo-checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || choice.get() == BackendChoice::Cpu
                    disabled=locked
                    on:change=move |ev| {
                        choice.set(if event_target_checked(&ev) { BackendChoice::Cpu } else { BackendChoice::Auto });
                        on_change();
                    }
                />
                "Use the CPU even if WebGPU is available"
            </label>
        </div>
    }
}
