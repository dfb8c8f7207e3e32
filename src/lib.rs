//! Tinytune: a course on fine-tuning language models that is itself a fine-tuning tool.

pub mod course;

#[cfg(feature = "ui")]
pub mod ui;
