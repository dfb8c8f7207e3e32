//! The data set a run trains on, chosen from every data set a run can choose (the shipped ones and the learner's own
//! from the data studio), with a line on what the chosen one teaches; choosing one loads it in the demo. The
//! playground's and the capstone's.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::{DatasetChoice, CHOICES};

#[component]
pub fn DatasetSelect(
    demo: LiveDemo,
    dataset: RwSignal<&'static DatasetChoice>,
    /// More for the hint line after the data set's own sentence (a link to the studio).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let busy = Signal::derive(move || demo.state.with(|s| s.busy()));
    let (select_id, hint_id) = (demo.id("dataset"), demo.id("dataset-hint"));
    view! {
        <div class="field">
            <label for=select_id.clone()>"Data set"</label>
            <select
                id=select_id
                aria-describedby=hint_id.clone()
                disabled=busy
                on:change=move |ev| {
                    let key = event_target_value(&ev);
                    if let Some(chosen) = CHOICES.into_iter().find(|d| d.key == key) {
                        dataset.set(chosen);
                        demo.use_dataset(&chosen.url());
                    }
                }
            >
                {CHOICES.into_iter().map(|choice| view! {
                    <option value=choice.key selected=move || dataset.get().key == choice.key>{choice.title}</option>
                }).collect_view()}
            </select>
            <p class="hint" id=hint_id>{move || dataset.get().about} {children.map(|more| more())}</p>
        </div>
    }
}
