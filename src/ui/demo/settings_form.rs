//! The training settings, with what the choice costs (parameters trained, memory) shown as it changes. Basic
//! controls are what to train, LoRA's rank and alpha, the learning rate, steps, batch size and seed; all controls
//! add rsLoRA, DPO, dropout, the target projections (with presets), the schedule and warmup, gradient accumulation,
//! sequence length, how often to evaluate, how many training examples and the replay share. DPO's β is on a slider whenever the settings train with DPO. Every
//! number's range comes from [`crate::settings`].

use leptos::ev::SubmitEvent;
use leptos::leptos_dom::helpers::request_animation_frame;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::field::{Field, Slider};
use super::live::LiveDemo;
use super::numbers::{format_bytes, format_count, format_percent};
use crate::protocol::{ModelShape, TrainSettings, TrainingMethod};
use crate::settings::{
    Choice, LossMask, NumberSetting, Projection, RunPreset, Schedule, TargetPreset, ALL_EXAMPLES, BATCH_SIZE, DPO_BETA,
    DPO_NEEDS_LORA, EVAL_EVERY, GRAD_ACCUM, LEARNING_RATE, LORA_ALPHA, LORA_DROPOUT, LORA_RANK, MAX_EXAMPLES, REPLAY,
    REPLAY_NEEDS_NEXT_TOKEN, SEED, SEQ_LEN, STEPS, WARMUP_STEPS,
};

/// How many of the settings a form offers: none (the settings it was given, and a Train button), the basic ones,
/// or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controls {
    None,
    Basic,
    All,
}

impl Controls {
    /// `none`, `basic` or `all`, as an embed's `controls` parameter says it.
    pub fn from_name(name: &str) -> Option<Controls> {
        match name {
            "none" => Some(Controls::None),
            "basic" => Some(Controls::Basic),
            "all" => Some(Controls::All),
            _ => None,
        }
    }
}

const METHODS: [(TrainingMethod, &str, &str); 3] = [
    (TrainingMethod::Lora, "LoRA", "small adapters train beside the frozen weights"),
    (TrainingMethod::Full, "Full fine-tuning", "every weight trains"),
    (TrainingMethod::Frozen, "Frozen", "nothing trains: the baseline to compare with"),
];

/// A number field's text as typed, and the setting that reads it.
#[derive(Clone, Copy)]
struct NumberInput {
    text: RwSignal<String>,
    setting: NumberSetting,
}

impl NumberInput {
    fn new(setting: NumberSetting) -> NumberInput {
        NumberInput { text: RwSignal::new(String::new()), setting }
    }

    fn show(&self, value: impl ToString) {
        self.text.set(value.to_string());
    }

    fn value(&self) -> Result<f64, String> {
        self.setting.parse(&self.text.get())
    }

    /// A whole number, or `None` for the word [`ALL_EXAMPLES`] (or nothing): the training examples' field.
    fn count_or_all(&self) -> Result<Option<usize>, String> {
        let text = self.text.get();
        if text.trim().is_empty() || text.trim().eq_ignore_ascii_case(ALL_EXAMPLES) {
            return Ok(None);
        }
        self.setting.parse(&text).map(|n| Some(n as usize)).map_err(|e| format!("{e} Or “{ALL_EXAMPLES}”."))
    }
}

#[component]
pub fn TrainingForm(
    demo: LiveDemo,
    #[prop(default = Controls::Basic)] controls: Controls,
    /// The values the form shows; when they change (a preset), every field takes the new value.
    #[prop(optional, into)]
    initial: Option<Signal<TrainSettings>>,
    /// No changes while loading or while a run is in progress.
    #[prop(into)]
    locked: Signal<bool>,
    on_train: impl Fn(TrainSettings) + 'static,
) -> impl IntoView {
    let shown = initial.unwrap_or_else(|| Signal::stored(TrainSettings::default()));
    let method = RwSignal::new(TrainingMethod::Lora);
    let use_rslora = RwSignal::new(false);
    let loss_mask = RwSignal::new(LossMask::Responses);
    let targets = RwSignal::new(Vec::new());
    let schedule = RwSignal::new(Schedule::Cosine);
    let rank = NumberInput::new(LORA_RANK);
    let alpha = NumberInput::new(LORA_ALPHA);
    let dropout = NumberInput::new(LORA_DROPOUT);
    let learning_rate = NumberInput::new(LEARNING_RATE);
    let warmup = NumberInput::new(WARMUP_STEPS);
    let steps = NumberInput::new(STEPS);
    let batch_size = NumberInput::new(BATCH_SIZE);
    let grad_accum = NumberInput::new(GRAD_ACCUM);
    let seq_len = NumberInput::new(SEQ_LEN);
    let eval_every = NumberInput::new(EVAL_EVERY);
    let seed = NumberInput::new(SEED);
    let examples = NumberInput::new(MAX_EXAMPLES);
    let replay = NumberInput::new(REPLAY);
    // DPO's β, on a slider, for settings that train with DPO (a preset or a demo's).
    let dpo = RwSignal::new(false);
    let beta = RwSignal::new(0.1);
    let fill = move |settings: TrainSettings| {
        dpo.set(settings.dpo_beta.is_some());
        if let Some(value) = settings.dpo_beta {
            beta.set(value);
        }
        method.set(settings.method);
        use_rslora.set(settings.use_rslora);
        loss_mask.set(settings.loss_mask);
        targets.set(settings.lora_targets);
        schedule.set(settings.schedule);
        rank.show(settings.lora_rank);
        alpha.show(settings.lora_alpha);
        dropout.show(settings.lora_dropout);
        learning_rate.show(settings.learning_rate);
        warmup.show(settings.warmup_steps);
        steps.show(settings.steps);
        batch_size.show(settings.batch_size);
        grad_accum.show(settings.grad_accum);
        seq_len.show(settings.seq_len);
        eval_every.show(settings.eval_every);
        seed.show(settings.seed);
        examples.show(settings.max_examples.map_or_else(|| ALL_EXAMPLES.to_string(), |n| n.to_string()));
        replay.show(settings.replay);
    };
    fill(shown.get_untracked());
    // A new value to show (a preset): every field takes it.
    Effect::new(move |previous: Option<()>| {
        let settings = shown.get();
        if previous.is_some() {
            fill(settings);
        }
    });
    let attempted = RwSignal::new(false);
    let form = NodeRef::<leptos::html::Form>::new();
    let all = controls == Controls::All;

    let uses_lora = move || method.get() == TrainingMethod::Lora;
    // LoRA's settings count only for LoRA: the other methods ignore them, so they cannot be wrong.
    let lora_value = move |input: NumberInput| if uses_lora() { input.value().map(Some) } else { Ok(None) };

    let settings = Memo::new(move |_| {
        // What LoRA's fields hold for other methods, which ignore them.
        let defaults = TrainSettings::default();
        let settings = TrainSettings {
            method: method.get(),
            lora_rank: lora_value(rank).ok()?.map_or(defaults.lora_rank, |r| r as usize),
            lora_alpha: lora_value(alpha).ok()?.unwrap_or(defaults.lora_alpha),
            use_rslora: use_rslora.get(),
            loss_mask: loss_mask.get(),
            lora_dropout: lora_value(dropout).ok()?.unwrap_or(defaults.lora_dropout),
            lora_targets: targets.get(),
            learning_rate: learning_rate.value().ok()?,
            schedule: schedule.get(),
            // A form without the warmup field cannot be asked to fix it: there it never outlasts the run.
            warmup_steps: if all {
                warmup.value().ok()? as usize
            } else {
                (warmup.value().ok()? as usize).min(steps.value().ok()? as usize)
            },
            steps: steps.value().ok()? as usize,
            batch_size: batch_size.value().ok()? as usize,
            grad_accum: grad_accum.value().ok()? as usize,
            seq_len: seq_len.value().ok()? as usize,
            eval_every: eval_every.value().ok()? as usize,
            seed: seed.value().ok()? as u64,
            dpo_beta: dpo.get().then(|| beta.get()),
            // Fields of the full form only; a smaller one keeps them as its settings came (a demo's, a cell's).
            max_examples: if all { examples.count_or_all().ok()? } else { shown.with(|s| s.max_examples) },
            replay: if all { replay.value().ok()? } else { shown.with(|s| s.replay) },
        };
        settings.problems().is_empty().then_some(settings)
    });
    // Problems between settings (warmup longer than the run; no target), shown under the fields.
    let clashes = move || {
        let warmup_text = warmup.value().ok()?;
        let steps_text = steps.value().ok()?;
        let mut messages = Vec::new();
        if all && warmup_text > steps_text {
            messages.push(format!("Warmup ({warmup_text} steps) cannot be longer than the run ({steps_text} steps)."));
        }
        if uses_lora() && targets.with(Vec::is_empty) {
            messages.push("Choose at least one projection for LoRA to adapt.".to_string());
        }
        if dpo.get() && !uses_lora() {
            messages.push(DPO_NEEDS_LORA.to_string());
        }
        if all && dpo.get() && replay.value().is_ok_and(|share| share > 0.0) {
            messages.push(REPLAY_NEEDS_NEXT_TOKEN.to_string());
        }
        (!messages.is_empty()).then_some(messages)
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        match settings.get_untracked() {
            Some(settings) => on_train(settings),
            None => request_animation_frame(move || {
                let first_invalid =
                    form.get_untracked().and_then(|form| form.query_selector("[aria-invalid]").ok().flatten());
                if let Some(input) = first_invalid.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = input.focus();
                }
            }),
        }
    };

    let number = move |input: NumberInput, part: &str, hint: Option<&'static str>, lora_only: bool| {
        view! {
            <Field
                id=demo.id(part) label=input.setting.label value=input.text setting=input.setting
                error=Signal::derive(move || if lora_only && !uses_lora() { None } else { input.value().err() })
                reveal=attempted
                disabled=Signal::derive(move || lora_only && !uses_lora())
                hint=hint.unwrap_or_default()
            />
        }
    };
    let method_name = demo.id("method");
    let beta_hint = demo.id("dpo-beta-hint");
    let any = controls != Controls::None;

    view! {
        <form class="demo-settings" on:submit=submit novalidate node_ref=form>
            <fieldset disabled=locked>
                <legend>"Training settings"</legend>
                {any.then(|| view! {
                    <fieldset class="demo-method">
                        <legend>"What to train"</legend>
                        {METHODS.iter().map(|&(choice, name, explanation)| view! {
                            <label>
                                <input
                                    type="radio"
                                    name=method_name.clone()
                                    prop:checked=move || method.get() == choice
                                    on:change=move |_| method.set(choice)
                                />
                                <span><strong>{name}</strong> ": " {explanation}</span>
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <div class="demo-fields">
                        {number(rank, "rank", Some("How wide each adapter is."), true)}
                        {number(alpha, "alpha", Some("Adapters are scaled by alpha ÷ r."), true)}
                        {all.then(|| number(dropout, "dropout", Some("Share of the adapters' inputs zeroed while training."), true))}
                        {number(learning_rate, "learning-rate", Some("For example 0.005 or 5e-3."), false)}
                        {all.then(|| number(warmup, "warmup", Some("The learning rate rises from 0 over these steps."), false))}
                        {number(steps, "steps", None, false)}
                        {number(batch_size, "batch-size", Some("Sequences per micro-batch."), false)}
                        {all.then(|| number(grad_accum, "grad-accum", Some("Micro-batches added up per step."), false))}
                        {all.then(|| number(seq_len, "seq-len", Some("Tokens per training sequence."), false))}
                        {all.then(|| number(eval_every, "eval-every", Some("Steps between held-out evaluations."), false))}
                        {all.then(|| view! {
                            <Field
                                id=demo.id("examples") label=MAX_EXAMPLES.label value=examples.text kind="text"
                                error=Signal::derive(move || examples.count_or_all().err())
                                reveal=attempted
                                hint="The first this many of the training split, or “all”: fewer examples for as many steps are more passes over each."
                            />
                        })}
                        {all.then(|| number(replay, "replay", Some("Share of the training pieces that are the base model's own stories, against forgetting."), false))}
                        {number(seed, "seed", Some("The same seed repeats a run exactly."), false)}
                    </div>
                })}
                {move || dpo.get().then(|| view! {
                    <Slider id=demo.id("dpo-beta") label=DPO_BETA.label value=beta min=0.05 max=2.0 step=0.05
                        shown=|value| format!("{value:.2}") described_by=beta_hint.clone() />
                    <p class="hint" id=beta_hint.clone()>
                        "How far the model may move from the base model: a small β lets it move far, a large one \
                         holds it close. TRL's default is 0.1."
                    </p>
                })}
                {all.then(|| view! {
                    <label class="demo-checkbox">
                        <input
                            type="checkbox"
                            prop:checked=use_rslora
                            disabled=move || !uses_lora()
                            on:change=move |ev| use_rslora.set(event_target_checked(&ev))
                        />
                        "rsLoRA: scale by alpha ÷ √r instead of alpha ÷ r"
                    </label>
                    <label class="demo-checkbox">
                        <input
                            type="checkbox"
                            prop:checked=dpo
                            on:change=move |ev| dpo.set(event_target_checked(&ev))
                        />
                        "DPO: prefer each pair's chosen answer over its rejected one (a data set of preference pairs)"
                    </label>
                    <TargetChoice demo targets disabled=Signal::derive(move || !uses_lora()) />
                    <ChoiceField id=demo.id("schedule") label="Learning-rate schedule" value=schedule text=Schedule::name />
                    <ChoiceField id=demo.id("loss-mask") label="Loss on (held-out losses count the responses)"
                        value=loss_mask text=LossMask::label />
                })}
                {move || attempted.get().then(clashes).flatten().map(|messages| messages.into_iter().map(|m| view! {
                    <p class="field-error">{format!("✗ {m}")}</p>
                }).collect_view())}
                <TrainingCost model=Signal::derive(move || demo.state.with(|s| s.model.as_ref().map(|m| m.shape))) settings />
                <button type="submit">"Train"</button>
            </fieldset>
        </form>
    }
}

/// The seven projections as checkboxes, with the presets as buttons that tick a set of them.
#[component]
fn TargetChoice(
    demo: LiveDemo,
    targets: RwSignal<Vec<Projection>>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let toggle = move |projection: Projection, on: bool| {
        targets.update(|targets| {
            targets.retain(|p| *p != projection);
            if on {
                targets.push(projection);
                targets.sort();
            }
        })
    };
    let hint_id = demo.id("targets-hint");
    view! {
        <fieldset class="demo-targets" disabled=disabled aria-describedby=hint_id.clone()>
            <legend>"LoRA targets"</legend>
            <p class="hint" id=hint_id.clone()>
                {move || match TargetPreset::matching(&targets.get()) {
                    Some(preset) => format!("Preset: {}.", preset.label()),
                    None => "Which projections of each layer get an adapter.".to_string(),
                }}
            </p>
            <div class="demo-presets">
                {TargetPreset::ALL.iter().map(|&preset| view! {
                    <button type="button" class="secondary" on:click=move |_| targets.set(preset.projections())>
                        {preset.label()}
                    </button>
                }).collect_view()}
            </div>
            {Projection::ALL.iter().map(|&projection| view! {
                <label class="demo-checkbox">
                    <input
                        type="checkbox"
                        prop:checked=move || targets.with(|t| t.contains(&projection))
                        on:change=move |ev| toggle(projection, event_target_checked(&ev))
                    />
                    <code>{projection.name()}</code>
                </label>
            }).collect_view()}
        </fieldset>
    }
}

/// One of a [`Choice`]'s values, as a select.
#[component]
fn ChoiceField<C: Choice + Send + Sync>(
    id: String,
    label: &'static str,
    value: RwSignal<C>,
    /// Each choice in words.
    text: fn(C) -> &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                on:change=move |ev| {
                    if let Some(choice) = C::from_name(&event_target_value(&ev)) {
                        value.set(choice);
                    }
                }
            >
                {C::ALL.iter().map(|&choice| view! {
                    <option value=choice.name() selected=move || value.get() == choice>{text(choice)}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// "Trains N of M parameters" and the memory it needs, for the settings as they stand.
#[component]
fn TrainingCost(model: Signal<Option<ModelShape>>, settings: Memo<Option<TrainSettings>>) -> impl IntoView {
    let describe = move || {
        let shape = model.get()?;
        let Some(settings) = settings.get() else {
            return Some(vec!["What this run would train appears once every setting is valid.".to_string()]);
        };
        let (trainable, total) = (shape.trainable_params(&settings), shape.total_params());
        let what_trains = match settings.method {
            TrainingMethod::Lora => format!(
                "Trains {} adapter parameters, {} as many as the model's {} weights, which stay frozen.",
                format_count(trainable),
                format_percent(trainable, total),
                format_count(total),
            ),
            TrainingMethod::Full => format!("Trains all {} parameters (100%).", format_count(total)),
            TrainingMethod::Frozen => format!("Trains none of the {} parameters (0%).", format_count(total)),
        };
        let memory = format!("About {} of memory.", format_bytes(shape.training_memory_bytes(&settings, false)));
        Some(vec![what_trains, memory])
    };
    view! {
        <div class="demo-cost" aria-live="polite">
            {move || describe().map(|lines| lines.into_iter().map(|line| view! { <p>{line}</p> }).collect_view())}
        </div>
    }
}

/// A button for each preset, which puts its settings in the form (`settings`, the form's `initial`); off while
/// the demo is busy.
#[component]
pub fn Presets(demo: LiveDemo, settings: RwSignal<TrainSettings>) -> impl IntoView {
    let busy = Signal::derive(move || demo.state.with(|s| s.busy()));
    view! {
        <div class="demo-presets" role="group" aria-label="Presets">
            <span>"Start from a preset: "</span>
            {RunPreset::ALL.iter().map(|&preset| view! {
                <button type="button" class="secondary" disabled=busy on:click=move |_| settings.set(preset.settings())>
                    {preset.label()}
                </button>
            }).collect_view()}
        </div>
    }
}
