//! The evaluation bench (lesson "An evaluation bench", [`crate::evaluation`]): the base model and two instruction
//! adapters trained alike but for the training seed, each on the held-out loss, its perplexity and the task check
//! over rounds of samples with a 95% interval; the learner picks the rounds and runs it. Below, recorded only, a
//! small instruction model judging the base model's stories against the first adapter's, each pair in both orders.
//! Until the learner runs the bench, the one recorded when the site was built (`tinytune evaluate`) is shown,
//! labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::count_of;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::{INSTRUCTIONS, STORIES_MODEL_URL};
use crate::evaluation::{summarize, BenchRow, BenchedModel, Interval, JudgedPair, RecordedBench, ROUNDS_OFFERED};

/// The bench `tinytune evaluate` recorded when the site was built.
const RECORDED_URL: &str = "models/stories260K/evaluation.json";
/// The rounds the form starts with: 16 samples a model, under a minute on a two-core CPU.
const DEFAULT_ROUNDS: usize = 2;

fn percent(share: f64) -> String {
    format!("{:.0}%", 100.0 * share)
}

/// A row's pass rate with its interval: "88% (77–94%)".
fn rate_text(row: &BenchRow) -> String {
    let interval = row.interval();
    let rate = row.passed() as f64 / row.total().max(1) as f64;
    format!("{} ({}–{})", percent(rate), percent(interval.low).trim_end_matches('%'), percent(interval.high))
}

/// The share of the narrower interval that the other covers too: 0 apart, 1 when one holds the other.
fn shared(a: Interval, b: Interval) -> f64 {
    let common = (a.high.min(b.high) - a.low.max(b.low)).max(0.0);
    let narrower = (a.high - a.low).min(b.high - b.low);
    if narrower > 0.0 {
        common / narrower
    } else {
        f64::from(u8::from(a.overlaps(b)))
    }
}

/// What the table lets one conclude about two rows, as the lesson reads intervals: far apart, overlapping by much
/// of their width (half the narrower one or more), or a little.
fn verdict(first: &BenchRow, second: &BenchRow) -> String {
    let (names, samples) = (format!("{} and {}", first.model.name, second.model.name), first.total());
    let share = shared(first.interval(), second.interval());
    if share == 0.0 {
        format!(
            "{names}: the intervals do not overlap, so at {samples} stories each the difference is more than \
             sampling noise."
        )
    } else if share >= 0.5 {
        format!(
            "{names}: the intervals overlap by much of their width, so at {samples} stories each the bench cannot \
             tell them apart."
        )
    } else {
        format!(
            "{names}: the intervals overlap a little, so the difference may be real: run more rounds, or compare \
             story by story."
        )
    }
}

/// The models the learner's bench measures: the recording's, their adapters served beside the model.
fn live_models(recorded: &RecordedBench) -> Vec<BenchedModel> {
    let served = |adapter: &Option<String>| adapter.as_ref().map(|folder| format!("{STORIES_MODEL_URL}{folder}"));
    recorded
        .rows
        .iter()
        .map(|row| BenchedModel { name: row.model.name.clone(), adapter: served(&row.model.adapter) })
        .collect()
}

/// One story as the judge's table shows it: the check's verdict and the text.
fn story_text(pair: &JudgedPair, story: usize) -> String {
    let sample = &pair.stories[story];
    format!("{} {}", if sample.passed { "✓" } else { "✗" }, sample.text.trim())
}

#[component]
pub fn EvalBenchDemo() -> impl IntoView {
    let demo = LiveDemo::new("eval-bench", STORIES_MODEL_URL, &INSTRUCTIONS.url());
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<RecordedBench>);
    fetch_json(RECORDED_URL.to_string(), recorded);
    let rounds = RwSignal::new(DEFAULT_ROUNDS);
    // Stories in a round: the check's prompts, as the recording counted them.
    let prompts = move || recorded.with(|r| r.as_ref().and_then(|r| r.rows.first()).map_or(0, |row| row.prompts));

    let running = move || state.with(|s| s.evaluation.as_ref().is_some_and(|e| e.running()));
    let ready = move || state.with(|s| s.ready()) && recorded.with(Option::is_some) && !running();
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(models) = recorded.with_untracked(|r| r.as_ref().map(live_models)) {
            demo.evaluate(models, rounds.get_untracked());
        }
    };
    // The learner's bench once it has a row; the recording until then.
    let shown = Memo::new(move |_| {
        let own = state.with(|s| s.evaluation.as_ref().filter(|e| !e.rows.is_empty()).map(|e| e.rows.clone()));
        own.map(|rows| (rows, false)).or_else(|| recorded.with(|r| r.as_ref().map(|r| (r.rows.clone(), true))))
    });
    let progress = move || {
        state.with(|s| s.evaluation.as_ref().filter(|e| e.running() && e.total > 0).map(|e| (e.written, e.total)))
    };
    let rounds_id = demo.id("rounds");
    let caption_id = demo.id("bench-caption");
    let judge_caption_id = demo.id("judge-caption");
    view! {
        <section class="demo eval-bench" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: the bench"</h3>
            <p>
                "Three models on the same bench: the base model, and two instruction adapters trained with the same \
                 settings and data, apart from the training seed. Each is measured on the held-out loss of the \
                 instruction data set and on its task check: 8 requests for animal-and-place pairs no example holds, \
                 one story each per round, every round with new seeds."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Evaluating" />
            <form class="demo-form" on:submit=run>
                <div class="field">
                    <label for=rounds_id.clone()>"Rounds of the task check"</label>
                    <select id=rounds_id disabled=running on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse() {
                            rounds.set(n);
                        }
                    }>
                        {ROUNDS_OFFERED.map(|n| view! {
                            <option value=n.to_string() selected=move || rounds.get() == n>
                                {move || format!("{n} ({} stories a model)", n * prompts())}
                            </option>
                        })}
                    </select>
                </div>
                <p class="demo-actions">
                    <button type="submit" disabled=move || !ready()>"Run the bench"</button>
                </p>
            </form>
            {move || progress().map(|(written, total)| view! {
                <p>
                    <label>
                        {format!("Stories written: {written} of {total}")}
                        <progress max=total.to_string() value=written.to_string()></progress>
                    </label>
                </p>
            })}
            <Notices demo />
            {move || shown.get().map(|(rows, is_recorded)| {
                let (rounds_shown, per_round) =
                    rows.first().map_or((0, 0), |row| (row.passed_per_round.len(), row.prompts));
                let verdicts: Vec<String> = match rows.as_slice() {
                    [base, first, second, ..] => vec![verdict(base, first), verdict(first, second)],
                    [base, first] => vec![verdict(base, first)],
                    _ => Vec::new(),
                };
                view! {
                    <p class="demo-recorded-label" role="status">
                        {if is_recorded {
                            format!("Recorded when this site was built, with {}. Run the bench to measure your own.", count_of(rounds_shown, "round"))
                        } else {
                            format!("Your bench, {}.", count_of(rounds_shown, "round"))
                        }}
                    </p>
                    <ScrollingTable
                        caption_id=caption_id.clone()
                        caption=move || format!("Each model's held-out loss, and the task check over {} of {per_round} stories", count_of(rounds_shown, "round"))
                    >
                        <thead>
                            <tr>
                                <th scope="col">"Model"</th>
                                <th scope="col">"Held-out loss"</th>
                                <th scope="col">"Perplexity"</th>
                                <th scope="col">"Passed"</th>
                                <th scope="col">"Rate (95% interval)"</th>
                                <th scope="col">{format!("Each round, of {per_round}")}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.iter().map(|row| view! {
                                <tr>
                                    <th scope="row" class="demo-table-text">{row.model.name.clone()}</th>
                                    <td>{format!("{:.3}", row.held_out_loss)}</td>
                                    <td>{format!("{:.2}", row.perplexity())}</td>
                                    <td>{format!("{} of {}", row.passed(), row.total())}</td>
                                    <td>{rate_text(row)}</td>
                                    <td>{row.passed_per_round.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </ScrollingTable>
                    <ul class="bench-verdicts">
                        {verdicts.into_iter().map(|v| view! { <li>{v}</li> }).collect_view()}
                    </ul>
                }
            })}
            {move || recorded.get().filter(|r| !r.judged.is_empty()).map(|r| {
                let summary = summarize(&r.judged);
                let names = [r.rows[0].model.name.clone(), r.rows[1].model.name.clone()];
                view! {
                    <h4>{format!("The judge, recorded: {}", r.judge_model)}</h4>
                    <p>
                        {format!(
                            "For each request the judge read the two stories as A and B and answered which does what the \
                             request asks; each pair was asked twice, the stories swapped. It picked the story shown first \
                             in {} of {} verdicts, and the same story in both orders for {} of {} pairs. The check passes \
                             exactly one of the two stories in {} pairs; the judge picked that story in both orders in {}.",
                            summary.picked_first, summary.verdicts, summary.consistent, summary.pairs,
                            summary.check_splits, summary.agrees_with_check,
                        )}
                    </p>
                    <ScrollingTable
                        caption_id=judge_caption_id.clone()
                        caption=|| "Each pair: the stories as the task check judged them, and the judge's probability of picking the story it was shown first"
                    >
                        <thead>
                            <tr>
                                <th scope="col">"Request"</th>
                                <th scope="col">{names[0].clone()}</th>
                                <th scope="col">{names[1].clone()}</th>
                                <th scope="col">{format!("Picks the first, {} shown first", names[0])}</th>
                                <th scope="col">{format!("Picks the first, {} shown first", names[1])}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {r.judged.iter().map(|pair| view! {
                                <tr>
                                    <th scope="row" class="demo-table-text">{pair.request.clone()}</th>
                                    <td class="completion">{story_text(pair, 0)}</td>
                                    <td class="completion">{story_text(pair, 1)}</td>
                                    <td>{percent(pair.picks_shown_first[0])}</td>
                                    <td>{percent(pair.picks_shown_first[1])}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </ScrollingTable>
                }
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::wilson;

    fn row(name: &str, passed_per_round: Vec<usize>) -> BenchRow {
        let model = BenchedModel { name: name.into(), adapter: Some("instruction-adapter/".into()) };
        BenchRow { model, held_out_loss: 0.43, passed_per_round, prompts: 8, first_round: Vec::new() }
    }

    #[test]
    fn a_rate_reads_with_its_interval_and_overlapping_intervals_read_as_undecided() {
        let (seed_42, seed_7) = (row("Seed 42", vec![8, 7]), row("Seed 7", vec![6, 8]));
        // 15 of 16: Wilson's 95% interval is 71.7% to 98.9%.
        assert_eq!(rate_text(&seed_42), "94% (72–99%)");
        assert!(verdict(&seed_42, &seed_7).contains("overlap by much of their width"));
        assert!(verdict(&row("Base", vec![0, 0]), &seed_42).contains("do not overlap"));
        assert!(verdict(&row("Ten", vec![5, 5]), &seed_42).contains("overlap a little"));
        // 10 of 16 is 38.6–81.5%, 15 of 16 is 71.7–98.9%: they share 9.8 points of the narrower's 27.2.
        assert!((shared(wilson(10, 16), wilson(15, 16)) - 0.098 / 0.272).abs() < 0.01);
        assert_eq!(shared(wilson(6, 16), wilson(6, 16)), 1.0);
    }

    #[test]
    fn the_learners_bench_measures_the_recordings_models_with_their_adapters_served_beside_the_model() {
        let base = BenchRow { model: BenchedModel { name: "Base model".into(), adapter: None }, ..row("", vec![]) };
        let recorded =
            RecordedBench { rows: vec![base, row("Seed 42", vec![8])], judge_model: String::new(), judged: Vec::new() };
        let models = live_models(&recorded);
        assert_eq!(models[0].adapter, None);
        assert_eq!(models[1].adapter.as_deref(), Some("models/stories260K/instruction-adapter/"));
        assert_eq!(models[1].name, "Seed 42");
    }
}
