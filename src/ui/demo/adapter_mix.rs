//! Two adapters mixed with weights (lesson "Merge, combine and deploy"): the instruction adapter and the Pip
//! adapter the site ships, each with a weight on a slider and a way to mix them ([`crate::mix`]); the tab mixes
//! them as PEFT's `add_weighted_adapter` does, runs both adapters' task checks on the mix, and adds a row to the
//! table under the recorded grid (`tinytune mixes`, every pair of weights 0, ½ and 1). The latest mix downloads as
//! "Download adapter" downloads a run: the PEFT folder, merged, and GGUF files with an Ollama Modelfile.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::download::save_when_ready;
use super::field::Slider;
use super::instruction_adapter::INSTRUCTION_ADAPTER_URL;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::task_result::CheckedSamples;
use super::{INSTRUCTIONS, PIP_STORIES, STORIES_MODEL_URL};
use crate::mix::{MixChecked, MixSource, MAX_WEIGHT, MIN_WEIGHT, WEIGHT_STEP};
use crate::protocol::{Combination, TaskCheck};
use crate::settings::Choice;

/// The Pip adapter the site ships (the first fine-tune's recorded run, `tinytune record --adapter-out`).
const PIP_ADAPTER_URL: &str = "models/stories260K/pip-adapter/";
/// Every pair of recorded weights mixed and checked when the site was built.
const RECORDED_MIXES_URL: &str = "models/stories260K/mixes.json";

/// The two adapters, in the order of a mix's weights: what the page calls each, and where the site serves it.
const ADAPTERS: [(&str, &str); 2] =
    [("Instruction adapter", INSTRUCTION_ADAPTER_URL), ("Pip adapter", PIP_ADAPTER_URL)];

/// The task checks every mix runs, one per adapter, in the same order.
fn checks() -> Vec<String> {
    [INSTRUCTIONS.url(), PIP_STORIES.url()].iter().map(|url| TaskCheck::url_beside(url)).collect()
}

/// A weight as the slider and the table show it.
fn weight_text(weight: f64) -> String {
    format!("{weight:+.2}").replace("+0.00", "0")
}

/// A mix's row in the table: whose it is, the weights, the way, the rank and each check's count.
fn row_cells(mix: &MixChecked) -> Vec<String> {
    let mut cells: Vec<String> = mix.weights.iter().map(|&w| weight_text(w)).collect();
    cells.push(mix.how.name().to_string());
    cells.push(mix.rank.to_string());
    cells.extend(mix.checks.iter().map(|check| format!("{} of {}", check.passed(), check.samples.len())));
    cells
}

#[component]
pub fn AdapterMixDemo() -> impl IntoView {
    let demo = LiveDemo::new("adapter-mix", STORIES_MODEL_URL, &PIP_STORIES.url());
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<Vec<MixChecked>>);
    fetch_json(RECORDED_MIXES_URL.to_string(), recorded);

    let weights = ADAPTERS.map(|_| RwSignal::new(1.0));
    let how = RwSignal::new(Combination::Cat);
    let waiting = move || state.with(|s| s.mix.is_waiting());
    let preparing = move || state.with(|s| s.mix_zip.is_waiting());
    let mix = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if waiting() {
            return;
        }
        let sources = ADAPTERS
            .iter()
            .zip(weights)
            .map(|((_, url), weight)| MixSource { url: url.to_string(), weight: weight.get_untracked() })
            .collect();
        demo.mix(sources, how.get_untracked(), checks());
    };
    let link = NodeRef::<leptos::html::A>::new();
    save_when_ready(state, link, |s| &mut s.mix_zip, "mix");

    // The checks' names head their columns: read off any mix there is.
    let check_names = move || {
        let names = |mix: &MixChecked| mix.checks.iter().map(|check| check.name.clone()).collect::<Vec<_>>();
        recorded
            .with(|r| r.as_ref().and_then(|r| r.first().map(names)))
            .or_else(|| state.with(|s| s.mixes.first().map(names)))
            .unwrap_or_default()
    };
    let (how_id, caption_id, hint_id) = (demo.id("how"), demo.id("caption"), demo.id("weights-hint"));
    view! {
        <section class="demo adapter-mix" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: mix two adapters"</h3>
            <p>
                "Two adapters the site trained on the story model: the instruction adapter, which writes the story \
                 a request asks for, and the Pip adapter, which brings Pip the purple robot into its stories. Give \
                 each a weight, pick a way to mix them, and the tab mixes them as PEFT's add_weighted_adapter does, \
                 then runs both adapters' checks on the mix."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Mixing" />
            <form class="demo-form" on:submit=mix novalidate>
                <p class="hint" id=hint_id.clone()>
                    {format!(
                        "Each weight from {MIN_WEIGHT} to {MAX_WEIGHT}: 1 adds the adapter's whole update, 0 leaves \
                         it out, a negative weight subtracts it."
                    )}
                </p>
                {ADAPTERS.iter().zip(weights).enumerate().map(|(index, ((name, _), value))| view! {
                    <Slider
                        id=demo.id(&format!("weight-{index}"))
                        label=name
                        value
                        min=MIN_WEIGHT
                        max=MAX_WEIGHT
                        step=WEIGHT_STEP
                        shown=weight_text
                        described_by=hint_id.clone()
                    />
                }).collect_view()}
                <div class="field">
                    <label for=how_id.clone()>"Way to mix"</label>
                    <select
                        id=how_id
                        on:change=move |ev| {
                            if let Some(way) = Combination::from_name(&event_target_value(&ev)) {
                                how.set(way);
                            }
                        }
                    >
                        {Combination::ALL.iter().map(|&way| view! {
                            <option value=way.name() selected=move || how.get() == way>
                                {format!("{}: {}", way.name(), way.description())}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
                <p class="demo-actions">
                    <button type="submit" disabled=move || state.with(|s| s.model.is_none())
                        // Not `disabled` while mixing: that would throw the keyboard focus off the button.
                        aria-disabled=move || waiting().then_some("true")>
                        {move || if waiting() { "Mixing and checking…" } else { "Mix and check" }}
                    </button>
                </p>
            </form>
            <Notices demo />
            <ScrollingTable
                caption_id=caption_id
                caption=move || "Both checks on each mix: recorded with cat when this site was built, then yours"
            >
                <thead>
                    <tr>
                        <th scope="col">"Mix"</th>
                        {ADAPTERS.map(|(name, _)| view! { <th scope="col">{format!("{name}'s weight")}</th> })}
                        <th scope="col">"Way"</th>
                        <th scope="col">"Rank"</th>
                        {move || check_names().into_iter().map(|name| view! { <th scope="col">{name}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let recorded_rows = recorded.get().unwrap_or_default().into_iter().map(|mix| {
                            let label = if mix.weights.iter().all(|&w| w == 0.0) { "Recorded: the base model" } else { "Recorded" };
                            (label.to_string(), mix)
                        });
                        let own_rows = state.with(|s| s.mixes.clone()).into_iter().enumerate()
                            .map(|(index, mix)| (format!("Yours, {}", index + 1), mix));
                        recorded_rows.chain(own_rows).map(|(label, mix)| view! {
                            <tr>
                                <th scope="row">{label}</th>
                                {row_cells(&mix).into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}
                            </tr>
                        }).collect_view()
                    }}
                </tbody>
            </ScrollingTable>
            {move || state.with(|s| s.mix.latest.clone()).map(|mix| view! {
                <details class="mix-samples">
                    <summary>{format!("The stories your latest mix wrote ({} checks)", mix.checks.len())}</summary>
                    {mix.checks.into_iter().map(|check| view! {
                        <h4>{format!("{}: {} of {}", check.name, check.passed(), check.samples.len())}</h4>
                        <CheckedSamples samples=check.samples />
                    }).collect_view()}
                </details>
            })}
            <p class="demo-actions">
                <button
                    type="button"
                    disabled=move || state.with(|s| s.mix.latest.is_none())
                    aria-disabled=move || preparing().then_some("true")
                    on:click=move |_| if !preparing() { demo.export_mix() }
                >
                    {move || if preparing() { "Preparing the mix…" } else { "Download the mix (PEFT, GGUF, Modelfile)" }}
                </button>
                <a node_ref=link hidden></a>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::CheckedTask;
    use crate::task::CheckedSample;

    #[test]
    fn a_row_shows_the_weights_the_way_the_rank_and_each_count() {
        let sample = |passed| CheckedSample { prompt: "Once upon a time".into(), text: String::new(), passed };
        let mix = MixChecked {
            weights: vec![1.0, -0.25],
            how: Combination::Svd,
            rank: 8,
            checks: vec![
                CheckedTask { name: "Follows the instruction".into(), samples: vec![sample(true), sample(false)] },
                CheckedTask { name: "Pip rate".into(), samples: vec![sample(false)] },
            ],
        };
        assert_eq!(row_cells(&mix), ["+1.00", "-0.25", "svd", "8", "1 of 2", "0 of 1"]);
        assert_eq!(weight_text(0.0), "0");
    }

    #[test]
    fn the_checks_follow_the_adapters_order() {
        assert_eq!(
            checks(),
            ["datasets/animal-place-instructions.check.json", "datasets/pip-the-purple-robot.check.json"]
        );
    }
}
