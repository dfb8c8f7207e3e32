//! The hardware preflight ([`crate::preflight`]) on the page: before anything downloads, what this device offers
//! and, for each way of training the model, the memory it needs, whether it fits on this GPU and on this CPU, and
//! how long a step would take on the CPU.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::numbers::{format_bytes, format_duration};
use super::table::ScrollingTable;
use crate::preflight::{needs, BaseStorage, DeviceReport, Need};
use crate::protocol::{BackendKind, ModelShape, TrainSettings};

/// What a cell of the table says: fits, or why not.
fn verdict(need: &Need, report: &DeviceReport, backend: BackendKind) -> String {
    match need.fits(&report.limits, backend) {
        Ok(()) => "Fits".into(),
        Err(why) => format!("Does not fit: {why}"),
    }
}

/// The device in a sentence or two.
fn device_summary(report: &DeviceReport) -> String {
    let gpu = match &report.limits.gpu {
        Ok(limits) => format!(
            "GPU: {}, which binds up to {} per buffer (WebGPU does not tell a page how much memory a GPU has).",
            limits.adapter_name,
            format_bytes(limits.max_binding_bytes.min(limits.max_buffer_bytes))
        ),
        Err(why) => format!("No GPU for training: {why}."),
    };
    let memory = match report.limits.device_memory_gb {
        Some(gb) => format!(" The browser says this machine has about {gb} GB of memory."),
        None => String::new(),
    };
    format!("{gpu} CPU: {:.1} billion operations a second, measured here.{memory}", report.cpu_flops / 1e9)
}

#[component]
pub fn Preflight(
    demo: LiveDemo,
    /// The model the demo will load, known before it downloads.
    shape: ModelShape,
    storage: BaseStorage,
    #[prop(into)] settings: Signal<TrainSettings>,
) -> impl IntoView {
    let state = demo.state;
    demo.preflight();
    let (heading_id, caption_id) = (demo.id("preflight-heading"), demo.id("preflight-caption"));
    let report = move || state.with(|s| s.preflight.latest.clone());
    let waiting = move || state.with(|s| s.preflight.is_waiting());

    view! {
        <section class="demo-preflight" aria-labelledby=heading_id.clone() aria-busy=move || waiting().then_some("true")>
            <h4 id=heading_id.clone()>"Will it fit here?"</h4>
            {move || match report() {
                None if waiting() => view! { <p class="hint">"Measuring this device…"</p> }.into_any(),
                None => view! { <p class="hint">"This device could not be measured: see the problem below."</p> }.into_any(),
                Some(report) => {
                    let rows = needs(&shape, &settings.get(), storage);
                    view! {
                        <p>{device_summary(&report)}</p>
                        <ScrollingTable caption_id=caption_id.clone() caption=|| "What each way of training needs">
                                <thead>
                                    <tr>
                                        <th scope="col">"Method"</th>
                                        <th scope="col">"Memory (estimate)"</th>
                                        <th scope="col">"On this GPU"</th>
                                        <th scope="col">"On this CPU"</th>
                                        <th scope="col">"A step on this CPU"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.iter().map(|need| view! {
                                        <tr>
                                            <th scope="row">{need.label()}</th>
                                            <td>{format_bytes(need.memory_bytes)}</td>
                                            <td>{verdict(need, &report, BackendKind::WebGpu)}</td>
                                            <td>{verdict(need, &report, BackendKind::Cpu)}</td>
                                            <td>{format_duration(need.cpu_seconds_per_step(&report))}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                        </ScrollingTable>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}
