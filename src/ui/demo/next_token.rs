//! What a language model does at every step (lesson “What pretraining gives a model”): the base model reads a prompt
//! and gives each token of its vocabulary a probability of coming next. Bars show the most likely ones, reshaped by the
//! temperature and cut to the top-p nucleus exactly as the sampler does (`crate::sampling`), and "Add a token" draws
//! one and reads again, so the learner writes a story a token at a time.

use leptos::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::backend::BackendLine;
use super::field::Slider;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::{count_of, format_count};
use super::reading::{ReadingDemo, RecordedReadingNote, TokenChipList};
use crate::course::DemoKind;
use crate::protocol::{Inspection, SampleSettings, TokenPiece};
use crate::sampling::{self, Ranked};

/// One bar: a likely next token and its probability as the sampler sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub piece: TokenPiece,
    pub probability: f64,
    pub in_nucleus: bool,
}

/// The bars for an inspection at a temperature and top-p: its likely tokens, then what the rest of the vocabulary
/// holds, and how many tokens the sampler may draw from.
#[derive(Clone, Debug, PartialEq)]
pub struct Bars {
    pub bars: Vec<Bar>,
    pub others: f64,
    pub nucleus_size: usize,
    pub nucleus_mass: f64,
}

pub fn bars(inspection: &Inspection, temperature: f64, top_p: f64) -> Bars {
    let distribution = sampling::next_token_distribution(&inspection.next_logits, temperature, top_p);
    let of = |token: u32| distribution.iter().find(|r| r.token == token).copied();
    let bars: Vec<Bar> = inspection
        .likely
        .iter()
        .filter_map(|piece| {
            let Ranked { probability, in_nucleus, .. } = of(piece.id)?;
            Some(Bar { piece: piece.clone(), probability, in_nucleus })
        })
        .collect();
    Bars {
        others: (1.0 - bars.iter().map(|bar| bar.probability).sum::<f64>()).max(0.0),
        nucleus_size: distribution.iter().filter(|r| r.in_nucleus).count(),
        nucleus_mass: sampling::nucleus_mass(&distribution),
        bars,
    }
}

fn percent(probability: f64) -> String {
    format!("{:.1}%", probability * 100.0)
}

#[component]
pub fn NextTokenDemo() -> impl IntoView {
    let kind = DemoKind::NextToken;
    let ReadingDemo { demo, shown } = ReadingDemo::new(kind);
    let state = demo.state;

    let opening = kind.opening_text().unwrap_or_default();
    let prompt = RwSignal::new(opening.to_string());
    // Tokens drawn since the learner last edited the prompt, appended to it exactly as drawn.
    let drawn = RwSignal::new(Vec::<u32>::new());
    // The sampler's own defaults, which the demos' samples use.
    let defaults = SampleSettings::default();
    let temperature = RwSignal::new(defaults.temperature);
    let top_p = RwSignal::new(defaults.top_p);
    // Draws differ from click to click, like a sample with a fresh seed.
    let rng = StoredValue::new(StdRng::seed_from_u64((js_sys::Math::random() * u64::MAX as f64) as u64));

    let loaded = move || state.with(|s| s.model.is_some());
    let waiting = move || state.with(|s| s.inspection.is_waiting());
    let empty = move || prompt.with(|p| p.trim().is_empty());
    let read = move || demo.inspect(prompt.get_untracked(), drawn.get_untracked());
    let add_token = move || {
        // Drawn from the learner's own reading of this prompt (the recorded one is of the opening prompt).
        let Some(own) = state.with_untracked(|s| s.inspection.latest.clone()) else { return };
        let distribution =
            sampling::next_token_distribution(&own.next_logits, temperature.get_untracked(), top_p.get_untracked());
        let token = rng.try_update_value(|rng| sampling::draw(&distribution, rng));
        if let Some(token) = token {
            drawn.update(|drawn| drawn.push(token));
            read();
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        read();
    };
    let shaped = Memo::new(move |_| {
        shown.with(|shown| shown.as_ref().map(|(inspection, _)| bars(inspection, temperature.get(), top_p.get())))
    });

    let (prompt_id, temperature_id, top_p_id, hint_id) =
        (demo.id("prompt"), demo.id("temperature"), demo.id("top-p"), demo.id("settings-hint"));
    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: what comes next?"</h3>
            <p>
                "The base model reads your prompt and gives every token of its vocabulary a probability of coming \
                 next. It all runs in this tab."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <form class="demo-form" on:submit=submit novalidate>
                <div class="field">
                    <label for=prompt_id.clone()>"Prompt"</label>
                    <textarea
                        id=prompt_id.clone()
                        rows="2"
                        prop:value=move || prompt.get()
                        on:input=move |ev| {
                            prompt.set(event_target_value(&ev));
                            drawn.set(Vec::new());
                        }
                    ></textarea>
                </div>
                <fieldset class="demo-sliders">
                    <legend>"How the next token is drawn"</legend>
                    <Slider id=temperature_id label="Temperature" value=temperature min=0.0 max=2.0 step=0.1
                        shown=|t| if t <= 0.0 { "0 (greedy)".to_string() } else { format!("{t:.1}") }
                        described_by=hint_id.clone() />
                    <Slider id=top_p_id label="Top-p" value=top_p min=0.05 max=1.0 step=0.05
                        shown=|p| format!("{p:.2}") described_by=hint_id.clone() />
                    <p class="hint" id=hint_id>
                        "Temperature 0 always takes the most likely token. Top-p keeps the most likely tokens whose \
                         probabilities add up to it, and draws only among them."
                    </p>
                </fieldset>
                <p class="demo-actions">
                    <button type="submit" disabled=move || !loaded() || waiting() || empty()>
                        "Show the next token"
                    </button>
                    " "
                    <button
                        type="button"
                        class="secondary"
                        disabled=move || !loaded() || waiting() || state.with(|s| s.inspection.latest.is_none())
                        on:click=move |_| add_token()
                    >
                        "Add a token"
                    </button>
                </p>
                {move || (loaded() && empty()).then(|| view! { <p class="hint">"Write a few words for the model to read."</p> })}
            </form>
            <Notices demo />
            {move || shown.get().map(|(inspection, is_recorded)| {
                let drawn_here = if is_recorded { 0 } else { drawn.with(Vec::len) };
                view! {
                    {is_recorded.then(|| view! { <RecordedReadingNote text=inspection.text.clone() action="Show the next token" /> })}
                    <h4>"What the model reads"</h4>
                    <p class="hint">
                        {format!("{}, the first one the start-of-text token the model always begins with.",
                            count_of(inspection.tokens.len(), "token"))}
                        {match drawn_here {
                            0 => String::new(),
                            1 => " The last one you drew.".to_string(),
                            n => format!(" The last {n} you drew."),
                        }}
                    </p>
                    <TokenChipList tokens=inspection.tokens.clone() drawn=drawn_here label="The prompt's tokens" />
                }
            })}
            {move || shaped.get().map(|shaped| view! { <NextTokenBars shaped /> })}
        </section>
    }
}

/// The likely tokens as bars, with the rest of the vocabulary as one more, and the nucleus in words.
#[component]
fn NextTokenBars(shaped: Bars) -> impl IntoView {
    let Bars { bars, others, nucleus_size, nucleus_mass } = shaped;
    view! {
        <h4>"The next token"</h4>
        <p class="demo-nucleus">
            {format!(
                "The sampler draws from {} holding {} of the probability; greyed tokens are never drawn.",
                match nucleus_size {
                    1 => "1 token".to_string(),
                    n => format!("{} tokens", format_count(n)),
                },
                percent(nucleus_mass),
            )}
        </p>
        <ol class="bars next-token-bars">
            {bars.into_iter().map(|bar| view! {
                <li class:outside=!bar.in_nucleus>
                    <span class="token-chip">{bar.piece.text}</span>
                    <span class="bar-track" aria-hidden="true">
                        <span class="bar-fill" style:width=format!("{:.2}%", bar.probability * 100.0)></span>
                    </span>
                    <span class="bar-value">{percent(bar.probability)}</span>
                    {(!bar.in_nucleus).then(|| view! { <span class="visually-hidden">" (never drawn)"</span> })}
                </li>
            }).collect_view()}
            <li class="others">
                <span>"all other tokens"</span>
                <span class="bar-track" aria-hidden="true">
                    <span class="bar-fill" style:width=format!("{:.2}%", others * 100.0)></span>
                </span>
                <span class="bar-value">{percent(others)}</span>
            </li>
        </ol>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspection() -> Inspection {
        let piece = |id: u32, text: &str| TokenPiece { id, text: text.into(), special: false };
        // Probabilities 0.5, 0.3, 0.2 at temperature 1.
        Inspection {
            request_id: 1,
            text: "Once".into(),
            tokens: vec![piece(1, "<s>"), piece(7, "▁Once")],
            next_logits: vec![0.2f32.ln(), 0.5f32.ln(), 0.3f32.ln()],
            likely: vec![piece(1, "▁park"), piece(2, "▁shop")],
        }
    }

    #[test]
    fn bars_are_the_likely_tokens_with_the_samplers_probabilities_and_the_rest_in_one() {
        let shaped = bars(&inspection(), 1.0, 0.6);
        let probabilities: Vec<f64> = shaped.bars.iter().map(|bar| bar.probability).collect();
        assert!((probabilities[0] - 0.5).abs() < 1e-6 && (probabilities[1] - 0.3).abs() < 1e-6, "{probabilities:?}");
        assert!((shaped.others - 0.2).abs() < 1e-6);
        assert_eq!(shaped.bars.iter().map(|bar| bar.in_nucleus).collect::<Vec<_>>(), [true, true]);
        assert_eq!(shaped.nucleus_size, 2);
        assert!((shaped.nucleus_mass - 0.8).abs() < 1e-6);
    }

    #[test]
    fn greedy_puts_everything_on_the_top_token_and_a_small_top_p_greys_the_rest() {
        let greedy = bars(&inspection(), 0.0, 1.0);
        assert_eq!(greedy.bars[0].probability, 1.0);
        assert_eq!((greedy.nucleus_size, greedy.others), (1, 0.0));
        let narrow = bars(&inspection(), 1.0, 0.1);
        assert_eq!(narrow.bars.iter().map(|bar| bar.in_nucleus).collect::<Vec<_>>(), [true, false]);
    }
}
