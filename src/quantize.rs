//! Quantization (lesson "QLoRA"): a weight kept as small integer codes plus a scale for each block of weights, and
//! read back as code × scale (+ a minimum). Four formats, at any block size: llama.cpp's Q8_0, Q4_0 and Q4_1 (as
//! ggml's reference quantizer and gguf-py write them; their native block is 32) and NF4, QLoRA's format (as
//! bitsandbytes writes it; its default block is 64). [`Format::round_trip`] is what a weight becomes once stored and
//! read back; [`measure`] stores every projection of a model so and measures the held-out loss, the lesson's table.
//!
//! Written here rather than taken from a crate: each format is a few lines, and the crates that have them come
//! inside tensor frameworks (candle, ggml bindings); the tests check every format against gguf-py and bitsandbytes.
//!
//! Blocks run over the weight's values in the order Hugging Face and both tools store them (row-major `[out, in]`);
//! a last block shorter than the others is quantized on its own, as bitsandbytes does.

use half::f16;
use serde::{Deserialize, Serialize};

use crate::settings::Projection;

/// The block sizes the lesson compares.
pub const BLOCK_SIZES: [usize; 4] = [32, 64, 128, 256];

/// NF4's 16 levels (bitsandbytes' table, `_NF4_QUANT_TABLE`): quantiles of a normal distribution scaled to [−1, 1],
/// with an exact zero (QLoRA, Dettmers et al. 2023, appendix E).
pub const NF4_LEVELS: [f32; 16] = [
    -1.0,
    -0.696_192_8,
    -0.525_073_05,
    -0.394_917_5,
    -0.284_441_38,
    -0.184_773_43,
    -0.091_050_036,
    0.0,
    0.079_580_3,
    0.160_930_2,
    0.246_112_3,
    0.337_915_24,
    0.440_709_83,
    0.562_617,
    0.722_956_84,
    1.0,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// 8-bit codes −127..127 times an f16 scale, max |w| / 127.
    Q8_0,
    /// 4-bit codes −8..7 times an f16 scale: the weight of largest magnitude lands on −8, exactly.
    Q4_0,
    /// 4-bit codes 0..15 times an f16 scale, plus the block's minimum (f16): 16 steps from min to max.
    Q4_1,
    /// 4-bit codes naming one of [`NF4_LEVELS`], times the block's max |w| (f32).
    Nf4,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Q8_0, Format::Q4_0, Format::Q4_1, Format::Nf4];

    /// Its name in llama.cpp or bitsandbytes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Q8_0 => "Q8_0",
            Format::Q4_0 => "Q4_0",
            Format::Q4_1 => "Q4_1",
            Format::Nf4 => "NF4",
        }
    }

    /// What it stores, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Format::Q8_0 => "8-bit, one scale per block",
            Format::Q4_0 => "4-bit, one scale per block",
            Format::Q4_1 => "4-bit, a scale and a minimum per block",
            Format::Nf4 => "4-bit normal float, one scale per block",
        }
    }

    /// Bits of each weight's code.
    pub fn code_bits(self) -> u32 {
        match self {
            Format::Q8_0 => 8,
            Format::Q4_0 | Format::Q4_1 | Format::Nf4 => 4,
        }
    }

    /// Bits each block keeps beside its codes: the scale, and Q4_1's minimum.
    fn block_bits(self) -> u32 {
        match self {
            Format::Q8_0 | Format::Q4_0 => 16,
            // Q4_1: an f16 scale and an f16 minimum; NF4: an f32 scale.
            Format::Q4_1 | Format::Nf4 => 32,
        }
    }

    /// Bits a weight takes, its share of its block's scale (and minimum) included.
    pub fn bits_per_weight(self, block: usize) -> f64 {
        self.code_bits() as f64 + self.block_bits() as f64 / block as f64
    }

    /// `values` stored in this format in blocks of `block` values, and read back.
    pub fn round_trip(self, values: &[f32], block: usize) -> Vec<f32> {
        assert!(block > 0, "a block holds at least one value");
        let whole = values.len() - values.len() % block;
        let mut out = Vec::with_capacity(values.len());
        for chunk in values[..whole].chunks(block) {
            out.extend(self.block_round_trip(chunk, Reciprocal::Multiply));
        }
        if whole < values.len() {
            // bitsandbytes divides the shorter last block by its scale rather than multiplying by the inverse.
            out.extend(self.block_round_trip(&values[whole..], Reciprocal::Divide));
        }
        out
    }

    /// Every value one block of weights can be read back as, in increasing order.
    pub fn levels(self, block: &[f32]) -> Vec<f32> {
        let scale = BlockScale::of(self, block);
        let mut levels: Vec<f32> = match self {
            Format::Q8_0 => (-127..=127).map(|q| q as f32 * scale.read_scale).collect(),
            Format::Q4_0 => (-8..=7).map(|q| q as f32 * scale.read_scale).collect(),
            Format::Q4_1 => (0..16).map(|q| scale.read_scale * q as f32 + scale.min).collect(),
            Format::Nf4 => NF4_LEVELS.iter().map(|level| level * scale.read_scale).collect(),
        };
        levels.sort_by(f32::total_cmp);
        levels.dedup();
        levels
    }

    fn block_round_trip(self, block: &[f32], reciprocal: Reciprocal) -> impl Iterator<Item = f32> + '_ {
        let scale = BlockScale::of(self, block);
        block.iter().map(move |&w| match self {
            // gguf-py's `np_roundf`: halves away from zero; the code is an integer (no −0).
            Format::Q8_0 => f32::from((w * scale.inverse).round() as i8) * scale.read_scale,
            Format::Q4_0 => ((w * scale.inverse + 8.5).trunc().clamp(0.0, 15.0) - 8.0) * scale.read_scale,
            Format::Q4_1 => {
                scale.read_scale * ((w - scale.low) * scale.inverse + 0.5).trunc().clamp(0.0, 15.0) + scale.min
            }
            Format::Nf4 => {
                let scaled = match reciprocal {
                    Reciprocal::Multiply => w * scale.inverse,
                    Reciprocal::Divide => w / scale.read_scale,
                }
                .clamp(-1.0, 1.0);
                // torch.bucketize: the level whose lower midpoint is the last one below the value.
                let code = NF4_LEVELS.windows(2).filter(|pair| (pair[0] + pair[1]) / 2.0 < scaled).count();
                NF4_LEVELS[code] * scale.read_scale
            }
        })
    }
}

/// How a block's values are brought to the codes' range.
#[derive(Clone, Copy)]
enum Reciprocal {
    Multiply,
    Divide,
}

/// A block's scale as the quantizer computes it in f32 (`inverse`, what values are multiplied by) and as it is read
/// back (`read_scale`: f16 in llama.cpp's formats), and Q4_1's minimum as the quantizer uses it (`low`) and as it is
/// read back (`min`).
struct BlockScale {
    inverse: f32,
    read_scale: f32,
    low: f32,
    min: f32,
}

impl BlockScale {
    fn of(format: Format, block: &[f32]) -> BlockScale {
        let inverse_of = |d: f32| if d == 0.0 { 0.0 } else { 1.0 / d };
        let stored = |x: f32| f16::from_f32(x).to_f32();
        let largest = block.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        match format {
            Format::Q8_0 => {
                let d = largest / 127.0;
                BlockScale { inverse: inverse_of(d), read_scale: stored(d), low: 0.0, min: 0.0 }
            }
            Format::Q4_0 => {
                // The first weight of largest magnitude, with its sign (numpy's argmax).
                let signed = block.iter().copied().find(|w| w.abs() == largest).unwrap_or(0.0);
                let d = signed / -8.0;
                BlockScale { inverse: inverse_of(d), read_scale: stored(d), low: 0.0, min: 0.0 }
            }
            Format::Q4_1 => {
                let min = block.iter().copied().fold(f32::INFINITY, f32::min);
                let max = block.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let d = (max - min) / 15.0;
                BlockScale { inverse: inverse_of(d), read_scale: stored(d), low: min, min: stored(min) }
            }
            Format::Nf4 => {
                let absmax = largest.max(1e-38);
                BlockScale { inverse: 1.0 / absmax, read_scale: absmax, low: 0.0, min: 0.0 }
            }
        }
    }
}

/// Root-mean-square error of `quantized` against `values`, over their root-mean-square: 0 is exact.
pub fn relative_error(values: &[f32], quantized: &[f32]) -> f64 {
    let (mut error, mut size) = (0.0f64, 0.0f64);
    for (&w, &q) in values.iter().zip(quantized) {
        error += (w as f64 - q as f64).powi(2);
        size += (w as f64).powi(2);
    }
    if size == 0.0 {
        0.0
    } else {
        (error / size).sqrt()
    }
}

/// One format at one block size, applied to every projection of the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedCell {
    pub format: Format,
    pub block: usize,
    pub bits_per_weight: f64,
    /// [`relative_error`] over all the projections' weights together.
    pub weight_error: f64,
    /// Mean loss per target token on the held-out sequences, with the projections stored so.
    pub held_out_loss: f64,
}

/// The lesson's table: the model's held-out loss in 32-bit and with every format at every block size, and some
/// real weights for the picture of a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizationTable {
    /// How many held-out sequences the losses average over.
    pub held_out_sequences: usize,
    pub full_precision_loss: f64,
    /// [`Format::ALL`] × [`BLOCK_SIZES`], format by format.
    pub cells: Vec<QuantizedCell>,
    /// The first values of one projection's weight, as the blocks take them: the picture's weights.
    pub sample: SampleWeights,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleWeights {
    /// 0-based.
    pub layer: usize,
    pub projection: Projection,
    pub values: Vec<f32>,
}

impl QuantizationTable {
    /// The site's recording of it for the data set at `dataset_url`: `<name>.quantized.json` beside it.
    pub fn recorded_url(dataset_url: &str) -> String {
        format!("{}.quantized.json", dataset_url.trim_end_matches(".jsonl").trim_end_matches(".txt"))
    }

    pub fn cell(&self, format: Format, block: usize) -> Option<&QuantizedCell> {
        self.cells.iter().find(|cell| cell.format == format && cell.block == block)
    }
}

/// The projection whose first weights the picture shows, and how many (one block at the largest size).
pub const SAMPLE_PROJECTION: (usize, Projection) = (0, Projection::QProj);
pub const SAMPLE_VALUES: usize = BLOCK_SIZES[BLOCK_SIZES.len() - 1];

#[cfg(feature = "trainer")]
pub use measuring::measure;

#[cfg(feature = "trainer")]
mod measuring {
    use burn::module::Param;
    use burn::nn::Linear;
    use burn::prelude::*;

    use super::{
        relative_error, Format, QuantizationTable, QuantizedCell, SampleWeights, BLOCK_SIZES, SAMPLE_PROJECTION,
        SAMPLE_VALUES,
    };
    use crate::data::TrainingSequence;
    use crate::lora::{BaseLayer, LoraLinear};
    use crate::model::LlamaForCausalLM;
    use crate::settings::{Choice, Projection};
    use crate::train::{evaluate, TrainError};

    /// Sequences evaluated at once.
    const BATCH: usize = 32;

    /// Every projection's weight in Hugging Face's layout, `[out, in]` row-major, in the model's order (layer by
    /// layer, each layer's in [`Projection::ALL`]'s order).
    async fn projection_weights(model: &LlamaForCausalLM) -> Result<Vec<Vec<f32>>, TrainError> {
        let mut weights = Vec::new();
        for (_, projection) in model.projections() {
            let data = projection.base_layer.weight().transpose().into_data_async().await;
            let data = data.map_err(|e| TrainError::Device(format!("{e:?}")))?;
            weights.push(data.try_to_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))?);
        }
        Ok(weights)
    }

    /// `model` with every projection's weight replaced by `weights` (as [`projection_weights`] lists them).
    fn with_weights(model: LlamaForCausalLM, weights: Vec<Vec<f32>>, device: &Device) -> LlamaForCausalLM {
        let mut weights = weights.into_iter();
        model.map_projections(Projection::ALL, |projection| {
            let [d_in, d_out] = projection.base_layer.dims();
            let values = weights.next().expect("one weight per projection");
            let weight = Tensor::<2>::from_data(TensorData::new(values, [d_out, d_in]), device).transpose();
            let base = Linear { weight: Param::from_tensor(weight).set_require_grad(false), bias: None };
            LoraLinear { base_layer: BaseLayer::Dense(base), ..projection }
        })
    }

    /// The held-out loss of `model` (the base, no adapter) in 32-bit and with every projection stored in each
    /// format at each block size; embeddings and norms stay 32-bit, as in QLoRA.
    pub async fn measure(
        model: &LlamaForCausalLM,
        held_out: &[TrainingSequence],
        device: &Device,
    ) -> Result<QuantizationTable, TrainError> {
        let weights = projection_weights(model).await?;
        let full_precision_loss = evaluate(model, held_out, BATCH, device).await?;
        let per_layer = Projection::ALL.len();
        let (layer, projection) = SAMPLE_PROJECTION;
        let sample_index = layer * per_layer + Projection::ALL.iter().position(|&p| p == projection).unwrap_or(0);
        let sample = weights[sample_index].iter().copied().take(SAMPLE_VALUES).collect();
        let all: Vec<f32> = weights.iter().flatten().copied().collect();
        let mut cells = Vec::new();
        for format in Format::ALL {
            for block in BLOCK_SIZES {
                let stored: Vec<Vec<f32>> = weights.iter().map(|w| format.round_trip(w, block)).collect();
                let weight_error = relative_error(&all, &stored.iter().flatten().copied().collect::<Vec<_>>());
                let quantized = with_weights(model.clone(), stored, device);
                let held_out_loss = evaluate(&quantized, held_out, BATCH, device).await?;
                cells.push(QuantizedCell {
                    format,
                    block,
                    bits_per_weight: format.bits_per_weight(block),
                    weight_error,
                    held_out_loss,
                });
            }
        }
        Ok(QuantizationTable {
            held_out_sequences: held_out.len(),
            full_precision_loss,
            cells,
            sample: SampleWeights { layer, projection, values: sample },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_reads_back_on_its_levels_and_an_outlier_spoils_only_its_own_block() {
        let mut values: Vec<f32> = (0..64).map(|i| ((i * 37 % 64) as f32 - 31.5) / 400.0).collect();
        values[5] = 1.0;
        for format in Format::ALL {
            let stored = format.round_trip(&values, 32);
            for (chunk, read) in values.chunks(32).zip(stored.chunks(32)) {
                let levels = format.levels(chunk);
                assert!(read.iter().all(|r| levels.contains(r)), "{format:?}: a value off its block's levels");
            }
            let first = relative_error(&values[..32], &stored[..32]);
            let second = relative_error(&values[32..], &stored[32..]);
            assert!(first > 0.0 && second < first, "{format:?}: {first} then {second}");
        }
        assert_eq!(Format::Nf4.levels(&values[32..]).len(), 16);
        assert_eq!(Format::Q4_1.levels(&values[32..]).len(), 16);
    }

    #[test]
    fn bits_per_weight_count_the_scales() {
        assert_eq!(Format::Q4_0.bits_per_weight(32), 4.5);
        assert_eq!(Format::Q4_1.bits_per_weight(32), 5.0);
        assert_eq!(Format::Q8_0.bits_per_weight(32), 8.5);
        assert_eq!(Format::Nf4.bits_per_weight(64), 4.5);
    }

    #[test]
    fn a_short_last_block_and_a_block_of_zeros_read_back() {
        let values = [0.0f32; 40];
        for format in Format::ALL {
            assert_eq!(format.round_trip(&values, 32), values.to_vec(), "{format:?}");
        }
        let values: Vec<f32> = (0..40).map(|i| i as f32 / 40.0).collect();
        assert_eq!(Format::Nf4.round_trip(&values, 32).len(), 40);
    }
}
