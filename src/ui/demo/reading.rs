//! What the demos that read a text share: the reading recorded when the site was built (`tinytune inspect
//! --demos-into`), shown, labelled, until the learner asks the model themselves, and the text as token chips; and
//! the fetch of such recorded files.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::live::LiveDemo;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::course::DemoKind;
use crate::protocol::{Inspection, TokenPiece};

/// The reading of `kind`'s opening text recorded at build time; `None` until it arrives, and if it cannot be read
/// (then the demo simply waits for the learner's own).
fn recorded_reading(kind: DemoKind) -> RwSignal<Option<Inspection>> {
    let recorded = RwSignal::new(None);
    if let Some(file) = kind.recorded_file() {
        fetch_json(format!("{STORIES_MODEL_URL}{file}"), recorded);
    }
    recorded
}

/// Fetches a JSON file the site serves (a path relative to the site's base) into `target`, which stays `None`
/// if the file cannot be fetched or read: what is recorded is shown when it is there, and never blocks a demo.
pub fn fetch_json<T: DeserializeOwned + Send + Sync + 'static>(path: String, target: RwSignal<Option<T>>) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(value) = fetch_text(&path).await.and_then(|json| serde_json::from_str::<T>(&json).ok()) {
            target.try_set(Some(value));
        }
    });
}

/// A file the site serves, as text; `None` when it cannot be fetched.
async fn fetch_text(path: &str) -> Option<String> {
    let response = JsFuture::from(web_sys::window()?.fetch_with_str(path)).await.ok()?;
    let response: web_sys::Response = response.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    JsFuture::from(response.text().ok()?).await.ok()?.as_string()
}

/// A demo that reads a text with the base model: its run layer (the model loaded at once), and the reading it
/// shows: the learner's latest, else the recorded one (`true` when it is the recorded one).
#[derive(Clone, Copy)]
pub struct ReadingDemo {
    pub demo: LiveDemo,
    pub shown: Memo<Option<(Inspection, bool)>>,
}

impl ReadingDemo {
    pub fn new(kind: DemoKind) -> ReadingDemo {
        // The data set is not read; the run layer loads one with the model, the smallest the site ships.
        let demo = LiveDemo::new(kind.name(), STORIES_MODEL_URL, &PIP_STORIES.url());
        let recorded = recorded_reading(kind);
        let shown = Memo::new(move |_| match demo.state.with(|s| s.inspection.latest.clone()) {
            Some(own) => Some((own, false)),
            None => recorded.get().map(|recorded| (recorded, true)),
        });
        demo.load();
        ReadingDemo { demo, shown }
    }
}

/// The label over a recorded reading.
#[component]
pub fn RecordedReadingNote(#[prop(into)] text: String, #[prop(into)] action: String) -> impl IntoView {
    view! {
        <p class="demo-recorded">
            <strong>"Recorded"</strong>
            {format!(" when this site was built, for “{text}”. Press “{action}” to ask the model yourself.")}
        </p>
    }
}

/// Tokens as chips, in order, each with its id; bytes (a character the vocabulary has no token for) and special
/// tokens told apart in words as well as in looks, and the last `drawn` tokens marked as drawn by the learner.
#[component]
pub fn TokenChipList(tokens: Vec<TokenPiece>, #[prop(default = 0)] drawn: usize, label: &'static str) -> impl IntoView {
    let first_drawn = tokens.len().saturating_sub(drawn);
    view! {
        <ol class="token-chips" aria-label=label>
            {tokens.into_iter().enumerate().map(|(index, piece)| {
                let (byte, drawn) = (piece.byte().is_some(), index >= first_drawn);
                let kind = if piece.special {
                    Some("special token ")
                } else if byte {
                    Some("byte ")
                } else if drawn {
                    Some("drawn ")
                } else {
                    None
                };
                view! {
                    <li
                        class="token-chip"
                        class:special=piece.special
                        class:byte=byte
                        class:drawn=drawn
                    >
                        {kind.map(|words| view! { <span class="visually-hidden">{words}</span> })}
                        <span class="token-text">{piece.text}</span>
                        <span class="token-id"><span class="visually-hidden">" id "</span>{piece.id}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
