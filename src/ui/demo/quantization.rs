//! Quantization up close (lesson "QLoRA"): the learner picks a format and a block size and sees one block of the
//! base model's real weights stored that way (the weights, the levels the block can hold, where each weight lands);
//! the table gives, for every format and block size, the bits per weight, the weights' error and the held-out loss
//! with every projection so stored ([`crate::quantize`]). Until the learner measures on their device it shows the
//! table recorded when the site was built, labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::quantize::{relative_error, Format, QuantizationTable, BLOCK_SIZES};
use crate::settings::Choice;

/// What the picture of one block states, read off the weights and the format.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockReading {
    pub weights: Vec<f32>,
    pub stored: Vec<f32>,
    pub levels: Vec<f32>,
    /// Levels some weight of the block landed on.
    pub used: usize,
    /// The largest change of any one weight, and the block's largest weight (by magnitude).
    pub largest_change: f32,
    pub largest_weight: f32,
    pub error: f64,
}

impl BlockReading {
    pub fn of(values: &[f32], format: Format, block: usize) -> BlockReading {
        let weights: Vec<f32> = values.iter().copied().take(block).collect();
        let stored = format.round_trip(&weights, block);
        let levels = format.levels(&weights);
        let mut used = stored.clone();
        used.sort_by(f32::total_cmp);
        used.dedup();
        let largest_change = weights.iter().zip(&stored).map(|(w, s)| (w - s).abs()).fold(0.0, f32::max);
        let largest_weight = weights.iter().map(|w| w.abs()).fold(0.0, f32::max);
        let error = relative_error(&weights, &stored);
        BlockReading { weights, stored, levels, used: used.len(), largest_change, largest_weight, error }
    }
}

/// Four significant digits: the weights are a few hundredths.
fn weight(w: f32) -> String {
    format!("{w:.4}")
}

#[component]
pub fn QuantizationDemo() -> impl IntoView {
    let dataset_url = PIP_STORIES.url();
    let demo = LiveDemo::new("quantization", STORIES_MODEL_URL, &dataset_url);
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<QuantizationTable>);
    fetch_json(QuantizationTable::recorded_url(&dataset_url), recorded);

    let format = RwSignal::new(Format::Nf4);
    let block = RwSignal::new(64usize);
    let own = move || state.with(|s| s.quantized.latest.clone());
    let shown = Memo::new(move |_| own().map(|t| (t, false)).or_else(|| recorded.get().map(|t| (t, true))));
    let waiting = move || state.with(|s| s.quantized.is_waiting());
    let ready = move || state.with(|s| s.model.is_some() && s.dataset.is_some());
    let measure = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        demo.quantize();
    };

    let (format_id, block_id, caption_id) = (demo.id("format"), demo.id("block"), demo.id("caption"));
    view! {
        <section class="demo quantization" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: store the model's weights in fewer bits"</h3>
            <p>
                "Every projection of the story model (q, k, v, o, gate, up and down, in every layer) stored in a \
                 format and read back; the embeddings and norms stay 32-bit, as in QLoRA. The held-out loss is \
                 measured on the Pip stories the first fine-tune tests on."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Measuring" />
            <form class="demo-form" on:submit=measure novalidate>
                <div class="field">
                    <label for=format_id.clone()>"Format"</label>
                    <select
                        id=format_id
                        on:change=move |ev| {
                            let name = event_target_value(&ev);
                            if let Some(f) = Format::ALL.into_iter().find(|f| f.name() == name) {
                                format.set(f);
                            }
                        }
                    >
                        {Format::ALL.into_iter().map(|f| view! {
                            <option value=f.name() selected=move || format.get() == f>
                                {format!("{}: {}", f.name(), f.description())}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for=block_id.clone()>"Block size (weights per scale)"</label>
                    <select id=block_id on:change=move |ev| block.set(event_target_value(&ev).parse().unwrap_or(64))>
                        {BLOCK_SIZES.into_iter().map(|size| view! {
                            <option value=size.to_string() selected=move || block.get() == size>{size.to_string()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <p class="demo-actions">
                    <button type="submit" disabled=move || !ready() || waiting()>
                        {move || if waiting() { "Measuring every format…" } else { "Measure on this device" }}
                    </button>
                </p>
            </form>
            <Notices demo />
            {move || shown.get().map(|(table, is_recorded)| {
                let sample = table.sample.clone();
                let reading = Memo::new(move |_| BlockReading::of(&sample.values, format.get(), block.get()));
                let whose = format!("layer {}'s {}", table.sample.layer + 1, table.sample.projection.name());
                view! {
                    <p class="demo-recorded-label" role="status">
                        {if is_recorded { "Recorded when this site was built. " } else { "Measured on this device. " }}
                        {format!(
                            "Held-out loss over {} sequences of 64 tokens; the picture shows the first weights of {whose}.",
                            table.held_out_sequences,
                        )}
                        {is_recorded.then_some(" Measure to see your own.")}
                    </p>
                    <BlockPicture reading format block whose=whose.clone() />
                    <ScrollingTable
                        caption_id=caption_id.clone()
                        caption=move || "Every projection stored in each format: size and held-out loss"
                    >
                        <thead>
                            <tr>
                                <th scope="col">"Format"</th>
                                <th scope="col">"Block"</th>
                                <th scope="col">"Bits per weight"</th>
                                <th scope="col">"Weight error"</th>
                                <th scope="col">"Held-out loss"</th>
                                <th scope="col">"Perplexity"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <tr>
                                <th scope="row">"32-bit"</th>
                                <td>"—"</td>
                                <td>"32"</td>
                                <td>"0%"</td>
                                <td>{format!("{:.4}", table.full_precision_loss)}</td>
                                <td>{format!("{:.3}", table.full_precision_loss.exp())}</td>
                            </tr>
                            {table.cells.iter().map(|cell| {
                                let (f, size) = (cell.format, cell.block);
                                let chosen = move || format.get() == f && block.get() == size;
                                let change = cell.held_out_loss - table.full_precision_loss;
                                view! {
                                    <tr class:chosen=chosen aria-current=move || chosen().then_some("true")>
                                        <th scope="row">{f.name()}</th>
                                        <td>{size.to_string()}</td>
                                        <td>{format!("{:.3}", cell.bits_per_weight)}</td>
                                        <td>{format!("{:.2}%", 100.0 * cell.weight_error)}</td>
                                        <td>{format!("{:.4} ({change:+.4})", cell.held_out_loss)}</td>
                                        <td>{format!("{:.3}", cell.held_out_loss.exp())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </ScrollingTable>
                }
            })}
        </section>
    }
}

/// One block of weights on a number line: above, the weights as they are; below, as stored; between them, where
/// each one moved; behind, every level the block can hold. Described in words for screen readers.
#[component]
fn BlockPicture(
    reading: Memo<BlockReading>,
    format: RwSignal<Format>,
    block: RwSignal<usize>,
    whose: String,
) -> impl IntoView {
    const WIDTH: f32 = 600.0;
    const MARGIN: f32 = 10.0;
    let (top, bottom) = (28.0f32, 92.0f32);
    let description = move || {
        let r = reading.get();
        format!(
            "The first {} weights of {whose}, from {} to {}, stored as {} in one block: it can hold {} values, \
             {} of them used; the largest change of any weight is {}, the block's error {:.2}%.",
            r.weights.len(),
            weight(r.weights.iter().copied().fold(f32::INFINITY, f32::min)),
            weight(r.weights.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
            format.get().name(),
            r.levels.len(),
            r.used,
            weight(r.largest_change),
            100.0 * r.error,
        )
    };
    let picture = move || {
        let r = reading.get();
        let reach = r.largest_weight.max(r.levels.iter().fold(0.0f32, |m, l| m.max(l.abs()))).max(1e-12);
        let x = move |w: f32| MARGIN + (w / reach + 1.0) / 2.0 * (WIDTH - 2.0 * MARGIN);
        let levels = r.levels.iter().map(|&l| {
            view! {
                <line class="level" x1=x(l) x2=x(l) y1=top - 8.0 y2=bottom + 8.0 />
            }
        });
        let moves = r.weights.iter().zip(&r.stored).map(|(&w, &s)| {
            view! {
                <line class="move" x1=x(w) y1=top x2=x(s) y2=bottom />
                <circle class="weight" cx=x(w) cy=top r="3" />
                <circle class="stored" cx=x(s) cy=bottom r="3" />
            }
        });
        view! {
            {levels.collect_view()}
            <line class="axis" x1=x(0.0) x2=x(0.0) y1="4" y2="116" />
            {moves.collect_view()}
        }
    };
    view! {
        <figure class="block-picture">
            <svg viewBox=format!("0 0 {WIDTH} 120") role="img" aria-label=description.clone()>
                <text x="4" y="12" class="label">"weights"</text>
                <text x="4" y="116" class="label">"as stored"</text>
                {picture}
            </svg>
            <figcaption>
                {description}
                {move || format!(" Block size {}: thin lines mark the levels, the centre line zero.", block.get())}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_reading_takes_one_block_and_counts_the_levels_it_uses() {
        let values: Vec<f32> = (0..256).map(|i| ((i * 53 % 97) as f32 - 48.0) / 1000.0).collect();
        let nf4 = BlockReading::of(&values, Format::Nf4, 64);
        assert_eq!((nf4.weights.len(), nf4.stored.len(), nf4.levels.len()), (64, 64, 16));
        assert!(nf4.used <= 16 && nf4.used > 8, "{} levels used", nf4.used);
        assert!(nf4.largest_change <= nf4.largest_weight / 2.0);
        let q8 = BlockReading::of(&values, Format::Q8_0, 64);
        assert_eq!(q8.levels.len(), 255);
        assert!(q8.error < nf4.error);
    }
}
