//! Where training runs (WebGPU or the CPU, and why), with the choice to use the CPU anyway.

use leptos::prelude::*;

use super::live::LiveDemo;
use crate::protocol::{BackendChoice, BackendKind};

#[component]
pub fn BackendLine(
    demo: LiveDemo,
    /// What the demo does there: "Training" for a demo that trains, "Running" for one that only reads or writes.
    #[prop(default = "Training")]
    doing: &'static str,
) -> impl IntoView {
    let state = demo.state;
    view! {
        <div class="demo-backend">
            {move || state.with(|s| s.model.as_ref().map(|model| model.backend.clone())).map(|report| match report.kind {
                BackendKind::WebGpu => view! {
                    <p>
                        <strong>{format!("{doing} on WebGPU")}</strong>
                        {report.adapter_name.map(|name| format!(" — {name}"))}
                    </p>
                }.into_any(),
                BackendKind::Cpu => view! {
                    <p><strong>{format!("{doing} on the CPU")}</strong></p>
                    {report.fallback_reason.map(|reason| view! { <p class="hint">{reason}</p> })}
                }.into_any(),
            })}
            <label class="demo-checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || demo.backend.get() == BackendChoice::Cpu
                    disabled=move || state.with(|s| s.busy())
                    on:change=move |ev| {
                        demo.choose_backend(if event_target_checked(&ev) { BackendChoice::Cpu } else { BackendChoice::Auto })
                    }
                />
                "Use the CPU even if WebGPU is available"
            </label>
        </div>
    }
}
