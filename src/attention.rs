//! Causal self-attention, `softmax(q·kᵀ/√d + causal mask)·v` with grouped key/value heads, as one Burn operation
//! with its gradient written out.
//!
//! Composed from tensor operations and differentiated through its parts, attention keeps a `[batch, heads, seq,
//! seq]` score tensor in every layer, its softmax and their gradients beside it, and computes the upper half that the
//! causal mask then throws away: in training that was most of the CPU's time (allocating, zeroing and walking those
//! tensors). On the CPU backend (`Flex`, native and in the browser worker) this module computes each query row's
//! scores, softmax and weighted sum in one pass over the keys the row may see, and keeps only the output and each
//! row's log-sum-exp; the backward pass recomputes the probabilities from those (the backward pass of
//! FlashAttention, Dao et al. 2022, without the tiling a GPU needs). On WebGPU the same maths runs as Burn tensor
//! operations ([`composed`]), so both backends share one definition of the gradient.
//!
//! Shapes: query `[batch, heads, queries, head_dim]`, key and value `[batch, kv_heads, keys, head_dim]`, `heads` a
//! multiple of `kv_heads` (query head `h` reads key/value head `h / (heads / kv_heads)`), and `keys ≥ queries`: the
//! queries are the last positions of the sequence (the earlier ones come from a KV cache), so query `i` sees keys
//! `0 ..= keys − queries + i`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex, TensorMetadata};
use burn::tensor::{Shape, Tensor, TensorData};

/// Attention as an operation each backend may implement its own way.
#[backend_extension(Flex, Cube: cfg(any(feature = "worker", feature = "gpu")), Autodiff)]
pub trait CausalAttentionBackend: Backend {
    /// The attention output `[batch, heads, queries, head_dim]`.
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::causal_attention_with_lse(query, key, value).0
    }

    /// The output and each query row's log-sum-exp of its scaled scores (`[batch, heads, queries, 1]`), which is all
    /// the backward pass needs besides the inputs.
    fn causal_attention_with_lse(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        composed::forward::<Self>(query, key, value)
    }

    /// The gradients of query, key and value, given the output's gradient.
    fn causal_attention_backward(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        output: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composed::backward::<Self>(query, key, value, output, lse, grad)
    }
}

/// What the scores `q·k` are multiplied by.
fn scale(head_dim: usize) -> f64 {
    1.0 / (head_dim as f64).sqrt()
}

/// Causal grouped-query attention of `query` over `key` and `value` (shapes in the module documentation).
pub fn causal_attention(query: Tensor<4>, key: Tensor<4>, value: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::causal_attention(query.into_dispatch(), key.into_dispatch(), value.into_dispatch()))
}

#[cfg(any(feature = "worker", feature = "gpu"))]
impl CausalAttentionBackend for burn::backend::Cube {}

impl CausalAttentionBackend for Flex {
    fn causal_attention_with_lse(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let shape = cpu::Dims::of(&query.shape(), &key.shape());
        let (output, lse) =
            cpu::forward(&shape, f32s(&query).as_slice(), f32s(&key).as_slice(), f32s(&value).as_slice());
        let [batch, heads, queries, _] = shape.query_shape();
        (flex_tensor(output, shape.query_shape()), flex_tensor(lse, [batch, heads, queries, 1]))
    }

    fn causal_attention_backward(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        output: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = cpu::Dims::of(&query.shape(), &key.shape());
        let (grad_query, grad_key, grad_value) = cpu::backward(
            &shape,
            cpu::Saved {
                query: f32s(&query).as_slice(),
                key: f32s(&key).as_slice(),
                value: f32s(&value).as_slice(),
                output: f32s(&output).as_slice(),
                lse: f32s(&lse).as_slice(),
            },
            f32s(&grad).as_slice(),
        );
        let (query_shape, key_shape) = (shape.query_shape(), shape.key_shape());
        (flex_tensor(grad_query, query_shape), flex_tensor(grad_key, key_shape), flex_tensor(grad_value, key_shape))
    }
}

/// A Flex tensor's values in row-major order (copied only when its layout is not contiguous already).
pub(crate) struct F32s(burn::backend::flex::FlexTensor);

impl F32s {
    pub(crate) fn as_slice(&self) -> &[f32] {
        self.0.as_slice::<f32>().expect("the CPU kernels run in f32")
    }
}

pub(crate) fn f32s(tensor: &burn::backend::flex::FlexTensor) -> F32s {
    F32s(tensor.to_contiguous())
}

pub(crate) fn flex_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> burn::backend::flex::FlexTensor {
    burn::backend::flex::FlexTensor::from_data(TensorData::new(values, shape))
}

/// The autodiff decorator: the forward pass keeps the inputs, the output and the log-sum-exp (a few `[…, seq,
/// head_dim]` tensors instead of `[…, seq, seq]` ones), and the backward pass hands them to the backend.
impl<B: CausalAttentionBackend, C: CheckpointStrategy> CausalAttentionBackend for Autodiff<B, C> {
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct CausalAttentionBackward;

        impl<B: CausalAttentionBackend> Backward<B, 3> for CausalAttentionBackward {
            type State = [FloatTensor<B>; 5]; // query, key, value, output, lse

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let [query, key, value, output, lse] = ops.state;
                let (grad_query, grad_key, grad_value) =
                    B::causal_attention_backward(query, key, value, output, lse, grad);
                for (parent, grad) in ops.parents.into_iter().zip([grad_query, grad_key, grad_value]) {
                    if let Some(node) = parent {
                        grads.register::<B>(node.id, grad);
                    }
                }
            }
        }

        let ((query, query_node), (key, key_node), (value, value_node)) =
            (query.into_parts(), key.into_parts(), value.into_parts());
        match CausalAttentionBackward.prepare::<C>([query_node, key_node, value_node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (output, lse) = B::causal_attention_with_lse(query.clone(), key.clone(), value.clone());
                prep.finish([query, key, value, output.clone(), lse], output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::causal_attention(query, key, value)),
        }
    }
}

/// The same maths as Burn tensor operations, with every score materialised: what backends without their own kernel
/// (WebGPU) run, and what the CPU kernel is tested against.
pub mod composed {
    use super::*;

    /// `(output, log-sum-exp)`.
    pub fn forward<B: Backend>(
        query: FloatTensor<B>,
        key: FloatTensor<B>,
        value: FloatTensor<B>,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        let heads = query.shape()[1];
        let scores = scores::<B>(query, repeat_heads::<B>(key, heads));
        let max = B::float_max_dim(scores.clone(), 3);
        let exp = B::float_exp(B::float_sub(scores, max.clone()));
        let sum = B::float_sum_dim(exp.clone(), 3);
        let output = B::float_matmul(B::float_div(exp, sum.clone()), repeat_heads::<B>(value, heads));
        (output, B::float_add(max, B::float_log(sum)))
    }

    /// `(grad_query, grad_key, grad_value)`.
    pub fn backward<B: Backend>(
        query: FloatTensor<B>,
        key: FloatTensor<B>,
        value: FloatTensor<B>,
        output: FloatTensor<B>,
        lse: FloatTensor<B>,
        grad: FloatTensor<B>,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let [_, heads, _, head_dim] = query.shape().dims();
        let kv_heads = key.shape()[1];
        let (key, value) = (repeat_heads::<B>(key, heads), repeat_heads::<B>(value, heads));
        // The probabilities again, from the scores and each row's log-sum-exp.
        let probabilities = B::float_exp(B::float_sub(scores::<B>(query.clone(), key.clone()), lse));
        let grad_value = B::float_matmul(B::float_transpose(probabilities.clone()), grad.clone());
        let grad_probabilities = B::float_matmul(grad.clone(), B::float_transpose(value));
        // Softmax backward: p · (dp − Σⱼ pⱼ·dpⱼ), where Σⱼ pⱼ·dpⱼ = Σ_d grad·output for each row.
        let row_dot = B::float_sum_dim(B::float_mul(grad, output), 3);
        let grad_scores = B::float_mul_scalar(
            B::float_mul(probabilities, B::float_sub(grad_probabilities, row_dot)),
            scale(head_dim).into(),
        );
        let grad_query = B::float_matmul(grad_scores.clone(), key);
        let grad_key = B::float_matmul(B::float_transpose(grad_scores), query);
        (grad_query, sum_groups::<B>(grad_key, kv_heads), sum_groups::<B>(grad_value, kv_heads))
    }

    /// Scaled scores with −∞ above the causal diagonal: `[batch, heads, queries, keys]`.
    fn scores<B: Backend>(query: FloatTensor<B>, key: FloatTensor<B>) -> FloatTensor<B> {
        let [_, _, queries, head_dim] = query.shape().dims();
        let keys = key.shape()[2];
        let device = query.device();
        let scaled = B::float_mul_scalar(B::float_matmul(query, B::float_transpose(key)), scale(head_dim).into());
        let offset = keys - queries;
        let mask: Vec<f32> = (0..queries)
            .flat_map(|i| (0..keys).map(move |j| if j <= offset + i { 0.0 } else { f32::NEG_INFINITY }))
            .collect();
        B::float_add(scaled, B::float_from_data(TensorData::new(mask, [1, 1, queries, keys]), &device))
    }

    /// `[batch, kv_heads, n, d]` → `[batch, heads, n, d]`, each key/value head repeated for its query heads.
    fn repeat_heads<B: Backend>(tensor: FloatTensor<B>, heads: usize) -> FloatTensor<B> {
        let [batch, kv_heads, n, d] = tensor.shape().dims();
        let grouped = B::float_reshape(tensor, Shape::new([batch, kv_heads, 1, n, d]));
        let expanded = B::float_expand(grouped, Shape::new([batch, kv_heads, heads / kv_heads, n, d]));
        B::float_reshape(expanded, Shape::new([batch, heads, n, d]))
    }

    /// The reverse of [`repeat_heads`] for gradients: each key/value head gets the sum over its query heads.
    fn sum_groups<B: Backend>(tensor: FloatTensor<B>, kv_heads: usize) -> FloatTensor<B> {
        let [batch, heads, n, d] = tensor.shape().dims();
        let grouped = B::float_reshape(tensor, Shape::new([batch, kv_heads, heads / kv_heads, n, d]));
        B::float_reshape(B::float_sum_dim(grouped, 2), Shape::new([batch, kv_heads, n, d]))
    }
}

/// The CPU kernel, on plain slices. Work is split by (sequence, key/value head): each such unit owns its query
/// heads' rows of the output and its key/value head's gradients, so units run on separate threads (with the
/// `threads` feature) without sharing anything they write.
pub(crate) mod cpu {
    use super::vector::{axpy, dot, exp_shifted, max};

    pub struct Dims {
        pub batch: usize,
        pub heads: usize,
        pub kv_heads: usize,
        pub queries: usize,
        pub keys: usize,
        pub head_dim: usize,
    }

    impl Dims {
        pub fn of(query: &burn::tensor::Shape, key: &burn::tensor::Shape) -> Self {
            let [batch, heads, queries, head_dim] = query.dims();
            let [key_batch, kv_heads, keys, key_dim] = key.dims();
            assert!(
                key_batch == batch && key_dim == head_dim && heads % kv_heads == 0 && keys >= queries,
                "causal attention: query {query:?} and key {key:?} do not fit together"
            );
            Dims { batch, heads, kv_heads, queries, keys, head_dim }
        }

        pub fn query_shape(&self) -> [usize; 4] {
            [self.batch, self.heads, self.queries, self.head_dim]
        }

        pub fn key_shape(&self) -> [usize; 4] {
            [self.batch, self.kv_heads, self.keys, self.head_dim]
        }

        fn group(&self) -> usize {
            self.heads / self.kv_heads
        }

        fn scale(&self) -> f32 {
            super::scale(self.head_dim) as f32
        }

        /// How many keys query row `i` sees.
        fn visible(&self, i: usize) -> usize {
            self.keys - self.queries + i + 1
        }

        /// Rows of one query head (`queries × head_dim`) and of one key/value head (`keys × head_dim`).
        fn query_head_len(&self) -> usize {
            self.queries * self.head_dim
        }

        fn key_head_len(&self) -> usize {
            self.keys * self.head_dim
        }
    }

    /// `[keys, head_dim]` → `[head_dim, keys]`, so that one query's scores over all keys are `head_dim` axpys over
    /// contiguous rows (which vectorise) rather than `keys` short dot products (which do not).
    fn transposed(rows: &[f32], head_dim: usize) -> Vec<f32> {
        let keys = rows.len() / head_dim;
        let mut columns = vec![0.0; rows.len()];
        for (j, row) in rows.chunks_exact(head_dim).enumerate() {
            for (d, &x) in row.iter().enumerate() {
                columns[d * keys + j] = x;
            }
        }
        columns
    }

    /// `scores[j] = scale · q · k_j` for the first `scores.len()` keys, `key_columns` being `[head_dim, keys]`.
    fn scores(scores: &mut [f32], query: &[f32], key_columns: &[f32], keys: usize, scale: f32) {
        scores.fill(0.0);
        for (d, &q) in query.iter().enumerate() {
            axpy(scores, q * scale, &key_columns[d * keys..d * keys + scores.len()]);
        }
    }

    /// Runs `unit` for each (sequence, key/value head), on the thread pool when there is one.
    pub(crate) fn for_each_unit<T: Send>(count: usize, unit: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
        #[cfg(feature = "threads")]
        {
            use rayon::prelude::*;
            (0..count).into_par_iter().map(unit).collect()
        }
        #[cfg(not(feature = "threads"))]
        {
            (0..count).map(unit).collect()
        }
    }

    /// `(output, lse)`, row-major.
    pub fn forward(dims: &Dims, query: &[f32], key: &[f32], value: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (q_len, k_len, hd) = (dims.query_head_len(), dims.key_head_len(), dims.head_dim);
        let units = for_each_unit(dims.batch * dims.kv_heads, |unit| {
            let key_columns = transposed(&key[unit * k_len..(unit + 1) * k_len], hd);
            let value_columns = transposed(&value[unit * k_len..(unit + 1) * k_len], hd);
            let queries = &query[unit * dims.group() * q_len..(unit + 1) * dims.group() * q_len];
            let mut output = vec![0.0; queries.len()];
            let mut lse = Vec::with_capacity(dims.group() * dims.queries);
            let mut row = vec![0.0; dims.keys];
            for (r, (q, out)) in queries.chunks_exact(hd).zip(output.chunks_exact_mut(hd)).enumerate() {
                let row = &mut row[..dims.visible(r % dims.queries)];
                scores(row, q, &key_columns, dims.keys, dims.scale());
                let m = max(row);
                let sum = exp_shifted(row, m);
                for (d, out) in out.iter_mut().enumerate() {
                    *out = dot(row, &value_columns[d * dims.keys..]) / sum;
                }
                lse.push(m + sum.ln());
            }
            (output, lse)
        });
        let (outputs, lses): (Vec<_>, Vec<_>) = units.into_iter().unzip();
        (outputs.concat(), lses.concat())
    }

    fn rows_of(values: &[f32], range: std::ops::Range<usize>, head_dim: usize) -> Vec<&[f32]> {
        values[range].chunks_exact(head_dim).collect()
    }

    pub struct Saved<'a> {
        pub query: &'a [f32],
        pub key: &'a [f32],
        pub value: &'a [f32],
        pub output: &'a [f32],
        pub lse: &'a [f32],
    }

    /// `(grad_query, grad_key, grad_value)`, row-major.
    pub fn backward(dims: &Dims, saved: Saved, grad: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (q_len, k_len, hd, keys) = (dims.query_head_len(), dims.key_head_len(), dims.head_dim, dims.keys);
        let units = for_each_unit(dims.batch * dims.kv_heads, |unit| {
            let key_columns = transposed(&saved.key[unit * k_len..(unit + 1) * k_len], hd);
            let value_columns = transposed(&saved.value[unit * k_len..(unit + 1) * k_len], hd);
            let rows = unit * dims.group() * q_len..(unit + 1) * dims.group() * q_len;
            let lse = &saved.lse[unit * dims.group() * dims.queries..(unit + 1) * dims.group() * dims.queries];
            let mut grad_query = vec![0.0; rows.len()];
            // Accumulated over the group's query heads, as columns like the keys.
            let mut grad_key_columns = vec![0.0; k_len];
            let mut grad_value_columns = vec![0.0; k_len];
            let (mut p, mut ds) = (vec![0.0; keys], vec![0.0; keys]);
            let unit_rows = |values| rows_of(values, rows.clone(), hd);
            let (queries, outputs, grads) = (unit_rows(saved.query), unit_rows(saved.output), unit_rows(grad));
            for (r, grad_q) in grad_query.chunks_exact_mut(hd).enumerate() {
                let (q, out, g) = (queries[r], outputs[r], grads[r]);
                let n = dims.visible(r % dims.queries);
                let (p, ds) = (&mut p[..n], &mut ds[..n]);
                scores(p, q, &key_columns, keys, dims.scale());
                exp_shifted(p, lse[r]);
                // dp_j = g · v_j, then the softmax backward: ds_j = p_j (dp_j − g · out) · scale.
                ds.fill(0.0);
                for (d, &g_d) in g.iter().enumerate() {
                    axpy(ds, g_d, &value_columns[d * keys..d * keys + n]);
                    axpy(&mut grad_value_columns[d * keys..d * keys + n], g_d, p);
                }
                let row_dot = dot(g, out);
                for (ds, &p) in ds.iter_mut().zip(p.iter()) {
                    *ds = p * (*ds - row_dot) * dims.scale();
                }
                for (d, grad_q) in grad_q.iter_mut().enumerate() {
                    *grad_q = dot(ds, &key_columns[d * keys..]);
                    axpy(&mut grad_key_columns[d * keys..d * keys + n], q[d], ds);
                }
            }
            (grad_query, transposed(&grad_key_columns, keys), transposed(&grad_value_columns, keys))
        });
        let mut grad_query = Vec::with_capacity(saved.query.len());
        let (mut grad_key, mut grad_value) = (Vec::with_capacity(saved.key.len()), Vec::with_capacity(saved.key.len()));
        for (q, k, v) in units {
            grad_query.extend(q);
            grad_key.extend(k);
            grad_value.extend(v);
        }
        (grad_query, grad_key, grad_value)
    }
}

/// Loops over `f32` slices written so that the compiler turns them into vector instructions (SSE/AVX natively,
/// SIMD128 in wasm): sums and maxima in eight independent lanes (one running sum would force strict left-to-right
/// order), and `exp` as a branch-free polynomial. Written here rather than taken from a crate: the vector-math
/// crates on crates.io need nightly Rust, a C library, or one code path per instruction set, and these four loops
/// are all attention needs.
pub(crate) mod vector {
    const LANES: usize = 8;

    /// `y += a · x`
    pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += a * x;
        }
    }

    /// `Σ x_j · y_j` over the length of `x` (`y` may be longer).
    pub fn dot(x: &[f32], y: &[f32]) -> f32 {
        let y = &y[..x.len()];
        let mut lanes = [0.0f32; LANES];
        let (x_chunks, y_chunks) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
        let tail: f32 = x_chunks.remainder().iter().zip(y_chunks.remainder()).map(|(a, b)| a * b).sum();
        for (xs, ys) in x_chunks.zip(y_chunks) {
            for k in 0..LANES {
                lanes[k] += xs[k] * ys[k];
            }
        }
        lanes.iter().sum::<f32>() + tail
    }

    pub fn max(x: &[f32]) -> f32 {
        let mut lanes = [f32::NEG_INFINITY; LANES];
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        for xs in chunks {
            for k in 0..LANES {
                lanes[k] = lanes[k].max(xs[k]);
            }
        }
        lanes.iter().fold(tail, |m, &v| m.max(v))
    }

    /// `x_j ← exp(x_j − shift)`; returns their sum.
    pub fn exp_shifted(x: &mut [f32], shift: f32) -> f32 {
        let mut lanes = [0.0f32; LANES];
        let mut chunks = x.chunks_exact_mut(LANES);
        for xs in &mut chunks {
            for k in 0..LANES {
                xs[k] = exp(xs[k] - shift);
                lanes[k] += xs[k];
            }
        }
        let mut tail = 0.0;
        for x in chunks.into_remainder() {
            *x = exp(*x - shift);
            tail += *x;
        }
        lanes.iter().sum::<f32>() + tail
    }

    /// `eˣ` for `x ≤ 0` (what attention feeds it), within 2 ulp of the correctly rounded value above −87; smaller
    /// inputs give a tiny positive number instead of a subnormal or zero. Cephes' `expf`: `x = n·ln 2 + r`, `|r| ≤
    /// ln2/2`, `eʳ` by a degree-6 polynomial, `2ⁿ` put straight into the exponent bits. Rounding `x·log₂e` to an
    /// integer adds and subtracts 1.5·2²³ (no `round` call, which plain SSE2 lacks as an instruction).
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³
        let x = x.clamp(-87.0, 88.0);
        let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
        let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
        let poly = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
            + 1.666_666_5e-1)
            * r
            + 0.5;
        let e_r = poly * r * r + r + 1.0;
        e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn exp_is_within_two_ulp_of_the_standard_library() {
            for i in 0..=87_000 {
                let x = -(i as f32) / 1000.0;
                let (ours, std) = (super::exp(x), x.exp());
                let ulp = (std.to_bits() as i64 - ours.to_bits() as i64).abs();
                assert!(ulp <= 2, "exp({x}) = {ours}, std gives {std} ({ulp} ulp apart)");
            }
        }

        #[test]
        fn reductions_equal_the_plain_loops_at_every_length() {
            for n in 0..40 {
                let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 23) as f32 / 7.0 - 1.5).collect();
                let y: Vec<f32> = (0..n).map(|i| ((i * 104_729) % 31) as f32 / 11.0 - 1.0).collect();
                let plain_dot: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
                assert!((super::dot(&x, &y) - plain_dot).abs() <= 1e-5, "dot at length {n}");
                assert_eq!(super::max(&x), x.iter().copied().fold(f32::NEG_INFINITY, f32::max), "max at length {n}");
                let mut e = x.clone();
                let sum = super::exp_shifted(&mut e, 0.5);
                let plain: Vec<f32> = x.iter().map(|v| (v - 0.5).exp()).collect();
                assert!(
                    e.iter().zip(&plain).all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0)),
                    "exp at length {n}"
                );
                assert!((sum - plain.iter().sum::<f32>()).abs() <= 1e-5 * n.max(1) as f32, "exp sum at length {n}");
            }
        }
    }
}
