//! How fast did a run train, in the units a time estimate needs (lesson "Toolchains"): tokens a second, the
//! operations a token costs ([`crate::sizing::work_per_token`]), so the operations a second the run did. No share of
//! a peak: a page cannot read its CPU's or GPU's, and a quick timed product is no peak (on a test machine training
//! did more useful work a second than the preflight's 256 × 256 product).

use leptos::prelude::*;

use super::live::LiveDemo;
use super::numbers::{format_count, format_rate};
use crate::protocol::{BackendKind, RunId, StepMetrics, TrainSettings};
use crate::sizing::work_per_token;

/// A run's pace: the median of its steps' tokens a second, leaving out the first step, which holds the backend's
/// warm-up (WebGPU compiles its kernels then). `None` before a second step.
pub fn steady_tokens_per_second(metrics: &[StepMetrics]) -> Option<f64> {
    let mut rates: Vec<f64> = metrics.iter().skip(1).map(|m| m.tokens_per_second).collect();
    if rates.is_empty() {
        return None;
    }
    rates.sort_by(f64::total_cmp);
    let middle = rates.len() / 2;
    Some(if rates.len() % 2 == 1 { rates[middle] } else { (rates[middle - 1] + rates[middle]) / 2.0 })
}

/// A run's pace in words: tokens a second, operations a token, operations a second.
fn pace(
    metrics: &[StepMetrics],
    settings: &TrainSettings,
    shape: &crate::protocol::ModelShape,
) -> Option<(f64, String)> {
    let tokens = steady_tokens_per_second(metrics)?;
    let work = work_per_token(shape, settings.method);
    let ops = tokens * work;
    Some((
        ops,
        format!(
            "{} tokens a second. At about {} operations a token ({} × its {} weights), that is about {} million \
             operations a second.",
            format_rate(tokens),
            format_rate(work),
            work / shape.total_params() as f64,
            format_count(shape.total_params()),
            format_rate(ops / 1e6),
        ),
    ))
}

#[component]
pub fn Throughput(demo: LiveDemo, run: Signal<Option<RunId>>) -> impl IntoView {
    let state = demo.state;
    let mine = move || {
        state.with(|s| {
            let (model, run) = (s.model.as_ref()?, s.run(run.get()?)?);
            let (_, words) = pace(&run.metrics, &run.settings, &model.shape)?;
            let on = match model.backend.kind {
                BackendKind::Cpu => "this tab's CPU",
                BackendKind::WebGpu => "this tab's GPU, through WebGPU",
            };
            Some(format!("Your run, on {on}: {words}"))
        })
    };
    let recorded = move || {
        state.with(|s| {
            let (model, recorded) = (s.model.as_ref()?, s.dataset.as_ref()?.recorded.as_ref()?);
            let (_, words) = pace(&recorded.metrics, &recorded.settings, &model.shape)?;
            Some(format!("The run recorded when this site was built, natively on the build machine's CPU: {words}"))
        })
    };

    view! {
        <section class="demo-throughput" aria-labelledby=demo.id("throughput-heading")>
            <h4 id=demo.id("throughput-heading")>"How fast it trained"</h4>
            <p role="status">{move || mine().unwrap_or_else(|| "Train to measure this device.".into())}</p>
            {move || recorded().map(|words| view! { <p class="demo-recorded-note">{words}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(tokens_per_second: f64) -> StepMetrics {
        StepMetrics { tokens_per_second, ..crate::ui::run_state::tests::metrics(1, 0.0) }
    }

    #[test]
    fn the_pace_is_the_median_step_after_the_first() {
        assert_eq!(steady_tokens_per_second(&[step(10.0)]), None);
        // The first step's warm-up (10) is left out; the median of 300, 100, 200 is 200, of four the middle two's mean.
        assert_eq!(steady_tokens_per_second(&[step(10.0), step(300.0), step(100.0), step(200.0)]), Some(200.0));
        assert_eq!(
            steady_tokens_per_second(&[step(10.0), step(300.0), step(100.0), step(200.0), step(400.0)]),
            Some(250.0)
        );
    }

    #[test]
    fn the_pace_counts_four_operations_a_weight_for_lora() {
        let shape = crate::protocol::ModelShape::SMOLLM2_135M;
        let (ops, words) = pace(&[step(1.0), step(1000.0)], &TrainSettings::default(), &shape).unwrap();
        assert_eq!(ops, 1000.0 * 4.0 * 134_515_008.0);
        assert!(
            words == "1,000 tokens a second. At about 540,000,000 operations a token (4 × its 134,515,008 weights), that is about 540,000 million operations a second.",
            "{words}"
        );
    }
}
