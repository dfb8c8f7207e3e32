//! The native integration tests, one module per concern, built as one test binary: one link and one copy of
//! Burn's generic code instead of one per file.

mod common;

#[cfg(feature = "trainer")]
mod adapter_import;
#[cfg(feature = "trainer")]
mod attention;
#[cfg(feature = "trainer")]
mod bad_data;
mod content_validation;
#[cfg(feature = "trainer")]
mod data_fuzz;
#[cfg(feature = "trainer")]
mod data_studio;
#[cfg(feature = "trainer")]
mod evaluation;
#[cfg(feature = "trainer")]
mod gguf_read;
mod parity;
#[cfg(feature = "trainer")]
mod quantize;
mod resume;
mod sizing;
#[cfg(feature = "trainer")]
mod smollm2;
mod task_metric;
#[cfg(feature = "trainer")]
mod tokenizer_parity;
mod trainer;
