//! `tinytune`: the trainer core on the command line — import a llama2.c model, generate, fine-tune, inspect
//! logits, benchmark. The browser worker runs the same library code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::prelude::*;
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand, ValueEnum};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::approach::{Approach, Comparison};
use tinytune::combine::{combine, Combination, PeftAdapter, Source};
use tinytune::course::DemoKind;
use tinytune::data::{tokenize_example, tokenize_examples, training_sequences, TrainingSequence};
use tinytune::dataset::review::{review, split_examples, Decision, EntryFacts, SplitSettings};
use tinytune::dataset::source::read_entries;
use tinytune::dataset::{parse_dataset, Format};
use tinytune::dataset::{ChatMessage, Example};
use tinytune::evaluation::{judge_pairs, measure, summarize, BenchedModel, RecordedBench};
use tinytune::export::{
    adapter_config_json, adapter_safetensors, load_adapter, load_model, merged_hf_files, merged_model_safetensors,
    parse_adapter_config, safetensors_bytes,
};
use tinytune::generate::{self, generate, GenerationConfig};
use tinytune::gguf::load::hf_folder;
use tinytune::gguf::{self, take_home_files, Adapter, BaseModel};
use tinytune::import::{convert_llama2c, HfModelFiles};
use tinytune::lora::LoraConfig;
use tinytune::mix::{check_mix, recorded_grid, MixChecked};
use tinytune::model::{LlamaConfig, LlamaForCausalLM};
use tinytune::one_step::{one_step, OneStep};
use tinytune::protocol::{ModelManifest, RecordedRun, SampleSettings};
use tinytune::quantize::{self, QuantizationTable};
use tinytune::reward::{GrpoSettings, GrpoStep, SentenceRule};
use tinytune::run_bigger::{data_files, DataFile, JobTarget, Precision, Tool};
use tinytune::settings::{
    parse_targets, Choice, LossMask, RunPreset, Schedule, TargetPreset, TrainSettings, TrainingMethod,
};
use tinytune::sweep::Sweep;
use tinytune::task::{CheckedSample, TaskCheck, TaskScore};
use tinytune::tokenizer::TextTokenizer;
use tinytune::train::grpo::{toy_step, toy_trainer};
use tinytune::train::preference::{preference_pairs, tokenize_preferences};
use tinytune::train::{held_out_sequences, site_run, SiteData, Trainer, TrainingConfig, EVAL_SEQUENCES};

/// Training allocates and frees tensors of tens of megabytes every step; glibc's allocator hands those straight
/// back to the kernel, and page faults then took about a fifth of a CPU step (perf). mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tinytune", version, about = "Fine-tune a tiny Llama with LoRA: import, generate, train, inspect.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// Burn's pure-Rust CPU backend.
    Flex,
    /// Burn's wgpu backend (a GPU, or Mesa lavapipe on a machine without one); built with `--features gpu`.
    #[cfg(feature = "gpu")]
    Wgpu,
}

/// Reads a setting with named values (`--method lora`), listing them when the name is wrong.
fn choice<C: Choice>(name: &str) -> Result<C, String> {
    C::from_name(name).ok_or_else(|| format!("`{name}` is not one of {}", C::names()))
}

/// `--how`'s values, each with what it does, from [`Combination`] itself.
fn combinations() -> PossibleValuesParser {
    PossibleValuesParser::new(
        Combination::ALL.iter().map(|&how| PossibleValue::new(how.name()).help(how.description())),
    )
}

/// What `clean` drops.
#[derive(Clone, Copy, ValueEnum)]
enum Dropping {
    /// The entries that are not examples (broken JSON, wrong fields, empty texts): what a loader skips.
    Unreadable,
    /// Every entry with a problem: duplicates, near-duplicates, answers off their request as well.
    Flagged,
}

#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// A Hugging Face Llama folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), or a
    /// Llama GGUF file (read with every weight dequantized to f32, unless `--four-bit`).
    #[arg(long)]
    model: PathBuf,
    /// A PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) to apply.
    #[arg(long)]
    adapter: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// With a GGUF file: keep its Q4_1 projections 4-bit on the device (QLoRA's frozen base) instead of
    /// dequantizing every weight to f32.
    #[arg(long)]
    four_bit: bool,
}

/// How `generate` and `chat` pick tokens.
#[derive(clap::Args)]
struct SamplingArgs {
    #[arg(long, default_value_t = 256)]
    max_new_tokens: usize,
    /// 0 for greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// `tinytune clean`: one review of the file as the studio makes it with the default split and no decisions; the
/// entries with a problem of the kinds `drop` names are dropped (a duplicate's problem is on the later copy, so the
/// first stays), and the rest are written in file order.
fn clean(data: &Path, drop: Dropping, out: &Path) -> Result<(), String> {
    let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let format = Format::from_name(&name).map_err(|e| format!("{name}: {e}"))?;
    let entries = read_entries(&read(data)?, format, None).map_err(|e| format!("{name}: {e}"))?;
    let facts: Vec<EntryFacts> = entries.iter().map(EntryFacts::of).collect();
    let found = review(&entries, &facts, &[], &SplitSettings::default(), None);
    let mut decisions = vec![Decision::Undecided; entries.len()];
    for at in &found.problems {
        eprintln!("{name}:{}: {}: {}", at.line, at.problem.kind.title(), at.problem.message);
        if matches!(drop, Dropping::Flagged) || at.problem.kind.blocks_training() {
            decisions[at.entry] = Decision::Drop;
        }
    }
    let kept = review(&entries, &facts, &decisions, &SplitSettings::default(), None);
    let lines: Vec<String> = (0..entries.len())
        .filter(|&i| kept.usable[i])
        .filter_map(|i| facts[i].example.as_ref().ok().map(Example::to_json_line))
        .collect();
    eprintln!(
        "{name}: {} entries, {} dropped, {} written to {}",
        entries.len(),
        entries.len() - lines.len(),
        lines.len(),
        out.display()
    );
    std::fs::write(out, lines.iter().map(|line| format!("{line}\n")).collect::<String>())
        .map_err(|e| format!("{}: {e}", out.display()))
}

/// Loads the model, continues the ids `prompt` gives for its tokenizer until EOS or the limit, and prints the
/// prompt and continuation (or, with `reply_only`, the continuation).
fn print_generated(
    model_args: &ModelArgs,
    sampling: &SamplingArgs,
    reply_only: bool,
    prompt: impl FnOnce(&TextTokenizer) -> Result<Vec<u32>, String>,
) -> Result<(), String> {
    let device = device_for(model_args.backend);
    let (config, model, tokenizer) = load(model_args, &device)?;
    let mut ids = tokenizer.start_ids().to_vec();
    ids.extend(prompt(&tokenizer)?);
    let SamplingArgs { max_new_tokens, temperature, top_p, seed } = *sampling;
    let settings =
        GenerationConfig::new(max_new_tokens).with_temperature(temperature).with_top_p(top_p).with_seed(seed);
    let out = pollster::block_on(generate(
        &model,
        &ids,
        &settings,
        tokenizer.eos_id(),
        config.max_position_embeddings,
        &device,
    ));
    println!("{}", tokenizer.decode(if reply_only { &out[ids.len()..] } else { &out }));
    Ok(())
}

#[derive(Subcommand)]
enum Command {
    /// Convert a llama2.c checkpoint and tokenizer into a Hugging Face model folder.
    ImportLlama2c {
        /// The llama2.c checkpoint, e.g. stories260K.bin.
        #[arg(long)]
        model: PathBuf,
        /// The llama2.c tokenizer, e.g. tok512.bin.
        #[arg(long)]
        tokenizer: PathBuf,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a Llama GGUF file (F32, F16, BF16, Q4_0, Q4_1 or Q8_0 weights) into a Hugging Face model folder, every
    /// weight dequantized to f32, its tokenizer and chat template in tokenizer.json and tokenizer_config.json.
    ImportGguf {
        /// The GGUF file, e.g. SmolLM2-135M-Instruct.Q4_1.gguf (`bash tools/smollm2.sh` prints where it is).
        #[arg(long)]
        model: PathBuf,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Answer a chat through the model's chat template; prints the reply, and nothing else, to stdout.
    Chat {
        #[command(flatten)]
        model: ModelArgs,
        /// A system message to start with (without it, the template's default, if it has one).
        #[arg(long)]
        system: Option<String>,
        /// The user's message.
        #[arg(long)]
        message: String,
        #[command(flatten)]
        sampling: SamplingArgs,
    },
    /// Generate text; prints the prompt and its continuation, and nothing else, to stdout.
    Generate {
        #[command(flatten)]
        model: ModelArgs,
        /// Text to continue; without it, generation starts from BOS alone.
        #[arg(long, default_value = "")]
        prompt: String,
        #[command(flatten)]
        sampling: SamplingArgs,
    },
    /// Fine-tune on a data file (.jsonl with text, prompt/response or messages; or .txt) and write the result.
    Train(TrainArgs),
    /// Print the logits for a token sequence as a JSON array [positions][vocab].
    Logits {
        #[command(flatten)]
        model: ModelArgs,
        /// Comma-separated token ids, e.g. 1,403,407.
        #[arg(long, value_delimiter = ',', required = true)]
        tokens: Vec<u32>,
    },
    /// Print what the model trains on for each example of a data file, one JSON object per line: the example's
    /// line, its tokens (as the vocabulary writes them) and, for each, whether it is trained on (the loss mask).
    Tokens {
        /// A tokenizer.json (a converted model folder has one).
        #[arg(long)]
        tokenizer: PathBuf,
        #[arg(long)]
        data: PathBuf,
    },
    /// The data studio's checks on the command line: list a data file's problems with their lines (on stderr) and
    /// write the examples left after dropping the entries with problems, as the studio's "Drop all" buttons do.
    /// The checks that need the model's tokenizer (length, end-of-sequence token) are not run.
    Clean {
        #[arg(long)]
        data: PathBuf,
        /// Which entries to drop: those a trainer cannot read, or every entry with a problem.
        #[arg(long, value_enum)]
        drop: Dropping,
        /// The JSONL file to write, one example per line as read.
        #[arg(long)]
        out: PathBuf,
    },
    /// Record the run the site makes on a data set with the default settings, as the JSON the site shows until
    /// a learner trains (`<data>.recorded.json`): every step's metrics, the task metric when a `.check.json` sits
    /// beside the data, and the default sample before and after.
    Record {
        #[command(flatten)]
        run: RecordArgs,
        /// A preset's settings instead of the defaults: fast-look, careful-run, instructions or dpo.
        #[arg(long, value_parser = choice::<RunPreset>)]
        preset: Option<RunPreset>,
        /// Settings over those, as a link's query spells them (`steps=40&dpo=0.2`).
        #[arg(long)]
        settings: Option<String>,
        /// The QLoRA demo's settings instead (`TrainSettings::smollm2_support`: SmolLM2's GGUF with --four-bit on
        /// the support replies).
        #[arg(long, conflicts_with = "preset")]
        qlora_demo: bool,
        /// Also write the run's LoRA adapter here, as a PEFT folder (the site ships one for a lesson).
        #[arg(long)]
        adapter_out: Option<PathBuf>,
    },
    /// Record every cell of a sweep (`tinytune::sweep`) on a data set, as `record` records one run, in the order
    /// of the sweep's cells: the JSON the site shows until the learner runs the cells themselves.
    Sweep {
        #[command(flatten)]
        run: RecordArgs,
        /// The sweep: rank-targets or learning-rate.
        #[arg(long, value_parser = choice::<Sweep>)]
        sweep: Sweep,
    },
    /// Print how the base model reads a text, as the JSON the site's `Inspect` answer holds: its tokens, the
    /// logits of the next token and the most likely next tokens. With `--demos-into`, write instead the reading
    /// of each lesson demo's opening text, which the site shows (labelled as recorded) until the learner asks.
    Inspect {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, required_unless_present = "demos_into", conflicts_with = "demos_into")]
        text: Option<String>,
        /// A folder to write `inspect.<demo>.json` into, one for each demo that reads a text.
        #[arg(long)]
        demos_into: Option<PathBuf>,
    },
    /// Take one training step up close (the lesson "One training step up close") on one training sequence of a data
    /// set, with the default settings as one step takes them, and write what it did as the JSON the site shows
    /// until the learner takes their own: each target's probability before and after, every trained matrix's
    /// gradient and change.
    OneStep {
        #[command(flatten)]
        model: ModelArgs,
        /// The data set (.jsonl or .txt), split as the worker splits it.
        #[arg(long)]
        data: PathBuf,
        /// Which training sequence, counted from 1.
        #[arg(long, default_value_t = 1)]
        sequence: usize,
        /// Instead of the default learning rate.
        #[arg(long)]
        learning_rate: Option<f64>,
        /// Instead of the default method (lora): full.
        #[arg(long, value_parser = choice::<TrainingMethod>)]
        method: Option<TrainingMethod>,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Store every projection of the model in each quantization format (Q8_0, Q4_0, Q4_1, NF4) at each block size
    /// and measure the held-out loss (the lesson "QLoRA"), and write the table the site shows until the learner
    /// measures on their device.
    Quantize {
        #[command(flatten)]
        model: ModelArgs,
        /// The data set (.jsonl or .txt) whose held-out split the losses are measured on, split as the worker
        /// splits it.
        #[arg(long)]
        data: PathBuf,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Score every way to a data set's task check (`tinytune::approach`): the request alone, a worked example in
    /// front, the closest training examples retrieved in front, the request through the adapter, and through the
    /// adapter in two templates it never trained on. Writes every sample, judged, as the JSON the site shows until
    /// the learner runs it.
    Compare {
        /// The base model, and with `--adapter` the adapter trained on the data set.
        #[command(flatten)]
        model: ModelArgs,
        /// The data set (.jsonl) with a `.check.json` beside it; retrieval searches its training split.
        #[arg(long)]
        data: PathBuf,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// An evaluation bench (`tinytune::evaluation`): the base model and each adapter on the held-out loss of a data set
    /// and its task check over rounds of samples; with `--judge`, an instruction model judges the base model's and
    /// the first adapter's round-1 stories, each pair in both orders. Writes the JSON the site shows until the
    /// learner runs the bench.
    Evaluate {
        /// The base model's Hugging Face folder.
        #[arg(long)]
        model: PathBuf,
        /// `NAME=FOLDER`: a PEFT adapter folder holding its recorded run (`recorded.json`, which gives its steps and
        /// training seed), served as `NAME/` beside the model on the site; once per adapter.
        #[arg(long, required = true)]
        adapter: Vec<String>,
        /// The data set (.jsonl) with a `.check.json` beside it, split as the worker splits it.
        #[arg(long)]
        data: PathBuf,
        /// Rounds of the task check: samples for every check prompt, each round with new seeds.
        #[arg(long, default_value_t = 8)]
        rounds: usize,
        /// A Llama instruction model as a GGUF file (SmolLM2-135M-Instruct), to judge the stories.
        #[arg(long)]
        judge: Option<PathBuf>,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a model, and with `--adapter` its LoRA adapter, in the format of another tool; or, for axolotl,
    /// trl and unsloth, a data set and a run's settings as that tool's job for a bigger model.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// A Hugging Face Llama folder (gguf, ollama, hf-merged).
        #[arg(long)]
        model: Option<PathBuf>,
        /// A PEFT LoRA adapter folder for it.
        #[arg(long)]
        adapter: Option<PathBuf>,
        /// The data set to train on (axolotl, trl, unsloth).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The run's settings as the playground's address writes them, e.g. "rank=16&steps=300" (axolotl, trl,
        /// unsloth).
        #[arg(long, default_value = "")]
        settings: String,
        /// The Hugging Face model the job trains (axolotl, trl, unsloth).
        #[arg(long, default_value = "HuggingFaceTB/SmolLM2-135M")]
        base_model: String,
        /// How the job holds the base model's weights: fp32 (as this site trains), bf16 or nf4 (QLoRA) (axolotl,
        /// trl, unsloth).
        #[arg(long, default_value = "bf16", value_parser = ["fp32", "bf16", "nf4"])]
        precision: String,
        /// Recompute activations in the backward pass instead of keeping them (axolotl, trl, unsloth).
        #[arg(long)]
        gradient_checkpointing: bool,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Mix PEFT LoRA adapters of one model into one, as PEFT's add_weighted_adapter does, and write it as a
    /// PEFT folder: e.g. --adapter pip --weight 0.7 --adapter letters --weight 0.3 --how cat.
    Combine {
        /// A PEFT adapter folder (adapter_config.json, adapter_model.safetensors); once per adapter.
        #[arg(long, required = true)]
        adapter: Vec<PathBuf>,
        /// Each adapter's weight, in the same order (a negative weight subtracts it).
        #[arg(long, required = true, allow_negative_numbers = true)]
        weight: Vec<f64>,
        /// How the factors are mixed (PEFT's combination_type).
        #[arg(long, default_value = "cat", value_parser = combinations())]
        how: String,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Mix two PEFT adapters of the model with every pair of the weights 0, 0.5 and 1 (cat), and run each task
    /// check on every mix, as the tab's lesson "Merge, combine and deploy" does for one pair: written as JSON.
    Mixes {
        /// The model's Hugging Face folder.
        #[arg(long)]
        model: PathBuf,
        /// A PEFT adapter folder; exactly twice, the first one's weight changing slowest.
        #[arg(long, required = true)]
        adapter: Vec<PathBuf>,
        /// A task check file (`.check.json`, see `tinytune::task`); once per check.
        #[arg(long, required = true)]
        check: Vec<PathBuf>,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// A GRPO toy: the model writes groups of completions of a prompt, a rule anyone can check scores each (its
    /// first sentence ends with a word, within a word limit), and LoRA takes one GRPO step on the advantages;
    /// every step's completions, rewards and advantages written as JSON.
    Grpo {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value_t = GrpoSettings::default().prompt)]
        prompt: String,
        /// The word the first sentence must end with.
        #[arg(long, default_value_t = GrpoSettings::default().rule.ending)]
        ending: String,
        /// The most words the first sentence may have.
        #[arg(long, default_value_t = GrpoSettings::default().rule.max_words)]
        max_words: usize,
        /// Completions per group (TRL's num_generations).
        #[arg(long, default_value_t = GrpoSettings::default().group_size)]
        group_size: usize,
        /// Groups per step.
        #[arg(long, default_value_t = GrpoSettings::default().groups)]
        groups: usize,
        #[arg(long, default_value_t = GrpoSettings::default().steps)]
        steps: usize,
        #[arg(long, default_value_t = GrpoSettings::default().max_new_tokens)]
        max_new_tokens: usize,
        /// The KL coefficient against the model with its adapters off (TRL's default: 0).
        #[arg(long, default_value_t = GrpoSettings::default().beta)]
        beta: f64,
        #[arg(long, default_value_t = GrpoSettings::default().learning_rate)]
        learning_rate: f64,
        #[arg(long, default_value_t = GrpoSettings::default().seed)]
        seed: u64,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure LoRA training throughput on the CPU and compare with PyTorch + PEFT in the same run.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// The adapter as PEFT's folder (adapter_config.json, adapter_model.safetensors), written as the tab writes it.
    Peft,
    /// llama.cpp's GGUF: model.gguf (F32), and with an adapter adapter.gguf (LoRA) and merged.gguf (the adapter
    /// merged in, for runtimes without adapters).
    Gguf,
    /// The GGUF files and an Ollama Modelfile (FROM model.gguf, ADAPTER adapter.gguf).
    Ollama,
    /// A Hugging Face folder with the adapter merged into the weights, for transformers.
    HfMerged,
    /// The data set as JSONL and an Axolotl config (tinytune.yaml).
    Axolotl,
    /// The data set as JSONL and a TRL + PEFT script (train_trl.py, with tinytune_data.py).
    Trl,
    /// The data set as JSONL and an Unsloth script (train_unsloth.py, with tinytune_data.py).
    Unsloth,
}

/// What `record` and `sweep` record from, and where they write it.
#[derive(clap::Args)]
struct RecordArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The data set (.jsonl or .txt).
    #[arg(long)]
    data: PathBuf,
    /// Text the base model wrote itself (the site model folder's reference-stories.jsonl): the drift. Without
    /// it no drift is measured (as on the site for a model folder without one).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// More text the base model wrote itself (the site model folder's replay-stories.jsonl), which runs with a
    /// replay share mix in.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// The JSON file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    data: PathBuf,
    /// lora, full or frozen.
    #[arg(long, value_parser = choice::<TrainingMethod>)]
    method: TrainingMethod,
    /// LoRA rank r.
    #[arg(long, default_value_t = 8)]
    rank: usize,
    /// LoRA alpha (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0)]
    alpha: f64,
    /// Rank-stabilised LoRA: scale by alpha / sqrt(rank).
    #[arg(long)]
    rslora: bool,
    /// LoRA dropout probability.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Projections LoRA adapts: any of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or a preset
    /// (attention, mlp, all-linear).
    #[arg(long, default_value = "q_proj,v_proj")]
    targets: String,
    #[arg(long)]
    learning_rate: f64,
    #[arg(long)]
    steps: usize,
    #[arg(long)]
    batch_size: usize,
    #[arg(long)]
    seq_len: usize,
    /// Preference-tune with DPO at this beta (TRL's sigmoid loss) on the data's {"prompt", "chosen", "rejected"}
    /// pairs, LoRA's adapters off as the reference model, instead of next-token training. Each answer keeps its
    /// first --seq-len tokens.
    #[arg(long)]
    dpo_beta: Option<f64>,
    /// Which tokens count in the training loss: responses (and their end tokens), prompts-too, or
    /// no-end-token (the responses without their end tokens, as masking padding by id does when it is EOS).
    #[arg(long, default_value = "responses", value_parser = choice::<LossMask>)]
    loss_mask: LossMask,
    /// Micro-batches per optimizer step.
    #[arg(long, default_value_t = 1)]
    grad_accum: usize,
    /// constant, linear or cosine.
    #[arg(long, default_value = "cosine", value_parser = choice::<Schedule>)]
    schedule: Schedule,
    /// Warmup steps (linear from 0).
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    /// Evaluate the held-out split every N steps (0: never).
    #[arg(long, default_value_t = 0)]
    eval_every: usize,
    /// Share of the examples held out for evaluation.
    #[arg(long, default_value_t = 0.1)]
    eval_fraction: f64,
    /// Clip the global gradient norm (0: no clipping).
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f64,
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    #[arg(long)]
    seed: u64,
    /// Where to write the adapter (LoRA) or the model folder (full).
    #[arg(long)]
    out: PathBuf,
    /// Also write every step's metrics, one JSON object per line, to this file.
    #[arg(long)]
    metrics: Option<PathBuf>,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// The converted stories260K folder, or a GGUF file: then QLoRA on its 4-bit base and LoRA on its dequantized
    /// f32 base are timed, and their memory measured, one after the other.
    #[arg(long)]
    model: PathBuf,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Sequences per step (without `--demo`).
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Tokens per sequence (without `--demo`).
    #[arg(long, default_value_t = 256)]
    seq_len: usize,
    #[arg(long, default_value_t = 10)]
    steps: usize,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Train with the lesson demo's settings (`TrainSettings::default()`, without evaluations) instead of batches
    /// of 16 × 256 without clipping: the native figure the browser benchmark prints beside the tab's.
    #[arg(long)]
    demo: bool,
    /// Time greedy generation instead of training: tokens/s with and without the KV cache.
    #[arg(long)]
    generate: bool,
    /// The Python with torch, transformers and peft (tools/python-env.sh makes one).
    #[arg(long, env = "TINYTUNE_PYTHON")]
    python: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The name a model folder's `manifest.json` gives the model (a site model folder has one, and an adapter the site
/// ships names its base by it, not by a path on the machine that built it); otherwise the folder's path.
fn model_name(folder: &Path) -> String {
    std::fs::read(folder.join("manifest.json"))
        .ok()
        .and_then(|json| serde_json::from_slice::<ModelManifest>(&json).ok())
        .map_or_else(|| folder.display().to_string(), |manifest| manifest.model)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn device_for(backend: Backend) -> Device {
    match backend {
        Backend::Flex => Device::flex(),
        #[cfg(feature = "gpu")]
        Backend::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
    }
}

/// Loads a model folder or a GGUF file (dequantized, or 4-bit with `--four-bit`), and an adapter folder on top when
/// one is given.
fn load(args: &ModelArgs, device: &Device) -> Result<(LlamaConfig, LlamaForCausalLM, TextTokenizer), String> {
    let in_model = |e: String| format!("{}: {e}", args.model.display());
    let (config, model, tokenizer) = if args.model.extension().is_some_and(|extension| extension == "gguf") {
        gguf::load::load(&read(&args.model)?, args.four_bit, device).map_err(in_model)?
    } else if args.four_bit {
        return Err(format!("--four-bit reads a GGUF file's 4-bit weights; {} is a folder", args.model.display()));
    } else {
        let text = |name: &str| {
            String::from_utf8(read(&args.model.join(name))?).map_err(|_| format!("{name} is not UTF-8 text"))
        };
        let files = HfModelFiles {
            config_json: text("config.json")?,
            model_safetensors: read(&args.model.join("model.safetensors"))?,
            tokenizer_json: text("tokenizer.json")?,
            tokenizer_config_json: text("tokenizer_config.json")?,
        };
        let (config, model) =
            load_model(files.config_json.as_bytes(), &files.model_safetensors, device).map_err(in_model)?;
        let tokenizer =
            TextTokenizer::from_files(files.tokenizer_json.as_bytes(), files.tokenizer_config_json.as_bytes())
                .map_err(|e| in_model(e.to_string()))?;
        (config, model, tokenizer)
    };
    let model = match &args.adapter {
        Some(dir) => {
            let config_json = read(&dir.join("adapter_config.json"))?;
            let weights = read(&dir.join("adapter_model.safetensors"))?;
            load_adapter(model, &config_json, &weights, device).map_err(|e| format!("{}: {e}", dir.display()))?.1
        }
        None => model,
    };
    Ok((config, model, tokenizer))
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::ImportLlama2c { model, tokenizer, out } => {
            let files =
                convert_llama2c(&read(&model)?, &read(&tokenizer)?).map_err(|e| format!("{}: {e}", model.display()))?;
            files.write_to(&out).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Command::ImportGguf { model, out } => {
            let files = hf_folder(&read(&model)?).map_err(|e| format!("{}: {e}", model.display()))?;
            files.write_to(&out).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Command::Chat { model, system, message, sampling } => print_generated(&model, &sampling, true, |tokenizer| {
            let template = tokenizer.chat_template().ok_or_else(|| {
                format!("{} has no chat template: use `tinytune generate` to continue a text", model.model.display())
            })?;
            let mut messages: Vec<ChatMessage> = system.iter().map(|text| ChatMessage::new("system", text)).collect();
            messages.push(ChatMessage::new("user", &message));
            Ok(tokenizer.encode(&template.render(&messages, true)?))
        }),
        Command::Generate { model, prompt, sampling } => {
            print_generated(&model, &sampling, false, |tokenizer| Ok(tokenizer.encode(&prompt)))
        }
        Command::Logits { model, tokens } => {
            let device = device_for(model.backend);
            let (config, llama, _) = load(&model, &device)?;
            if let Some(bad) = tokens.iter().find(|&&t| t as usize >= config.vocab_size) {
                return Err(format!("token {bad} is outside the vocabulary (0..{})", config.vocab_size));
            }
            let input =
                Tensor::<1, Int>::from_ints(tokens.iter().map(|&t| t as i64).collect::<Vec<_>>().as_slice(), &device)
                    .unsqueeze::<2>();
            let logits = llama.forward(input);
            let [_, positions, vocab] = logits.dims();
            let values = logits.into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
            let rows: Vec<&[f32]> = values.chunks(vocab).take(positions).collect();
            println!("{}", serde_json::to_string(&rows).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Tokens { tokenizer, data } => {
            let tokenizer = TextTokenizer::from_json_bytes(&read(&tokenizer)?)
                .map_err(|e| format!("{}: {e}", tokenizer.display()))?;
            let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let format = Format::from_name(&name).map_err(|e| format!("{name}: {e}"))?;
            for entry in read_entries(&read(&data)?, format, None).map_err(|e| format!("{name}: {e}"))? {
                // Entries that are not examples are what the studio lists as problems; they have no tokens.
                let Ok(example) = EntryFacts::of(&entry).example else { continue };
                let tokenized =
                    tokenize_example(&example, &tokenizer).map_err(|e| format!("{name}:{}: {e}", entry.line))?;
                let tokens: Vec<String> = tokenized.tokens.iter().map(|&id| tokenizer.token_text(id)).collect();
                let line = serde_json::json!({ "line": entry.line, "tokens": tokens, "trained": tokenized.loss_mask });
                println!("{line}");
            }
            Ok(())
        }
        Command::Clean { data, drop, out } => clean(&data, drop, &out),
        Command::Train(args) => train(args),
        Command::Record { run, preset, settings, qlora_demo, adapter_out } => {
            let defaults = match (qlora_demo, preset) {
                (true, _) => TrainSettings::smollm2_support(),
                (false, preset) => preset.map_or_else(TrainSettings::default, RunPreset::settings),
            };
            let (settings, problems) = TrainSettings::from_query_over(defaults, settings.as_deref().unwrap_or(""));
            if let Some(problem) = problems.first() {
                return Err(format!("--settings: {}", problem.message));
            }
            write_json(&run.out, &record(&run, &settings, adapter_out.as_deref())?)
        }
        Command::Sweep { run, sweep } => {
            let mut recorded = Vec::new();
            for cell in sweep.cells() {
                eprintln!("{}", sweep.cell_label(&cell));
                recorded.push(record(&run, &cell.settings, None)?);
            }
            write_json(&run.out, &recorded)
        }
        Command::Inspect { model, text, demos_into } => inspect(&model, text.as_deref(), demos_into.as_deref()),
        Command::Compare { model, data, out } => compare(model, &data, &out),
        Command::Evaluate { model, adapter, data, rounds, judge, out } => {
            write_json(&out, &evaluate_on(model, &adapter, &data, rounds, judge.as_deref())?)
        }
        Command::Quantize { model, data, out } => write_json(&out, &quantize_on(&model, &data)?),
        Command::OneStep { model, data, sequence, learning_rate, method, out } => {
            let defaults = TrainSettings::default();
            let settings = TrainSettings {
                learning_rate: learning_rate.unwrap_or(defaults.learning_rate),
                method: method.unwrap_or(defaults.method),
                ..defaults
            };
            write_json(&out, &one_step_on(&model, &data, sequence, &settings)?)
        }
        Command::Combine { adapter, weight, how, out } => combine_adapters(&adapter, &weight, choice(&how)?, &out),
        Command::Mixes { model, adapter, check, out } => write_json(&out, &mixes(model, &adapter, &check)?),
        Command::Grpo {
            model,
            prompt,
            ending,
            max_words,
            group_size,
            groups,
            steps,
            max_new_tokens,
            beta,
            learning_rate,
            seed,
            out,
        } => {
            let rule = SentenceRule { ending, max_words };
            let settings =
                GrpoSettings { prompt, rule, groups, group_size, max_new_tokens, steps, learning_rate, beta, seed };
            write_json(&out, &grpo_toy(&model, &settings)?)
        }
        Command::Export {
            format,
            model,
            adapter,
            data,
            settings,
            base_model,
            precision,
            gradient_checkpointing,
            out,
        } => {
            let tool = match format {
                ExportFormat::Axolotl => Some(Tool::Axolotl),
                ExportFormat::Trl => Some(Tool::Trl),
                ExportFormat::Unsloth => Some(Tool::Unsloth),
                _ => None,
            };
            let precision = Precision::from_name(&precision).expect("clap allows only the names");
            let target = JobTarget { base_model, precision, gradient_checkpointing };
            match (tool, model, data) {
                (Some(tool), _, Some(data)) => export_job(tool, &data, &settings, &target, &out),
                (Some(_), _, None) => Err("--format axolotl, trl and unsloth need --data".into()),
                (_, Some(model), _) => {
                    export(&ModelArgs { model, adapter, backend: Backend::Flex, four_bit: false }, format, &out)
                }
                (_, None, _) => {
                    Err("--format peft, gguf, ollama and hf-merged need --model (and --adapter for one)".into())
                }
            }
        }
        Command::Bench(args) => bench(args),
    }
}

fn inspect(model_args: &ModelArgs, text: Option<&str>, demos_into: Option<&Path>) -> Result<(), String> {
    let device = device_for(model_args.backend);
    let (config, model, tokenizer) = load(model_args, &device)?;
    let max_len = config.max_position_embeddings;
    let reading = |text: &str| {
        let inspection = pollster::block_on(generate::inspect(&model, &tokenizer, 0, text, &[], max_len, &device));
        serde_json::to_string(&inspection).map_err(|e| e.to_string())
    };
    match (text, demos_into) {
        (Some(text), _) => println!("{}", reading(text)?),
        (None, Some(folder)) => {
            create_dir(folder)?;
            for kind in DemoKind::ALL {
                if let (Some(text), Some(file)) = (kind.opening_text(), kind.recorded_file()) {
                    let path = folder.join(file);
                    std::fs::write(&path, reading(text)?).map_err(|e| format!("{}: {e}", path.display()))?;
                }
            }
        }
        (None, None) => unreachable!("clap requires --text or --demos-into"),
    }
    Ok(())
}

fn train(args: TrainArgs) -> Result<(), String> {
    let device = device_for(args.model.backend).autodiff();
    let (_, model, tokenizer) = load(&args.model, &device)?;
    let name = args.data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let examples = parse_dataset(&name, &read(&args.data)?).map_err(|e| e.to_string())?;
    let split = SplitSettings { held_out_fraction: args.eval_fraction, seed: args.seed, grouped: true };
    let (train_examples, eval_examples) = split_examples(examples, &split);
    // As the site's runs do (`site_run`): the loss mask in training alone.
    let sequences = |examples: &[_], mask: LossMask| -> Result<_, String> {
        let tokenized = tokenize_examples(examples, &tokenizer).map_err(|e| format!("{name}: {e}"))?;
        let masked: Vec<_> = tokenized.iter().map(|e| e.masked(mask, tokenizer.eos_id())).collect();
        Ok(training_sequences(&masked, args.seq_len, tokenizer.eos_id()))
    };
    let (train_sequences, eval_sequences) =
        (sequences(&train_examples, args.loss_mask)?, sequences(&eval_examples, LossMask::Responses)?);

    let settings = TrainSettings {
        method: args.method,
        lora_rank: args.rank,
        lora_alpha: args.alpha,
        use_rslora: args.rslora,
        lora_dropout: args.dropout,
        lora_targets: parse_targets(&args.targets).map_err(|e| format!("--targets: {e}"))?,
        learning_rate: args.learning_rate,
        schedule: args.schedule,
        warmup_steps: args.warmup,
        steps: args.steps,
        batch_size: args.batch_size,
        grad_accum: args.grad_accum,
        seq_len: args.seq_len,
        loss_mask: args.loss_mask,
        eval_every: args.eval_every,
        seed: args.seed,
        dpo_beta: args.dpo_beta,
        // The whole training split, without replay (`record --settings examples=…&replay=…` has both).
        max_examples: None,
        replay: 0.0,
    };
    let config = TrainingConfig::from_settings(&settings)
        .with_weight_decay(args.weight_decay)
        .with_max_grad_norm(args.max_grad_norm);
    let lora = config.lora.clone();
    let mut trainer = if args.dpo_beta.is_some() {
        let pairs = tokenize_preferences(&train_examples, &tokenizer).map_err(|e| format!("{name}: {e}"))?;
        let pairs = preference_pairs(&pairs, args.seq_len, tokenizer.eos_id());
        if pairs.is_empty() {
            return Err(format!(
                "--dpo-beta trains on {{\"prompt\", \"chosen\", \"rejected\"}} pairs; {name} has none"
            ));
        }
        eprintln!("DPO on {} preference pairs ({} held-out sequences)", pairs.len(), eval_sequences.len());
        Trainer::preference(model, pairs, eval_sequences, config, &device)
    } else {
        eprintln!(
            "training on {} sequences ({} held out) of {} tokens",
            train_sequences.len(),
            eval_sequences.len(),
            args.seq_len
        );
        Trainer::new(model, train_sequences, eval_sequences, config, &device)
    }
    .map_err(|e| e.to_string())?;
    let mut metrics_log = String::new();
    for _ in 0..args.steps {
        let metrics = pollster::block_on(trainer.step()).map_err(|e| e.to_string())?;
        let eval = metrics.eval_loss.map(|l| format!("  eval {l:.4}")).unwrap_or_default();
        let rewards = metrics
            .rewards
            .map(|r| {
                format!(
                    "  rewards {:+.4} chosen, {:+.4} rejected, {:.0}% ahead",
                    r.chosen,
                    r.rejected,
                    100.0 * r.accuracy
                )
            })
            .unwrap_or_default();
        eprintln!(
            "step {:>4}/{}  loss {:.4}{eval}{rewards}  lr {:.2e}  grad-norm {:.3}  {:.0} tok/s  ({} of {} parameters train)",
            metrics.step,
            args.steps,
            metrics.loss,
            metrics.learning_rate,
            metrics.grad_norm,
            metrics.tokens_per_second,
            metrics.trainable_params,
            metrics.total_params
        );
        metrics_log.push_str(&serde_json::to_string(&metrics).map_err(|e| e.to_string())?);
        metrics_log.push('\n');
    }
    if let Some(path) = &args.metrics {
        write(path, &metrics_log)?;
    }

    let model = trainer.into_model();
    report_task(&args, &model.clone().valid(), &tokenizer)?;
    match settings.method {
        TrainingMethod::Lora => write_adapter(&model, &lora, &args.model.model.display().to_string(), &args.out)?,
        TrainingMethod::Full | TrainingMethod::Frozen => {
            create_dir(&args.out)?;
            write(&args.out.join("model.safetensors"), merged_model_safetensors(model)?)?;
            for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
                std::fs::copy(args.model.model.join(file), args.out.join(file))
                    .map_err(|e| format!("cannot copy {file}: {e}"))?;
            }
        }
    }
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// A LoRA adapter as a PEFT folder: `adapter_config.json` (naming `base` as the base model) and
/// `adapter_model.safetensors`.
fn write_adapter(model: &LlamaForCausalLM, lora: &LoraConfig, base: &str, folder: &Path) -> Result<(), String> {
    create_dir(folder)?;
    write(&folder.join("adapter_config.json"), adapter_config_json(lora, base))?;
    write(&folder.join("adapter_model.safetensors"), adapter_safetensors(model)?)
}

/// A PEFT adapter folder, read in.
fn read_adapter(folder: &Path) -> Result<PeftAdapter, String> {
    let (config, weights) =
        (read(&folder.join("adapter_config.json"))?, read(&folder.join("adapter_model.safetensors"))?);
    PeftAdapter::read(&folder.display().to_string(), &config, &weights)
}

/// `tinytune combine`: the adapters in `folders`, mixed with `weights`, as one PEFT folder naming the first one's
/// base model.
fn combine_adapters(folders: &[PathBuf], weights: &[f64], how: Combination, out: &Path) -> Result<(), String> {
    if folders.len() != weights.len() {
        return Err(format!(
            "{} adapters and {} weights: give one --weight after each --adapter",
            folders.len(),
            weights.len()
        ));
    }
    let adapters = folders.iter().map(|folder| read_adapter(folder)).collect::<Result<Vec<_>, _>>()?;
    let sources: Vec<Source> =
        adapters.iter().zip(weights).map(|(adapter, &weight)| adapter.weighted(weight)).collect();
    let (config, tensors) = combine(&sources, how)?;
    create_dir(out)?;
    write(&out.join("adapter_config.json"), adapter_config_json(&config, &adapters[0].base_model))?;
    write(&out.join("adapter_model.safetensors"), safetensors_bytes(&tensors))?;
    eprintln!("wrote {} (r = {}, {} tensors)", out.display(), config.r, tensors.len());
    Ok(())
}

/// `tinytune mixes`: the two adapters in `folders` mixed with every pair of the recorded weights (cat), each mix
/// checked on every check in `checks`, as the tab checks a learner's mix.
fn mixes(model: PathBuf, folders: &[PathBuf], checks: &[PathBuf]) -> Result<Vec<MixChecked>, String> {
    let [first, second] = folders else {
        return Err(format!("mixes takes exactly two --adapter folders, not {}", folders.len()));
    };
    let adapters = [read_adapter(first)?, read_adapter(second)?];
    let checks = checks
        .iter()
        .map(|path| TaskCheck::parse(&path.display().to_string(), &read(path)?))
        .collect::<Result<Vec<_>, _>>()?;
    let device = device_for(Backend::Flex);
    let (config, base, tokenizer) =
        load(&ModelArgs { model, adapter: None, backend: Backend::Flex, four_bit: false }, &device)?;
    let mut mixed = Vec::new();
    for weights in recorded_grid() {
        let sources: Vec<Source> = adapters.iter().zip(weights).map(|(adapter, w)| adapter.weighted(w)).collect();
        let how = Combination::Cat;
        let max_len = config.max_position_embeddings;
        let mix = pollster::block_on(check_mix(&base, &sources, how, &checks, &tokenizer, max_len, &device))?;
        let passes: Vec<String> =
            mix.checked.checks.iter().map(|c| format!("{} {}/{}", c.name, c.passed(), c.samples.len())).collect();
        eprintln!("weights {weights:?}: {}", passes.join(", "));
        mixed.push(mix.checked);
    }
    Ok(mixed)
}

/// `tinytune grpo`: the GRPO toy's steps with `settings`, as the tab takes them.
fn grpo_toy(args: &ModelArgs, settings: &GrpoSettings) -> Result<Vec<GrpoStep>, String> {
    let device = device_for(args.backend);
    let training_device = device.clone().autodiff();
    let (config, model, tokenizer) = load(args, &training_device)?;
    let mut trainer = toy_trainer(model, settings, &training_device).map_err(|e| e.to_string())?;
    let mut steps = Vec::new();
    for _ in 0..settings.steps {
        let max_len = config.max_position_embeddings;
        let step = toy_step(&mut trainer, &tokenizer, settings, max_len, &device, || false);
        let step = pollster::block_on(step).map_err(|e| e.to_string())?.expect("never interrupted");
        eprintln!("step {}: mean reward {:.3}, loss {:.4}", step.step, step.mean_reward, step.loss);
        steps.push(step);
    }
    Ok(steps)
}

fn create_dir(folder: &Path) -> Result<(), String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))
}

/// Prints the data set's task metric (a `.check.json` beside the data, see `tinytune::task`): how many check
/// samples the trained model passes, and how many the base model does.
fn report_task(args: &TrainArgs, trained: &LlamaForCausalLM, tokenizer: &TextTokenizer) -> Result<(), String> {
    let device = device_for(args.model.backend);
    let (config, base, _) = load(&args.model, &device)?;
    let Some(Checked { score, trained: samples, .. }) =
        task_score(&args.data, &base, trained, tokenizer, &config, &device)?
    else {
        return Ok(());
    };
    for sample in &samples {
        eprintln!("  {} {} …{}", if sample.passed { "pass" } else { "fail" }, sample.prompt, sample.text);
    }
    eprintln!("{}: {}/{} samples pass (base model: {})", score.name, score.passed, score.total, score.base_passed);
    Ok(())
}

/// A task check run on the base model and a trained one.
struct Checked {
    score: TaskScore,
    base: Vec<CheckedSample>,
    trained: Vec<CheckedSample>,
}

/// The task metric of `trained` beside `base`'s, when a `.check.json` sits beside the data set at `data`.
fn task_score(
    data: &Path,
    base: &LlamaForCausalLM,
    trained: &LlamaForCausalLM,
    tokenizer: &TextTokenizer,
    config: &LlamaConfig,
    device: &Device,
) -> Result<Option<Checked>, String> {
    let check_path = PathBuf::from(TaskCheck::url_beside(&data.to_string_lossy()));
    if !check_path.exists() {
        return Ok(None);
    }
    let check = TaskCheck::parse(&check_path.display().to_string(), &read(&check_path)?)?;
    let max_len = config.max_position_embeddings;
    let base = pollster::block_on(check.run(base, tokenizer, max_len, device));
    let trained = pollster::block_on(check.run(trained, tokenizer, max_len, device));
    let score = check.score(&trained, check.score(&base, 0).passed);
    Ok(Some(Checked { score, base, trained }))
}

/// `tinytune compare`: every sample of [`Comparison::plan`] for every way (each lesson's lineup shows its own),
/// written as the worker writes them.
fn compare(adapted_args: ModelArgs, data: &Path, out: &Path) -> Result<(), String> {
    if adapted_args.adapter.is_none() {
        return Err("compare needs --adapter: the adapter trained on the data set, for the adapter's ways".into());
    }
    let device = device_for(adapted_args.backend);
    let (config, adapted, tokenizer) = load(&adapted_args, &device)?;
    let (_, base, _) = load(&ModelArgs { adapter: None, ..adapted_args }, &device)?;
    let check_path = PathBuf::from(TaskCheck::url_beside(&data.to_string_lossy()));
    let check = TaskCheck::parse(&check_path.display().to_string(), &read(&check_path)?)?;
    let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let examples = parse_dataset(&name, &read(data)?).map_err(|e| format!("{name}: {e}"))?;
    // Retrieval searches what the adapter trained on: the training split, as the worker splits it.
    let (train, _) = split_examples(examples, &SplitSettings::default());
    let comparison = Comparison::new(&check, &train);
    let max_len = config.max_position_embeddings;
    let mut samples = Vec::new();
    for (approach, index) in comparison.plan(&Approach::ALL) {
        let model = if approach.uses_adapter() { &adapted } else { &base };
        let written = comparison.write(approach, index, model, &tokenizer, max_len, &device, |_| false);
        samples.push(pollster::block_on(written).expect("never interrupted"));
    }
    for approach in Approach::ALL {
        let passed = samples.iter().filter(|s| s.approach == approach && s.sample.passed).count();
        eprintln!("{}: {passed}/{}", approach.title(), comparison.samples_per_approach());
    }
    write_json(out, &samples)
}

/// `tinytune evaluate`: the worker's `Evaluate` of the base model and every adapter (`NAME=FOLDER`) at `rounds`, and the
/// judge's verdicts on the base model's and the first adapter's round-1 stories.
fn evaluate_on(
    model: PathBuf,
    adapters: &[String],
    data: &Path,
    rounds: usize,
    judge: Option<&Path>,
) -> Result<RecordedBench, String> {
    let device = device_for(Backend::Flex);
    let base_args = ModelArgs { model, adapter: None, backend: Backend::Flex, four_bit: false };
    let mut models = vec![(BenchedModel { name: "Base model".into(), adapter: None }, base_args.clone())];
    for named in adapters {
        let (name, folder) = named.split_once('=').ok_or_else(|| format!("--adapter {named}: write NAME=FOLDER"))?;
        let recorded_path = Path::new(folder).join("recorded.json");
        let recorded: RecordedRun =
            serde_json::from_slice(&read(&recorded_path)?).map_err(|e| format!("{}: {e}", recorded_path.display()))?;
        let settings = recorded.settings;
        let label = format!("Adapter: {} steps, training seed {}", settings.steps, settings.seed);
        let args = ModelArgs { adapter: Some(PathBuf::from(folder)), ..base_args.clone() };
        models.push((BenchedModel { name: label, adapter: Some(format!("{name}/")) }, args));
    }
    let (config, _, tokenizer) = load(&base_args, &device)?;
    let check_path = PathBuf::from(TaskCheck::url_beside(&data.to_string_lossy()));
    let check = TaskCheck::parse(&check_path.display().to_string(), &read(&check_path)?)?;
    let (train, held_out) = split_examples(examples_in(data)?, &SplitSettings::default());
    let held_out = tokenize_examples(&held_out, &tokenizer).map_err(|e| format!("{}: {e}", data.display()))?;
    let held_out = held_out_sequences(&held_out, TrainSettings::default().seq_len, tokenizer.eos_id());
    let comparison = Comparison::new(&check, &train).with_rounds(rounds);
    let mut rows = Vec::new();
    for (name, args) in models {
        let (_, model, _) = load(&args, &device)?;
        let max_len = config.max_position_embeddings;
        let quiet = async |_, _| {};
        let written = measure(name, &model, &held_out, &comparison, &tokenizer, max_len, &device, quiet, || false);
        let row = pollster::block_on(written).expect("never interrupted")?;
        let rate = row.interval();
        eprintln!(
            "{}: held-out loss {:.4} (perplexity {:.2}), {}/{} passed, 95% interval {:.0}% to {:.0}%, rounds {:?}",
            row.model.name,
            row.held_out_loss,
            row.perplexity(),
            row.passed(),
            row.total(),
            100.0 * rate.low,
            100.0 * rate.high,
            row.passed_per_round
        );
        rows.push(row);
    }
    let (judge_model, judged) = match (judge, rows.as_slice()) {
        (Some(path), [base, adapted, ..]) => {
            let args = ModelArgs { model: path.to_path_buf(), adapter: None, backend: Backend::Flex, four_bit: false };
            let (_, judge, judge_tokenizer) = load(&args, &device)?;
            let judged = judge_pairs(&judge, &judge_tokenizer, &base.first_round, &adapted.first_round, &device);
            let judged = pollster::block_on(judged)?;
            let summary = summarize(&judged);
            eprintln!("judge: {summary:?}");
            (path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), judged)
        }
        (Some(_), _) => return Err("--judge compares the base model with an adapter: give --adapter too".into()),
        (None, _) => (String::new(), Vec::new()),
    };
    Ok(RecordedBench { rows, judge_model, judged })
}

/// `tinytune export`: the files of `format` in `out`.
fn export(args: &ModelArgs, format: ExportFormat, out: &Path) -> Result<(), String> {
    let device = device_for(args.backend);
    let (config, model, tokenizer) = load(args, &device)?;
    let tokenizer_json = String::from_utf8(read(&args.model.join("tokenizer.json"))?)
        .map_err(|_| format!("{}: tokenizer.json is not UTF-8", args.model.display()))?;
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    match format {
        ExportFormat::Peft => {
            let dir = args.adapter.as_ref().ok_or("--format peft needs --adapter: the adapter to write")?;
            let lora = parse_adapter_config(&read(&dir.join("adapter_config.json"))?)?;
            files.push(("adapter_config.json", adapter_config_json(&lora, &model_name(&args.model)).into_bytes()));
            files.push(("adapter_model.safetensors", adapter_safetensors(&model)?));
        }
        ExportFormat::HfMerged => {
            let dir = args.adapter.as_ref().ok_or("--format hf-merged needs --adapter: the adapter to merge")?;
            let lora = parse_adapter_config(&read(&dir.join("adapter_config.json"))?)?;
            files = merged_hf_files(
                &config,
                &read(&args.model.join("model.safetensors"))?,
                &tokenizer_json,
                &read(&args.model.join("tokenizer_config.json"))?,
                &lora,
                &read(&dir.join("adapter_model.safetensors"))?,
            )?;
        }
        ExportFormat::Axolotl | ExportFormat::Trl | ExportFormat::Unsloth => unreachable!("export_job writes these"),
        ExportFormat::Gguf | ExportFormat::Ollama => {
            let name = model_name(&args.model);
            let weights = read(&args.model.join("model.safetensors"))?;
            let eos = tokenizer.token_text(tokenizer.eos_id());
            let base = BaseModel {
                config: &config,
                name: &name,
                weights: &weights,
                tokenizer_json: &tokenizer_json,
                eos: &eos,
            };
            let adapter_files = match &args.adapter {
                Some(dir) => Some((
                    parse_adapter_config(&read(&dir.join("adapter_config.json"))?)?,
                    read(&dir.join("adapter_model.safetensors"))?,
                )),
                None => None,
            };
            let adapter = adapter_files.as_ref().map(|(lora, weights)| Adapter { lora, weights });
            files = take_home_files(&base, adapter.as_ref())?;
            if matches!(format, ExportFormat::Gguf) {
                files.retain(|(file, _)| file.ends_with(".gguf"));
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (file, bytes) in files {
        let path = out.join(file);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `tinytune export --format axolotl|trl|unsloth`: the training split of `data` as JSONL and the tool's file (with
/// the scripts' shared module).
fn export_job(tool: Tool, data: &Path, query: &str, target: &JobTarget, out: &Path) -> Result<(), String> {
    let (settings, problems) = TrainSettings::from_query(query);
    if let Some(problem) = problems.first() {
        return Err(format!("--settings: {}", problem.message));
    }
    // The examples the site trains on: the training split, as the worker splits it.
    let (train, _) = split_examples(examples_in(data)?, &SplitSettings::default());
    let files = data_files(&train, &settings);
    let shapes: Vec<DataFile> = files.iter().map(|(file, _)| *file).collect();
    let config = tool.config(&settings, target, &shapes)?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (file, contents) in files
        .iter()
        .map(|(file, jsonl)| (file.file_name(), jsonl.as_str()))
        .chain([(tool.file_name(), config.as_str())])
        .chain(tool.companion())
    {
        let path = out.join(file);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The examples of a data file.
fn examples_in(path: &Path) -> Result<Vec<Example>, String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parse_dataset(&name, &read(path)?).map_err(|e| e.to_string())
}

/// The training and held-out sequences of `data`, split and cut as the worker does for `seq_len`.
fn split_sequences(
    data: &Path,
    tokenizer: &TextTokenizer,
    seq_len: usize,
) -> Result<(Vec<TrainingSequence>, Vec<TrainingSequence>), String> {
    let (train, held_out) = split_examples(examples_in(data)?, &SplitSettings::default());
    let sequences_of = |examples: &[Example]| -> Result<_, String> {
        let tokenized = tokenize_examples(examples, tokenizer).map_err(|e| format!("{}: {e}", data.display()))?;
        Ok(training_sequences(&tokenized, seq_len, tokenizer.eos_id()))
    };
    Ok((sequences_of(&train)?, sequences_of(&held_out)?))
}

/// `tinytune one-step`: the worker's `TakeOneStep` with `settings` on training sequence `sequence` (from 1) of
/// `data`.
fn one_step_on(
    model_args: &ModelArgs,
    data: &Path,
    sequence: usize,
    settings: &TrainSettings,
) -> Result<OneStep, String> {
    let device = device_for(model_args.backend).autodiff();
    let (_, model, tokenizer) = load(model_args, &device)?;
    let (mut sequences, mut held_out) = split_sequences(data, &tokenizer, settings.seq_len)?;
    held_out.truncate(EVAL_SEQUENCES);
    let count = sequences.len();
    let index = sequence.checked_sub(1).filter(|&i| i < count).ok_or_else(|| {
        format!(
            "--sequence {sequence}: {} has {count} training sequences; choose one from 1 to {count}",
            data.display()
        )
    })?;
    let chosen = sequences.swap_remove(index);
    let step = pollster::block_on(one_step(model, chosen, (index, count), held_out, settings, &tokenizer, &device))
        .map_err(|e| e.to_string())?;
    eprintln!(
        "loss {:.4} → {:.4}, held-out {:.4} → {:.4}, gradient norm {:.4}",
        step.loss_before, step.loss_after, step.held_out_before, step.held_out_after, step.grad_norm
    );
    Ok(step)
}

/// `tinytune quantize`: the worker's `Quantize`, on the held-out split of `data` cut as a run with the default
/// settings cuts it.
fn quantize_on(model_args: &ModelArgs, data: &Path) -> Result<QuantizationTable, String> {
    let device = device_for(model_args.backend);
    let (_, model, tokenizer) = load(model_args, &device)?;
    let (_, held_out) = split_sequences(data, &tokenizer, TrainSettings::default().seq_len)?;
    let table = pollster::block_on(quantize::measure(&model, &held_out, &device)).map_err(|e| e.to_string())?;
    eprintln!("32-bit: held-out loss {:.4} on {} sequences", table.full_precision_loss, table.held_out_sequences);
    for cell in &table.cells {
        eprintln!(
            "{:>5} block {:>3}: {:.3} bits per weight, weight error {:.2}%, held-out loss {:.4}",
            cell.format.name(),
            cell.block,
            cell.bits_per_weight,
            100.0 * cell.weight_error,
            cell.held_out_loss
        );
    }
    Ok(table)
}

/// `tinytune record`: the worker's run (`site_run`, the data set split as the worker splits it, `settings`),
/// then what the worker reports after it; with `adapter_out`, the adapter as a PEFT folder too.
fn record(args: &RecordArgs, settings: &TrainSettings, adapter_out: Option<&Path>) -> Result<RecordedRun, String> {
    let RecordArgs { model: model_args, data, reference, replay, .. } = args;
    let device = device_for(model_args.backend);
    let (config, base, tokenizer) = load(model_args, &device)?;
    let training_device = device.clone().autodiff();
    let (_, model, _) = load(model_args, &training_device)?;
    let tokenize = |examples: &[Example]| tokenize_examples(examples, &tokenizer);
    let (train, held_out) = split_examples(examples_in(data)?, &SplitSettings::default());
    let own_stories = |file: &Option<PathBuf>| file.as_ref().map_or(Ok(Vec::new()), |file| examples_in(file));
    let (reference, replay) = (own_stories(reference)?, own_stories(replay)?);
    let (preferences, held_out_preferences) =
        (tokenize_preferences(&train, &tokenizer)?, tokenize_preferences(&held_out, &tokenizer)?);
    let (train, held_out) = (tokenize(&train)?, tokenize(&held_out)?);
    let (reference, replay) = (tokenize(&reference)?, tokenize(&replay)?);
    let site_data = SiteData {
        train: &train,
        preferences: &preferences,
        held_out: &held_out,
        held_out_preferences: &held_out_preferences,
        reference: &reference,
        replay: &replay,
    };
    let mut trainer =
        site_run(model, &site_data, settings, tokenizer.eos_id(), &training_device).map_err(|e| e.to_string())?;
    let mut metrics = Vec::with_capacity(settings.steps);
    while trainer.steps_done() < settings.steps {
        metrics.push(pollster::block_on(trainer.step()).map_err(|e| e.to_string())?);
    }
    let training_sequences = trainer.training_sequences();
    let tuned = trainer.into_model().valid();
    let write_sample = |model: &LlamaForCausalLM| {
        let max_len = config.max_position_embeddings;
        let sample = pollster::block_on(generate::sample(
            model,
            &tokenizer,
            &SampleSettings::default(),
            max_len,
            &device,
            |_, _| false,
        ));
        let (tokens, prompt_len) = sample.expect("never interrupted");
        tokenizer.sample_text(&tokens, prompt_len)
    };
    if let Some(folder) = adapter_out {
        let lora = TrainingConfig::from_settings(settings).lora;
        write_adapter(&tuned, &lora, &model_name(&model_args.model), folder)?;
    }
    let (task, base_checked, tuned_checked) = match task_score(data, &base, &tuned, &tokenizer, &config, &device)? {
        Some(Checked { score, base, trained }) => (Some(score), base, trained),
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(RecordedRun {
        task,
        base_sample: write_sample(&base),
        tuned_sample: write_sample(&tuned),
        base_checked,
        tuned_checked,
        settings: settings.clone(),
        training_sequences,
        metrics,
    })
}

fn write_json(out: &Path, value: &impl serde::Serialize) -> Result<(), String> {
    write(out, serde_json::to_string(value).map_err(|e| e.to_string())?)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Trains LoRA on random tokens, timing `steps` steps after two untimed warm-up steps, then runs
/// tests/reference/bench_peft.py on the same model and settings. Without `--demo`: r 8, alpha 16, q/k/v/o, batches
/// of `--batch-size` × `--seq-len` (16 × 256), constant learning rate, no clipping; with it, the lesson demo's
/// settings without evaluations. A GGUF model is trained twice, QLoRA (4-bit base) then LoRA (f32 base), each with
/// its base's size and the process's peak memory while it trains and, apart, while it loads (on the CPU backend,
/// the device's).
fn bench(args: BenchArgs) -> Result<(), String> {
    const WARMUP: usize = 2;
    // Read by the CPU backend's thread pool when it starts, which is after this line.
    std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string());
    if args.generate {
        return bench_generate(&args);
    }
    let steps = args.steps + WARMUP;
    let (settings, training) = if args.demo {
        let default = TrainSettings::default();
        let settings = TrainSettings { steps, warmup_steps: default.warmup_steps.min(steps), eval_every: 0, ..default };
        let training = TrainingConfig::from_settings(&settings);
        (settings, training)
    } else {
        // bench_peft.py's optimizer: AdamW at 1e-3, constant, no clipping.
        let settings = TrainSettings {
            lora_rank: 8,
            lora_alpha: 16.0,
            lora_targets: TargetPreset::Attention.projections(),
            learning_rate: 1e-3,
            schedule: Schedule::Constant,
            warmup_steps: 0,
            steps,
            batch_size: args.batch_size,
            seq_len: args.seq_len,
            eval_every: 0,
            ..TrainSettings::default()
        };
        let training = TrainingConfig::from_settings(&settings).with_weight_decay(0.01).with_max_grad_norm(0.0);
        (settings, training)
    };
    let (batch, seq_len) = (settings.batch_size * settings.grad_accum, settings.seq_len);
    let targets: Vec<&str> = settings.lora_targets.iter().map(|p| p.name()).collect();
    println!(
        "LoRA r{} on {} · batch {batch} × seq {seq_len} · {} timed steps · {} threads",
        settings.lora_rank,
        targets.join(","),
        args.steps,
        args.threads
    );
    let gguf = args.model.extension().is_some_and(|extension| extension == "gguf");
    let mut ours = 0.0;
    for four_bit in if gguf { vec![true, false] } else { vec![false] } {
        reset_peak_memory();
        let device = device_for(args.backend).autodiff();
        let model_args = ModelArgs { model: args.model.clone(), adapter: None, backend: args.backend, four_bit };
        let (config, model, _) = load(&model_args, &device)?;
        let base_bytes = model.base_bytes();
        // Loading holds the file and, for an f32 base, dequantized copies for a moment: its peak apart, and what it
        // freed handed back to the kernel (mimalloc keeps freed pages), so the training peak counts training alone.
        let loading_peak = peak_memory();
        // SAFETY: mi_collect only walks mimalloc's own heaps; `force` frees their unused pages.
        unsafe { libmimalloc_sys::mi_collect(true) };
        reset_peak_memory();
        let mut rng = StdRng::seed_from_u64(0);
        let sequences: Vec<TrainingSequence> = (0..batch * steps)
            .map(|_| TrainingSequence {
                tokens: (0..=seq_len).map(|_| rng.random_range(3..config.vocab_size as u32)).collect(),
                targets_mask: vec![true; seq_len],
            })
            .collect();
        let mut trainer =
            Trainer::new(model, sequences, vec![], training.clone(), &device).map_err(|e| e.to_string())?;
        for _ in 0..WARMUP {
            pollster::block_on(trainer.step()).map_err(|e| e.to_string())?;
        }
        let started = web_time::Instant::now();
        for _ in 0..args.steps {
            pollster::block_on(trainer.step()).map_err(|e| e.to_string())?;
        }
        let seconds = started.elapsed().as_secs_f64();
        ours = (args.steps * batch * seq_len) as f64 / seconds;
        let backend = match args.backend {
            Backend::Flex => "Burn flex, CPU",
            #[cfg(feature = "gpu")]
            Backend::Wgpu => "Burn wgpu",
        };
        let label = match (gguf, four_bit) {
            (true, true) => format!("tinytune QLoRA, 4-bit base ({backend})"),
            (true, false) => format!("tinytune LoRA, f32 base ({backend})"),
            (false, _) => format!("tinytune ({backend})"),
        };
        let memory = match (args.backend, loading_peak, peak_memory()) {
            (Backend::Flex, Some(loading), Some(training)) => format!(
                " · peak memory {:.0} MB training ({:.0} MB loading)",
                training as f64 / 1e6,
                loading as f64 / 1e6
            ),
            _ => String::new(),
        };
        println!(
            "{label:<42} {ours:>10.0} tokens/s  ({:.3} s/step) · base weights {:.0} MB{memory}",
            seconds / args.steps as f64,
            base_bytes as f64 / 1e6,
        );
    }

    let Some(python) = args.python else {
        println!("PyTorch + PEFT: not run (no --python or TINYTUNE_PYTHON; tools/python-env.sh prints one)");
        return Ok(());
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/bench_peft.py");
    let output = std::process::Command::new(&python)
        .arg(&script)
        .arg("--model")
        .arg(&args.model)
        .args(["--steps", &args.steps.to_string(), "--threads", &args.threads.to_string()])
        .args(["--batch-size", &batch.to_string(), "--seq-len", &seq_len.to_string()])
        .args(["--rank", &settings.lora_rank.to_string(), "--alpha", &settings.lora_alpha.to_string()])
        .args(["--targets", &targets.join(",")])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!("bench_peft.py failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    let peer: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("bench_peft.py output: {e}"))?;
    let theirs = peer["tokens_per_second"].as_f64().ok_or("bench_peft.py printed no tokens_per_second")?;
    println!(
        "{:<42} {:>10.0} tokens/s  ({:.3} s/step; torch {}, peft {})",
        "PyTorch + PEFT (CPU)",
        theirs,
        peer["step_seconds"].as_f64().unwrap_or(f64::NAN),
        peer["torch"].as_str().unwrap_or("?"),
        peer["peft"].as_str().unwrap_or("?")
    );
    // The 1.5× target is stories260K's (the course's demo model); a GGUF's ratio is printed as it is.
    let target = if gguf { "" } else { " (target ≥ 1.5×)" };
    println!("ratio tinytune (last line) / PyTorch: {:.2}×{target}", ours / theirs);
    Ok(())
}

/// Starts a new peak for [`peak_memory`] (Linux: writing 5 to `/proc/self/clear_refs` resets the peak resident
/// size to the current one).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory in bytes since the last [`reset_peak_memory`] (Linux's `VmHWM`; `None`
/// elsewhere).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kilobytes = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?;
    Some(kilobytes.trim().parse::<u64>().ok()? * 1024)
}

/// Greedy generation from BOS to the model's context length (or EOS), with and without the KV cache: the same
/// tokens (checked), and the time each takes.
fn bench_generate(args: &BenchArgs) -> Result<(), String> {
    let device = device_for(args.backend);
    let model_args = ModelArgs { model: args.model.clone(), adapter: None, backend: args.backend, four_bit: false };
    let (config, model, tokenizer) = load(&model_args, &device)?;
    let max_len = config.max_position_embeddings;
    println!("greedy generation from BOS, up to {max_len} tokens · {} threads", args.threads);
    let mut outputs = Vec::new();
    for kv_cache in [true, false] {
        let settings = GenerationConfig::new(max_len).with_kv_cache(kv_cache);
        let started = web_time::Instant::now();
        let tokens = pollster::block_on(generate(
            &model,
            tokenizer.start_ids(),
            &settings,
            tokenizer.eos_id(),
            max_len,
            &device,
        ));
        let seconds = started.elapsed().as_secs_f64();
        let new_tokens = tokens.len() - 1;
        let label = if kv_cache { "with the KV cache" } else { "without (re-run all)" };
        println!("{label:<28} {:>10.0} tokens/s  ({new_tokens} tokens in {seconds:.2} s)", new_tokens as f64 / seconds);
        outputs.push(tokens);
    }
    if outputs[0] != outputs[1] {
        return Err("the cached and uncached generations differ".into());
    }
    println!("both wrote the same {} tokens", outputs[0].len() - 1);
    Ok(())
}
