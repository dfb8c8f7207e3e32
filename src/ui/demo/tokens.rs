//! A text as the model reads it (lesson “Tokens”): the base model's tokenizer cuts it into tokens from its vocabulary,
//! whole words where the vocabulary has them, pieces where it does not, and single bytes for a character it has no
//! token for. Counts in characters, words and tokens, and how much of the model's context the text takes.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::{count_of, format_count};
use super::reading::{ReadingDemo, RecordedReadingNote, TokenChipList};
use crate::course::DemoKind;
use crate::protocol::Inspection;

/// Texts to try, each showing one thing about the vocabulary.
const EXAMPLES: [(&str, &str); 4] = [
    ("A name from the stories", "Lily"),
    ("A rare name", "Zephyrine"),
    ("Accents", "Crème brûlée"),
    ("An emoji", "Tim ate pizza 🍕"),
];

/// Counts that put the tokens beside what a person counts.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenCounts {
    pub characters: usize,
    pub words: usize,
    /// The text's tokens, without the start-of-text token the model reads first.
    pub tokens: usize,
    pub bytes: usize,
}

pub fn counts(inspection: &Inspection) -> TokenCounts {
    let text_tokens = inspection.tokens.iter().filter(|piece| !piece.special);
    TokenCounts {
        characters: inspection.text.chars().count(),
        words: inspection.text.split_whitespace().count(),
        tokens: text_tokens.clone().count(),
        bytes: text_tokens.filter(|piece| piece.byte().is_some()).count(),
    }
}

#[component]
pub fn TokensDemo() -> impl IntoView {
    let kind = DemoKind::Tokens;
    let ReadingDemo { demo, shown } = ReadingDemo::new(kind);
    let state = demo.state;
    let text = RwSignal::new(kind.opening_text().unwrap_or_default().to_string());

    let loaded = move || state.with(|s| s.model.is_some());
    let waiting = move || state.with(|s| s.inspection.is_waiting());
    let empty = move || text.with(|t| t.trim().is_empty());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        demo.inspect(text.get_untracked(), Vec::new());
    };
    let context = move || state.with(|s| s.model.as_ref().map(|model| model.shape.max_position_embeddings));
    let text_id = demo.id("text");

    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: a text as tokens"</h3>
            <p>"The model's tokenizer cuts your text into the tokens of its vocabulary. It all runs in this tab."</p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <form class="demo-form" on:submit=submit novalidate>
                <div class="field">
                    <label for=text_id.clone()>"Text"</label>
                    <textarea id=text_id rows="2" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                <p class="demo-examples">
                    "Try: "
                    {EXAMPLES.iter().map(|&(label, example)| view! {
                        <button type="button" class="secondary" aria-label=format!("{label}: {example}") on:click=move |_| text.set(example.to_string())>
                            {label}
                        </button>
                        " "
                    }).collect_view()}
                </p>
                <p class="demo-actions">
                    <button type="submit" disabled=move || !loaded() || waiting() || empty()>"Show the tokens"</button>
                </p>
            </form>
            <Notices demo />
            {move || shown.get().map(|(inspection, is_recorded)| {
                let counts = counts(&inspection);
                let per_word = (counts.words > 0).then(|| counts.tokens as f64 / counts.words as f64);
                view! {
                    {is_recorded.then(|| view! { <RecordedReadingNote text=inspection.text.clone() action="Show the tokens" /> })}
                    <p class="demo-token-counts">
                        {format!(
                            "{}, {}, {}",
                            count_of(counts.characters, "character"),
                            count_of(counts.words, "word"),
                            count_of(counts.tokens, "token"),
                        )}
                        {per_word.map(|ratio| format!(" ({ratio:.1} tokens a word)"))}
                        {(counts.bytes > 0).then(|| format!("; {} of them single bytes", format_count(counts.bytes)))}
                        "."
                        {context().map(|context| format!(
                            " With the start-of-text token, the text takes {} of the {} tokens the model reads at once.",
                            format_count(counts.tokens + 1),
                            format_count(context),
                        ))}
                    </p>
                    <p class="hint">
                        <span class="token-chip">"▁"</span>" starts a token that follows a space; "
                        <span class="token-chip byte">"<0xF0>"</span>" is one byte of a character the vocabulary \
                         has no token for; the small number is the token's id."
                    </p>
                    <TokenChipList tokens=inspection.tokens label="The text's tokens" />
                }
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TokenPiece;

    #[test]
    fn counts_leave_out_the_start_token_and_count_bytes() {
        let piece = |id: u32, text: &str, special| TokenPiece { id, text: text.into(), special };
        let inspection = Inspection {
            request_id: 1,
            text: "Tim 🍕".into(),
            tokens: vec![
                piece(1, "<s>", true),
                piece(300, "▁Tim", false),
                piece(3, "▁", false),
                piece(244, "<0xF0>", false),
                piece(163, "<0x9F>", false),
                piece(143, "<0x8D>", false),
                piece(137, "<0x95>", false),
            ],
            next_logits: Vec::new(),
            likely: Vec::new(),
        };
        assert_eq!(counts(&inspection), TokenCounts { characters: 5, words: 2, tokens: 6, bytes: 4 });
    }
}
