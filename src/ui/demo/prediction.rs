//! "Predict first": the learner writes down what they expect before training, and sees it again afterwards.

use leptos::prelude::*;

use super::live::LiveDemo;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn storage_key(demo_name: &str) -> String {
    format!("tinytune.prediction.{demo_name}")
}

/// The prediction saved in this browser for the demo named `demo_name`, or an empty one.
pub fn saved_prediction(demo_name: &str) -> RwSignal<String> {
    let saved = local_storage().and_then(|storage| storage.get_item(&storage_key(demo_name)).ok().flatten());
    RwSignal::new(saved.unwrap_or_default())
}

#[component]
pub fn Prediction(
    demo: LiveDemo,
    /// The demo's name: where the prediction is saved.
    demo_name: &'static str,
    text: RwSignal<String>,
) -> impl IntoView {
    let (field_id, hint_id) = (demo.id("prediction"), demo.id("prediction-hint"));
    view! {
        <div class="demo-prediction">
            <label for=field_id.clone()>"Before you train: what do you think the model will write afterwards?"</label>
            <textarea
                id=field_id.clone()
                rows="3"
                aria-describedby=hint_id.clone()
                prop:value=text
                on:input=move |ev| {
                    let prediction = event_target_value(&ev);
                    // Where storage is blocked or full the prediction lasts until a reload, which is enough here.
                    if let Some(storage) = local_storage() {
                        let _ = storage.set_item(&storage_key(demo_name), &prediction);
                    }
                    text.set(prediction);
                }
            ></textarea>
            <p class="hint" id=hint_id.clone()>
                "Saved in this browser. It appears again next to the samples once training is done."
            </p>
        </div>
    }
}
