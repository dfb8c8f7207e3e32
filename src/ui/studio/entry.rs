//! One example in full: its JSONL line in a small editor (fix it in place), its problems, and its tokens as the
//! model sees them — each token a chip, trained-on tokens (the loss mask) told apart from context, and the
//! end-of-sequence token visible where each trained span ends.

use leptos::prelude::*;

use super::Studio;
use crate::protocol::{Decision, StudioEntryView, ToWorker, TokenChip};
use crate::ui::demo::numbers::format_count;

/// A chip's words for a screen reader, said where the loss mask changes (not on every chip).
fn span_start(chips: &[TokenChip], index: usize) -> Option<&'static str> {
    let chip = &chips[index];
    let changed = index == 0 || chips[index - 1].trained != chip.trained;
    changed.then_some(if chip.trained { "trained from here: " } else { "context from here: " })
}

#[component]
pub fn EntryView(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let draft = RwSignal::new(String::new());
    // A newly shown entry replaces the draft.
    Effect::new(move |_| {
        if let Some(source) = state.with(|s| s.entry.as_ref().map(|e| e.source.clone())) {
            draft.set(source);
        }
    });
    let (title, editor, editor_hint) = (studio.id("entry-title"), studio.id("editor"), studio.id("editor-hint"));
    move || {
        let view: StudioEntryView = state.with(|s| s.entry.clone())?;
        let entry = view.entry;
        let trained = view.tokens.iter().filter(|c| c.trained).count();
        let side = match view.held_out {
            Some(true) => "held out",
            Some(false) => "trained on",
            None if view.decision == Decision::Drop => "dropped",
            None => "not an example yet",
        };
        let chips = view.tokens.clone();
        Some(view! {
            <section class="studio-entry" aria-labelledby=title.clone()>
                <h2 id=title.clone()>{format!("Line {}", view.line)}</h2>
                <p>{format!("{} · {side}", view.shape.clone().unwrap_or_else(|| "not readable yet".into()))}</p>
                {(!view.problems.is_empty()).then(|| view! {
                    <ul class="problem-list">
                        {view.problems.iter().map(|p| view! { <li>{p.problem.message.clone()}</li> }).collect_view()}
                    </ul>
                })}
                <div class="field">
                    <label for=editor.clone()>"Edit this example (one JSON object)"</label>
                    <textarea id=editor.clone() rows="4" aria-describedby=editor_hint.clone() prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                    <p class="hint" id=editor_hint.clone()>
                        "Saved as one line of the data set; the checks run again when you save."
                    </p>
                </div>
                <p>
                    <button type="button" on:click=move |_| studio.send(&ToWorker::StudioEdit { entry, source: draft.get_untracked() })>
                        "Save this example"
                    </button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| state.update(|s| s.entry = None)>"Close"</button>
                </p>
                {(!chips.is_empty()).then(|| view! {
                    <h3>"What the model sees"</h3>
                    <p class="hint">
                        {format!("{} tokens, {} of them trained on. ", format_count(chips.len()), format_count(trained))}
                        <span class="token-chip trained">"trained on"</span>" "
                        <span class="token-chip">"context only"</span>" "
                        <span class="token-chip special">"special token"</span>
                    </p>
                    <ol class="token-chips" aria-label="Tokens in order">
                        {chips.iter().enumerate().map(|(index, chip)| view! {
                            <li class="token-chip" class:trained=chip.trained class:special=chip.piece.special>
                                {span_start(&chips, index).map(|words| view! { <span class="visually-hidden">{words}</span> })}
                                {chip.piece.text.clone()}
                            </li>
                        }).collect_view()}
                    </ol>
                })}
            </section>
        })
    }
}
