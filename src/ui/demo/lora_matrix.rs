//! LoRA in one matrix (lesson “LoRA in one matrix”): one projection of stories260K as the worker holds it, with
//! the instruction adapter the site ships ([`crate::low_rank`]). Heatmaps of the frozen `W`, of the update
//! `ΔW = (α/r)·B·A` and of `W + ΔW`; a slider keeps only the update's first k singular directions (the best rank-k
//! approximation), another sets α; the update's singular values as bars. “Write with this α” samples the check's
//! first request with the adapter scaled to that α, the same scaling the sums use.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, ImageData};

use super::backend::BackendLine;
use super::field::Slider;
use super::instruction_adapter::INSTRUCTION_ADAPTER_URL;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::format_count;
use super::reading::fetch_json;
use super::{INSTRUCTIONS, STORIES_MODEL_URL};
use crate::low_rank::{svd, Matrix, ProjectionWeights};
use crate::settings::{Choice, Projection};
use crate::task::TaskCheck;
use crate::ui::run_state::Sample;

/// A value in `[-1, 1]` as a diverging colour: blue below zero, near-white at zero, red above (ColorBrewer RdBu).
pub fn diverging(t: f64) -> [u8; 3] {
    const NEGATIVE: [f64; 3] = [33.0, 102.0, 172.0];
    const ZERO: [f64; 3] = [247.0, 247.0, 247.0];
    const POSITIVE: [f64; 3] = [178.0, 24.0, 43.0];
    let t = if t.is_finite() { t.clamp(-1.0, 1.0) } else { 0.0 };
    let end = if t < 0.0 { NEGATIVE } else { POSITIVE };
    let mix = |i: usize| (ZERO[i] + (end[i] - ZERO[i]) * t.abs()).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// The figures under the heatmaps: sizes and counts, and how much of the update the kept ranks hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub w: Matrix,
    pub delta: Matrix,
    pub singular_values: Vec<f64>,
    pub kept_energy: f64,
    pub rank: usize,
}

/// The update at `alpha` (scaling α / r, r the adapter's rank) kept to its first `kept` singular directions.
pub fn reading(weights: &ProjectionWeights, alpha: f64, kept: usize) -> Option<Reading> {
    let rank = weights.adapter.as_ref()?.rank;
    let full = weights.b_times_a()?.scaled(alpha / rank as f64);
    let decomposition = svd(&full);
    let singular_values = decomposition.singular_values.iter().take(rank).copied().collect();
    Some(Reading {
        w: weights.w(),
        delta: decomposition.rank_k(kept),
        singular_values,
        kept_energy: decomposition.energy(kept),
        rank,
    })
}

#[component]
pub fn LoraMatrixDemo() -> impl IntoView {
    let instructions = &INSTRUCTIONS;
    let demo = LiveDemo::new("lora-matrix", STORIES_MODEL_URL, &instructions.url());
    let state = demo.state;
    demo.load();
    demo.use_shipped_adapter(INSTRUCTION_ADAPTER_URL);
    let check = RwSignal::new(None::<TaskCheck>);
    fetch_json(TaskCheck::url_beside(&instructions.url()), check);

    let layer = RwSignal::new(0usize);
    let projection = RwSignal::new(Projection::QProj);
    // Ask again whenever the choice or the adapter changes: a memo, since asking changes the state itself.
    let adapter = Memo::new(move |_| state.with(|s| s.loaded_adapter()));
    Effect::new(move |_| {
        let (layer, projection) = (layer.get(), projection.get());
        if let Some(run) = adapter.get() {
            demo.read_weights(Some(run), layer, projection);
        }
    });
    let weights = move || state.with(|s| s.weights.latest.clone());
    let trained_alpha = move || weights().and_then(|w| w.adapter.map(|a| a.scaling * a.rank as f64));
    // Sliders hold f64; α starts at the adapter's own once the first reading arrives, k at its full rank. Later
    // readings (another layer or projection) keep what the learner set.
    let alpha = RwSignal::new(16.0);
    let kept = RwSignal::new(8.0);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(trained) = state.with(|s| s.weights.latest.as_ref().and_then(|w| w.adapter.clone())) else {
            return false;
        };
        alpha.set(trained.scaling * trained.rank as f64);
        kept.set(trained.rank as f64);
        true
    });
    let shown = Memo::new(move |_| {
        weights().and_then(|w| reading(&w, alpha.get(), kept.get().round() as usize).map(|reading| (w, reading)))
    });

    let sample = RwSignal::new(None::<(u32, f64)>);
    let write = move |_| {
        let (Some(run), Some(settings), Some(trained)) = (
            state.with_untracked(|s| s.loaded_adapter()),
            check.with_untracked(|c| c.as_ref().map(|c| c.sample_settings(0))),
            trained_alpha(),
        ) else {
            return;
        };
        let a = alpha.get_untracked();
        sample.set(Some((demo.generate(Some(run), settings, a / trained), a)));
    };
    let sample_text = move || {
        let (id, a) = sample.get()?;
        let text = match state.with(|s| s.samples.get(&id).cloned())? {
            Sample::Written(text) => text,
            Sample::Writing(so_far) => Sample::writing_label(&so_far),
            _ => "Nothing written: see the problem above.".into(),
        };
        Some((a, text))
    };
    let writing = move || {
        sample.get().is_some_and(|(id, _)| state.with(|s| matches!(s.samples.get(&id), Some(Sample::Writing(_)))))
    };

    let (layer_id, projection_id) = (demo.id("layer"), demo.id("projection"));
    let figures_id = demo.id("figures");
    view! {
        <section class="demo lora-matrix" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: one matrix, frozen and adapted"</h3>
            <p>
                "One projection of stories260K and the instruction adapter this site trained when it was built (rank 8, \
                 α 16, every linear layer, 300 steps): a recorded run, read from the model this tab loaded."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <div class="demo-form lora-matrix-controls">
                <div class="field">
                    <label for=layer_id.clone()>"Layer"</label>
                    <select id=layer_id on:change=move |ev| layer.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {move || {
                            let layers = state.with(|s| s.model.as_ref().map_or(0, |m| m.shape.num_hidden_layers));
                            (0..layers).map(|l| view! {
                                <option value=l.to_string() selected=move || layer.get() == l>{format!("{}", l + 1)}</option>
                            }).collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for=projection_id.clone()>"Projection"</label>
                    <select
                        id=projection_id
                        on:change=move |ev| {
                            if let Some(p) = Projection::from_name(&event_target_value(&ev)) {
                                projection.set(p);
                            }
                        }
                    >
                        {Projection::ALL.iter().map(|&p| view! {
                            <option value=p.name() selected=move || projection.get() == p>{p.name()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <Slider id=demo.id("kept") label="Ranks of the update kept, k" value=kept min=1.0 max=8.0 step=1.0
                    shown=|k| format!("{k:.0} of 8") described_by=figures_id.clone() />
                <Slider id=demo.id("alpha") label="LoRA alpha α" value=alpha min=0.0 max=64.0 step=1.0
                    shown=|a| format!("{a:.0} (scaling α/r = {:.2})", a / 8.0) described_by=figures_id.clone() />
            </div>
            <Notices demo />
            {move || shown.get().map(|(w, r)| {
                let name = format!("layer {} {}", w.layer + 1, w.projection.name());
                let shape = format!("{} × {}", w.rows, w.cols);
                let trainable = r.rank * (w.rows + w.cols);
                let (w_size, delta_size) = (r.w.frobenius(), r.delta.frobenius());
                let sum = r.w.plus(&r.delta);
                let scale = r.w.max_abs().max(sum.max_abs());
                let sigma_total: f64 = r.singular_values.iter().map(|s| s * s).sum();
                view! {
                    <div class="heatmaps">
                        <Heatmap title=format!("W, frozen ({shape})") matrix=r.w.clone() scale />
                        <Heatmap title=format!("ΔW = (α/r)·B·A, first {} of {} ranks", kept.get_untracked().round(), r.rank)
                            matrix=r.delta.clone() scale=r.delta.max_abs() />
                        <Heatmap title="W + ΔW".to_string() matrix=sum scale />
                    </div>
                    <div id=figures_id.clone() class="lora-matrix-figures" role="status">
                        <p>
                            {format!("{name}: W holds {} frozen weights; B ({} × {}) and A ({} × {}) hold {} trainable ones.",
                                format_count(w.rows * w.cols), w.rows, r.rank, r.rank, w.cols, format_count(trainable))}
                        </p>
                        <p>
                            {format!("Size (Frobenius norm): W {w_size:.3}, ΔW {delta_size:.3}, {:.1}% of W's. \
                                      The kept ranks hold {:.0}% of the update.", 100.0 * delta_size / w_size,
                                      100.0 * r.kept_energy)}
                        </p>
                        <p class="hint">"ΔW has its own colour scale, its largest value at full colour; W and W + ΔW share one."</p>
                    </div>
                    <h4>"Singular values of the trained update ΔW, and the share of it each holds"</h4>
                    <ol class="bars singular-values">
                        {r.singular_values.iter().enumerate().map(|(i, s)| {
                            let share = if sigma_total > 0.0 { 100.0 * s * s / sigma_total } else { 0.0 };
                            let kept_now = (i as f64) < kept.get_untracked().round();
                            let width = format!("{:.1}%", 100.0 * s / r.singular_values[0].max(f64::MIN_POSITIVE));
                            view! {
                                <li class:outside=!kept_now>
                                    <span>{format!("σ{} = {s:.3}", i + 1)}</span>
                                    <span class="bar-track" aria-hidden="true">
                                        <span class="bar-fill" style:width=width></span>
                                    </span>
                                    <span class="bar-value">{format!("{share:.0}%")}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }
            })}
            <p class="demo-actions">
                <button type="button" on:click=write disabled=move || state.with(|s| s.loaded_adapter().is_none()) || writing()>
                    "Write with this α"
                </button>
                {move || check.get().map(|c| view! { <span class="hint">{format!(" Writes “{}”.", c.samples[0].prompt)}</span> })}
            </p>
            {move || sample_text().map(|(a, text)| view! {
                <div class="demo-sample" aria-live="polite" aria-busy=move || writing().then_some("true")>
                    <h4>{format!("With α = {a:.0}")}</h4>
                    <p class="demo-sample-text">{text}</p>
                </div>
            })}
        </section>
    }
}

/// A matrix drawn one pixel per weight, `scale` at full colour; a text alternative gives its shape and range.
#[component]
fn Heatmap(title: String, matrix: Matrix, scale: f64) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let (low, high) = matrix.data.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let label = format!("{title}: values from {low:.3} to {high:.3}");
    let (rows, cols) = (matrix.rows, matrix.cols);
    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        let Some(context) =
            canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let mut pixels = Vec::with_capacity(rows * cols * 4);
        for &x in &matrix.data {
            let [r, g, b] = diverging(if scale > 0.0 { x / scale } else { 0.0 });
            pixels.extend([r, g, b, 255]);
        }
        if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), cols as u32, rows as u32) {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
    });
    view! {
        <figure class="heatmap">
            <canvas node_ref=canvas width=cols.to_string() height=rows.to_string() role="img" aria-label=label></canvas>
            <figcaption>{title}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::low_rank::AdapterWeights;

    #[test]
    fn colours_run_from_blue_through_white_to_red() {
        assert_eq!(diverging(-1.0), [33, 102, 172]);
        assert_eq!(diverging(0.0), [247, 247, 247]);
        assert_eq!(diverging(1.0), [178, 24, 43]);
        assert_eq!(diverging(5.0), diverging(1.0), "clamped");
        assert_eq!(diverging(f64::NAN), diverging(0.0));
        assert_eq!(diverging(0.5), [213, 136, 145]);
    }

    #[test]
    fn alpha_scales_the_update_and_k_keeps_its_first_directions() {
        // Rank 2, B·A = diag(3, 1) on a 2 × 2 projection: at α = r the scaling is 1.
        let weights = ProjectionWeights {
            layer: 0,
            projection: Projection::VProj,
            rows: 2,
            cols: 2,
            weight: vec![1.0, 0.0, 0.0, 1.0],
            adapter: Some(AdapterWeights {
                rank: 2,
                scaling: 1.0,
                a: vec![1.0, 0.0, 0.0, 1.0],
                b: vec![3.0, 0.0, 0.0, 1.0],
            }),
        };
        let full = reading(&weights, 2.0, 2).unwrap();
        assert_eq!(full.singular_values, [3.0, 1.0]);
        assert!((full.kept_energy - 1.0).abs() < 1e-12);
        let one = reading(&weights, 4.0, 1).unwrap();
        assert_eq!(one.singular_values, [6.0, 2.0], "twice α, twice the update");
        assert!((one.delta.at(0, 0) - 6.0).abs() < 1e-12 && one.delta.at(1, 1).abs() < 1e-12, "rank 1 keeps the 6");
        assert!((one.kept_energy - 36.0 / 40.0).abs() < 1e-12);
        assert_eq!(reading(&ProjectionWeights { adapter: None, ..weights }, 2.0, 1), None);
    }
}
