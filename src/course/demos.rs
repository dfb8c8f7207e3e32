//! The live elements a lesson places with a ```` ```demo ```` block: one list, read by the build's content check,
//! by the page (which shows each), and by the site build (which records what the demos that read a text show
//! before the learner runs them, see `tinytune inspect`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DemoKind {
    /// LoRA-train the model on the Pip stories: losses, samples, the adapter.
    FirstLora,
    /// A prompt's next-token distribution as bars, with temperature and top-p.
    NextToken,
    /// A text as the model's tokens.
    Tokens,
    /// The same request through the base model and through a shipped instruction adapter.
    InstructionAdapter,
    /// Which layers and projections train, and what that costs in parameters and memory.
    LayerMap,
    /// One goal reached four ways (the request alone, a worked example, retrieval, the adapter), scored.
    Approaches,
    /// A large prompted model against a small fine-tuned one: cost per request and month, and the payback.
    CostCalculator,
    /// One projection's frozen weight, its LoRA update and their sum as heatmaps, with rank and alpha.
    LoraMatrix,
    /// LoRA's rank against its targets and scaling: a grid of runs the learner launches, recorded too.
    RankSweep,
    /// The learning rate on a log scale for LoRA and full fine-tuning: a grid of runs, recorded too.
    LearningRateSweep,
    /// Instruction tuning under each loss mask, for two lengths of run: a grid of runs, recorded too.
    LossMaskSweep,
    /// The instruction adapter asked in the template it trained on and in two others, scored.
    Templates,
    /// One training step from the base model on one sequence, stage by stage: batch, loss, gradients, update, after.
    OneStep,
    /// SmolLM2-135M-Instruct, 4-bit: the hardware preflight, a chat box, a QLoRA run on support replies, the
    /// replies before and after side by side, the adapter.
    QloraChat,
    /// The base model's projections stored in 8-bit, 4-bit and NF4 formats at several block sizes: one block
    /// pictured, and the held-out loss of each.
    Quantization,
    /// DPO on preference pairs: β on a slider, the rewards and log-probabilities of the chosen and rejected answers
    /// step by step, and the rewards on held-out pairs.
    PreferenceTuning,
    /// The messy practice set trained as it came and cleaned (recorded), beside a run on the learner's own
    /// cleaning of it in the data studio, each scored by the task check.
    DataCleaning,
    /// The instruction data set trained on, and stories for requests it never saw judged for the answers' shape
    /// and for following the request, before and after.
    InstructionTuning,
    /// The same new facts trained as raw notes and as questions with answers, then asked about five ways: as
    /// trained, in other words (with and without the trained question word), in reverse, and as a sentence to
    /// finish.
    DomainFacts,
    /// The same stories about people at work told with stereotyped pronouns or balanced ones: how often each
    /// run's stories call each role "she".
    SkewedData,
    /// Training examples against the replay share on the Pip stories, for twice the default steps: a grid of
    /// runs, recorded too, with each cell's held-out loss, drift and passes over the data.
    OverfittingSweep,
    /// How fast this device trains the model; the same settings sized as a job for a published model on a
    /// datasheet GPU (memory by part, time at a utilisation); the job written for TRL, Unsloth and Axolotl.
    Toolchains,
    /// The instruction adapter and the Pip adapter mixed with the learner's weights, as PEFT mixes adapters, and
    /// both task checks run on the mix, under a recorded grid of weights; the mix downloads for Ollama.
    AdapterMix,
    /// GRPO on the story model: groups of completions scored by a checkable rule, their advantages, and real
    /// steps; the mean reward charted and the latest groups shown, recorded too.
    GrpoToy,
    /// The base model and two instruction adapters that differ only in their training seed, on the held-out loss,
    /// perplexity and the task check over rounds of samples with 95% intervals; a small judge's recorded verdicts.
    EvalBench,
    /// The whole pipeline on a data set the learner chooses (their own from the studio, or a shipped one): its
    /// split, a run, the run before and after, samples, and the adapter to take home; finished runs kept for the
    /// completion page.
    Capstone,
}

impl DemoKind {
    pub const ALL: [DemoKind; 26] = [
        DemoKind::FirstLora,
        DemoKind::NextToken,
        DemoKind::Tokens,
        DemoKind::InstructionAdapter,
        DemoKind::LayerMap,
        DemoKind::Approaches,
        DemoKind::CostCalculator,
        DemoKind::LoraMatrix,
        DemoKind::RankSweep,
        DemoKind::LearningRateSweep,
        DemoKind::OneStep,
        DemoKind::LossMaskSweep,
        DemoKind::Templates,
        DemoKind::QloraChat,
        DemoKind::Quantization,
        DemoKind::PreferenceTuning,
        DemoKind::DataCleaning,
        DemoKind::InstructionTuning,
        DemoKind::DomainFacts,
        DemoKind::SkewedData,
        DemoKind::OverfittingSweep,
        DemoKind::Toolchains,
        DemoKind::AdapterMix,
        DemoKind::GrpoToy,
        DemoKind::EvalBench,
        DemoKind::Capstone,
    ];

    /// The name a ```` ```demo ```` block uses.
    pub fn name(self) -> &'static str {
        match self {
            DemoKind::FirstLora => "first-lora",
            DemoKind::NextToken => "next-token",
            DemoKind::Tokens => "tokens",
            DemoKind::InstructionAdapter => "instruction-adapter",
            DemoKind::LayerMap => "layer-map",
            DemoKind::Approaches => "approaches",
            DemoKind::CostCalculator => "cost-calculator",
            DemoKind::LoraMatrix => "lora-matrix",
            DemoKind::RankSweep => "rank-sweep",
            DemoKind::LearningRateSweep => "learning-rate-sweep",
            DemoKind::OneStep => "one-step",
            DemoKind::LossMaskSweep => "loss-mask-sweep",
            DemoKind::Templates => "templates",
            DemoKind::QloraChat => "qlora-chat",
            DemoKind::Quantization => "quantization",
            DemoKind::PreferenceTuning => "preference-tuning",
            DemoKind::DataCleaning => "data-cleaning",
            DemoKind::InstructionTuning => "instruction-tuning",
            DemoKind::DomainFacts => "domain-facts",
            DemoKind::SkewedData => "skewed-data",
            DemoKind::OverfittingSweep => "overfitting-sweep",
            DemoKind::Toolchains => "toolchains",
            DemoKind::AdapterMix => "adapter-mix",
            DemoKind::GrpoToy => "grpo-toy",
            DemoKind::EvalBench => "eval-bench",
            DemoKind::Capstone => "capstone",
        }
    }

    pub fn from_name(name: &str) -> Option<DemoKind> {
        DemoKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The text a demo that reads one opens with. The site build records the base model's reading of it, shown
    /// (labelled) until the learner asks for their own.
    pub fn opening_text(self) -> Option<&'static str> {
        match self {
            DemoKind::FirstLora
            | DemoKind::InstructionAdapter
            | DemoKind::LayerMap
            | DemoKind::Approaches
            | DemoKind::CostCalculator
            | DemoKind::LoraMatrix
            | DemoKind::RankSweep
            | DemoKind::LearningRateSweep
            | DemoKind::OneStep
            | DemoKind::LossMaskSweep
            | DemoKind::Templates
            | DemoKind::QloraChat
            | DemoKind::Quantization
            | DemoKind::PreferenceTuning
            | DemoKind::DataCleaning
            | DemoKind::InstructionTuning
            | DemoKind::DomainFacts
            | DemoKind::SkewedData
            | DemoKind::OverfittingSweep
            | DemoKind::Toolchains
            | DemoKind::AdapterMix
            | DemoKind::GrpoToy
            | DemoKind::EvalBench
            | DemoKind::Capstone => None,
            DemoKind::NextToken => Some("Once upon a time, Lily went to the"),
            DemoKind::Tokens => Some("Lily and Ben saw a big red ball in the park."),
        }
    }

    /// The recorded reading's file, in the model's folder.
    pub fn recorded_file(self) -> Option<String> {
        self.opening_text().map(|_| format!("inspect.{}.json", self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_differ() {
        for kind in DemoKind::ALL {
            assert_eq!(DemoKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(DemoKind::from_name("first_lora"), None);
        let files: Vec<_> = DemoKind::ALL.iter().filter_map(|kind| kind.recorded_file()).collect();
        assert_eq!(files, ["inspect.next-token.json", "inspect.tokens.json"]);
    }
}
