//! Whether a fine-tune pays (lesson “Use cases and whether it pays”): a large prompted model against a small
//! fine-tuned one, per thousand requests and per month, with wrong answers priced and the one-off cost of the
//! fine-tune paid back out of the monthly saving. Every assumption is a field the learner can edit, and each
//! says where its value came from: the quoted claim's example prices, an assumption, or what lesson 4's comparison
//! measured on stories260K (the recorded `compared.json`). The sums live in [`Calculator`], a pure state the
//! widget reads and changes only through [`Calculator::set`] and [`Calculator::preset`].

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::instruction_adapter::INSTRUCTION_ADAPTER_URL;
use super::numbers::format_count;
use super::reading::fetch_json;
use super::table::ScrollingTable;
use crate::approach::{tally, Approach, ApproachSample};
use crate::ui::trainer_client::use_trainer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    Large,
    Tuned,
}

impl Column {
    pub const BOTH: [Column; 2] = [Column::Large, Column::Tuned];

    fn title(self) -> &'static str {
        match self {
            Column::Large => "Large model, prompted",
            Column::Tuned => "Small model, fine-tuned",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Column::Large => "large",
            Column::Tuned => "tuned",
        }
    }
}

/// One assumption the sums use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    TokensIn(Column),
    TokensOut(Column),
    PriceIn(Column),
    PriceOut(Column),
    /// Share of answers right, in percent.
    Right(Column),
    RequestsPerMonth,
    /// What one wrong answer costs, in dollars.
    WrongAnswer,
    /// Data, training and evaluation, in dollars.
    OneOff,
}

impl Field {
    fn of_column(column: Column) -> [Field; 5] {
        [
            Field::TokensIn(column),
            Field::TokensOut(column),
            Field::PriceIn(column),
            Field::PriceOut(column),
            Field::Right(column),
        ]
    }

    const SHARED: [Field; 3] = [Field::RequestsPerMonth, Field::WrongAnswer, Field::OneOff];

    fn label(self) -> &'static str {
        match self {
            Field::TokensIn(_) => "Tokens in per request",
            Field::TokensOut(_) => "Tokens out per request",
            Field::PriceIn(_) => "Price per million tokens in ($)",
            Field::PriceOut(_) => "Price per million tokens out ($)",
            Field::Right(_) => "Share of answers right (%)",
            Field::RequestsPerMonth => "Requests per month",
            Field::WrongAnswer => "Cost of one wrong answer ($)",
            Field::OneOff => "One-off cost of the fine-tune ($)",
        }
    }

    /// A part of an element id, unique among the fields.
    fn key(self) -> String {
        let (name, column) = match self {
            Field::TokensIn(c) => ("tokens-in", Some(c)),
            Field::TokensOut(c) => ("tokens-out", Some(c)),
            Field::PriceIn(c) => ("price-in", Some(c)),
            Field::PriceOut(c) => ("price-out", Some(c)),
            Field::Right(c) => ("right", Some(c)),
            Field::RequestsPerMonth => ("requests", None),
            Field::WrongAnswer => ("wrong-answer", None),
            Field::OneOff => ("one-off", None),
        };
        column.map_or_else(|| name.to_string(), |c| format!("{}-{name}", c.key()))
    }

    fn max(self) -> Option<f64> {
        matches!(self, Field::Right(_)).then_some(100.0)
    }
}

/// A field's value as typed, and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumption {
    pub text: String,
    pub source: String,
}

/// What lesson 4's comparison measured: the worked example's way against the adapter's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub example_tokens: f64,
    pub example_right: f64,
    pub adapter_tokens: f64,
    pub adapter_right: f64,
}

impl Measured {
    /// From the comparison's samples: mean tokens read and the share named both, for the two ways.
    pub fn from_samples(samples: &[ApproachSample]) -> Option<Measured> {
        let tallies = tally(&[Approach::WorkedExample, Approach::Adapter], samples);
        let of = |approach: Approach| tallies.iter().find(|t| t.approach == approach && t.written > 0);
        let (example, adapter) = (of(Approach::WorkedExample)?, of(Approach::Adapter)?);
        let share = |passed: usize, written: usize| 100.0 * passed as f64 / written as f64;
        Some(Measured {
            example_tokens: example.mean_prompt_tokens()?,
            example_right: share(example.passed, example.written),
            adapter_tokens: adapter.mean_prompt_tokens()?,
            adapter_right: share(adapter.passed, adapter.written),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Preset {
    /// The source's claim: a 7B tuned model against a 70B one, $10 and $1 per million tokens.
    QuotedClaim,
    /// Lesson 4 on stories260K: a worked example in the prompt against the adapter, same model and price.
    MeasuredHere(Measured),
}

/// Costs of one column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnCost {
    pub tokens_per_1000: f64,
    pub wrong_per_1000: f64,
    pub total_per_1000: f64,
    pub per_month: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub large: ColumnCost,
    pub tuned: ColumnCost,
    /// Months until the monthly saving repays the one-off cost; `None` if the tuned column saves nothing.
    pub payback_months: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Calculator {
    fields: BTreeMap<Field, Assumption>,
}

const ASSUMED: &str = "Assumed: edit it to your case";

impl Calculator {
    pub fn preset(preset: Preset) -> Calculator {
        let mut fields = BTreeMap::new();
        let mut put = |field: Field, value: f64, source: &str| {
            fields.insert(field, Assumption { text: format_input(value), source: source.to_string() });
        };
        match preset {
            Preset::QuotedClaim => {
                let price = "The claim's example price: no provider, model or date";
                for (column, dollars) in [(Column::Large, 10.0), (Column::Tuned, 1.0)] {
                    put(Field::TokensIn(column), 1000.0, "Assumed: the claim gives no prompt length");
                    put(Field::TokensOut(column), 200.0, "Assumed: the claim gives no answer length");
                    put(Field::PriceIn(column), dollars, price);
                    put(Field::PriceOut(column), dollars, price);
                    put(
                        Field::Right(column),
                        90.0,
                        "Assumed equal until measured: the claim says only “can outperform”",
                    );
                }
                put(Field::WrongAnswer, 0.0, ASSUMED);
            }
            Preset::MeasuredHere(measured) => {
                let ways = [
                    (Column::Large, measured.example_tokens, measured.example_right, "a worked example in front"),
                    (Column::Tuned, measured.adapter_tokens, measured.adapter_right, "the instruction adapter"),
                ];
                for (column, tokens, right, way) in ways {
                    let measured = format!("Measured in lesson 4 (recorded): {way}");
                    put(Field::TokensIn(column), tokens.round(), &measured);
                    put(Field::TokensOut(column), 60.0, "The comparison's sample length");
                    put(Field::PriceIn(column), 1.0, "An example price: the same model on both sides");
                    put(Field::PriceOut(column), 1.0, "An example price: the same model on both sides");
                    put(Field::Right(column), right, &measured);
                }
                put(Field::WrongAnswer, 0.5, ASSUMED);
            }
        }
        put(Field::RequestsPerMonth, 100_000.0, ASSUMED);
        put(Field::OneOff, 5000.0, ASSUMED);
        Calculator { fields }
    }

    pub fn assumption(&self, field: Field) -> &Assumption {
        &self.fields[&field]
    }

    /// The learner typed `text` into `field`.
    pub fn set(&mut self, field: Field, text: String) {
        self.fields.insert(field, Assumption { text, source: "Your value".into() });
    }

    /// The field's number, or what is wrong with it.
    pub fn value(&self, field: Field) -> Result<f64, String> {
        let text = self.fields[&field].text.trim().replace(',', "");
        let value: f64 = text.parse().map_err(|_| "Enter a number, such as 1000 or 0.5.".to_string())?;
        if !value.is_finite() || value < 0.0 {
            return Err("Enter a number of 0 or more.".into());
        }
        match field.max() {
            Some(max) if value > max => Err(format!("Enter at most {max}.")),
            _ => Ok(value),
        }
    }

    /// The sums, once every field holds a number.
    pub fn outcome(&self) -> Option<Outcome> {
        let value = |field| self.value(field).ok();
        let (requests, wrong_cost, one_off) =
            (value(Field::RequestsPerMonth)?, value(Field::WrongAnswer)?, value(Field::OneOff)?);
        let column = |c: Column| -> Option<ColumnCost> {
            let tokens = value(Field::TokensIn(c))? * value(Field::PriceIn(c))?
                + value(Field::TokensOut(c))? * value(Field::PriceOut(c))?;
            let tokens_per_1000 = 1000.0 * tokens / 1e6;
            // 10 × (100 − %) rather than 1000 × (1 − %/100): 90% gives exactly 100.
            let wrong_per_1000 = 10.0 * (100.0 - value(Field::Right(c))?);
            let total_per_1000 = tokens_per_1000 + wrong_per_1000 * wrong_cost;
            Some(ColumnCost {
                tokens_per_1000,
                wrong_per_1000,
                total_per_1000,
                per_month: total_per_1000 * requests / 1000.0,
            })
        };
        let (large, tuned) = (column(Column::Large)?, column(Column::Tuned)?);
        let saving = large.per_month - tuned.per_month;
        let payback_months = (saving > 0.0).then(|| one_off / saving);
        Some(Outcome { large, tuned, payback_months })
    }
}

/// A number as a field shows it: `100000` → `"100000"`, `87.5` → `"87.5"`.
fn format_input(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Dollars: `1200` → `"$1,200.00"`, `0.286` → `"$0.286"` (three decimals under a dollar, so cents show).
pub fn format_dollars(value: f64) -> String {
    if value.abs() < 1.0 {
        return format!("${value:.3}");
    }
    let cents = (value * 100.0).round() as u64;
    format!("${}.{:02}", format_count(cents / 100), cents % 100)
}

/// The payback line.
pub fn payback_words(outcome: &Outcome) -> String {
    match outcome.payback_months {
        None => "Never paid back: the fine-tuned column does not cost less per month.".into(),
        Some(months) if months < 1.0 => "Paid back within the first month.".into(),
        Some(months) if months > 24.0 => {
            format!("Paid back after about {months:.0} months (about {:.1} years).", months / 12.0)
        }
        Some(months) => format!("Paid back after about {months:.1} months."),
    }
}

const NAME: &str = "cost-calculator";

/// How a row of the results table shows a column's costs.
type Shown = fn(&ColumnCost) -> String;

#[component]
pub fn CostCalculatorDemo() -> impl IntoView {
    let calculator = RwSignal::new(Calculator::preset(Preset::QuotedClaim));
    let compared = RwSignal::new(None::<Vec<ApproachSample>>);
    fetch_json(format!("{INSTRUCTION_ADAPTER_URL}compared.json"), compared);
    let measured = move || compared.with(|c| c.as_deref().and_then(Measured::from_samples));
    let trainer = use_trainer();
    let uid = StoredValue::new(trainer.id_prefix(NAME));
    on_cleanup(move || trainer.forget_prefix(NAME));
    let id = move |part: &str| format!("{}-{part}", uid.with_value(String::clone));
    let outcome = Memo::new(move |_| calculator.with(Calculator::outcome));

    let input = move |field: Field| {
        let input_id = id(&field.key());
        let (source_id, error_id) = (format!("{input_id}-source"), format!("{input_id}-error"));
        let error = move || calculator.with(|c| c.value(field).err());
        view! {
            <div class="field">
                <label for=input_id.clone()>{field.label()}</label>
                <input
                    id=input_id
                    type="text"
                    inputmode="decimal"
                    prop:value=move || calculator.with(|c| c.assumption(field).text.clone())
                    aria-describedby=format!("{source_id} {error_id}")
                    aria-invalid=move || error().is_some().then_some("true")
                    on:input=move |ev| calculator.update(|c| c.set(field, event_target_value(&ev)))
                />
                <p class="hint" id=source_id>{move || calculator.with(|c| c.assumption(field).source.clone())}</p>
                <p class="field-error" id=error_id>{move || error().map(|e| format!("✗ {e}"))}</p>
            </div>
        }
    };
    let caption = id("caption");
    view! {
        <section class="demo cost-calculator" aria-labelledby=id("title")>
            <h3 id=id("title")>"Try it: does the fine-tune pay?"</h3>
            <p class="demo-actions">
                <button type="button" on:click=move |_| calculator.set(Calculator::preset(Preset::QuotedClaim))>
                    "The quoted claim"
                </button>
                " "
                <button
                    type="button"
                    disabled=move || measured().is_none()
                    on:click=move |_| {
                        if let Some(measured) = measured() {
                            calculator.set(Calculator::preset(Preset::MeasuredHere(measured)));
                        }
                    }
                >
                    "Measured here (lesson 4)"
                </button>
            </p>
            <div class="cost-columns">
                {Column::BOTH.into_iter().map(|column| view! {
                    <fieldset>
                        <legend>{column.title()}</legend>
                        {Field::of_column(column).into_iter().map(input).collect_view()}
                    </fieldset>
                }).collect_view()}
                <fieldset>
                    <legend>"Both"</legend>
                    {Field::SHARED.into_iter().map(input).collect_view()}
                </fieldset>
            </div>
            <ScrollingTable caption_id=caption.clone() caption=|| "What each costs">
                <thead>
                    <tr>
                        <th scope="col">"Per column"</th>
                        {Column::BOTH.into_iter().map(|c| view! { <th scope="col">{c.title()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || outcome.get().map(|o| {
                        let rows: [(&str, Shown); 4] = [
                            ("Cost per 1,000 requests, tokens only", |c| format_dollars(c.tokens_per_1000)),
                            ("Wrong answers per 1,000", |c| format!("{:.0}", c.wrong_per_1000)),
                            ("Cost per 1,000 including wrong answers", |c| format_dollars(c.total_per_1000)),
                            ("Cost per month", |c| format_dollars(c.per_month)),
                        ];
                        rows.into_iter().map(|(label, shown)| view! {
                            <tr>
                                <th scope="row">{label}</th>
                                <td>{shown(&o.large)}</td>
                                <td>{shown(&o.tuned)}</td>
                            </tr>
                        }).collect_view()
                    })}
                </tbody>
            </ScrollingTable>
            <p class="cost-payback" role="status">
                {move || match outcome.get() {
                    Some(o) => payback_words(&o),
                    None => "Fix the fields marked ✗ to see the sums.".into(),
                }}
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::CheckedSample;

    fn quoted() -> Calculator {
        Calculator::preset(Preset::QuotedClaim)
    }

    // The expected figures are worked by hand in the lesson (“What to look at”).
    #[test]
    fn the_quoted_claim_pays_back_in_four_and_a_half_months() {
        let outcome = quoted().outcome().unwrap();
        assert!((outcome.large.tokens_per_1000 - 12.0).abs() < 1e-9);
        assert!((outcome.tuned.tokens_per_1000 - 1.2).abs() < 1e-9);
        assert!((outcome.large.per_month - 1200.0).abs() < 1e-6 && (outcome.tuned.per_month - 120.0).abs() < 1e-6);
        assert_eq!(payback_words(&outcome), "Paid back after about 4.6 months.");
        assert_eq!(format_dollars(outcome.large.per_month), "$1,200.00");
    }

    #[test]
    fn volume_and_wrong_answers_change_the_answer() {
        let mut calculator = quoted();
        calculator.set(Field::RequestsPerMonth, "1,000".into());
        let low = calculator.outcome().unwrap();
        assert_eq!(payback_words(&low), "Paid back after about 463 months (about 38.6 years).");

        let mut calculator = quoted();
        calculator.set(Field::WrongAnswer, "0.50".into());
        let equal = calculator.outcome().unwrap();
        assert_eq!(equal.large.wrong_per_1000, 100.0);
        assert_eq!(payback_words(&equal), "Paid back after about 4.6 months.", "equal accuracy: the same saving");
        calculator.set(Field::Right(Column::Tuned), "80".into());
        let worse = calculator.outcome().unwrap();
        assert!((worse.large.total_per_1000 - 62.0).abs() < 1e-9 && (worse.tuned.total_per_1000 - 101.2).abs() < 1e-9);
        assert_eq!(worse.payback_months, None);
        assert_eq!(calculator.assumption(Field::Right(Column::Tuned)).source, "Your value");
    }

    #[test]
    fn a_bad_field_says_what_to_enter_and_stops_the_sums() {
        let mut calculator = quoted();
        for (text, error) in [
            ("ten", "Enter a number, such as 1000 or 0.5."),
            ("-3", "Enter a number of 0 or more."),
            ("120", "Enter at most 100."),
        ] {
            calculator.set(Field::Right(Column::Large), text.into());
            assert_eq!(calculator.value(Field::Right(Column::Large)), Err(error.to_string()));
            assert_eq!(calculator.outcome(), None);
        }
    }

    #[test]
    fn measured_here_reads_lesson_4s_comparison() {
        let sample = |approach, prompt_tokens, passed| ApproachSample {
            approach,
            index: 0,
            prompt_tokens,
            in_front: Vec::new(),
            sample: CheckedSample { prompt: "Write.".into(), text: String::new(), passed },
        };
        let samples = [
            sample(Approach::WorkedExample, 220, false),
            sample(Approach::WorkedExample, 230, true),
            sample(Approach::Adapter, 25, true),
            sample(Approach::Adapter, 27, true),
            sample(Approach::Plain, 26, false),
        ];
        let measured = Measured::from_samples(&samples).unwrap();
        assert_eq!(
            measured,
            Measured { example_tokens: 225.0, example_right: 50.0, adapter_tokens: 26.0, adapter_right: 100.0 }
        );
        let calculator = Calculator::preset(Preset::MeasuredHere(measured));
        assert_eq!(calculator.assumption(Field::TokensIn(Column::Large)).text, "225");
        assert!(calculator.assumption(Field::Right(Column::Tuned)).source.starts_with("Measured in lesson 4"));
        let outcome = calculator.outcome().unwrap();
        // (225 + 60) tokens at $1 per million: $0.285 per 1,000; half wrong at $0.50: $250 more.
        assert!((outcome.large.total_per_1000 - (0.285 + 250.0)).abs() < 1e-9);
        assert_eq!(Measured::from_samples(&samples[4..]), None, "nothing measured for the two ways");
    }

    #[test]
    fn inputs_and_dollars_read_as_a_person_writes_them() {
        assert_eq!(
            (format_input(100_000.0), format_input(87.5), format_input(0.5)),
            ("100000".into(), "87.5".into(), "0.5".into())
        );
        assert_eq!(
            (format_dollars(0.286), format_dollars(12.0), format_dollars(6258.6)),
            ("$0.286".into(), "$12.00".into(), "$6,258.60".into())
        );
    }
}
