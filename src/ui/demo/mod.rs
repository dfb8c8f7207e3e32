//! Live demos: the run layer's widgets (settings form, progress, loss chart, samples, download), each taking a
//! [`LiveDemo`] and knowing no particular demo, and the demos that lessons place with ```` ```demo ```` blocks
//! (`course::DemoKind` lists them). They talk to the trainer worker
//! through `super::trainer_client`.

mod adapter_mix;
mod approaches;
mod backend;
mod before_after;
mod capstone;
mod chart;
mod chart_scale;
mod chat_box;
mod cost_calculator;
mod data_cleaning;
mod dataset_select;
mod datasets;
mod domain_facts;
mod download;
mod eval_bench;
mod field;
mod first_lora;
mod grpo_toy;
mod instruction_adapter;
mod instruction_tuning;
mod job_sizer;
mod layer_map;
mod live;
mod loading;
mod lora_matrix;
mod next_token;
mod notices;
pub(crate) mod numbers;
mod one_step;
mod open_adapter;
mod preference_tuning;
mod preflight;
mod qlora_chat;
mod quantization;
mod reading;
mod recorded;
mod resume_offer;
mod run_bigger;
mod run_controls;
mod run_progress;
mod samples;
mod set_comparison;
mod settings_form;
mod skewed_data;
mod sweep;
mod table;
mod task_result;
mod throughput;
mod tokens;
mod toolchains;

pub use backend::BackendLine;
pub use chart::{run_losses, Measure, RunsChart, StepChart};
pub use dataset_select::DatasetSelect;
pub use datasets::{
    DatasetChoice, CHOICES, DATASETS, DATA_KEY, INSTRUCTIONS, MESSY, PIP_STORIES, PREFERENCES, ROLES_BALANCED,
    ROLES_SKEWED, STUDIO_DATASET, SUPPORT_REPLIES, TOWN_NOTES, TOWN_QUESTIONS,
};
pub use download::save_file;
pub use live::LiveDemo;
pub use loading::LoadingProgress;
pub use notices::{Notices, SettingProblems};
pub use open_adapter::OpenAdapter;
pub use resume_offer::ResumeOffer;
pub use run_bigger::RunItBigger;
pub use run_controls::RunControls;
pub use run_progress::RunProgress;
pub use samples::Samples;
pub use settings_form::{Controls, Presets, TrainingForm};
pub use table::ScrollingTable;
pub use task_result::TaskResult;

use leptos::prelude::*;

use crate::approach::Lineup;
use crate::course::DemoKind;
use crate::sweep::Sweep;

/// The base model the live demos train, converted at build time and served by the site (relative to the site's
/// base, see `ui::site`).
pub const STORIES_MODEL_URL: &str = "models/stories260K/";

#[component]
pub fn Demo(kind: DemoKind) -> impl IntoView {
    match kind {
        DemoKind::FirstLora => view! { <first_lora::FirstLoraDemo /> }.into_any(),
        DemoKind::NextToken => view! { <next_token::NextTokenDemo /> }.into_any(),
        DemoKind::Tokens => view! { <tokens::TokensDemo /> }.into_any(),
        DemoKind::InstructionAdapter => view! { <instruction_adapter::InstructionAdapterDemo /> }.into_any(),
        DemoKind::LayerMap => view! { <layer_map::LayerMapDemo /> }.into_any(),
        DemoKind::Approaches => view! { <approaches::ApproachesDemo lineup=Lineup::Approaches /> }.into_any(),
        DemoKind::CostCalculator => view! { <cost_calculator::CostCalculatorDemo /> }.into_any(),
        DemoKind::LoraMatrix => view! { <lora_matrix::LoraMatrixDemo /> }.into_any(),
        DemoKind::RankSweep => view! { <sweep::SweepDemo sweep=Sweep::RankAndTargets /> }.into_any(),
        DemoKind::LearningRateSweep => view! { <sweep::SweepDemo sweep=Sweep::LearningRate /> }.into_any(),
        DemoKind::OneStep => view! { <one_step::OneStepDemo /> }.into_any(),
        DemoKind::LossMaskSweep => view! { <sweep::SweepDemo sweep=Sweep::LossMask /> }.into_any(),
        DemoKind::OverfittingSweep => view! { <sweep::SweepDemo sweep=Sweep::Overfitting /> }.into_any(),
        DemoKind::Templates => view! { <approaches::ApproachesDemo lineup=Lineup::Templates /> }.into_any(),
        DemoKind::QloraChat => view! { <qlora_chat::QloraChatDemo /> }.into_any(),
        DemoKind::Quantization => view! { <quantization::QuantizationDemo /> }.into_any(),
        DemoKind::PreferenceTuning => view! { <preference_tuning::PreferenceTuningDemo /> }.into_any(),
        DemoKind::DataCleaning => view! { <data_cleaning::DataCleaningDemo /> }.into_any(),
        DemoKind::InstructionTuning => view! { <instruction_tuning::InstructionTuningDemo /> }.into_any(),
        DemoKind::DomainFacts => view! { <domain_facts::DomainFactsDemo /> }.into_any(),
        DemoKind::SkewedData => view! { <skewed_data::SkewedDataDemo /> }.into_any(),
        DemoKind::Toolchains => view! { <toolchains::ToolchainsDemo /> }.into_any(),
        DemoKind::AdapterMix => view! { <adapter_mix::AdapterMixDemo /> }.into_any(),
        DemoKind::GrpoToy => view! { <grpo_toy::GrpoToyDemo /> }.into_any(),
        DemoKind::EvalBench => view! { <eval_bench::EvalBenchDemo /> }.into_any(),
        DemoKind::Capstone => view! { <capstone::CapstoneDemo /> }.into_any(),
    }
}
