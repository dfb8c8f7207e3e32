//! "Run it bigger": the same job for a larger model on real GPUs. The training examples as JSONL files, one per
//! shape, and the run's settings mapped onto an Axolotl config, a plain TRL + PEFT script and an Unsloth script,
//! for a base held in 32-bit floats (as this site trains), in bf16, or in NF4 (QLoRA).
//!
//! All three keep this site's choices where the tools allow: rank, alpha, dropout, rsLoRA and targets; learning
//! rate, schedule and warmup; batch, accumulation and steps; sequence length; AdamW with weight decay 0, epsilon
//! 1e-8 and the gradient norm clipped to 1; the seed; and the loss mask. The two scripts also write examples as
//! this site does (`crate::data`, in their shared `tinytune_data.py`): BOS, then each part encoded on its own, EOS
//! after each answer, long examples cut into consecutive pieces, so on this site's model in 32-bit floats the TRL
//! script's first loss is this site's. Axolotl applies its own templates.

use serde::{Deserialize, Serialize};

use crate::dataset::Example;
use crate::settings::{Choice, LossMask, Schedule, TrainSettings, TrainingMethod};

/// The three data files an export writes, by the shape of their examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataFile {
    /// `{"text"}`.
    Text,
    /// `{"prompt", "completion"}` (a preference pair's chosen answer is its completion).
    PromptCompletion,
    /// `{"messages"}`.
    Messages,
}

impl DataFile {
    pub const ALL: [DataFile; 3] = [DataFile::Text, DataFile::PromptCompletion, DataFile::Messages];

    pub fn file_name(self) -> &'static str {
        match self {
            DataFile::Text => "train.text.jsonl",
            DataFile::PromptCompletion => "train.prompt-completion.jsonl",
            DataFile::Messages => "train.messages.jsonl",
        }
    }

    fn of(example: &Example) -> DataFile {
        match example {
            Example::Text(_) => DataFile::Text,
            Example::PromptResponse { .. } | Example::Preference { .. } => DataFile::PromptCompletion,
            Example::Chat(_) => DataFile::Messages,
        }
    }

    /// Axolotl's dataset `type` for the file, as YAML to follow `type:`: raw text is `completion`; prompt-completion
    /// pairs a user-defined format that writes the prompt, a space, the completion (this site's template); and
    /// conversations `chat_template`, with the model's own template.
    fn axolotl_type(self) -> &'static str {
        match self {
            DataFile::Text => " completion",
            DataFile::PromptCompletion => {
                "\n      field_instruction: prompt\n      field_output: completion\n      format: \"{instruction} \"\n      \
                 no_input_format: \"{instruction} \""
            }
            DataFile::Messages => " chat_template\n    field_messages: messages",
        }
    }
}

/// The data files `examples` fill, each with the position of its first example, in the order [`DataFile::ALL`]
/// gives: a page that has the data set's summary only can tell from it which files a run writes ([`shapes_used`]).
pub fn shapes(examples: &[Example]) -> Vec<(DataFile, usize)> {
    DataFile::ALL
        .into_iter()
        .filter_map(|file| examples.iter().position(|example| DataFile::of(example) == file).map(|first| (file, first)))
        .collect()
}

/// The data files [`data_files`] writes for `settings` from a data set of `examples` training examples whose
/// [`shapes`] are `shapes`: those whose first example is among the ones the run trains on.
pub fn shapes_used(shapes: &[(DataFile, usize)], examples: usize, settings: &TrainSettings) -> Vec<DataFile> {
    let used = settings.examples_used(examples);
    shapes.iter().filter(|(_, first)| *first < used).map(|(file, _)| *file).collect()
}

/// The examples `settings` trains on (the first [`TrainSettings::max_examples`] of them) as JSONL, one file per
/// shape present, in the order [`DataFile::ALL`] gives.
pub fn data_files(examples: &[Example], settings: &TrainSettings) -> Vec<(DataFile, String)> {
    let examples = &examples[..settings.examples_used(examples.len())];
    DataFile::ALL
        .into_iter()
        .filter_map(|file| {
            let lines: Vec<String> = examples
                .iter()
                .filter(|example| DataFile::of(example) == file)
                .map(|example| match example {
                    Example::Text(text) => serde_json::json!({ "text": text }).to_string(),
                    Example::PromptResponse { prompt, response }
                    | Example::Preference { prompt, chosen: response, .. } => {
                        serde_json::json!({ "prompt": prompt, "completion": response }).to_string()
                    }
                    Example::Chat(messages) => serde_json::json!({ "messages": messages }).to_string(),
                })
                .collect();
            (!lines.is_empty()).then(|| (file, lines.join("\n") + "\n"))
        })
        .collect()
}

/// Hugging Face's scheduler name for ours: each warms up linearly over `warmup_steps` first, which Hugging Face's
/// plain `constant` does not.
fn hf_scheduler(schedule: Schedule) -> &'static str {
    match schedule {
        Schedule::Constant => "constant_with_warmup",
        Schedule::Linear => "linear",
        Schedule::Cosine => "cosine",
    }
}

/// Why a run cannot be exported, if it cannot.
fn exportable(settings: &TrainSettings) -> Result<(), String> {
    if settings.method == TrainingMethod::Frozen {
        return Err("a frozen run trains nothing: choose LoRA or full fine-tuning to export".into());
    }
    if settings.replay > 0.0 {
        return Err("this run replays stories260K's own stories, which a bigger model has no use for: set the replay \
                    share to 0 to export, and mix in general text of your own in the tool (TRL: datasets' \
                    interleave_datasets; Axolotl: a second dataset)"
            .into());
    }
    Ok(())
}

/// The tokens a training sequence holds: this site's sequence length counts predictions, one fewer than tokens.
fn max_tokens(settings: &TrainSettings) -> usize {
    settings.seq_len + 1
}

/// How the job holds the base model's weights while it trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precision {
    /// 32-bit floats, as this site trains (the TRL script's first loss is then this site's).
    F32,
    /// bfloat16, as most GPU jobs train.
    Bf16,
    /// NF4 codes with bitsandbytes, computing in bf16: QLoRA's base (LoRA only).
    Nf4,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Bf16, Precision::Nf4];

    pub fn from_name(name: &str) -> Option<Precision> {
        Precision::ALL.into_iter().find(|p| p.name() == name)
    }

    /// How the course says it.
    pub fn label(self) -> &'static str {
        match self {
            Precision::F32 => "32-bit floats, as this site trains",
            Precision::Bf16 => "bfloat16",
            Precision::Nf4 => "4-bit NF4 (QLoRA)",
        }
    }

    /// The name the scripts' `--precision` takes.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Nf4 => "nf4",
        }
    }
}

/// The model a job trains, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobTarget {
    /// A Hugging Face model name or folder.
    pub base_model: String,
    pub precision: Precision,
    /// Keep only each layer's input and recompute the rest in the backward pass: less memory, one more forward
    /// pass of time.
    pub gradient_checkpointing: bool,
}

impl JobTarget {
    /// `base_model` in 32-bit floats without checkpointing: this site's own run.
    pub fn as_on_this_site(base_model: &str) -> JobTarget {
        JobTarget { base_model: base_model.to_string(), precision: Precision::F32, gradient_checkpointing: false }
    }

    /// Why `settings` cannot train this way, if they cannot.
    fn check(&self, settings: &TrainSettings) -> Result<(), String> {
        exportable(settings)?;
        if self.precision == Precision::Nf4 && settings.method != TrainingMethod::Lora {
            return Err("a 4-bit base cannot be fine-tuned in full: its weights are codes, not numbers a gradient \
                        can move. Choose LoRA (QLoRA) or a 16-bit base"
                .into());
        }
        Ok(())
    }
}

/// The tools a job is written for, each as one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Axolotl,
    Trl,
    Unsloth,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Trl, Tool::Unsloth, Tool::Axolotl];

    pub fn file_name(self) -> &'static str {
        match self {
            Tool::Axolotl => "tinytune.yaml",
            Tool::Trl => "train_trl.py",
            Tool::Unsloth => "train_unsloth.py",
        }
    }

    /// The file's text for `settings` and `target`, training on `files` (from [`data_files`]).
    pub fn config(self, settings: &TrainSettings, target: &JobTarget, files: &[DataFile]) -> Result<String, String> {
        target.check(settings)?;
        Ok(match self {
            Tool::Axolotl => axolotl_yaml(settings, target, files),
            Tool::Trl => fill(TRL_TEMPLATE, &script_fills(settings, target, files)),
            Tool::Unsloth => fill(UNSLOTH_TEMPLATE, &script_fills(settings, target, files)),
        })
    }

    /// The other file the tool's file needs beside it: the scripts' shared example writer.
    pub fn companion(self) -> Option<(&'static str, &'static str)> {
        match self {
            Tool::Axolotl => None,
            Tool::Trl | Tool::Unsloth => Some(DATA_MODULE),
        }
    }
}

/// Every file of a job but its data: each tool's file, the scripts' shared module and a README.
pub fn job_files(
    settings: &TrainSettings,
    target: &JobTarget,
    files: &[DataFile],
    dataset: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for tool in Tool::ALL {
        out.push((tool.file_name().to_string(), tool.config(settings, target, files)?));
    }
    out.push((DATA_MODULE.0.to_string(), DATA_MODULE.1.to_string()));
    out.push(("README.md".to_string(), readme(target, dataset)));
    Ok(out)
}

fn readme(target: &JobTarget, dataset: &str) -> String {
    format!(
        "# Your Tinytune run, for a bigger machine\n\nThe training examples of `{dataset}` (the JSONL files) and \
         your settings, set up to fine-tune `{model}` with its weights as {precision}. Change `base_model` in \
         `tinytune.yaml`, or pass `--model` to a script, to train another model.\n\n## TRL and PEFT\n\n```\n\
         pip install trl peft datasets   # and bitsandbytes for nf4\npython train_trl.py --dry-run\n\
         python train_trl.py\naccelerate launch train_trl.py   # several GPUs\n```\n\n## Unsloth\n\n```\n\
         pip install unsloth\npython train_unsloth.py   # one GPU\n```\n\n## Axolotl\n\n```\n\
         axolotl train tinytune.yaml   # launched with accelerate, on every GPU it is set up for\n```\n\n\
         For DeepSpeed ZeRO, `axolotl fetch deepspeed_configs`, then add `deepspeed: deepspeed_configs/zero2.json` \
         to `tinytune.yaml`.\n\nThe scripts write examples as Tinytune does (`tinytune_data.py`); Axolotl applies \
         its own templates (conversations with the model's chat template).\n",
        model = target.base_model,
        precision = target.precision.name(),
    )
}

/// An Axolotl config.
fn axolotl_yaml(settings: &TrainSettings, target: &JobTarget, files: &[DataFile]) -> String {
    let mut yaml = format!(
        "# Tinytune's run as an Axolotl config (settings: {query}).\n\
         # Train: axolotl train tinytune.yaml   (launched with accelerate, on every GPU it is set up for)\n\
         # DeepSpeed ZeRO: axolotl fetch deepspeed_configs, then add: deepspeed: deepspeed_configs/zero2.json\n\
         base_model: {base_model}\n\
         bf16: {bf16}\n\
         gradient_checkpointing: {checkpointing}\n",
        query = settings.to_query(),
        base_model = target.base_model,
        bf16 = target.precision != Precision::F32,
        checkpointing = target.gradient_checkpointing,
    );
    if target.precision == Precision::Nf4 {
        yaml += "load_in_4bit: true\n";
    }
    if settings.method == TrainingMethod::Lora {
        yaml += &format!(
            "adapter: {}\nlora_r: {}\nlora_alpha: {}\nlora_dropout: {}\npeft_use_rslora: {}\nlora_target_modules:\n{}",
            if target.precision == Precision::Nf4 { "qlora" } else { "lora" },
            settings.lora_rank,
            settings.lora_alpha,
            settings.lora_dropout,
            settings.use_rslora,
            settings.lora_targets.iter().map(|p| format!("  - {}\n", p.name())).collect::<String>(),
        );
    }
    yaml += "datasets:\n";
    for file in files {
        yaml += &format!("  - path: {}\n    ds_type: json\n    type:{}\n", file.file_name(), file.axolotl_type());
    }
    if files.contains(&DataFile::Messages) {
        yaml += "chat_template: tokenizer_default_fallback_chatml\n";
    }
    let train_on_inputs = settings.loss_mask == LossMask::PromptsToo;
    yaml += &format!(
        "train_on_inputs: {train_on_inputs}\nval_set_size: 0.0\nsequence_len: {}\nsample_packing: false\n\
         micro_batch_size: {}\ngradient_accumulation_steps: {}\nmax_steps: {}\nlearning_rate: {}\n\
         lr_scheduler: {}\nwarmup_steps: {}\noptimizer: adamw_torch\nweight_decay: 0.0\nadam_epsilon: 1.0e-8\n\
         max_grad_norm: 1.0\nseed: {}\noutput_dir: ./tinytune-axolotl\n",
        max_tokens(settings),
        settings.batch_size,
        settings.grad_accum,
        settings.steps,
        settings.learning_rate,
        hf_scheduler(settings.schedule),
        settings.warmup_steps,
        settings.seed,
    );
    if settings.loss_mask == LossMask::NoEndToken {
        yaml +=
            "# The loss mask \"responses without their end tokens\" reproduces a bug for a lesson; Axolotl counts the \
                 end tokens.\n";
    }
    yaml
}

/// Python's literal for a bool.
fn python_bool(value: bool) -> &'static str {
    if value {
        "True"
    } else {
        "False"
    }
}

/// What the two scripts' `@NAME@` placeholders become.
fn script_fills(settings: &TrainSettings, target: &JobTarget, files: &[DataFile]) -> Vec<(&'static str, String)> {
    let lora = settings.method == TrainingMethod::Lora;
    let targets = settings.lora_targets.iter().map(|p| format!("{:?}", p.name())).collect::<Vec<_>>().join(", ");
    let peft = if lora {
        format!(
            "LoraConfig(\n    r={},\n    lora_alpha={},\n    lora_dropout={},\n    use_rslora={},\n    \
             target_modules=[{targets}],\n    task_type=\"CAUSAL_LM\",\n)",
            settings.lora_rank,
            settings.lora_alpha,
            settings.lora_dropout,
            python_bool(settings.use_rslora),
        )
    } else {
        "None  # full fine-tuning".into()
    };
    // Unsloth's own names for the same choices; its gradient checkpointing is its own offloading kind.
    let unsloth_checkpointing = if target.gradient_checkpointing { "\"unsloth\"" } else { "False" };
    let unsloth_lora = if lora {
        format!(
            "{{\n    \"r\": {},\n    \"lora_alpha\": {},\n    \"lora_dropout\": {},\n    \"use_rslora\": {},\n    \
             \"target_modules\": [{targets}],\n    \"bias\": \"none\",\n    \"use_gradient_checkpointing\": {},\n    \
             \"random_state\": {},\n}}",
            settings.lora_rank,
            settings.lora_alpha,
            settings.lora_dropout,
            python_bool(settings.use_rslora),
            unsloth_checkpointing,
            settings.seed,
        )
    } else {
        "None  # full fine-tuning".into()
    };
    let load = format!(
        "{{\n    \"max_seq_length\": {},\n    \"load_in_4bit\": {},\n    \"full_finetuning\": {},\n    \
         \"use_gradient_checkpointing\": {unsloth_checkpointing},\n}}",
        max_tokens(settings),
        python_bool(target.precision == Precision::Nf4),
        python_bool(!lora),
    );
    let (prompt_counts, end_counts) = match settings.loss_mask {
        LossMask::Responses => (false, true),
        LossMask::PromptsToo => (true, true),
        LossMask::NoEndToken => (false, false),
    };
    let training = serde_json::json!({
        "per_device_train_batch_size": settings.batch_size,
        "gradient_accumulation_steps": settings.grad_accum,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": hf_scheduler(settings.schedule),
        "warmup_steps": settings.warmup_steps,
        "max_length": max_tokens(settings),
        "seed": settings.seed,
    });
    let four_bit_words = if target.precision == Precision::Nf4 { ", its linear layers in 4-bit NF4" } else { "" };
    vec![
        ("@QUERY@", settings.to_query()),
        ("@BASE_MODEL@", target.base_model.clone()),
        ("@DATA@", files.iter().map(|f| format!("{:?}", f.file_name())).collect::<Vec<_>>().join(", ")),
        ("@STEPS@", settings.steps.to_string()),
        ("@PRECISION@", target.precision.name().to_string()),
        ("@PEFT@", peft),
        ("@LORA@", unsloth_lora),
        ("@LOAD@", load),
        ("@FOUR_BIT_WORDS@", four_bit_words.to_string()),
        ("@PROMPT_COUNTS@", python_bool(prompt_counts).to_string()),
        ("@END_COUNTS@", python_bool(end_counts).to_string()),
        ("@TRAINING@", serde_json::to_string_pretty(&training).expect("plain JSON")),
        ("@CHECKPOINTING@", python_bool(target.gradient_checkpointing).to_string()),
    ]
}

/// `template` with each `@NAME@` placeholder filled (Python's own braces stay as they are).
fn fill(template: &str, fills: &[(&str, String)]) -> String {
    fills.iter().fold(template.to_string(), |text, (key, value)| text.replace(key, value))
}

const TRL_TEMPLATE: &str = include_str!("train_trl.py");
const UNSLOTH_TEMPLATE: &str = include_str!("train_unsloth.py");
/// The module both scripts import: Tinytune's examples as tokens, and the run's TRL config.
const DATA_MODULE: (&str, &str) = ("tinytune_data.py", include_str!("tinytune_data.py"));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ChatMessage;

    #[test]
    fn each_shape_gets_its_file_and_a_preference_pair_trains_its_chosen_answer() {
        let examples = vec![
            Example::Text("Once.".into()),
            Example::Preference { prompt: "Hi".into(), chosen: "Hello".into(), rejected: "No".into() },
            Example::PromptResponse { prompt: "A".into(), response: "B".into() },
        ];
        let files = data_files(&examples, &TrainSettings::default());
        assert_eq!(files.iter().map(|(f, _)| *f).collect::<Vec<_>>(), [DataFile::Text, DataFile::PromptCompletion]);
        assert_eq!(
            files[1].1,
            "{\"completion\":\"Hello\",\"prompt\":\"Hi\"}\n{\"completion\":\"B\",\"prompt\":\"A\"}\n"
        );
        let chat = Example::Chat(vec![ChatMessage { role: "user".into(), content: "Hi".into() }]);
        assert_eq!(data_files(&[chat], &TrainSettings::default())[0].0, DataFile::Messages);
        let first = TrainSettings { max_examples: Some(1), ..TrainSettings::default() };
        assert_eq!(data_files(&examples, &first), [(DataFile::Text, "{\"text\":\"Once.\"}\n".to_string())]);
        // A page that has only the summary's shapes names the same files as the zip writes.
        let shapes = shapes(&examples);
        assert_eq!(shapes, [(DataFile::Text, 0), (DataFile::PromptCompletion, 1)]);
        for settings in [first, TrainSettings::default()] {
            let written: Vec<DataFile> = data_files(&examples, &settings).iter().map(|(f, _)| *f).collect();
            assert_eq!(shapes_used(&shapes, examples.len(), &settings), written);
        }
        let replayed = TrainSettings { replay: 0.2, ..TrainSettings::default() };
        let target = JobTarget::as_on_this_site("m");
        assert!(Tool::Trl.config(&replayed, &target, &[DataFile::Text]).unwrap_err().starts_with("this run replays"));
    }

    #[test]
    fn the_settings_land_in_the_tools_keys() {
        let settings =
            TrainSettings { schedule: Schedule::Constant, loss_mask: LossMask::PromptsToo, ..TrainSettings::default() };
        let target = JobTarget::as_on_this_site("HuggingFaceTB/SmolLM2-135M");
        let yaml = Tool::Axolotl.config(&settings, &target, &[DataFile::PromptCompletion]).unwrap();
        for line in [
            "bf16: false",
            "gradient_checkpointing: false",
            "adapter: lora",
            "lora_r: 8",
            "lora_alpha: 16",
            "  - down_proj",
            "sequence_len: 65",
            "micro_batch_size: 8",
            "max_steps: 60",
            "lr_scheduler: constant_with_warmup",
            "warmup_steps: 6",
            "train_on_inputs: true",
            "seed: 42",
        ] {
            assert!(yaml.lines().any(|l| l == line), "{line} missing from\n{yaml}");
        }
        let script = Tool::Trl.config(&settings, &target, &[DataFile::PromptCompletion]).unwrap();
        assert!(!script.contains('@'), "every placeholder is filled");
        for part in [
            "r=8,",
            "lora_alpha=16,",
            "\"gate_proj\"",
            "PROMPT_COUNTS = True",
            "\"max_length\": 65",
            "\"lr_scheduler_type\": \"constant_with_warmup\"",
            "default=\"fp32\"",
            "GRADIENT_CHECKPOINTING = False",
        ] {
            assert!(script.contains(part), "{part} missing");
        }
        let frozen = TrainSettings { method: TrainingMethod::Frozen, ..TrainSettings::default() };
        assert!(Tool::Trl.config(&frozen, &target, &[]).unwrap_err().contains("frozen"));
    }

    #[test]
    fn a_4_bit_base_loads_as_nf4_in_every_tool_and_refuses_full_fine_tuning() {
        let target = JobTarget {
            base_model: "meta-llama/Llama-3.1-8B".into(),
            precision: Precision::Nf4,
            gradient_checkpointing: true,
        };
        let settings = TrainSettings::default();
        let yaml = Tool::Axolotl.config(&settings, &target, &[DataFile::Text]).unwrap();
        for line in ["adapter: qlora", "load_in_4bit: true", "bf16: true", "gradient_checkpointing: true"] {
            assert!(yaml.lines().any(|l| l == line), "{line} missing from\n{yaml}");
        }
        let trl = Tool::Trl.config(&settings, &target, &[DataFile::Text]).unwrap();
        assert!(trl.contains("default=\"nf4\"") && trl.contains("GRADIENT_CHECKPOINTING = True"), "{trl}");
        let unsloth = Tool::Unsloth.config(&settings, &target, &[DataFile::Text]).unwrap();
        for part in [
            "\"load_in_4bit\": True,",
            "\"full_finetuning\": False,",
            "\"use_gradient_checkpointing\": \"unsloth\"",
            "\"random_state\": 42",
            "\"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"]",
        ] {
            assert!(unsloth.contains(part), "{part} missing from\n{unsloth}");
        }
        let full = TrainSettings { method: TrainingMethod::Full, ..settings };
        for tool in Tool::ALL {
            assert!(tool.config(&full, &target, &[]).unwrap_err().contains("4-bit base cannot be fine-tuned in full"));
        }
        let names: Vec<String> = job_files(&TrainSettings::default(), &target, &[DataFile::Text], "d")
            .unwrap()
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(names, ["train_trl.py", "train_unsloth.py", "tinytune.yaml", "tinytune_data.py", "README.md"]);
    }
}
