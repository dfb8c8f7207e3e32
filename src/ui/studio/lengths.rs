//! How long the training examples are in tokens: a histogram with the sequence-length cut drawn on it, the
//! totals, and what one pass over the data costs at the playground's default settings.

use leptos::prelude::*;

use super::state::Pace;
use super::Studio;
use crate::protocol::{BackendKind, ToWorker, TokenStats, TrainSettings};
use crate::ui::demo::numbers::format_count;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

#[component]
pub fn Lengths(studio: Studio) -> impl IntoView {
    let state = studio.state;
    let title = studio.id("lengths-title");
    let summary_id = studio.id("lengths-summary");
    move || {
        let (stats, seq_len) = state.with(|s| s.report.as_ref().map(|r| (r.tokens.clone(), r.settings.seq_len)))?;
        let TokenStats { tokens, trained_tokens, pieces, longest, histogram, bin_tokens } = stats;
        let defaults = TrainSettings::default();
        let per_step = defaults.batch_size * defaults.grad_accum;
        let steps_per_pass = pieces.div_ceil(per_step.max(1));
        let tallest = histogram.iter().copied().max().unwrap_or(0).max(1) as f64;
        let span = (histogram.len() * bin_tokens).max(1) as f64;
        let x = |tokens: f64| LEFT + (WIDTH - LEFT - 8.0) * tokens / span;
        let bar_height = |count: usize| (HEIGHT - TOP - BOTTOM) * count as f64 / tallest;
        let cut = x((seq_len + 1) as f64);
        let over: usize =
            histogram.iter().enumerate().filter(|(i, _)| (i + 1) * bin_tokens > seq_len + 1).map(|(_, &c)| c).sum();
        let summary = format!(
            "Training examples: {} tokens, {} of them trained on; the longest has {} tokens. They make {} training \
             pieces of up to {} tokens: {} steps of {} pieces for one pass over the data at the playground's default \
             batch (the default run takes {} steps).",
            format_count(tokens),
            format_count(trained_tokens),
            format_count(longest),
            format_count(pieces),
            format_count(seq_len + 1),
            format_count(steps_per_pass),
            per_step,
            defaults.steps
        );
        Some(view! {
            <section class="studio-lengths" aria-labelledby=title.clone()>
                <h2 id=title.clone()>"Lengths in tokens"</h2>
                <p id=summary_id.clone()>{summary}</p>
                <figure>
                    <svg class="length-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-describedby=summary_id.clone()>
                        <title>{format!("Token lengths of the training examples, with the cut at {} tokens", seq_len + 1)}</title>
                        {histogram.iter().enumerate().map(|(i, &count)| {
                            let (left, right) = (x((i * bin_tokens) as f64), x(((i + 1) * bin_tokens) as f64));
                            let height = bar_height(count);
                            view! {
                                <rect class="bar" x=left + 1.0 y=HEIGHT - BOTTOM - height width=(right - left - 2.0).max(1.0) height=height>
                                    <title>{format!("{count} examples of {}–{} tokens", i * bin_tokens, (i + 1) * bin_tokens - 1)}</title>
                                </rect>
                            }
                        }).collect_view()}
                        <line class="axis" x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH - 8.0 y2=HEIGHT - BOTTOM />
                        <line class="cut" x1=cut y1=TOP x2=cut y2=HEIGHT - BOTTOM />
                        <text x=cut + 4.0 y=TOP + 12.0>{format!("cut: {} tokens", seq_len + 1)}</text>
                        <text x=LEFT y=HEIGHT - 8.0>"0"</text>
                        <text x=WIDTH - 8.0 y=HEIGHT - 8.0 text-anchor="end">{format!("{} tokens", format_count(span as usize))}</text>
                        <text x=LEFT - 6.0 y=TOP + 10.0 text-anchor="end">{format_count(tallest as usize)}</text>
                    </svg>
                    <figcaption>
                        {if over == 0 {
                            "Every example fits in one training piece.".to_string()
                        } else {
                            format!("About {} examples are longer than a piece: each is cut into several, and the later pieces train without its start.", format_count(over))
                        }}
                    </figcaption>
                </figure>
                <TrainingTime studio steps_per_pass />
            </section>
        })
    }
}

/// "about 3 min", "12 s", for an estimate.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 1.0 => "under a second".into(),
        s if s < 90.0 => format!("about {s:.0} s"),
        s if s < 5400.0 => format!("about {:.0} min", s / 60.0),
        s => format!("about {:.1} h", s / 3600.0),
    }
}

/// The training time of one pass over the data and of the default run, from a step timed here on request.
#[component]
fn TrainingTime(studio: Studio, steps_per_pass: usize) -> impl IntoView {
    let state = studio.state;
    let measure = move |_| {
        let seq_len = state.with_untracked(|s| s.report.as_ref().map(|r| r.settings.seq_len)).unwrap_or_default();
        let settings = TrainSettings { seq_len, ..TrainSettings::default() };
        state.update(|s| s.pace = Pace::Measuring);
        studio.send(&ToWorker::StudioMeasurePace { settings });
    };
    let estimate = move || match state.with(|s| s.pace.clone()) {
        Pace::Unknown => String::new(),
        Pace::Measuring => "Timing three training steps…".into(),
        Pace::Measured { seconds_per_step, backend, settings } => {
            let device = match backend {
                BackendKind::WebGpu => "on this device's GPU (WebGPU)",
                BackendKind::Cpu => "on this device's CPU",
            };
            format!(
                "A step of {} pieces of {} tokens takes {:.2} s {device}: one pass over the data ({} steps) takes {}, \
                 the default run of {} steps {}.",
                settings.batch_size * settings.grad_accum,
                settings.seq_len + 1,
                seconds_per_step,
                format_count(steps_per_pass),
                duration(seconds_per_step * steps_per_pass as f64),
                settings.steps,
                duration(seconds_per_step * settings.steps as f64),
            )
        }
    };
    view! {
        <p>
            <button type="button" class="secondary" disabled=move || state.with(|s| s.pace == Pace::Measuring) on:click=measure>
                "Time a training step on this device"
            </button>
        </p>
        <p role="status">{estimate}</p>
    }
}
