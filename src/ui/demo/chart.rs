//! A line chart of values against the step, for any set of series: one run's training, held-out and
//! drift-from-the-base-model losses, or one measure (a loss, the learning rate, the gradient norm) of several runs
//! overlaid. Hand-written SVG rather than a chart crate, which would add more to the bundle every visitor downloads
//! than this whole file. Lines differ by dash pattern and marker as well as colour; a sentence summarises the chart
//! for screen readers, and a table holds every number.

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::chart_scale::Axis;
use super::live::LiveDemo;
use super::numbers::describe_change;
use super::table::ScrollingTable;
use crate::protocol::StepMetrics;

// The drawing's own units; the SVG scales to its container's width.
const WIDTH: f64 = 440.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Marker {
    None,
    Circle,
    Square,
}

/// One line: what it is called, how it looks, and its points `(step, value)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    /// After the label in the legend: what the line measures.
    pub explanation: Option<String>,
    /// CSS class; the colours live in the stylesheet, so they follow the theme.
    pub class: String,
    pub dash: Option<&'static str>,
    pub marker: Marker,
    pub points: Vec<(usize, f64)>,
}

/// What a series follows, step by step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Training,
    HeldOut,
    /// The loss on stories the base model wrote itself: how far the model has moved from it.
    Drift,
    /// Where the schedule had the learning rate.
    LearningRate,
    /// The size of the whole gradient, before clipping.
    GradNorm,
    /// DPO: the implicit reward β · (log π − log π_ref) of the step's chosen answers, averaged.
    ChosenReward,
    /// DPO: the same of the step's rejected answers.
    RejectedReward,
    /// DPO: the model's log-probability of the step's chosen answers, averaged.
    ChosenLogProb,
    /// DPO: the same of the step's rejected answers.
    RejectedLogProb,
}

impl Measure {
    /// The measures every run has, which a comparison of runs offers.
    pub const EVERY_RUN: [Measure; 5] =
        [Measure::Training, Measure::HeldOut, Measure::Drift, Measure::LearningRate, Measure::GradNorm];
    /// The three losses, which one chart of one run shows together.
    pub const LOSSES: [Measure; 3] = [Measure::Training, Measure::HeldOut, Measure::Drift];
    /// A DPO run's rewards, and its log-probabilities: each pair one chart.
    pub const REWARDS: [Measure; 2] = [Measure::ChosenReward, Measure::RejectedReward];
    pub const LOG_PROBS: [Measure; 2] = [Measure::ChosenLogProb, Measure::RejectedLogProb];

    pub fn label(self) -> &'static str {
        match self {
            Measure::Training => "Training loss",
            Measure::HeldOut => "Held-out loss",
            Measure::Drift => "Drift from the base model",
            Measure::LearningRate => "Learning rate",
            Measure::GradNorm => "Gradient norm",
            Measure::ChosenReward => "Chosen answers' reward",
            Measure::RejectedReward => "Rejected answers' reward",
            Measure::ChosenLogProb => "Chosen answers' log-probability",
            Measure::RejectedLogProb => "Rejected answers' log-probability",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Measure::Training => "on the batch it just trained on, every step",
            Measure::HeldOut => "on examples of the data set it never trains on",
            Measure::Drift => {
                "loss on stories the base model wrote itself: rising means the model has moved away from it"
            }
            Measure::LearningRate => "what the schedule set for the step: warmup, then the decay",
            Measure::GradNorm => "the size of the whole gradient, before it is clipped to 1",
            Measure::ChosenReward | Measure::RejectedReward => {
                "β × how much more likely the model finds the answer than the base model does, on the step's pairs"
            }
            Measure::ChosenLogProb | Measure::RejectedLogProb => {
                "log of the model's probability of the whole answer, on the step's pairs: 0 would be certain"
            }
        }
    }

    pub fn value(self, metrics: &StepMetrics) -> Option<f64> {
        match self {
            Measure::Training => Some(metrics.loss),
            Measure::HeldOut => metrics.eval_loss,
            Measure::Drift => metrics.reference_eval_loss,
            Measure::LearningRate => Some(metrics.learning_rate),
            Measure::GradNorm => Some(metrics.grad_norm),
            Measure::ChosenReward => metrics.rewards.map(|r| r.chosen),
            Measure::RejectedReward => metrics.rewards.map(|r| r.rejected),
            Measure::ChosenLogProb => metrics.rewards.map(|r| r.chosen_log_prob),
            Measure::RejectedLogProb => metrics.rewards.map(|r| r.rejected_log_prob),
        }
    }

    pub fn points(self, metrics: &[StepMetrics]) -> Vec<(usize, f64)> {
        metrics.iter().filter_map(|m| self.value(m).filter(|v| v.is_finite()).map(|value| (m.step, value))).collect()
    }

    /// The look of this measure when a chart shows several measures of one run.
    fn style(self) -> (&'static str, Option<&'static str>, Marker) {
        match self {
            Measure::Training | Measure::LearningRate | Measure::ChosenReward | Measure::ChosenLogProb => {
                ("train", None, Marker::None)
            }
            Measure::HeldOut | Measure::GradNorm | Measure::RejectedReward | Measure::RejectedLogProb => {
                ("held-out", Some("7 4"), Marker::Circle)
            }
            Measure::Drift => ("drift", Some("2 3"), Marker::Square),
        }
    }
}

/// The three losses of one run.
pub fn run_losses(metrics: &[StepMetrics]) -> Vec<Series> {
    run_measures(&Measure::LOSSES, metrics)
}

/// `measures` of one run, each a line.
pub fn run_measures(measures: &[Measure], metrics: &[StepMetrics]) -> Vec<Series> {
    measures
        .iter()
        .map(|&loss| {
            let (class, dash, marker) = loss.style();
            Series {
                label: loss.label().into(),
                explanation: Some(loss.explanation().into()),
                class: class.into(),
                dash,
                marker,
                points: loss.points(metrics),
            }
        })
        .collect()
}

/// Dash patterns that tell up to eight runs apart without colour.
const RUN_DASHES: [Option<&str>; 8] =
    [None, Some("7 4"), Some("2 3"), Some("10 3 2 3"), Some("4 4"), Some("1 2"), Some("12 4"), Some("6 2 2 2")];

/// One measure of several runs, each its own colour (`run-0` … `run-7` in the stylesheet) and dash pattern.
fn runs_measure<'a>(measure: Measure, runs: impl IntoIterator<Item = (&'a str, &'a [StepMetrics])>) -> Vec<Series> {
    runs.into_iter()
        .enumerate()
        .map(|(i, (name, metrics))| Series {
            label: name.to_string(),
            explanation: None,
            class: format!("run-{}", i % RUN_DASHES.len()),
            dash: RUN_DASHES[i % RUN_DASHES.len()],
            marker: if i % 2 == 1 { Marker::Circle } else { Marker::None },
            points: measure.points(metrics),
        })
        .collect()
}

/// A marker centred on `(x, y)`; `None` draws nothing.
fn marker_view(marker: Marker, class: &str, x: f64, y: f64) -> Option<AnyView> {
    let class = format!("marker {class}");
    match marker {
        Marker::None => None,
        Marker::Circle => Some(view! { <circle class=class cx=x cy=y r="3.5" /> }.into_any()),
        Marker::Square => Some(view! { <rect class=class x=x - 3.5 y=y - 3.5 width="7" height="7" /> }.into_any()),
    }
}

/// "Training loss fell from 3.10 to 1.20 over 60 steps; held-out loss 1.40; …"
fn summary(series: &[Series]) -> String {
    let last_step = series.iter().filter_map(|s| s.points.last()).map(|&(step, _)| step).max().unwrap_or(0);
    let mut parts = Vec::new();
    for (i, line) in series.iter().enumerate() {
        let values: Vec<f64> = line.points.iter().map(|&(_, value)| value).collect();
        let what = if i == 0 { line.label.clone() } else { line.label.to_lowercase() };
        if let Some(change) = describe_change(&what, &values) {
            parts.push(if i == 0 { format!("{change} over {last_step} steps") } else { change });
        }
    }
    format!("{}.", parts.join("; "))
}

/// Several runs on one chart, one measure at a time: the select that chooses the measure, then the chart.
#[component]
pub fn RunsChart(
    demo: LiveDemo,
    /// Each run's name and its steps.
    #[prop(into)]
    runs: Signal<Vec<(String, Vec<StepMetrics>)>>,
    #[prop(into)] total_steps: Signal<usize>,
    /// The select's label.
    choice_label: &'static str,
    /// What each line stands for, in the table's caption: "run", "chosen cell".
    line: &'static str,
    initial: Measure,
) -> impl IntoView {
    let measure = RwSignal::new(initial);
    let series = Signal::derive(move || {
        runs.with(|runs| runs_measure(measure.get(), runs.iter().map(|(name, m)| (name.as_str(), m.as_slice()))))
    });
    view! {
        <MeasureChoice demo measure label=choice_label />
        <StepChart
            demo
            title=Signal::derive(move || measure.get().label())
            series
            total_steps
            caption=Signal::derive(move || format!("{} of each {line} at each step", measure.get().label()))
        />
    }
}

/// The select that chooses which measure a chart of several runs shows.
#[component]
fn MeasureChoice(
    /// Gives the select its element id.
    demo: LiveDemo,
    measure: RwSignal<Measure>,
    label: &'static str,
) -> impl IntoView {
    let id = demo.id("measure");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| {
                let chosen = event_target_value(&ev);
                if let Some(choice) = Measure::EVERY_RUN.into_iter().find(|m| m.label() == chosen) {
                    measure.set(choice);
                }
            }>
                {Measure::EVERY_RUN.into_iter().map(|choice| view! {
                    <option value=choice.label() selected=move || measure.get() == choice>{choice.label()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// A value as the chart's table writes it: four decimals, or four significant digits for small values such as a
/// learning rate.
fn format_value(value: f64) -> String {
    if value != 0.0 && value.abs() < 0.01 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}

#[component]
pub fn StepChart(
    /// Gives the chart its element ids.
    demo: LiveDemo,
    /// What the values are: the heading and the vertical axis.
    #[prop(into)]
    title: Signal<&'static str>,
    #[prop(into)] series: Signal<Vec<Series>>,
    #[prop(into)] total_steps: Signal<usize>,
    /// The table's caption: what its columns are.
    #[prop(into)]
    caption: Signal<String>,
    /// The stem of its element ids, for a demo with more than one chart.
    #[prop(default = "chart")]
    name: &'static str,
) -> impl IntoView {
    let has_data = Memo::new(move |_| series.with(|series| series.iter().any(|s| !s.points.is_empty())));
    let heading_id = demo.id(&format!("{name}-heading"));
    let caption_id = demo.id(&format!("{name}-table-caption"));
    view! {
        <section class="demo-chart" aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>{title}</h4>
            <Show
                when=move || has_data.get()
                fallback=|| view! { <p class="hint">"The chart fills in once training starts. Lower loss means better guesses."</p> }
            >
                {move || series.with(|series| view! { <ChartDrawing title=title.get() series=series.clone() total_steps=total_steps.get() /> })}
                <ul class="chart-legend">
                    {move || series.get().into_iter().map(|line| view! {
                        <li>
                            <svg class="legend-key" viewBox="0 0 36 12" aria-hidden="true">
                                <line class=format!("series {}", line.class) x1="2" y1="6" x2="34" y2="6" stroke-dasharray=line.dash />
                                {marker_view(line.marker, &line.class, 18.0, 6.0)}
                            </svg>
                            <strong>{line.label.clone()}</strong>
                            {line.explanation.map(|explanation| format!(": {explanation}"))}
                        </li>
                    }).collect_view()}
                </ul>
                <DataTable series caption caption_id=caption_id.clone() />
            </Show>
        </section>
    }
}

#[component]
fn ChartDrawing(title: &'static str, series: Vec<Series>, total_steps: usize) -> impl IntoView {
    let last_step = series.iter().filter_map(|s| s.points.last()).map(|&(step, _)| step).max().unwrap_or(0);
    let x_axis = Axis::covering(0.0, total_steps.max(last_step).max(1) as f64, 6, 1.0);
    let values = series.iter().flat_map(|s| s.points.iter()).map(|&(_, value)| value);
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| (low.min(v), high.max(v)));
    // Before any finite loss arrives there is nothing to scale to: draw an empty 0–1 axis rather than NaNs.
    let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 1.0) };
    let y_axis = Axis::covering(low, high, 5, 0.0);
    let x = move |step: f64| LEFT + x_axis.fraction(step) * (WIDTH - LEFT - RIGHT);
    let y = move |loss: f64| HEIGHT - BOTTOM - y_axis.fraction(loss) * (HEIGHT - TOP - BOTTOM);
    let (plot_left, plot_right, plot_bottom) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM);

    view! {
        <svg class="loss-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary(&series)>
            <text x="4" y="14">{title}</text>
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
            {series.iter().map(|line| {
                let path = line.points.iter().map(|&(step, value)| format!("{:.1},{:.1}", x(step as f64), y(value))).collect::<Vec<_>>().join(" ");
                view! {
                    <polyline class=format!("series {}", line.class) points=path stroke-dasharray=line.dash />
                    {line.points.iter().map(|&(step, value)| marker_view(line.marker, &line.class, x(step as f64), y(value))).collect_view()}
                }
            }).collect_view()}
        </svg>
    }
}

/// Every step any series has, with each series' value there; outside the redrawn chart, so an open table stays
/// open as steps arrive.
#[component]
fn DataTable(series: Signal<Vec<Series>>, caption: Signal<String>, caption_id: String) -> impl IntoView {
    let cell = |value: Option<f64>| match value {
        Some(value) => view! { <td>{format_value(value)}</td> }.into_any(),
        None => {
            view! { <td><span aria-hidden="true">"–"</span><span class="visually-hidden">"not measured"</span></td> }
                .into_any()
        }
    };
    let steps = move || {
        series
            .with(|series| series.iter().flat_map(|s| s.points.iter().map(|&(step, _)| step)).collect::<BTreeSet<_>>())
    };
    view! {
        <details class="demo-data">
            <summary>"Show the data as a table"</summary>
            <ScrollingTable caption_id=caption_id.clone() caption=move || caption.get()>
                <thead>
                    <tr>
                        <th scope="col">"Step"</th>
                        {move || series.get().into_iter().map(|line| view! { <th scope="col">{line.label}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For each=steps key=|step| *step let:step>
                        <tr>
                            <th scope="row">{step}</th>
                            {move || series.with(|series| series.iter().map(|line| {
                                cell(line.points.iter().find(|&&(s, _)| s == step).map(|&(_, value)| value))
                            }).collect_view())}
                        </tr>
                    </For>
                </tbody>
            </ScrollingTable>
        </details>
    }
}
