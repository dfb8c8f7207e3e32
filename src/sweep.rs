//! Sweeps: runs that differ from one base run in two settings, laid out as a grid of rows × columns. The learner
//! launches any cells of a grid from a lesson ("Rank, alpha and targets"; "Learning rate, schedule and batch"),
//! and `tinytune sweep` records every cell at build time with the same settings; the page shows the recording,
//! labelled as such, until the learner's own runs take its place. The grids are defined here once, for both.

use crate::protocol::{RecordedRun, TrainSettings};
use crate::settings::{Choice, LossMask, TargetPreset, TrainingMethod};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sweep {
    /// LoRA's rank against where the adapters go (attention, MLP, every linear layer) and how the update is
    /// scaled (alpha / r, or alpha / √r with rsLoRA), at the default run's alpha of 16.
    RankAndTargets,
    /// The learning rate on a log scale, for LoRA (the default run) and for full fine-tuning.
    LearningRate,
    /// Instruction tuning with each loss mask (the responses, the prompts too, the responses without their end
    /// tokens), for the default run's 60 steps and the Instruction tuning preset's 300.
    LossMask,
    /// How many training examples against how much of each batch is the base model's own stories (replay), for
    /// twice the default run's steps: few examples for that long overfit, and the drift from the base model grows
    /// unless it is replayed.
    Overfitting,
}

impl Choice for Sweep {
    const ALL: &'static [Sweep] = &[Sweep::RankAndTargets, Sweep::LearningRate, Sweep::LossMask, Sweep::Overfitting];
    fn name(self) -> &'static str {
        match self {
            Sweep::RankAndTargets => "rank-targets",
            Sweep::LearningRate => "learning-rate",
            Sweep::LossMask => "loss-mask",
            Sweep::Overfitting => "overfitting",
        }
    }
}

/// The ranks of the rank sweep: powers of two from 1 to 32, as PEFT users try them.
const RANKS: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// The columns of the rank sweep: where the adapters go, and whether rsLoRA scales them.
const PLACES: [(TargetPreset, bool); 4] = [
    (TargetPreset::Attention, false),
    (TargetPreset::Mlp, false),
    (TargetPreset::AllLinear, false),
    (TargetPreset::AllLinear, true),
];

/// The learning rates of the learning-rate sweep: about half a step of ten apart, as sweeps are usually spaced.
const LEARNING_RATES: [f64; 7] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

/// The columns of the learning-rate sweep: the method, and its name in the grid.
const METHODS: [(TrainingMethod, &str); 2] =
    [(TrainingMethod::Lora, "LoRA, rank 8, all linear"), (TrainingMethod::Full, "Full fine-tuning")];

/// The columns of the loss-mask sweep: the run's length, and its name in the grid.
const LENGTHS: [(usize, &str); 2] = [(60, "60 steps (the default run)"), (300, "300 steps (Instruction tuning)")];

/// The rows of the overfitting sweep: how many training examples (`None`: every one).
const EXAMPLE_COUNTS: [Option<usize>; 3] = [Some(8), Some(32), None];

/// The columns of the overfitting sweep: the replay share, and its name in the grid.
const REPLAY_SHARES: [(f64, &str); 3] = [(0.0, "No replay"), (0.2, "20% replay"), (0.5, "50% replay")];

/// The overfitting sweep's length: twice the default run, so 8 examples are seen dozens of times.
const OVERFITTING_STEPS: usize = 120;

/// One run of a sweep: its place in the grid and its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub row: usize,
    pub column: usize,
    pub settings: TrainSettings,
}

impl Sweep {
    /// The data set it runs on, one of the site's (`public/datasets/`).
    pub fn dataset_file(self) -> &'static str {
        match self {
            Sweep::RankAndTargets | Sweep::LearningRate | Sweep::Overfitting => "pip-the-purple-robot.jsonl",
            Sweep::LossMask => "animal-place-instructions.jsonl",
        }
    }

    /// What the rows vary, as a table's corner heading.
    pub fn rows_title(self) -> &'static str {
        match self {
            Sweep::RankAndTargets => "Rank r",
            Sweep::LearningRate => "Learning rate",
            Sweep::LossMask => "Loss on",
            Sweep::Overfitting => "Training examples",
        }
    }

    pub fn row_labels(self) -> Vec<String> {
        match self {
            Sweep::RankAndTargets => RANKS.iter().map(usize::to_string).collect(),
            Sweep::LearningRate => LEARNING_RATES.iter().map(f64::to_string).collect(),
            Sweep::LossMask => LossMask::ALL.iter().map(|mask| mask.label().to_string()).collect(),
            Sweep::Overfitting => {
                EXAMPLE_COUNTS.iter().map(|count| count.map_or("all".to_string(), |n| n.to_string())).collect()
            }
        }
    }

    pub fn column_labels(self) -> Vec<&'static str> {
        match self {
            Sweep::RankAndTargets => PLACES
                .iter()
                .map(|&(targets, rslora)| match (targets, rslora) {
                    (TargetPreset::AllLinear, true) => "All linear, rsLoRA",
                    (TargetPreset::AllLinear, false) => "All linear",
                    (targets, _) => targets.label(),
                })
                .collect(),
            Sweep::LearningRate => METHODS.iter().map(|&(_, label)| label).collect(),
            Sweep::LossMask => LENGTHS.iter().map(|&(_, label)| label).collect(),
            Sweep::Overfitting => REPLAY_SHARES.iter().map(|&(_, label)| label).collect(),
        }
    }

    /// Every cell, row by row: the order `tinytune sweep` records them in.
    pub fn cells(self) -> Vec<Cell> {
        let (rows, columns) = (self.row_labels().len(), self.column_labels().len());
        (0..rows)
            .flat_map(|row| (0..columns).map(move |column| (row, column)))
            .map(|(row, column)| Cell { row, column, settings: self.settings(row, column) })
            .collect()
    }

    fn settings(self, row: usize, column: usize) -> TrainSettings {
        match self {
            Sweep::RankAndTargets => {
                let (targets, use_rslora) = PLACES[column];
                TrainSettings {
                    lora_rank: RANKS[row],
                    lora_targets: targets.projections(),
                    use_rslora,
                    ..TrainSettings::default()
                }
            }
            Sweep::LearningRate => TrainSettings {
                learning_rate: LEARNING_RATES[row],
                method: METHODS[column].0,
                ..TrainSettings::default()
            },
            Sweep::LossMask => {
                TrainSettings { loss_mask: LossMask::ALL[row], steps: LENGTHS[column].0, ..TrainSettings::default() }
            }
            Sweep::Overfitting => TrainSettings {
                max_examples: EXAMPLE_COUNTS[row],
                replay: REPLAY_SHARES[column].0,
                steps: OVERFITTING_STEPS,
                ..TrainSettings::default()
            },
        }
    }

    /// "r 8, all linear, rsLoRA": a cell in words, for legends and announcements.
    pub fn cell_label(self, cell: &Cell) -> String {
        format!("{} {}, {}", self.row_prefix(), self.row_labels()[cell.row], self.column_labels()[cell.column])
    }

    fn row_prefix(self) -> &'static str {
        match self {
            Sweep::RankAndTargets => "r",
            Sweep::LearningRate => "learning rate",
            Sweep::LossMask => "loss on",
            Sweep::Overfitting => "training examples",
        }
    }

    /// The cells a lesson's demo starts with chosen, as indices into [`Sweep::cells`]: the comparison its
    /// prediction asks about.
    pub fn suggested(self) -> Vec<usize> {
        let index = |row: usize, column: usize| row * self.column_labels().len() + column;
        match self {
            // Rank 32 on attention only against rank 4 and rank 1 on every linear layer.
            Sweep::RankAndTargets => vec![index(5, 0), index(2, 2), index(0, 2)],
            // LoRA at the default 0.01, full fine-tuning at that rate and at a tenth of it.
            Sweep::LearningRate => vec![index(4, 0), index(4, 1), index(2, 1)],
            // Every mask at the length that teaches the data set's task.
            Sweep::LossMask => vec![index(0, 1), index(1, 1), index(2, 1)],
            // Eight examples and every example without replay, and every example with half of each batch replayed.
            Sweep::Overfitting => vec![index(0, 0), index(2, 0), index(2, 2)],
        }
    }

    /// Whether its cells show how many passes over the data each run made and its drift from the base model,
    /// beside the held-out loss: what the overfitting sweep is about.
    pub fn shows_passes_and_drift(self) -> bool {
        self == Sweep::Overfitting
    }

    /// Where the site serves the recording of this sweep on the data set at `dataset_url`:
    /// `…/pip.jsonl` → `…/pip.sweep-rank-targets.json`.
    pub fn recorded_url(self, dataset_url: &str) -> String {
        crate::task::file_beside(dataset_url, &format!("sweep-{}.json", self.name()))
    }

    /// The recording's run for each cell, in [`Sweep::cells`] order; `None` where the file holds a run with other
    /// settings (a recording older than the grid) or none at all.
    pub fn recorded_cells(self, recorded: &[RecordedRun]) -> Vec<Option<&RecordedRun>> {
        self.cells()
            .iter()
            .enumerate()
            .map(|(i, cell)| recorded.get(i).filter(|run| run.settings == cell.settings))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Projection;

    #[test]
    fn the_rank_grid_is_every_rank_in_every_place_row_by_row() {
        let sweep = Sweep::RankAndTargets;
        let cells = sweep.cells();
        assert_eq!(cells.len(), 6 * 4);
        assert_eq!((cells[5].row, cells[5].column), (1, 1));
        let r2_mlp = &cells[5].settings;
        assert_eq!(r2_mlp.lora_rank, 2);
        assert_eq!(r2_mlp.lora_targets, [Projection::GateProj, Projection::UpProj, Projection::DownProj]);
        assert!(!r2_mlp.use_rslora);
        assert_eq!(sweep.cell_label(&cells[5]), "r 2, MLP only");
        let last = cells.last().unwrap();
        assert_eq!(sweep.cell_label(last), "r 32, All linear, rsLoRA");
        assert!(last.settings.use_rslora && last.settings.lora_targets.len() == 7);
        // Everything else is the default run, so the grid's differences are the only ones.
        for cell in &cells {
            let s = &cell.settings;
            let default = TrainSettings::default();
            assert_eq!(
                TrainSettings {
                    lora_rank: 8,
                    lora_targets: default.lora_targets.clone(),
                    use_rslora: false,
                    ..s.clone()
                },
                default
            );
            assert!(s.problems().is_empty(), "{:?}", s.problems());
        }
    }

    #[test]
    fn the_learning_rate_grid_is_each_rate_for_lora_and_full_fine_tuning() {
        let sweep = Sweep::LearningRate;
        let cells = sweep.cells();
        assert_eq!(cells.len(), 7 * 2);
        assert_eq!(sweep.row_labels(), ["0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1"]);
        assert_eq!(sweep.cell_label(&cells[5]), "learning rate 0.001, Full fine-tuning");
        assert_eq!((cells[5].settings.method, cells[5].settings.learning_rate), (TrainingMethod::Full, 1e-3));
        for cell in &cells {
            let default = TrainSettings::default();
            let s = &cell.settings;
            assert_eq!(TrainSettings { learning_rate: 1e-2, method: TrainingMethod::Lora, ..s.clone() }, default);
            assert!(s.problems().is_empty(), "{:?}", s.problems());
        }
    }

    #[test]
    fn the_loss_mask_grid_is_each_mask_at_the_default_length_and_the_instruction_presets() {
        let sweep = Sweep::LossMask;
        let cells = sweep.cells();
        assert_eq!(cells.len(), 3 * 2);
        assert_eq!(sweep.cell_label(&cells[3]), "loss on prompts and responses, 300 steps (Instruction tuning)");
        assert_eq!(
            sweep.cell_label(&cells[4]),
            "loss on responses without their end tokens, 60 steps (the default run)"
        );
        // The responses-only cells are the default run and the Instruction tuning preset, exactly.
        assert_eq!(cells[0].settings, TrainSettings::default());
        assert_eq!(cells[1].settings, crate::settings::RunPreset::Instructions.settings());
        for cell in &cells {
            let s = &cell.settings;
            assert_eq!(s.loss_mask, LossMask::ALL[cell.row]);
            assert_eq!(
                TrainSettings { loss_mask: LossMask::Responses, steps: 60, ..s.clone() },
                TrainSettings::default()
            );
        }
        assert_eq!(sweep.dataset_file(), "animal-place-instructions.jsonl");
    }

    #[test]
    fn the_overfitting_grid_is_each_data_size_at_each_replay_share_for_twice_the_default_steps() {
        let sweep = Sweep::Overfitting;
        let cells = sweep.cells();
        assert_eq!(cells.len(), 3 * 3);
        assert_eq!(sweep.cell_label(&cells[1]), "training examples 8, 20% replay");
        assert_eq!(sweep.cell_label(&cells[8]), "training examples all, 50% replay");
        assert_eq!((cells[8].settings.max_examples, cells[8].settings.replay), (None, 0.5));
        for cell in &cells {
            let s = &cell.settings;
            assert_eq!(
                TrainSettings { max_examples: None, replay: 0.0, steps: 60, ..s.clone() },
                TrainSettings::default()
            );
            assert_eq!(s.steps, 120);
            assert!(s.problems().is_empty(), "{:?}", s.problems());
        }
        assert!(sweep.shows_passes_and_drift() && !Sweep::LossMask.shows_passes_and_drift());
    }

    #[test]
    fn the_suggested_cells_are_the_lessons_comparisons() {
        let labels = |sweep: Sweep| -> Vec<String> {
            let cells = sweep.cells();
            sweep.suggested().iter().map(|&i| sweep.cell_label(&cells[i])).collect()
        };
        assert_eq!(labels(Sweep::RankAndTargets), ["r 32, Attention only", "r 4, All linear", "r 1, All linear"]);
        assert_eq!(
            labels(Sweep::LearningRate),
            [
                "learning rate 0.01, LoRA, rank 8, all linear",
                "learning rate 0.01, Full fine-tuning",
                "learning rate 0.001, Full fine-tuning"
            ]
        );
        assert_eq!(
            labels(Sweep::Overfitting),
            ["training examples 8, No replay", "training examples all, No replay", "training examples all, 50% replay"]
        );
        assert_eq!(
            labels(Sweep::LossMask),
            [
                "loss on responses and their end tokens, 300 steps (Instruction tuning)",
                "loss on prompts and responses, 300 steps (Instruction tuning)",
                "loss on responses without their end tokens, 300 steps (Instruction tuning)"
            ]
        );
    }

    #[test]
    fn a_recording_counts_only_where_its_settings_are_the_cells() {
        let sweep = Sweep::RankAndTargets;
        let run = |settings: TrainSettings| RecordedRun {
            settings,
            training_sequences: 0,
            metrics: Vec::new(),
            task: None,
            base_sample: String::new(),
            tuned_sample: String::new(),
            base_checked: Vec::new(),
            tuned_checked: Vec::new(),
        };
        let cells = sweep.cells();
        let recorded = vec![run(cells[0].settings.clone()), run(TrainSettings::default())];
        let found = sweep.recorded_cells(&recorded);
        assert_eq!(found.len(), cells.len());
        assert!(found[0].is_some());
        assert!(found[1].is_none(), "the file's second run is not the grid's second cell");
        assert!(found[2..].iter().all(Option::is_none));
        assert_eq!(
            sweep.recorded_url("datasets/pip-the-purple-robot.jsonl"),
            "datasets/pip-the-purple-robot.sweep-rank-targets.json"
        );
    }
}
