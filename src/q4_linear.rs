//! QLoRA's frozen base (Dettmers et al. 2023): a projection's weight kept in 4 bits on the device and dequantized
//! inside the forward pass, one projection at a time, so the model's full-precision weights never exist at once.
//!
//! The format is llama.cpp's Q4_1, the one SmolLM2's GGUF ships. (QLoRA's paper stores NF4; re-quantizing the
//! file's Q4_1 weights to NF4 would change the model, so the base stays exactly what llama.cpp and transformers
//! read.) Along each row, blocks of 32 weights share a scale `d` and a minimum `m`, and a weight is `d·q + m` with
//! a 4-bit code `q`. On the device the codes are packed eight to an `i32` word, `[out, in / 8]`, and `d` and `m`
//! are f32 tensors `[out, in / 32]`: 6 bits a weight instead of 32.
//!
//! `x·Wᵀ` is one Burn operation with its gradient written out. Composed from tensor operations, autodiff would
//! keep every projection's dequantized f32 W from the forward pass to the backward pass (it needs W for the
//! gradient of x), which is the memory QLoRA exists to save. Here the forward pass dequantizes W, multiplies and
//! drops it; the backward pass dequantizes it again. W itself is frozen and gets no gradient. On WebGPU the
//! dequantization is Burn tensor operations (shifts, masks, a multiply-add); the CPU computes the same values in
//! one loop, or for a few rows multiplies straight from the codes.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex, FloatDType, Scalar, TensorMetadata};
use burn::prelude::*;

use crate::attention::cpu::for_each_unit;
use crate::attention::vector::dot;
use crate::attention::{f32s, flex_tensor};
use crate::gguf::quant::{q4_1_blocks, BLOCK};

/// Codes in one `i32` word: code `k` of word `w` (weight `8w + k` of its row) in bits `4k .. 4k + 4`.
const CODES_PER_WORD: usize = 8;

/// A frozen `[out, in]` weight in 4 bits, applied as `x·Wᵀ` like Burn's `Linear` (which stores `Wᵀ`).
///
/// Its tensors are plain fields, not parameters: they are in no record and no optimizer sees them.
#[derive(Module, Debug)]
pub struct Q4Linear {
    /// `[out, in / 8]`, eight codes a word.
    pub codes: Tensor<2, Int>,
    /// `[out, in / 32]`: each block's scale `d`.
    pub scales: Tensor<2>,
    /// `[out, in / 32]`: each block's minimum `m`.
    pub mins: Tensor<2>,
}

impl Q4Linear {
    /// The weight of a Q4_1 tensor `[out, in]` (rows in the file's order, `in` a multiple of 32) from its bytes.
    pub fn from_q4_1(out: usize, d_input: usize, bytes: &[u8], device: &Device) -> Result<Self, String> {
        if !d_input.is_multiple_of(BLOCK) {
            return Err(format!("rows of {d_input} values are not whole blocks of {BLOCK}"));
        }
        let blocks = out * d_input / BLOCK;
        let (mut codes, mut scales, mut mins) = (Vec::new(), Vec::with_capacity(blocks), Vec::with_capacity(blocks));
        for block in q4_1_blocks(bytes)? {
            scales.push(block.scale);
            mins.push(block.min);
            codes.extend(block.codes.chunks_exact(CODES_PER_WORD).map(|word| {
                word.iter().enumerate().fold(0u32, |packed, (k, &code)| packed | u32::from(code) << (4 * k)) as i32
            }));
        }
        if scales.len() != blocks {
            return Err(format!("{} Q4_1 blocks for a [{out}, {d_input}] weight, which takes {blocks}", scales.len()));
        }
        let per_row = d_input / BLOCK;
        Ok(Q4Linear {
            codes: Tensor::from_data(TensorData::new(codes, [out, d_input / CODES_PER_WORD]), device),
            scales: Tensor::from_data(TensorData::new(scales, [out, per_row]), device),
            mins: Tensor::from_data(TensorData::new(mins, [out, per_row]), device),
        })
    }

    /// `[in, out]`, as Burn's `Linear` weight.
    pub fn dims(&self) -> [usize; 2] {
        let [out, words] = self.codes.dims();
        [words * CODES_PER_WORD, out]
    }

    /// The weight in f32, `[in, out]` as Burn's `Linear` weight (for merging an adapter into it, or exporting).
    pub fn dequantize(&self) -> Tensor<2> {
        let weight = Dispatch::q4_dequantize(
            self.codes.clone().into_dispatch(),
            self.scales.clone().into_dispatch(),
            self.mins.clone().into_dispatch(),
        );
        Tensor::<2>::from_dispatch(weight).transpose()
    }

    /// Bytes the weight's tensors take on the device.
    pub fn bytes(&self) -> usize {
        tensor_bytes(&self.codes) + tensor_bytes(&self.scales) + tensor_bytes(&self.mins)
    }

    /// `x·Wᵀ` over the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let mut dims = x.dims();
        let [d_input, out] = self.dims();
        let rows = dims[..D - 1].iter().product();
        let output = Tensor::<2>::from_dispatch(Dispatch::q4_linear(
            x.reshape([rows, d_input]).into_dispatch(),
            self.codes.clone().into_dispatch(),
            self.scales.clone().into_dispatch(),
            self.mins.clone().into_dispatch(),
        ));
        dims[D - 1] = out;
        output.reshape(dims)
    }
}

/// Bytes a tensor takes on the device, from its shape and element type.
pub fn tensor_bytes<const D: usize, K: burn::tensor::kind::Basic>(tensor: &Tensor<D, K>) -> usize {
    tensor.shape().num_elements() * tensor.dtype().size()
}

/// The 4-bit product as operations each backend may implement its own way: by default W is dequantized with
/// Burn tensor operations ([`dequantize`]) and multiplied; the CPU overrides the dequantization and, for a few rows,
/// the product.
#[backend_extension(Flex, Cube: cfg(any(feature = "worker", feature = "gpu")), Autodiff)]
pub trait Q4LinearBackend: Backend {
    /// `x·Wᵀ` for `x` `[rows, in]`: `[rows, out]`.
    fn q4_linear(
        x: FloatTensor<Self>,
        codes: IntTensor<Self>,
        scales: FloatTensor<Self>,
        mins: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        dequantized_product::<Self>(x, codes, scales, mins)
    }

    /// The gradient of `x` given the output's: `grad·W`.
    fn q4_linear_backward(
        grad: FloatTensor<Self>,
        codes: IntTensor<Self>,
        scales: FloatTensor<Self>,
        mins: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::float_matmul(grad, Self::q4_dequantize(codes, scales, mins))
    }

    /// W `[out, in]` in f32 from its codes and block constants.
    fn q4_dequantize(codes: IntTensor<Self>, scales: FloatTensor<Self>, mins: FloatTensor<Self>) -> FloatTensor<Self> {
        dequantize::<Self>(codes, scales, mins)
    }
}

#[cfg(any(feature = "worker", feature = "gpu"))]
impl Q4LinearBackend for burn::backend::Cube {}

/// Rows up to which the CPU multiplies straight from the codes. Dequantizing W costs as much for one row as for
/// hundreds: in generation (one new token a pass) it took most of the time, about a second a token for SmolLM2.
const DIRECT_ROWS: usize = 16;

impl Q4LinearBackend for Flex {
    fn q4_linear(
        x: FloatTensor<Self>,
        codes: IntTensor<Self>,
        scales: FloatTensor<Self>,
        mins: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let [rows, d_input] = x.shape().dims();
        if rows > DIRECT_ROWS {
            return dequantized_product::<Self>(x, codes, scales, mins);
        }
        let codes = codes.to_contiguous();
        let codes = codes.as_slice::<i32>().expect("4-bit codes are packed in i32 words");
        let (x, scales, mins) = (f32s(&x), f32s(&scales), f32s(&mins));
        let out = scales.as_slice().len() / (d_input / BLOCK);
        flex_tensor(direct(x.as_slice(), d_input, codes, scales.as_slice(), mins.as_slice()), [rows, out])
    }

    fn q4_dequantize(codes: IntTensor<Self>, scales: FloatTensor<Self>, mins: FloatTensor<Self>) -> FloatTensor<Self> {
        weight_on_cpu(codes, scales, mins)
    }
}

/// W `[out, in]` in f32 on the CPU, in one pass over the codes: what [`dequantize`] computes, bit for bit (`d·q + m`
/// rounded twice, as its multiply and add are), without the eight shifted copies of the codes that it interleaves
/// element by element: an eighth less CPU time for a short QLoRA run of the CLI (4 steps, 644 → 565 CPU-seconds).
fn weight_on_cpu(codes: IntTensor<Flex>, scales: FloatTensor<Flex>, mins: FloatTensor<Flex>) -> FloatTensor<Flex> {
    let [out, words] = codes.shape().dims();
    let codes = codes.to_contiguous();
    let codes = codes.as_slice::<i32>().expect("4-bit codes are packed in i32 words");
    let (scales, mins) = (f32s(&scales), f32s(&mins));
    let (scales, mins) = (scales.as_slice(), mins.as_slice());
    let blocks = scales.len() / out;
    let rows = for_each_unit(out, |o| {
        let row_codes = codes[o * words..][..words].chunks_exact(BLOCK / CODES_PER_WORD);
        let constants = scales[o * blocks..][..blocks].iter().zip(&mins[o * blocks..][..blocks]);
        row_codes
            .zip(constants)
            .flat_map(|(block, (&d, &m))| block.iter().flat_map(|&word| unpacked(word)).map(move |q| q * d + m))
            .collect::<Vec<f32>>()
    });
    flex_tensor(rows.concat(), [out, words * CODES_PER_WORD])
}

/// The eight codes of a word, in weight order, as f32.
fn unpacked(word: i32) -> [f32; CODES_PER_WORD] {
    std::array::from_fn(|k| ((word >> (4 * k)) & 0xF) as f32)
}

/// `x·Wᵀ` from the codes, without W: each block's codes are unpacked once and dotted with every row, `d·(q·x) +
/// m·Σx` (rows of `x` are `d_input` long; the result is `[rows, out]`).
fn direct(x: &[f32], d_input: usize, codes: &[i32], scales: &[f32], mins: &[f32]) -> Vec<f32> {
    let (blocks, words) = (d_input / BLOCK, d_input / CODES_PER_WORD);
    let (rows, out) = (x.len() / d_input, scales.len() / blocks);
    let sums: Vec<f32> = x.chunks_exact(BLOCK).map(|block| block.iter().sum()).collect(); // [rows, blocks]
    let columns = for_each_unit(out, |o| {
        let mut column = vec![0.0f32; rows];
        let mut q = [0.0f32; BLOCK];
        for b in 0..blocks {
            let block_words = &codes[o * words + b * BLOCK / CODES_PER_WORD..][..BLOCK / CODES_PER_WORD];
            for (w, &word) in block_words.iter().enumerate() {
                q[w * CODES_PER_WORD..][..CODES_PER_WORD].copy_from_slice(&unpacked(word));
            }
            let (d, m) = (scales[o * blocks + b], mins[o * blocks + b]);
            for (r, value) in column.iter_mut().enumerate() {
                *value += d * dot(&q, &x[r * d_input + b * BLOCK..][..BLOCK]) + m * sums[r * blocks + b];
            }
        }
        column
    });
    let mut y = vec![0.0f32; rows * out];
    for (o, column) in columns.iter().enumerate() {
        for (r, &value) in column.iter().enumerate() {
            y[r * out + o] = value;
        }
    }
    y
}

/// `x·Wᵀ` with W dequantized by the backend: what every backend runs but the CPU on at most [`DIRECT_ROWS`] rows,
/// where dequantizing W would cost more than the product.
fn dequantized_product<B: Q4LinearBackend>(
    x: FloatTensor<B>,
    codes: IntTensor<B>,
    scales: FloatTensor<B>,
    mins: FloatTensor<B>,
) -> FloatTensor<B> {
    B::float_matmul(x, B::float_transpose(B::q4_dequantize(codes, scales, mins)))
}

/// W `[out, in]` in f32 from its codes and block constants, in Burn tensor operations.
fn dequantize<B: Backend>(codes: IntTensor<B>, scales: FloatTensor<B>, mins: FloatTensor<B>) -> FloatTensor<B> {
    let [out, words] = codes.shape().dims();
    let blocks = scales.shape()[1];
    let words_3d = B::int_reshape(codes, Shape::new([out, words, 1]));
    let nibbles = (0..CODES_PER_WORD)
        .map(|k| {
            let shifted = B::bitwise_right_shift_scalar(words_3d.clone(), Scalar::from(4 * k as i32));
            B::bitwise_and_scalar(shifted, Scalar::from(0xF))
        })
        .collect();
    // [out, words, 8] in weight order, then one row of 32 per block.
    let q = B::int_reshape(B::int_cat(nibbles, 2), Shape::new([out, blocks, BLOCK]));
    let per_block = |constants| B::float_reshape(constants, Shape::new([out, blocks, 1]));
    let weight = B::float_add(B::float_mul(B::int_into_float(q, FloatDType::F32), per_block(scales)), per_block(mins));
    B::float_reshape(weight, Shape::new([out, words * CODES_PER_WORD]))
}

/// The autodiff decorator: the backward pass keeps the codes and block constants (which the model holds anyway),
/// not the f32 weight.
impl<B: Q4LinearBackend, C: CheckpointStrategy> Q4LinearBackend for Autodiff<B, C> {
    fn q4_linear(
        x: FloatTensor<Self>,
        codes: IntTensor<Self>,
        scales: FloatTensor<Self>,
        mins: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Q4LinearBackward;

        impl<B: Q4LinearBackend> Backward<B, 1> for Q4LinearBackward {
            type State = (IntTensor<B>, FloatTensor<B>, FloatTensor<B>);

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let (codes, scales, mins) = ops.state;
                if let [Some(node)] = ops.parents {
                    grads.register::<B>(node.id, B::q4_linear_backward(grad, codes, scales, mins));
                }
            }
        }

        let (x, x_node) = x.into_parts();
        // The frozen weight's constants are never tracked.
        let (scales, mins) = (scales.into_primitive(), mins.into_primitive());
        match Q4LinearBackward.prepare::<C>([x_node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let output = B::q4_linear(x, codes.clone(), scales.clone(), mins.clone());
                prep.finish((codes, scales, mins), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::q4_linear(x, codes, scales, mins)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::quant::GgmlType;
    use burn::module::Param;
    use burn::nn::Linear;
    use half::f16;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Q4_1 bytes of a `[rows, cols]` weight with random codes, scales and minimums.
    fn random_q4_1(rows: usize, cols: usize, rng: &mut StdRng) -> Vec<u8> {
        (0..rows * cols / BLOCK)
            .flat_map(|_| {
                let d = f16::from_f32(rng.random_range(0.001..0.05)).to_le_bytes();
                let m = f16::from_f32(rng.random_range(-0.4..0.0)).to_le_bytes();
                let codes: Vec<u8> = (0..BLOCK / 2).map(|_| rng.random()).collect();
                [d.to_vec(), m.to_vec(), codes].concat()
            })
            .collect()
    }

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_packed_weight_is_ggmls_dequantization() {
        let mut rng = StdRng::seed_from_u64(1);
        let (out, d_input) = (5, 96);
        let bytes = random_q4_1(out, d_input, &mut rng);
        let q4 = Q4Linear::from_q4_1(out, d_input, &bytes, &Device::flex()).unwrap();
        assert_eq!(q4.dims(), [d_input, out]);
        let ggml = GgmlType::Q4_1.dequantize(&bytes).unwrap();
        // ggml's values are [out, in]; ours come as Burn's [in, out]. On the CPU, the one-pass dequantization.
        assert_eq!(values(q4.dequantize().transpose()), ggml, "bit for bit, every block and nibble");
        let flex = |data: TensorData| burn::backend::flex::FlexTensor::from_data(data);
        let composed = dequantize::<Flex>(flex(q4.codes.to_data()), flex(q4.scales.to_data()), flex(q4.mins.to_data()));
        let composed = composed.to_contiguous().as_slice::<f32>().unwrap().to_vec();
        assert_eq!(composed, ggml, "and the Burn operations that WebGPU runs");
        assert!(Q4Linear::from_q4_1(out, d_input, &bytes[..bytes.len() - 20], &Device::flex()).is_err());
        assert!(Q4Linear::from_q4_1(out, 48, &bytes, &Device::flex()).unwrap_err().contains("whole blocks"));
    }

    #[test]
    fn output_and_input_gradient_equal_a_dense_layer_on_the_dequantized_weight() {
        let device = Device::flex().autodiff();
        let mut rng = StdRng::seed_from_u64(2);
        let (out, d_input) = (24, 64);
        let q4 = Q4Linear::from_q4_1(out, d_input, &random_q4_1(out, d_input, &mut rng), &device).unwrap();
        let dense = Linear { weight: Param::from_tensor(q4.dequantize()), bias: None };
        // 6 rows go straight from the codes on the CPU, 40 through the dequantized weight.
        for [batch, seq] in [[2, 3], [4, 10]] {
            same_as_dense(&q4, &dense, [batch, seq], &mut rng);
        }
    }

    fn same_as_dense(q4: &Q4Linear, dense: &Linear, [batch, seq]: [usize; 2], rng: &mut StdRng) {
        let device = Device::flex().autodiff();
        let [d_input, out] = q4.dims();
        let x: Vec<f32> = (0..batch * seq * d_input).map(|_| rng.random_range(-1.0..1.0)).collect();
        let input =
            || Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, seq, d_input]), &device).require_grad();
        let weights: Vec<f32> = (0..batch * seq * out).map(|_| rng.random_range(-1.0..1.0)).collect();
        let weights = Tensor::<3>::from_data(TensorData::new(weights, [batch, seq, out]), &device);

        let (x_q4, x_dense) = (input(), input());
        let (y_q4, y_dense) = (q4.forward(x_q4.clone()), dense.forward(x_dense.clone()));
        let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
            assert_eq!(a.len(), b.len());
            let worst = a.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst <= 1e-5, "{what}, {batch} × {seq}: largest difference {worst}");
        };
        close(values(y_q4.clone()), values(y_dense.clone()), "output");
        let grads_q4 = (y_q4 * weights.clone()).sum().backward();
        let grads_dense = (y_dense * weights).sum().backward();
        close(
            values(x_q4.grad(&grads_q4).unwrap()),
            values(x_dense.grad(&grads_dense).unwrap()),
            "gradient of the input",
        );
    }
}
