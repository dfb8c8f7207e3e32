//! "Run it bigger": the same job for a larger model on real GPUs. The training examples as JSONL files, one per
//! shape, and the run's settings mapped onto an Axolotl config and onto a plain TRL + PEFT script.
//!
//! Both keep this site's choices where the tools allow: rank, alpha, dropout, rsLoRA and targets; learning rate,
//! schedule and warmup; batch, accumulation and steps; sequence length; AdamW with weight decay 0, epsilon 1e-8
//! and the gradient norm clipped to 1; the seed; and the loss mask. The TRL script also writes examples as this
//! site does (`crate::data`): BOS, then each part encoded on its own, EOS after each answer, long examples cut into
//! consecutive pieces, so on this site's model its first loss is this site's. Axolotl applies its own templates.

use crate::dataset::Example;
use crate::settings::{Choice, LossMask, Schedule, TrainSettings, TrainingMethod};

/// The three data files an export writes, by the shape of their examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// An Axolotl config for `base_model`, training on `files` (from [`data_files`]).
pub fn axolotl_yaml(settings: &TrainSettings, base_model: &str, files: &[DataFile]) -> Result<String, String> {
    exportable(settings)?;
    let mut yaml = format!(
        "# Tinytune's run as an Axolotl config (settings: {query}).\n\
         # Train: axolotl train tinytune.yaml   (launched with accelerate, on every GPU it is set up for)\n\
         # DeepSpeed ZeRO: axolotl fetch deepspeed_configs, then add: deepspeed: deepspeed_configs/zero2.json\n\
         base_model: {base_model}\n",
        query = settings.to_query()
    );
    if settings.method == TrainingMethod::Lora {
        yaml += &format!(
            "adapter: lora\nlora_r: {}\nlora_alpha: {}\nlora_dropout: {}\npeft_use_rslora: {}\nlora_target_modules:\n{}",
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
    Ok(yaml)
}

/// A TRL + PEFT script for `base_model`, training on `files` (from [`data_files`]).
pub fn trl_script(settings: &TrainSettings, base_model: &str, files: &[DataFile]) -> Result<String, String> {
    exportable(settings)?;
    let peft = if settings.method == TrainingMethod::Lora {
        format!(
            "LoraConfig(\n    r={},\n    lora_alpha={},\n    lora_dropout={},\n    use_rslora={},\n    \
             target_modules={:?},\n    task_type=\"CAUSAL_LM\",\n)",
            settings.lora_rank,
            settings.lora_alpha,
            settings.lora_dropout,
            if settings.use_rslora { "True" } else { "False" },
            settings.lora_targets.iter().map(|p| p.name()).collect::<Vec<_>>(),
        )
    } else {
        "None  # full fine-tuning".into()
    };
    let (prompt_counts, end_counts) = match settings.loss_mask {
        LossMask::Responses => ("False", "True"),
        LossMask::PromptsToo => ("True", "True"),
        LossMask::NoEndToken => ("False", "False"),
    };
    let data = files.iter().map(|f| format!("{:?}", f.file_name())).collect::<Vec<_>>().join(", ");
    let fills = [
        ("@QUERY@", settings.to_query()),
        ("@BASE_MODEL@", base_model.to_string()),
        ("@DATA@", data),
        ("@STEPS@", settings.steps.to_string()),
        ("@PEFT@", peft),
        ("@PROMPT_COUNTS@", prompt_counts.to_string()),
        ("@END_COUNTS@", end_counts.to_string()),
        ("@MAX_TOKENS@", max_tokens(settings).to_string()),
        ("@BATCH@", settings.batch_size.to_string()),
        ("@ACCUMULATION@", settings.grad_accum.to_string()),
        ("@LEARNING_RATE@", settings.learning_rate.to_string()),
        ("@SCHEDULER@", hf_scheduler(settings.schedule).to_string()),
        ("@WARMUP@", settings.warmup_steps.to_string()),
        ("@SEED@", settings.seed.to_string()),
    ];
    Ok(fills.iter().fold(TRL_TEMPLATE.to_string(), |script, (key, value)| script.replace(key, value)))
}

/// The script, its `@NAME@` placeholders filled in by [`trl_script`] (Python's own braces stay as they are).
const TRL_TEMPLATE: &str = include_str!("train_trl.py");

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
        let replayed = TrainSettings { replay: 0.2, ..TrainSettings::default() };
        assert!(trl_script(&replayed, "m", &[DataFile::Text]).unwrap_err().starts_with("this run replays"));
    }

    #[test]
    fn the_settings_land_in_the_tools_keys() {
        let settings =
            TrainSettings { schedule: Schedule::Constant, loss_mask: LossMask::PromptsToo, ..TrainSettings::default() };
        let yaml = axolotl_yaml(&settings, "HuggingFaceTB/SmolLM2-135M", &[DataFile::PromptCompletion]).unwrap();
        for line in [
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
        let script = trl_script(&settings, "HuggingFaceTB/SmolLM2-135M", &[DataFile::PromptCompletion]).unwrap();
        assert!(!script.contains('@'), "every placeholder is filled");
        for part in [
            "r=8,",
            "lora_alpha=16,",
            "'gate_proj'",
            "PROMPT_COUNTS = True",
            "MAX_TOKENS = 65",
            "lr_scheduler_type=\"constant_with_warmup\"",
        ] {
            assert!(script.contains(part) || script.contains(&part.replace('\'', "\"")), "{part} missing");
        }
        let frozen = TrainSettings { method: TrainingMethod::Frozen, ..TrainSettings::default() };
        assert!(trl_script(&frozen, "m", &[]).unwrap_err().contains("frozen"));
    }
}
