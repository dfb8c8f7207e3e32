//! Tinytune: a course on fine-tuning language models that is itself a fine-tuning tool.
//!
//! The course (lessons, quizzes, progress) and the UI never touch tensors; the trainer core (model, LoRA,
//! training, data, tokenizer, import/export) never touches the DOM. The same trainer code runs natively (CLI,
//! tests, benchmarks) and, in the browser, in a worker.

pub mod approach;
pub mod course;
pub mod dataset;
pub mod evaluation;
pub mod low_rank;
pub mod mix;
pub mod one_step;
pub mod preflight;
pub mod protocol;
pub mod quantize;
pub mod reward;
pub mod run_bigger;
pub mod sampling;
pub mod settings;
pub mod sizing;
pub mod sweep;
pub mod task;

#[cfg(feature = "trainer")]
pub mod adapter_import;
#[cfg(feature = "trainer")]
pub mod attention;
#[cfg(feature = "trainer")]
pub mod chat;
#[cfg(feature = "trainer")]
pub mod combine;
#[cfg(feature = "trainer")]
pub mod data;
#[cfg(feature = "trainer")]
pub mod export;
#[cfg(feature = "trainer")]
pub mod generate;
#[cfg(feature = "trainer")]
pub mod gguf;
#[cfg(feature = "trainer")]
pub mod import;
#[cfg(feature = "trainer")]
pub mod lora;
#[cfg(feature = "trainer")]
pub mod model;
#[cfg(feature = "trainer")]
pub mod q4_linear;
#[cfg(feature = "trainer")]
pub mod tokenizer;
#[cfg(feature = "trainer")]
pub mod train;

#[cfg(any(feature = "ui", feature = "worker"))]
pub mod transfer;
#[cfg(feature = "ui")]
pub mod ui;

#[cfg(all(feature = "worker", target_arch = "wasm32"))]
pub mod worker;

#[cfg(all(test, any(feature = "trainer", feature = "ui")))]
mod tests {
    /// The crate's folder, read when the test runs (cargo sets it for test binaries) rather than baked in when it
    /// is compiled: the build folder is shared by every clone on a machine, so a binary built in one clone may run
    /// in another.
    pub(crate) fn crate_dir() -> std::path::PathBuf {
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
    }
}
