//! The loss chart: training loss every step, held-out loss and "ordinary stories" loss (the forgetting measure)
//! when evaluated, against the step. Hand-written SVG rather than a chart crate, which would add more to the
//! bundle every visitor downloads than this whole file. Lines differ by dash pattern and marker as well as colour;
//! a sentence summarises the chart for screen readers, and a table holds every number.

use leptos::prelude::*;

use super::chart_scale::Axis;
use super::numbers::describe_change;
use crate::protocol::StepMetrics;

// The drawing's own units; the SVG scales to its container's width.
const WIDTH: f64 = 440.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    None,
    Circle,
    Square,
}

/// One line of the chart: how it looks, what it is called, and where its values come from.
struct Line {
    label: &'static str,
    explanation: &'static str,
    /// CSS class; the colours live in the stylesheet, so they follow the theme.
    class: &'static str,
    dash: Option<&'static str>,
    marker: Marker,
    value: fn(&StepMetrics) -> Option<f64>,
}

const LINES: [Line; 3] = [
    Line {
        label: "Training loss",
        explanation: "on the batch it just trained on, every step",
        class: "train",
        dash: None,
        marker: Marker::None,
        value: |m| Some(m.loss),
    },
    Line {
        label: "Held-out loss",
        explanation: "on Pip stories it never trains on",
        class: "held-out",
        dash: Some("7 4"),
        marker: Marker::Circle,
        value: |m| m.eval_loss,
    },
    Line {
        label: "Ordinary-stories loss",
        explanation: "on the kind of stories it was pretrained on: rising means forgetting",
        class: "ordinary",
        dash: Some("2 3"),
        marker: Marker::Square,
        value: |m| m.reference_eval_loss,
    },
];

impl Line {
    fn points(&self, metrics: &[StepMetrics]) -> Vec<(usize, f64)> {
        metrics.iter().filter_map(|m| (self.value)(m).filter(|v| v.is_finite()).map(|value| (m.step, value))).collect()
    }
}

/// A marker centred on `(x, y)`; `None` draws nothing.
fn marker_view(marker: Marker, class: &'static str, x: f64, y: f64) -> Option<AnyView> {
    let class = format!("marker {class}");
    match marker {
        Marker::None => None,
        Marker::Circle => Some(view! { <circle class=class cx=x cy=y r="3.5" /> }.into_any()),
        Marker::Square => Some(view! { <rect class=class x=x - 3.5 y=y - 3.5 width="7" height="7" /> }.into_any()),
    }
}

/// "Training loss fell from 3.10 to 1.20 over 60 steps; held-out loss 1.40; …"
fn summary(metrics: &[StepMetrics]) -> String {
    let last_step = metrics.last().map_or(0, |m| m.step);
    let mut parts = Vec::new();
    for (i, line) in LINES.iter().enumerate() {
        let values: Vec<f64> = line.points(metrics).into_iter().map(|(_, value)| value).collect();
        let what = if i == 0 { line.label.to_string() } else { line.label.to_lowercase() };
        if let Some(change) = describe_change(&what, &values) {
            parts.push(if i == 0 { format!("{change} over {last_step} steps") } else { change });
        }
    }
    format!("{}.", parts.join("; "))
}

#[component]
pub fn LossChart(
    #[prop(into)] metrics: Signal<Vec<StepMetrics>>,
    #[prop(into)] total_steps: Signal<usize>,
) -> impl IntoView {
    let has_data = Memo::new(move |_| metrics.with(|metrics| !metrics.is_empty()));
    view! {
        <section class="demo-chart" aria-labelledby="first-lora-chart-heading">
            <h4 id="first-lora-chart-heading">"Loss"</h4>
            <Show
                when=move || has_data.get()
                fallback=|| view! { <p class="hint">"The chart fills in once training starts. Lower loss means better guesses."</p> }
            >
                {move || metrics.with(|metrics| view! { <ChartDrawing metrics=metrics.clone() total_steps=total_steps.get() /> })}
                <ul class="chart-legend">
                    {LINES.iter().map(|line| view! {
                        <li>
                            <svg class="legend-key" viewBox="0 0 36 12" aria-hidden="true">
                                <line class=format!("series {}", line.class) x1="2" y1="6" x2="34" y2="6" stroke-dasharray=line.dash />
                                {marker_view(line.marker, line.class, 18.0, 6.0)}
                            </svg>
                            <strong>{line.label}</strong>
                            {format!(": {}", line.explanation)}
                        </li>
                    }).collect_view()}
                </ul>
                <DataTable metrics />
            </Show>
        </section>
    }
}

#[component]
fn ChartDrawing(metrics: Vec<StepMetrics>, total_steps: usize) -> impl IntoView {
    let last_step = metrics.last().map_or(0, |m| m.step);
    let x_axis = Axis::covering(0.0, total_steps.max(last_step).max(1) as f64, 6, 1.0);
    let values = LINES.iter().flat_map(|line| line.points(&metrics)).map(|(_, value)| value).filter(|v| v.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| (low.min(v), high.max(v)));
    // Before any finite loss arrives there is nothing to scale to: draw an empty 0–1 axis rather than NaNs.
    let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 1.0) };
    let y_axis = Axis::covering(low, high, 5, 0.0);
    let x = move |step: f64| LEFT + x_axis.fraction(step) * (WIDTH - LEFT - RIGHT);
    let y = move |loss: f64| HEIGHT - BOTTOM - y_axis.fraction(loss) * (HEIGHT - TOP - BOTTOM);
    let (plot_left, plot_right, plot_bottom) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM);

    view! {
        <svg class="loss-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary(&metrics)>
            <text x="4" y="14">"Loss"</text>
            {y_axis.ticks().into_iter().map(|tick| view! {
                <line class="grid" x1=plot_left x2=plot_right y1=y(tick) y2=y(tick) />
                <text x=plot_left - 6.0 y=y(tick) + 4.0 text-anchor="end">{y_axis.label(tick)}</text>
            }).collect_view()}
            {x_axis.ticks().into_iter().map(|tick| view! {
                <line class="axis" x1=x(tick) x2=x(tick) y1=plot_bottom y2=plot_bottom + 5.0 />
                <text x=x(tick) y=plot_bottom + 18.0 text-anchor="middle">{x_axis.label(tick)}</text>
            }).collect_view()}
            <line class="axis" x1=plot_left x2=plot_right y1=plot_bottom y2=plot_bottom />
            <line class="axis" x1=plot_left x2=plot_left y1=TOP y2=plot_bottom />
            <text x=(plot_left + plot_right) / 2.0 y=HEIGHT - 4.0 text-anchor="middle">"Step"</text>
            {LINES.iter().map(|line| {
                let points = line.points(&metrics);
                let path = points.iter().map(|&(step, value)| format!("{:.1},{:.1}", x(step as f64), y(value))).collect::<Vec<_>>().join(" ");
                view! {
                    <polyline class=format!("series {}", line.class) points=path stroke-dasharray=line.dash />
                    {points.iter().map(|&(step, value)| marker_view(line.marker, line.class, x(step as f64), y(value))).collect_view()}
                }
            }).collect_view()}
        </svg>
    }
}

/// Outside the redrawn chart, so an open table stays open as steps arrive.
#[component]
fn DataTable(metrics: Signal<Vec<StepMetrics>>) -> impl IntoView {
    let cell = |value: Option<f64>| match value {
        Some(value) => view! { <td>{format!("{value:.4}")}</td> }.into_any(),
        None => {
            view! { <td><span aria-hidden="true">"–"</span><span class="visually-hidden">"not measured"</span></td> }
                .into_any()
        }
    };
    view! {
        <details class="demo-data">
            <summary>"Show the data as a table"</summary>
            <div class="demo-table">
                <table>
                    <caption>"Losses and learning rate at each step"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Step"</th>
                            {LINES.iter().map(|line| view! { <th scope="col">{line.label}</th> }).collect_view()}
                            <th scope="col">"Learning rate"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || metrics.get() key=|m| m.step let:m>
                            <tr>
                                <th scope="row">{m.step}</th>
                                {LINES.iter().map(|line| cell((line.value)(&m))).collect_view()}
                                <td>{format!("{:.1e}", m.learning_rate)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </details>
    }
}
