//! Where training runs: WebGPU when the browser gives an adapter good enough for training, else the CPU, with
//! the reason in words a learner can act on.

use burn::prelude::*;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::js_error;
use crate::preflight::{DeviceLimits, DeviceReport, GpuLimits};
use crate::protocol::{BackendChoice, BackendKind, BackendReport};

/// How to tell a learner that WebGPU is missing, and what to do about it.
const ENABLE_WEBGPU: &str = "Training runs on the CPU instead, which is slower but gives the same results. \
    For the GPU, use a browser with WebGPU: Chrome or Edge 113+ on Windows, macOS or ChromeOS, Chrome on Linux \
    with chrome://flags/#enable-unsafe-webgpu, Firefox 141+ on Windows, or Safari 26+.";

/// The device for `choice` on a browser whose WebGPU adapter is `gpu` (from [`device_limits`]).
pub async fn choose_device(choice: BackendChoice, gpu: &Result<GpuLimits, String>) -> (Device, BackendReport) {
    let cpu = |reason: Option<String>| {
        (Device::flex(), BackendReport { kind: BackendKind::Cpu, adapter_name: None, fallback_reason: reason })
    };
    if choice == BackendChoice::Cpu {
        return cpu(None);
    }
    match gpu {
        Err(why) => cpu(Some(format!("WebGPU is not available: {why}. {ENABLE_WEBGPU}"))),
        Ok(GpuLimits { adapter_name: name, .. }) => match Device::wgpu_options().init_async().await {
            Ok(device) => (
                device,
                BackendReport { kind: BackendKind::WebGpu, adapter_name: Some(name.clone()), fallback_reason: None },
            ),
            Err(error) => {
                cpu(Some(format!("the WebGPU device for {name} could not be created ({error}). {ENABLE_WEBGPU}")))
            }
        },
    }
}

/// The hardware preflight's measurements ([`crate::preflight`]): the device's limits and the CPU backend's speed
/// at a matrix product. Nothing downloads and no GPU device is created.
pub async fn device_report() -> DeviceReport {
    DeviceReport { limits: device_limits().await, cpu_flops: cpu_flops().await }
}

/// The WebGPU adapter's limits and the browser's memory hint.
pub async fn device_limits() -> DeviceLimits {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    let device_memory_gb = Reflect::get(&navigator, &"deviceMemory".into()).ok().and_then(|v| v.as_f64());
    DeviceLimits { gpu: webgpu_adapter().await, device_memory_gb }
}

/// Floating-point operations a second of 256 × 256 matrix products on the CPU backend, timed over at least a
/// fifth of a second.
async fn cpu_flops() -> f64 {
    const N: usize = 256;
    let device = Device::flex();
    let a = Tensor::<2>::ones([N, N], &device);
    let started = web_time::Instant::now();
    let mut products = 0;
    while products < 3 || started.elapsed().as_secs_f64() < 0.2 {
        let _ = a.clone().matmul(a.clone()).into_data_async().await;
        products += 1;
    }
    (2 * N * N * N * products) as f64 / started.elapsed().as_secs_f64()
}

/// Asks `navigator.gpu` for an adapter (through plain JS calls: web-sys's WebGPU bindings are still unstable): its
/// name and limits, or why there is none good enough for training.
async fn webgpu_adapter() -> Result<GpuLimits, String> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).map_err(js_error)?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).map_err(js_error)?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no navigator.gpu".into());
    }
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into()).map_err(js_error)?.unchecked_into();
    let promise: Promise = request.call0(&gpu).map_err(js_error)?.unchecked_into();
    let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter failed ({})", js_error(e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser offers no GPU adapter (WebGPU may be disabled, or this GPU is blocklisted)".into());
    }
    let limits = Reflect::get(&adapter, &"limits".into()).map_err(js_error)?;
    let limit = |name: &str| Reflect::get(&limits, &name.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    // The training kernels bind up to 8 storage buffers; model and activations need buffers of tens of MB.
    if limit("maxStorageBuffersPerShaderStage") < 8.0 || limit("maxStorageBufferBindingSize") < 64.0 * 1024.0 * 1024.0 {
        return Err("the GPU adapter is too limited for training (fewer than 8 storage buffers per shader or \
                    less than 64 MB per buffer)"
            .into());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let field = |name: &str| Reflect::get(&info, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let parts: Vec<String> =
        [field("vendor"), field("architecture"), field("description")].into_iter().filter(|p| !p.is_empty()).collect();
    Ok(GpuLimits {
        adapter_name: if parts.is_empty() { "an unnamed GPU adapter".into() } else { parts.join(" ") },
        max_binding_bytes: limit("maxStorageBufferBindingSize") as u64,
        max_buffer_bytes: limit("maxBufferSize") as u64,
    })
}
