//! The attention operation (src/attention.rs) against Burn's own attention (`attention_fallback`, differentiated by
//! Burn's autodiff): outputs and the gradients of query, key and value, for the CPU kernel and for the tensor-operation
//! version the WebGPU backend runs.

use burn::backend::Dispatch;
use burn::prelude::*;
use burn::tensor::module::attention_fallback;
use burn::tensor::ops::AttentionModuleOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tinytune::attention::{causal_attention, composed};

struct Case {
    batch: usize,
    heads: usize,
    kv_heads: usize,
    queries: usize,
    keys: usize,
    head_dim: usize,
}

/// Query, key, value and the weights of the output in the loss (`Σ output · weights`), as host values.
fn draw(case: &Case, seed: u64) -> [(Vec<f32>, [usize; 4]); 4] {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values =
        |shape: [usize; 4]| ((0..shape.iter().product()).map(|_| rng.random_range(-2.0..2.0)).collect(), shape);
    let query_shape = [case.batch, case.heads, case.queries, case.head_dim];
    let key_shape = [case.batch, case.kv_heads, case.keys, case.head_dim];
    [values(query_shape), values(key_shape), values(key_shape), values(query_shape)]
}

fn tensor(values: &(Vec<f32>, [usize; 4]), device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values.0.clone(), values.1), device)
}

fn host(tensor: Tensor<4>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(name: &str, ours: &[f32], reference: &[f32]) {
    assert_eq!(ours.len(), reference.len(), "{name}: lengths");
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = ours.iter().zip(reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(diff <= 1e-5 * scale, "{name}: largest difference {diff} (values up to {scale})");
}

/// Burn's attention over key/value heads repeated for their query heads: output and the three gradients.
fn reference(case: &Case, inputs: &[(Vec<f32>, [usize; 4]); 4]) -> [Vec<f32>; 4] {
    let device = Device::flex().autodiff();
    let [query, key, value, weights] = inputs.each_ref().map(|values| tensor(values, &device));
    let (query, key, value) = (query.require_grad(), key.require_grad(), value.require_grad());
    let group = case.heads / case.kv_heads;
    let repeat = |t: Tensor<4>| {
        t.unsqueeze_dim::<5>(2).repeat_dim(2, group).reshape([case.batch, case.heads, case.keys, case.head_dim])
    };
    let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
    let output = attention_fallback(query.clone(), repeat(key.clone()), repeat(value.clone()), None, None, options);
    let grads = (output.clone() * weights).sum().backward();
    let grad = |t: &Tensor<4>| host(t.grad(&grads).unwrap());
    [host(output), grad(&query), grad(&key), grad(&value)]
}

const CASES: [Case; 3] = [
    // stories260K's shape: 8 query heads sharing 4 key/value heads, head_dim 8; training (queries = keys).
    Case { batch: 2, heads: 8, kv_heads: 4, queries: 37, keys: 37, head_dim: 8 },
    // A KV cache: fewer queries than keys; head_dim not a multiple of the vector width.
    Case { batch: 1, heads: 6, kv_heads: 2, queries: 5, keys: 19, head_dim: 12 },
    // One new token (generation), no grouping.
    Case { batch: 3, heads: 2, kv_heads: 2, queries: 1, keys: 11, head_dim: 4 },
];

#[test]
fn the_cpu_kernel_equals_burns_attention_in_output_and_gradients() {
    for (i, case) in CASES.iter().enumerate() {
        let inputs = draw(case, i as u64);
        let [output, grad_query, grad_key, grad_value] = reference(case, &inputs);

        let device = Device::flex().autodiff();
        let [query, key, value, weights] = inputs.each_ref().map(|values| tensor(values, &device));
        let (query, key, value) = (query.require_grad(), key.require_grad(), value.require_grad());
        let ours = causal_attention(query.clone(), key.clone(), value.clone());
        let grads = (ours.clone() * weights).sum().backward();
        assert_close(&format!("case {i} output"), &host(ours), &output);
        assert_close(&format!("case {i} query gradient"), &host(query.grad(&grads).unwrap()), &grad_query);
        assert_close(&format!("case {i} key gradient"), &host(key.grad(&grads).unwrap()), &grad_key);
        assert_close(&format!("case {i} value gradient"), &host(value.grad(&grads).unwrap()), &grad_value);

        // Without autodiff (generation) the kernel gives the same output.
        let plain = inputs.each_ref().map(|values| tensor(values, &Device::flex()));
        let [query, key, value, _] = plain;
        assert_close(&format!("case {i} output, no autodiff"), &host(causal_attention(query, key, value)), &output);
    }
}

#[test]
fn the_tensor_operation_version_equals_burns_attention_in_output_and_gradients() {
    for (i, case) in CASES.iter().enumerate() {
        let inputs = draw(case, 10 + i as u64);
        let [output, grad_query, grad_key, grad_value] = reference(case, &inputs);

        let [query, key, value, weights] =
            inputs.each_ref().map(|values| tensor(values, &Device::flex()).into_dispatch());
        let (ours, lse) = composed::forward::<Dispatch>(query.clone(), key.clone(), value.clone());
        let (grad_q, grad_k, grad_v) = composed::backward::<Dispatch>(query, key, value, ours.clone(), lse, weights);
        let host = |primitive| host(Tensor::<4>::from_dispatch(primitive));
        assert_close(&format!("case {i} output"), &host(ours), &output);
        assert_close(&format!("case {i} query gradient"), &host(grad_q), &grad_query);
        assert_close(&format!("case {i} key gradient"), &host(grad_k), &grad_key);
        assert_close(&format!("case {i} value gradient"), &host(grad_v), &grad_value);
    }
}
