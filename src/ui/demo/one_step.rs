//! One training step up close (lesson “One training step up close”): the learner picks one training sequence of
//! the Pip stories, a learning rate and LoRA or full fine-tuning; the worker takes one step on it from the base
//! model ([`crate::one_step`]) and the page walks through it a stage at a time: the batch, the loss token by token,
//! the gradients, the update, the probabilities after. Until the learner takes a step it shows the one recorded
//! when the site was built (sequence 1, the default settings), labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::numbers::{count_of, format_count};
use super::reading::fetch_json;
use super::table::ScrollingTable;
use super::{PIP_STORIES, STORIES_MODEL_URL};
use crate::one_step::{Factor, MatrixStep, OneStep, TokenStep};
use crate::settings::{Choice, Projection, TrainSettings, TrainingMethod};

/// The learning rates to try: the default run's, and ten times less and more.
const LEARNING_RATES: [f64; 3] = [1e-3, 1e-2, 1e-1];

/// The stages of a step, in the order the page shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Batch,
    Loss,
    Gradients,
    Update,
    After,
}

impl Stage {
    const ALL: [Stage; 5] = [Stage::Batch, Stage::Loss, Stage::Gradients, Stage::Update, Stage::After];

    fn name(self) -> &'static str {
        match self {
            Stage::Batch => "The batch",
            Stage::Loss => "The loss, token by token",
            Stage::Gradients => "The gradients",
            Stage::Update => "The update",
            Stage::After => "The probabilities after the step",
        }
    }

    /// "2. The loss, token by token": its heading.
    fn title(self) -> String {
        let number = Stage::ALL.iter().position(|&s| s == self).expect("every stage is in ALL") + 1;
        format!("{number}. {}", self.name())
    }
}

/// The figures a stage states, read off the step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReading {
    pub targets: usize,
    /// The targets the model found hardest before the step (highest −ln p), hardest first.
    pub hardest: Vec<TokenStep>,
    /// The targets whose probability rose most, most first.
    pub risen: Vec<TokenStep>,
    /// Targets whose probability rose, of all targets.
    pub rose: usize,
    /// Matrices with a gradient of exactly zero, and matrices in all.
    pub without_gradient: usize,
    /// Numbers that train, and those the step moved.
    pub values: usize,
    pub moved: usize,
    /// The largest change of any one number.
    pub largest_change: f64,
}

/// How many tokens the hardest and most-risen lists name.
const LISTED: usize = 5;

impl StepReading {
    pub fn of(step: &OneStep) -> StepReading {
        let by = |key: fn(&TokenStep) -> f64| {
            let mut tokens: Vec<TokenStep> = step.trained().cloned().collect();
            tokens.sort_by(|a, b| key(b).total_cmp(&key(a)));
            tokens.truncate(LISTED);
            tokens
        };
        StepReading {
            targets: step.trained().count(),
            hardest: by(TokenStep::loss_before),
            risen: by(|t| t.after - t.before),
            rose: step.trained().filter(|t| t.after > t.before).count(),
            without_gradient: step.matrices.iter().filter(|m| m.grad_norm == 0.0).count(),
            values: step.matrices.iter().map(|m| m.values).sum(),
            moved: step.matrices.iter().map(|m| m.moved).sum(),
            largest_change: step.matrices.iter().map(|m| m.largest_change).fold(0.0, f64::max),
        }
    }
}

fn percent(p: f64) -> String {
    let percent = 100.0 * p;
    if percent < 0.1 {
        format!("{percent:.2}%")
    } else {
        format!("{percent:.1}%")
    }
}

#[component]
pub fn OneStepDemo() -> impl IntoView {
    let dataset_url = PIP_STORIES.url();
    let demo = LiveDemo::new("one-step", STORIES_MODEL_URL, &dataset_url);
    let state = demo.state;
    demo.load();
    let recorded = RwSignal::new(None::<OneStep>);
    fetch_json(OneStep::recorded_url(&dataset_url), recorded);

    let sequence = RwSignal::new(1usize);
    let learning_rate = RwSignal::new(TrainSettings::default().learning_rate);
    let method = RwSignal::new(TrainingMethod::Lora);
    let stage = RwSignal::new(0usize);
    let own = move || state.with(|s| s.one_step.latest.clone());
    let shown = Memo::new(move |_| own().map(|step| (step, false)).or_else(|| recorded.get().map(|step| (step, true))));
    // A new step is walked through from its first stage.
    Effect::new(move |_| {
        if state.with(|s| s.one_step.latest.is_some()) {
            stage.set(0);
        }
    });
    let sequences = move || shown.with(|s| s.as_ref().map(|(step, _)| step.sequences));
    let waiting = move || state.with(|s| s.one_step.is_waiting());
    let ready = move || state.with(|s| s.model.is_some() && s.dataset.is_some());
    let take = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = TrainSettings {
            method: method.get_untracked(),
            learning_rate: learning_rate.get_untracked(),
            ..TrainSettings::default()
        };
        demo.take_one_step(sequence.get_untracked().saturating_sub(1), settings);
    };

    let stage_heading = move |at: usize| demo.id(&format!("stage-{at}"));
    let next = move |_| {
        let at = (stage.get_untracked() + 1).min(Stage::ALL.len() - 1);
        stage.set(at);
        // Move the keyboard to the stage just shown, once it is on the page.
        let id = stage_heading(at);
        request_animation_frame(move || {
            if let Some(heading) = document().get_element_by_id(&id) {
                let _ = wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&heading).focus();
            }
        });
    };

    let (sequence_id, rate_id, method_id) = (demo.id("sequence"), demo.id("rate"), demo.id("method"));
    view! {
        <section class="demo one-step" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: one training step, stage by stage"</h3>
            <p>
                "One step of training from the base model, on one sequence of the Pip stories: the same step the \
                 trainer takes 60 times in a run, with a batch of one sequence, no warmup (the rate is the full \
                 learning rate at once) and gradients clipped to a norm of 1."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <form class="demo-form one-step-controls" on:submit=take novalidate>
                <div class="field">
                    <label for=sequence_id.clone()>"Training sequence"</label>
                    <input
                        id=sequence_id
                        type="number"
                        min="1"
                        max=move || sequences().map(|n| n.to_string())
                        prop:value=move || sequence.get().to_string()
                        on:change=move |ev| {
                            let most = sequences().unwrap_or(usize::MAX);
                            sequence.set(event_target_value(&ev).trim().parse::<usize>().unwrap_or(1).clamp(1, most));
                        }
                    />
                    <p class="hint">{move || sequences().map(|n| format!("1 to {}: the Pip stories cut into pieces of 64 tokens.", format_count(n)))}</p>
                </div>
                <div class="field">
                    <label for=rate_id.clone()>"Learning rate"</label>
                    <select id=rate_id on:change=move |ev| learning_rate.set(event_target_value(&ev).parse().unwrap_or(1e-2))>
                        {LEARNING_RATES.iter().map(|&rate| view! {
                            <option value=rate.to_string() selected=move || learning_rate.get() == rate>{rate.to_string()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for=method_id.clone()>"What trains"</label>
                    <select
                        id=method_id
                        on:change=move |ev| {
                            if let Some(m) = TrainingMethod::from_name(&event_target_value(&ev)) {
                                method.set(m);
                            }
                        }
                    >
                        {[(TrainingMethod::Lora, "LoRA, rank 8, every linear layer"), (TrainingMethod::Full, "Full fine-tuning")]
                            .into_iter()
                            .map(|(m, label)| view! { <option value=m.name() selected=move || method.get() == m>{label}</option> })
                            .collect_view()}
                    </select>
                </div>
                <p class="demo-actions">
                    <button type="submit" disabled=move || !ready() || waiting()>
                        {move || if waiting() { "Taking the step…" } else { "Take one step" }}
                    </button>
                </p>
            </form>
            <Notices demo />
            {move || shown.get().map(|(step, is_recorded)| {
                let reading = StepReading::of(&step);
                let method_label = match step.settings.method {
                    TrainingMethod::Lora => "LoRA",
                    _ => "full fine-tuning",
                };
                view! {
                    <p class="demo-recorded-label" role="status">
                        {if is_recorded { "Recorded when this site was built: " } else { "Your step: " }}
                        {format!(
                            "sequence {} of {}, {method_label}, learning rate {}.",
                            step.sequence + 1,
                            format_count(step.sequences),
                            step.settings.learning_rate,
                        )}
                        {is_recorded.then_some(" Take one step to see your own.")}
                    </p>
                    <ol class="one-step-stages">
                        {Stage::ALL.iter().enumerate().map(|(at, &this)| {
                            let step = step.clone();
                            let reading = reading.clone();
                            let heading = stage_heading(at);
                            view! {
                                <Show when=move || { stage.get() >= at }>
                                    <li>
                                        <h4 id=heading.clone() tabindex="-1">{this.title()}</h4>
                                        {stage_view(this, &step, &reading, demo)}
                                    </li>
                                </Show>
                            }
                        }).collect_view()}
                    </ol>
                    <p class="demo-actions">
                        {move || (stage.get() + 1 < Stage::ALL.len()).then(|| view! {
                            <button type="button" on:click=next>
                                {format!("Next: {}", Stage::ALL[stage.get() + 1].name())}
                            </button>
                            " "
                            <button type="button" class="secondary" on:click=move |_| stage.set(Stage::ALL.len() - 1)>
                                "Show every stage"
                            </button>
                        })}
                    </p>
                }
            })}
        </section>
    }
}

fn stage_view(stage: Stage, step: &OneStep, reading: &StepReading, demo: LiveDemo) -> AnyView {
    match stage {
        Stage::Batch => {
            let positions = step.tokens.len();
            let padded = step.tokens.iter().filter(|t| !t.trained).count();
            view! {
                <p>
                    {format!(
                        "The model reads {} and at each one predicts the token that comes next: {} in all. {} \
                         count in the loss{}.",
                        count_of(positions, "position"),
                        count_of(positions, "prediction"),
                        format_count(reading.targets),
                        if padded > 0 {
                            format!("; the other {} are padding after the story's end, masked out", format_count(padded))
                        } else {
                            String::new()
                        },
                    )}
                </p>
                <ol class="token-chips" aria-label="The tokens to predict, in order">
                    {step.tokens.iter().map(|t| view! {
                        <li class="token-chip" class:trained=t.trained class:special=t.target.special>{t.target.text.clone()}</li>
                    }).collect_view()}
                </ol>
                <p class="hint">"Outlined: a target that counts in the loss; plain: masked out."</p>
            }
            .into_any()
        }
        Stage::Loss => {
            let caption = demo.id("loss-caption");
            view! {
                <p>
                    {format!(
                        "For each target the model gives a probability p; its share of the loss is −ln p: 0 when p \
                         is 1, large when p is small. The loss is their mean over the {} targets: {:.3}.",
                        format_count(reading.targets),
                        step.loss_before,
                    )}
                </p>
                <TokenTable caption_id=caption caption="The targets the model found hardest before the step"
                    tokens=reading.hardest.clone() after=false />
            }
            .into_any()
        }
        Stage::Gradients => {
            let factors = present_factors(step);
            let clip = step.clip_factor();
            view! {
                <p>
                    {format!(
                        "Backpropagation gives every trainable number its gradient: how the loss changes as it \
                         moves. Together they have a norm of {:.3}{}.",
                        step.grad_norm,
                        if clip < 1.0 {
                            format!(
                                ", above the limit of {}: clipping multiplies every gradient by {:.3}, keeping its direction",
                                step.max_grad_norm, clip
                            )
                        } else {
                            format!(", within the limit of {}: clipping leaves it as it is", step.max_grad_norm)
                        },
                    )}
                    {(reading.without_gradient > 0).then(|| format!(
                        " {} of the {} matrices have a gradient of exactly zero.",
                        format_count(reading.without_gradient),
                        format_count(step.matrices.len()),
                    ))}
                </p>
                {factors.into_iter().map(|factor| view! {
                    <MatrixGrid step=step.clone() factor demo
                        what="gradient norm" value=|m: &MatrixStep| m.grad_norm />
                }).collect_view()}
            }
            .into_any()
        }
        Stage::Update => {
            let factors = present_factors(step);
            view! {
                <p>
                    {format!(
                        "AdamW moved {} of the {} numbers in the matrices below{}. The largest change of any one is \
                         {:.4}; the learning rate is {}.",
                        format_count(reading.moved),
                        format_count(reading.values),
                        if step.settings.method == TrainingMethod::Full {
                            " (full fine-tuning also trains the token embeddings and the norms, left out here)"
                        } else {
                            ""
                        },
                        reading.largest_change,
                        step.settings.learning_rate,
                    )}
                </p>
                {factors.into_iter().map(|factor| view! {
                    <MatrixGrid step=step.clone() factor demo
                        what="largest change of one number" value=|m: &MatrixStep| m.largest_change />
                }).collect_view()}
            }
            .into_any()
        }
        Stage::After => {
            let caption = demo.id("after-caption");
            view! {
                <p>
                    {format!(
                        "Run again, the same sequence's loss is {:.3}, from {:.3}; {} of its {} targets became more \
                         likely. On {} held-out sequences the step did not train on, the loss went from {:.3} to {:.3}.",
                        step.loss_after,
                        step.loss_before,
                        format_count(reading.rose),
                        format_count(reading.targets),
                        format_count(step.held_out),
                        step.held_out_before,
                        step.held_out_after,
                    )}
                </p>
                <TokenTable caption_id=caption caption="The targets whose probability rose most"
                    tokens=reading.risen.clone() after=true />
            }
            .into_any()
        }
    }
}

/// The factors that train in this step, in [`Factor::ALL`]'s order.
fn present_factors(step: &OneStep) -> Vec<Factor> {
    Factor::ALL.into_iter().filter(|f| step.matrices.iter().any(|m| m.factor == *f)).collect()
}

/// Tokens with their probability before (and after) the step.
#[component]
fn TokenTable(caption_id: String, caption: &'static str, tokens: Vec<TokenStep>, after: bool) -> impl IntoView {
    view! {
        <ScrollingTable caption_id=caption_id.clone() caption=move || caption>
            <thead>
                <tr>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Model's guess before"</th>
                    <th scope="col">"p before"</th>
                    <th scope="col">"−ln p"</th>
                    {after.then(|| view! { <th scope="col">"p after"</th> })}
                </tr>
            </thead>
            <tbody>
                {tokens.into_iter().map(|t| view! {
                    <tr>
                        <th scope="row"><span class="token-chip">{t.target.text.clone()}</span></th>
                        <td><span class="token-chip">{t.guess.text.clone()}</span></td>
                        <td>{percent(t.before)}</td>
                        <td>{format!("{:.3}", t.loss_before())}</td>
                        {after.then(|| view! { <td>{percent(t.after)}</td> })}
                    </tr>
                }).collect_view()}
            </tbody>
        </ScrollingTable>
    }
}

/// One figure of every matrix of one factor: projections down, layers across.
#[component]
fn MatrixGrid(
    step: OneStep,
    factor: Factor,
    demo: LiveDemo,
    what: &'static str,
    value: fn(&MatrixStep) -> f64,
) -> impl IntoView {
    let layers = step.matrices.iter().map(|m| m.layer + 1).max().unwrap_or(0);
    let caption_id = demo.id(&format!("{}-{}", what.replace(' ', "-"), factor.name()));
    let cell = move |layer: usize, projection: Projection| {
        step.matrices
            .iter()
            .find(|m| m.layer == layer && m.projection == projection && m.factor == factor)
            .map(|m| format!("{:.4}", value(m)))
            .unwrap_or_else(|| "–".into())
    };
    view! {
        <ScrollingTable caption_id=caption_id.clone() class="matrix-grid" caption=move || format!("{}: {what}", factor.name())>
            <thead>
                <tr>
                    <th scope="col">"Projection"</th>
                    {(0..layers).map(|l| view! { <th scope="col">{format!("Layer {}", l + 1)}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {Projection::ALL.iter().map(|&p| view! {
                    <tr>
                        <th scope="row">{p.name()}</th>
                        {(0..layers).map(|l| view! { <td>{cell(l, p)}</td> }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </ScrollingTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TokenPiece;

    fn token(id: u32, trained: bool, before: f64, after: f64) -> TokenStep {
        let piece = TokenPiece { id, text: format!("t{id}"), special: false };
        TokenStep { target: piece.clone(), trained, before, after, guess: piece }
    }

    fn matrix(factor: Factor, grad_norm: f64, values: usize, moved: usize, largest_change: f64) -> MatrixStep {
        let projection = Projection::QProj;
        MatrixStep { layer: 0, projection, factor, values, grad_norm, update_norm: 0.0, largest_change, moved }
    }

    #[test]
    fn the_reading_counts_targets_and_orders_the_hardest_and_the_most_risen() {
        let step = OneStep {
            settings: TrainSettings::default(),
            sequence: 0,
            sequences: 3,
            tokens: vec![
                token(1, true, 0.5, 0.6),
                token(2, true, 0.01, 0.5),
                token(3, true, 0.9, 0.8),
                token(4, false, 0.001, 0.9),
            ],
            loss_before: 1.0,
            loss_after: 0.5,
            held_out: 2,
            held_out_before: 2.0,
            held_out_after: 1.9,
            grad_norm: 4.0,
            max_grad_norm: 1.0,
            matrices: vec![matrix(Factor::LoraA, 0.0, 512, 0, 0.0), matrix(Factor::LoraB, 2.0, 256, 256, 0.01)],
        };
        let reading = StepReading::of(&step);
        assert_eq!(reading.targets, 3, "the masked token is no target");
        assert_eq!(reading.hardest.iter().map(|t| t.target.id).collect::<Vec<_>>(), [2, 1, 3]);
        assert_eq!(reading.risen.iter().map(|t| t.target.id).collect::<Vec<_>>(), [2, 1, 3]);
        assert_eq!((reading.rose, reading.without_gradient), (2, 1));
        assert_eq!((reading.values, reading.moved, reading.largest_change), (768, 256, 0.01));
        assert_eq!(step.clip_factor(), 0.25);
        assert_eq!(present_factors(&step), [Factor::LoraA, Factor::LoraB]);
    }
}
