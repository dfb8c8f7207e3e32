//! A prediction the learner commits to before a live demo runs: native radio buttons in a fieldset, a button to
//! commit, and the committed guess shown (and kept with their progress) from then on. Not graded.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::progress_store::use_progress;
use crate::course::Prediction;

#[component]
pub fn PredictionView(prediction: &'static Prediction) -> impl IntoView {
    let store = use_progress();
    let chosen = RwSignal::new(None::<usize>);
    let committed = move || store.prediction(prediction);
    let status = RwSignal::new(String::new());
    let commit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match chosen.get_untracked() {
            Some(choice) => store.predict(prediction, choice),
            None => status.set("Choose one of the answers first.".into()),
        }
    };
    let input_name = format!("prediction-{}", prediction.key);
    view! {
        <form class="question prediction" on:submit=commit>
            <fieldset disabled=move || committed().is_some()>
                <legend>
                    <span class="question-number">"Predict first"</span>
                    <span class="question-prompt" inner_html=prediction.question_html.clone()></span>
                </legend>
                <ul class="choices">
                    {prediction.choices_html.iter().enumerate().map(|(index, html)| view! {
                        <li>
                            <label>
                                <input
                                    type="radio"
                                    name=input_name.clone()
                                    value=index
                                    prop:checked=move || committed().or(chosen.get()) == Some(index)
                                    on:change=move |_| {
                                        chosen.set(Some(index));
                                        status.set(String::new());
                                    }
                                />
                                <span inner_html=html.clone()></span>
                            </label>
                        </li>
                    }).collect_view()}
                </ul>
            </fieldset>
            {move || committed().is_none().then(|| view! { <button type="submit">"Commit to this guess"</button> })}
            <p class="prediction-status" role="status">
                {move || match committed() {
                    Some(_) => "Your guess is kept with your progress: set it against what the run shows.".to_string(),
                    None => status.get(),
                }}
            </p>
        </form>
    }
}
