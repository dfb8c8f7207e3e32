//! "Predict first": the learner writes down what they expect before training, and sees it again afterwards.

use leptos::prelude::*;

const PREDICTION_KEY: &str = "tinytune.prediction.first-lora";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The prediction saved in this browser, or an empty one.
pub fn saved_prediction() -> RwSignal<String> {
    RwSignal::new(
        local_storage().and_then(|storage| storage.get_item(PREDICTION_KEY).ok().flatten()).unwrap_or_default(),
    )
}

#[component]
pub fn Prediction(text: RwSignal<String>) -> impl IntoView {
    view! {
        <div class="demo-prediction">
            <label for="first-lora-prediction">"Before you train: what do you think the model will write afterwards?"</label>
            <textarea
                id="first-lora-prediction"
                rows="3"
                aria-describedby="first-lora-prediction-hint"
                prop:value=text
                on:input=move |ev| {
                    let prediction = event_target_value(&ev);
                    // Where storage is blocked or full the prediction lasts until a reload, which is enough here.
                    if let Some(storage) = local_storage() {
                        let _ = storage.set_item(PREDICTION_KEY, &prediction);
                    }
                    text.set(prediction);
                }
            ></textarea>
            <p class="hint" id="first-lora-prediction-hint">
                "Saved in this browser. It appears again next to the samples once training is done."
            </p>
        </div>
    }
}
