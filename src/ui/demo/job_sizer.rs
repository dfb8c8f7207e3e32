//! Will the job fit, and how long will it take (lesson "Toolchains")? A published model, a datasheet GPU, a way to
//! train and the run's own settings, sized by [`crate::sizing`]: memory part by part against the GPU's, and the
//! time a step and the run take at a utilisation the learner sets. The model and the way it trains are the job
//! target that "Run it bigger" writes its files for, so the sized job and the downloaded one are the same.

use leptos::prelude::*;

use super::field::Field;
use super::live::LiveDemo;
use super::numbers::{format_bytes, format_count, format_duration};
use super::run_bigger::CheckpointingBox;
use super::table::ScrollingTable;
use crate::protocol::{TrainSettings, TrainingMethod};
use crate::run_bigger::{JobTarget, Precision};
use crate::sizing::{published, Job, Way, GPUS, MODELS};

/// What the sizer asks beyond the run's settings and the job target: the GPU, and the numbers a job on a big GPU
/// sets differently from a run in this tab. Numbers are kept as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Sizer {
    /// An index into [`GPUS`].
    pub gpu: usize,
    /// Full fine-tuning or LoRA; with the target's precision it makes the [`Way`].
    pub method: TrainingMethod,
    pub micro_batch: String,
    pub seq_len: String,
    /// The share of the GPU's peak the job reaches, in percent.
    pub utilisation: String,
}

impl Default for Sizer {
    /// One sequence of 2,048 tokens on an L4, at a utilisation of 35% (the lesson says where that comes from).
    fn default() -> Self {
        Sizer {
            gpu: 1,
            method: TrainingMethod::Lora,
            micro_batch: "1".into(),
            seq_len: "2048".into(),
            utilisation: "35".into(),
        }
    }
}

/// The most tokens the target's model reads at once, where it is a listed one.
fn context(target: &JobTarget) -> usize {
    published(&target.base_model).map_or(usize::MAX, |m| m.shape.max_position_embeddings)
}

/// Which of the sizer's numbers is wrong, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    MicroBatch,
    SeqLen,
    Utilisation,
}

impl Sizer {
    /// The way a job trains: full fine-tuning, or LoRA on the target's base. A 16-bit or 4-bit base: the sizer's
    /// target starts at bf16 and [`Sizer::choose`] never picks 32 bits (no GPU job stores its base in fp32).
    pub fn way(&self, precision: Precision) -> Way {
        match (self.method, precision) {
            (TrainingMethod::Full, _) => Way::Full,
            (_, Precision::Nf4) => Way::Qlora,
            _ => Way::Lora,
        }
    }

    /// Picks a way: its method here, and its base's precision in the target (a 16-bit one unless QLoRA).
    pub fn choose(&mut self, way: Way, target: &mut JobTarget) {
        self.method = way.method();
        target.precision = match way {
            Way::Qlora => Precision::Nf4,
            Way::Full | Way::Lora if target.precision == Precision::Nf4 => Precision::Bf16,
            _ => target.precision,
        };
    }

    /// A number's problem, if it has one, for a model that reads at most `context` tokens.
    pub fn problem(&self, number: Number, context: usize) -> Option<String> {
        let whole = |text: &str, min: usize, max: usize| match text.trim().parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => None,
            _ => Some(format!("Enter a whole number from {} to {}.", format_count(min), format_count(max))),
        };
        match number {
            Number::MicroBatch => whole(&self.micro_batch, 1, 256),
            Number::SeqLen => whole(&self.seq_len, 16, context),
            Number::Utilisation => match self.utilisation.trim().parse::<f64>() {
                Ok(u) if u > 0.0 && u <= 100.0 => None,
                _ => Some("Enter a percentage above 0 and at most 100.".into()),
            },
        }
    }

    /// The job the sizer describes: `base`'s settings with this method, micro-batch and sequence, and how it
    /// trains. `None` while a number has a problem.
    pub fn job(&self, base: &TrainSettings, target: &JobTarget) -> Option<Job> {
        if [Number::MicroBatch, Number::SeqLen].iter().any(|&n| self.problem(n, context(target)).is_some()) {
            return None;
        }
        let settings = TrainSettings {
            method: self.method,
            batch_size: self.micro_batch.trim().parse().ok()?,
            // This site's sequence length counts predictions: one fewer than the tokens a sequence holds.
            seq_len: self.seq_len.trim().parse::<usize>().ok()? - 1,
            ..base.clone()
        };
        Some(Job { settings, way: self.way(target.precision), gradient_checkpointing: target.gradient_checkpointing })
    }

    /// The utilisation as a share, while it is valid.
    pub fn utilisation(&self) -> Option<f64> {
        self.problem(Number::Utilisation, 0)
            .is_none()
            .then(|| self.utilisation.trim().parse::<f64>().ok())
            .flatten()
            .map(|percent| percent / 100.0)
    }
}

/// What would make a job that does not fit smaller, in the order they cost least.
fn remedies(job: &Job) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !job.gradient_checkpointing {
        out.push("turn on gradient checkpointing");
    }
    match job.way {
        Way::Full => out.push("train LoRA adapters instead"),
        Way::Lora => out.push("store the base in 4 bits (QLoRA)"),
        Way::Qlora => {}
    }
    if job.settings.batch_size > 1 {
        out.push("use a smaller micro-batch with more accumulation");
    }
    out.push("shorten the sequences, or choose a GPU with more memory");
    out
}

#[component]
pub fn JobSizer(
    demo: LiveDemo,
    /// The run's settings the job starts from (rank, targets, accumulation, steps...).
    #[prop(into)]
    base: Signal<TrainSettings>,
    /// The model and its base's precision, shared with "Run it bigger".
    target: RwSignal<JobTarget>,
    sizer: RwSignal<Sizer>,
) -> impl IntoView {
    let model = move || target.with(|t| MODELS.iter().position(|m| m.hub_id == t.base_model));
    let numbers = [
        (Number::MicroBatch, "micro-batch", "Micro-batch (sequences a forward pass reads)"),
        (Number::SeqLen, "sequence", "Tokens a sequence holds"),
        (Number::Utilisation, "utilisation", "Utilisation: the share of the GPU's peak reached (%)"),
    ];
    let (model_id, gpu_id, way_name, caption_id) =
        (demo.id("sizer-model"), demo.id("sizer-gpu"), demo.id("sizer-way"), demo.id("sizer-caption"));

    let verdict = move || {
        let m = model()?;
        let shape = MODELS[m].shape;
        let (job, gpu) = (sizer.with(|s| s.job(&base.get(), &target.get()))?, GPUS[sizer.with(|s| s.gpu)]);
        let memory = job.memory(&shape);
        let fits = if memory.total() <= gpu.memory_gb * 1e9 {
            format!(
                "Fits on one {} ({} GB): about {} of it.",
                gpu.name,
                gpu.memory_gb,
                format_bytes(memory.total() as u64)
            )
        } else {
            format!(
                "Does not fit on one {} ({} GB): it needs about {}, {} more. To fit: {}.",
                gpu.name,
                gpu.memory_gb,
                format_bytes(memory.total() as u64),
                format_bytes((memory.total() - gpu.memory_gb * 1e9) as u64),
                remedies(&job).join("; ")
            )
        };
        let time = sizer.with(|s| s.utilisation().map(|utilisation| (utilisation, s.utilisation.trim().to_string())));
        let time = time.map(|(utilisation, percent)| {
            let step = job.seconds_per_step(&shape, &gpu, utilisation);
            format!(
                "A step reads {} tokens at {:.2} billion operations each: about {:.2} s at {percent}% of the {}'s {} \
                 trillion operations a second ({}, the vendor's peak). The run's {} steps: {}.",
                format_count(job.tokens_per_step() as u64),
                job.work_per_token(&shape) / 1e9,
                step,
                gpu.name,
                gpu.tensor_tflops,
                gpu.note,
                format_count(job.settings.steps),
                format_duration(step * job.settings.steps as f64),
            )
        });
        Some((memory, fits, time))
    };

    view! {
        <section class="demo-sizer" aria-labelledby=demo.id("sizer-heading")>
            <h4 id=demo.id("sizer-heading")>"Size the job for a real GPU"</h4>
            <div class="field">
                <label for=model_id.clone()>"Model"</label>
                <select
                    id=model_id
                    on:change=move |ev| {
                        if let Ok(m) = event_target_value(&ev).parse::<usize>() {
                            target.update(|t| t.base_model = MODELS[m].hub_id.to_string());
                        }
                    }
                >
                    <option value="" disabled=true selected=move || model().is_none()>
                        "Another model (name it below to download its job)"
                    </option>
                    {MODELS.iter().enumerate().map(|(m, published)| view! {
                        <option value=m.to_string() selected=move || model() == Some(m)>
                            {format!("{} ({} parameters)", published.name, format_count(published.shape.total_params()))}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=gpu_id.clone()>"GPU"</label>
                <select
                    id=gpu_id
                    on:change=move |ev| {
                        if let Ok(g) = event_target_value(&ev).parse::<usize>() {
                            sizer.update(|s| s.gpu = g);
                        }
                    }
                >
                    {GPUS.iter().enumerate().map(|(g, gpu)| view! {
                        <option value=g.to_string() selected=move || sizer.with(|s| s.gpu) == g>
                            {format!("{} ({} GB)", gpu.name, gpu.memory_gb)}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <fieldset class="demo-method">
                <legend>"How it trains"</legend>
                {Way::ALL.map(|way| view! {
                    <label>
                        <input
                            type="radio"
                            name=way_name.clone()
                            prop:checked=move || sizer.with(|s| s.way(target.with(|t| t.precision))) == way
                            on:change=move |_| {
                                let mut t = target.get_untracked();
                                sizer.update(|s| s.choose(way, &mut t));
                                target.set(t);
                            }
                        />
                        {way.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            <CheckpointingBox target label="Gradient checkpointing" />
            {numbers.map(|(number, key, label)| {
                let value = RwSignal::new(sizer.with_untracked(|s| match number {
                    Number::MicroBatch => s.micro_batch.clone(),
                    Number::SeqLen => s.seq_len.clone(),
                    Number::Utilisation => s.utilisation.clone(),
                }));
                Effect::new(move |_| {
                    let text = value.get();
                    sizer.update(|s| match number {
                        Number::MicroBatch => s.micro_batch = text,
                        Number::SeqLen => s.seq_len = text,
                        Number::Utilisation => s.utilisation = text,
                    });
                });
                let error = Signal::derive(move || sizer.with(|s| s.problem(number, target.with(context))));
                view! { <Field id=demo.id(key) label value error reveal=Signal::stored(true) /> }
            }).collect_view()}
            {move || match verdict() {
                None if model().is_none() => view! {
                    <p class="hint">"Choose one of the listed models to size the job; any model can be downloaded."</p>
                }.into_any(),
                None => view! { <p class="hint">"The estimate appears once the numbers above are valid."</p> }.into_any(),
                Some((memory, fits, time)) => view! {
                    <ScrollingTable caption_id=caption_id.clone() caption=|| "Memory on the GPU, part by part (an estimate)">
                        <thead>
                            <tr><th scope="col">"Part"</th><th scope="col">"Memory"</th></tr>
                        </thead>
                        <tbody>
                            {memory.parts().map(|(part, bytes)| view! {
                                <tr><th scope="row">{part}</th><td>{format_bytes(bytes as u64)}</td></tr>
                            }).collect_view()}
                            <tr><th scope="row">"In all"</th><td>{format_bytes(memory.total() as u64)}</td></tr>
                        </tbody>
                    </ScrollingTable>
                    <p role="status">{fits}</p>
                    {time.map(|time| view! { <p>{time}</p> })}
                }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(precision: Precision) -> JobTarget {
        JobTarget { base_model: MODELS[1].hub_id.into(), precision, gradient_checkpointing: false }
    }

    #[test]
    fn choosing_a_way_sets_the_method_and_the_bases_precision() {
        let (mut sizer, mut t) = (Sizer::default(), target(Precision::F32));
        sizer.choose(Way::Qlora, &mut t);
        assert_eq!(
            (sizer.method, t.precision, sizer.way(t.precision)),
            (TrainingMethod::Lora, Precision::Nf4, Way::Qlora)
        );
        sizer.choose(Way::Full, &mut t);
        assert_eq!(
            (sizer.method, t.precision, sizer.way(t.precision)),
            (TrainingMethod::Full, Precision::Bf16, Way::Full)
        );
        // A 32-bit base stays 32-bit when only the method changes.
        let mut f32_target = target(Precision::F32);
        sizer.choose(Way::Lora, &mut f32_target);
        assert_eq!(f32_target.precision, Precision::F32);
    }

    #[test]
    fn the_job_takes_the_sizers_numbers_and_the_runs_other_settings() {
        let base = TrainSettings { lora_rank: 16, steps: 300, ..TrainSettings::default() };
        let job = Sizer::default().job(&base, &target(Precision::Nf4)).unwrap();
        assert_eq!((job.settings.batch_size, job.settings.seq_len), (1, 2047));
        assert_eq!((job.settings.lora_rank, job.settings.steps, job.way), (16, 300, Way::Qlora));
        assert_eq!(job.tokens_per_step(), 2048.0);
    }

    #[test]
    fn a_number_out_of_range_is_named_with_its_range_and_stops_the_estimate() {
        let sizer = Sizer { seq_len: "9000".into(), utilisation: "0".into(), ..Sizer::default() };
        assert_eq!(sizer.problem(Number::SeqLen, 8_192).unwrap(), "Enter a whole number from 16 to 8,192.");
        assert_eq!(sizer.problem(Number::Utilisation, 0).unwrap(), "Enter a percentage above 0 and at most 100.");
        assert_eq!(sizer.utilisation(), None);
        // SmolLM2 reads 8,192 tokens at most, Llama 3.1 8B 131,072.
        let smol = JobTarget { base_model: MODELS[0].hub_id.into(), ..target(Precision::Bf16) };
        assert!(sizer.job(&TrainSettings::default(), &smol).is_none());
        assert!(sizer.job(&TrainSettings::default(), &target(Precision::Bf16)).is_some());
    }
}
