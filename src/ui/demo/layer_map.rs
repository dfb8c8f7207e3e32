//! How much of the model gets updated (lesson “The fine-tuning menu”): a map of the model's layers and linear
//! projections, each adapted or frozen, with LoRA's rank or full fine-tuning of the chosen matrices, and the
//! trainable parameters and training memory of the choice beside full fine-tuning of every weight. For the course's
//! model (its shape read from the site's own `config.json`) and for two real ones (published shapes). Counting
//! only: the counts are `ModelShape`'s, the ones the settings form shows and the trainer reports.

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::field::Slider;
use super::numbers::{format_bytes, format_count, format_percent};
use super::reading::fetch_json;
use super::STORIES_MODEL_URL;
use crate::protocol::ModelShape;
use crate::settings::{Choice, Projection, TargetPreset, TrainSettings, TrainingMethod};
use crate::ui::trainer_client::use_trainer;

/// A choice of weights: (layer, projection) pairs.
pub type Cells = BTreeSet<(usize, Projection)>;

/// Every layer's projections in `preset` (all of them without one).
pub fn preset_cells(shape: &ModelShape, preset: Option<TargetPreset>) -> Cells {
    let projections = preset.map_or_else(|| Projection::ALL.to_vec(), TargetPreset::projections);
    (0..shape.num_hidden_layers).flat_map(|layer| projections.iter().map(move |&p| (layer, p))).collect()
}

/// What training the chosen cells costs: trainable weights, and an estimate of training memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    pub trainable: u64,
    pub memory_bytes: u64,
}

/// LoRA of rank `rank` on each chosen projection, or (`rank` = `None`) full fine-tuning of each chosen matrix, for
/// one batch of the site's default size.
pub fn cost(shape: &ModelShape, cells: &Cells, rank: Option<usize>) -> Cost {
    let settings = TrainSettings::default();
    let trainable = cells
        .iter()
        .map(|&(_, p)| rank.map_or_else(|| shape.projection_params(p), |rank| shape.adapter_params(p, rank)))
        .sum();
    let added = if rank.is_some() { trainable } else { 0 };
    Cost { trainable, memory_bytes: shape.memory_bytes(false, added, trainable, settings.batch_size, settings.seq_len) }
}

/// The models to map: the course's own first (its shape arrives with its config), then published ones.
const OTHER_MODELS: [(&str, ModelShape); 2] =
    [("SmolLM2-135M", ModelShape::SMOLLM2_135M), ("Llama 3 8B", ModelShape::LLAMA3_8B)];

const NAME: &str = "layer-map";

#[component]
pub fn LayerMapDemo() -> impl IntoView {
    let own = RwSignal::new(None::<ModelShape>);
    fetch_json(format!("{STORIES_MODEL_URL}config.json"), own);
    // 0: stories260K; then OTHER_MODELS.
    let model = RwSignal::new(0usize);
    let shape = Memo::new(move |_| match model.get() {
        0 => own.get(),
        index => OTHER_MODELS.get(index - 1).map(|(_, shape)| *shape),
    });
    let cells = RwSignal::new(Cells::new());
    // Each model opens on the site's default run: LoRA on every linear layer.
    Effect::new(move |_| {
        if let Some(shape) = shape.get() {
            cells.set(preset_cells(&shape, Some(TargetPreset::AllLinear)));
        }
    });
    let lora = RwSignal::new(true);
    // A slider's value: a whole number from 1 to 64.
    let rank = RwSignal::new(TrainSettings::default().lora_rank as f64);
    // Ids unique on the page, as the live demos' are (this one needs no trainer).
    let trainer = use_trainer();
    let uid = trainer.id_prefix(NAME);
    on_cleanup(move || trainer.forget_prefix(NAME));
    let id = move |part: &str| format!("{uid}-{part}");

    let toggle = move |wanted: Cells| {
        cells.update(|cells| {
            if wanted.is_subset(cells) {
                cells.retain(|cell| !wanted.contains(cell));
            } else {
                cells.extend(wanted);
            }
        })
    };
    let chosen = Memo::new(move |_| {
        shape.get().map(|shape| {
            let rank = lora.get().then(|| rank.get() as usize);
            let full = TrainSettings { method: TrainingMethod::Full, ..TrainSettings::default() };
            let everything =
                Cost { trainable: shape.total_params(), memory_bytes: shape.training_memory_bytes(&full, false) };
            (shape, cells.with(|cells| cost(&shape, cells, rank)), everything)
        })
    });

    let (model_id, figures_id) = (id("model"), id("figures"));
    view! {
        <section class="demo layer-map" aria-labelledby=id("title")>
            <h3 id=id("title")>"Try it: how much of the model gets updated?"</h3>
            <p>
                "Choose which weights train: each layer's seven linear projections, adapted with LoRA or updated in \
                 full. The counts follow from the model's shape; nothing needs to run."
            </p>
            <div class="field">
                <label for=model_id.clone()>"Model"</label>
                <select id=model_id on:change=move |ev| model.set(event_target_value(&ev).parse().unwrap_or(0))>
                    <option value="0">"stories260K (this course's model)"</option>
                    {OTHER_MODELS.iter().enumerate().map(|(index, (name, _))| view! {
                        <option value=(index + 1).to_string()>{*name}</option>
                    }).collect_view()}
                </select>
            </div>
            <fieldset class="layer-map-method">
                <legend>"Method"</legend>
                <label class="demo-checkbox">
                    <input type="radio" name=id("method") prop:checked=move || lora.get() on:change=move |_| lora.set(true) />
                    "LoRA on the chosen projections"
                </label>
                <label class="demo-checkbox">
                    <input type="radio" name=id("method") prop:checked=move || !lora.get() on:change=move |_| lora.set(false) />
                    "Full fine-tuning of the chosen matrices"
                </label>
                <div hidden=move || !lora.get()>
                    <Slider id=id("rank") label="LoRA rank r" value=rank min=1.0 max=64.0 step=1.0
                        shown=|r| format!("{r:.0}") />
                </div>
            </fieldset>
            <p class="layer-map-presets">
                "Choose: "
                {[("Attention only", Some(TargetPreset::Attention)), ("MLP only", Some(TargetPreset::Mlp)),
                  ("All linear", Some(TargetPreset::AllLinear))].into_iter().map(|(label, preset)| view! {
                    <button type="button" class="secondary" aria-controls=figures_id.clone()
                        on:click=move |_| if let Some(shape) = shape.get_untracked() {
                            cells.set(preset_cells(&shape, preset));
                        }
                    >{label}</button>" "
                }).collect_view()}
                <button type="button" class="secondary" aria-controls=figures_id.clone() on:click=move |_| cells.set(Cells::new())>
                    "Nothing"
                </button>
            </p>
            {move || chosen.get().map(|(shape, cost, everything)| view! {
                <div id=figures_id.clone() class="layer-map-figures" role="status">
                    <p>
                        <strong>{format!("{} trainable parameters", format_count(cost.trainable))}</strong>
                        {format!(", {} of the model's {}.", format_percent(cost.trainable, shape.total_params()),
                            format_count(shape.total_params()))}
                        {lora.get().then(|| format!(
                            " The adapter file: about {} at bf16 (2 bytes each).",
                            format_bytes(2 * cost.trainable),
                        ))}
                    </p>
                    <p>
                        {format!(
                            "Training memory, roughly: {} (f32 weights; a gradient and two AdamW moments for each \
                             trainable weight; activations for a batch of 8 sequences of 64 tokens).",
                            format_bytes(cost.memory_bytes),
                        )}
                    </p>
                    <p class="hint">
                        {format!(
                            "Full fine-tuning of every weight: {} trainable, about {}.",
                            format_count(everything.trainable),
                            format_bytes(everything.memory_bytes),
                        )}
                    </p>
                </div>
            })}
            {move || shape.get().map(|shape| view! { <LayerGrid shape cells toggle /> })}
        </section>
    }
}

/// The map itself: a table of layers × projections; each cell, row header and column header a toggle button.
#[component]
fn LayerGrid(
    shape: ModelShape,
    cells: RwSignal<Cells>,
    toggle: impl Fn(Cells) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let layers = shape.num_hidden_layers;
    let column = move |p: Projection| (0..layers).map(|layer| (layer, p)).collect::<Cells>();
    let row = move |layer: usize| Projection::ALL.iter().map(|&p| (layer, p)).collect::<Cells>();
    let pressed = move |wanted: &Cells| cells.with(|cells| wanted.is_subset(cells)).to_string();
    view! {
        <div class="layer-map-scroll" tabindex="0" role="region" aria-label="Layers and projections">
            <table class="layer-map-grid">
                <caption>"Adapted (filled) or frozen, for each layer and projection"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Layer"</th>
                        {Projection::ALL.iter().map(|&p| {
                            let (i, o) = shape.projection_dims(p);
                            view! {
                                <th scope="col">
                                    <button type="button" class="layer-map-toggle" aria-pressed=move || pressed(&column(p))
                                        title=format!("{} ({i} × {o}) in every layer", p.name())
                                        on:click=move |_| toggle(column(p))>
                                        {p.name()}
                                    </button>
                                </th>
                            }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {(0..layers).map(|layer| view! {
                        <tr>
                            <th scope="row">
                                <button type="button" class="layer-map-toggle" aria-pressed=move || pressed(&row(layer))
                                    on:click=move |_| toggle(row(layer))>
                                    {format!("Layer {}", layer + 1)}
                                </button>
                            </th>
                            {Projection::ALL.iter().map(|&p| {
                                let cell: Cells = [(layer, p)].into();
                                let on = move || cells.with(|cells| cells.contains(&(layer, p)));
                                view! {
                                    <td>
                                        <button type="button" class="layer-map-cell" class:adapted=on
                                            aria-pressed=move || on().to_string()
                                            aria-label=format!("Layer {} {}", layer + 1, p.name())
                                            on:click=move |_| toggle(cell.clone())>
                                            {move || if on() { "●" } else { "○" }}
                                        </button>
                                    </td>
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::STORIES260K;

    #[test]
    fn the_default_choice_costs_what_the_trainer_reports_and_full_rows_count_whole_matrices() {
        let all_linear = preset_cells(&STORIES260K, Some(TargetPreset::AllLinear));
        // The site's default run (LoRA r 8 on every linear layer): 46,240, as the trainer reports it.
        assert_eq!(cost(&STORIES260K, &all_linear, Some(8)).trainable, 46_240);
        assert_eq!(
            cost(&STORIES260K, &all_linear, Some(8)).trainable,
            STORIES260K.trainable_params(&TrainSettings::default())
        );
        // Full fine-tuning of one q_proj: 64 × 64 weights.
        let one: Cells = [(0, Projection::QProj)].into();
        assert_eq!(cost(&STORIES260K, &one, None).trainable, 64 * 64);
        assert_eq!(cost(&STORIES260K, &Cells::new(), Some(8)).trainable, 0);
        // Nothing trainable: the memory is the model's weights and one batch's activations.
        let nothing = cost(&STORIES260K, &Cells::new(), None).memory_bytes;
        assert!(
            cost(&STORIES260K, &all_linear, None).memory_bytes > cost(&STORIES260K, &all_linear, Some(8)).memory_bytes
        );
        assert!(cost(&STORIES260K, &all_linear, Some(8)).memory_bytes > nothing);
    }

    #[test]
    fn presets_choose_their_projections_in_every_layer() {
        let attention = preset_cells(&ModelShape::LLAMA3_8B, Some(TargetPreset::Attention));
        assert_eq!(attention.len(), 32 * 4);
        assert!(attention.iter().all(|(_, p)| p.is_attention()));
        assert_eq!(preset_cells(&STORIES260K, None).len(), 5 * 7);
    }
}
