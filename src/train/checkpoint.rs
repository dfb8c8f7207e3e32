//! A run's training state, to carry on after a reload, a crash or a lost GPU exactly where it was: the trainable
//! weights, AdamW's moments, the step (which fixes the learning rate's place in its schedule and the dropout
//! seed), the data order (its reshuffles, replayed from the seed, and the place in the current one), and the
//! seconds trained. Resumed, a run gives the loss rows the uninterrupted run gives.
//!
//! As a file it is a safetensors file — the weights and moments as tensors, the rest in its metadata with a
//! SHA-256 over all of it — so a file cut short, edited, or saved by another version is refused before use.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::export::{read_safetensors, safetensors_file, Tensors};

/// Bumped when the layout changes: a checkpoint of another version is refused, not misread.
const VERSION: u32 = 1;
const FORMAT: &str = "tinytune-checkpoint";

/// One trainable parameter: its shape, values and, once it was updated, AdamW's moments.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedParam {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
    /// Updates taken, first moment, second moment (flattened).
    pub moments: Option<(usize, Vec<f32>, Vec<f32>)>,
}

/// Where the run stands, besides its tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Optimizer steps taken.
    pub step: usize,
    /// Times the data order was reshuffled after the first shuffle, and sequences taken from the current order.
    pub reshuffles: usize,
    pub cursor: usize,
    pub training_seconds: f64,
    /// SHA-256 of the training sequences: a run resumes only on the data it trained on.
    pub data: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub position: Position,
    /// The trainable parameters, in the model's order.
    pub params: Vec<SavedParam>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    position: Position,
    /// Each parameter's AdamW update count; `None` before its first update (then it has no moments).
    updates: Vec<Option<usize>>,
}

impl Checkpoint {
    /// The checkpoint as a file, with `about` (what the caller needs to resume it: settings, data set, metrics)
    /// stored beside it.
    pub fn to_bytes<T: Serialize>(&self, about: &T) -> Vec<u8> {
        let updates = self.params.iter().map(|param| param.moments.as_ref().map(|(time, ..)| *time)).collect();
        let header = serde_json::to_string(&Header { version: VERSION, position: self.position.clone(), updates })
            .expect("a position serialises");
        let about = serde_json::to_string(about).expect("what a checkpoint is about serialises");
        let mut tensors = Tensors::new();
        for (index, param) in self.params.iter().enumerate() {
            tensors.insert(name(index, "value"), (param.shape.clone(), param.values.clone()));
            if let Some((_, first, second)) = &param.moments {
                tensors.insert(name(index, "adam_m"), (vec![first.len()], first.clone()));
                tensors.insert(name(index, "adam_v"), (vec![second.len()], second.clone()));
            }
        }
        let sha256 = digest(&header, &about, &tensors);
        let metadata = [("format", FORMAT), ("header", &header), ("about", &about), ("sha256", &sha256)];
        safetensors_file(&tensors, metadata.map(|(key, value)| (key.to_string(), value.to_string())))
    }

    /// Reads a checkpoint written by [`Checkpoint::to_bytes`], or says why it cannot be used.
    pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<(Checkpoint, T), String> {
        let (_, metadata) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| format!("it is not a checkpoint ({e})"))?;
        let metadata: HashMap<String, String> = metadata.metadata().clone().unwrap_or_default();
        let field = |key: &str| metadata.get(key).ok_or_else(|| format!("it is not a checkpoint (no {key})"));
        if field("format")? != FORMAT {
            return Err("it is not a checkpoint".into());
        }
        let (header, about) = (field("header")?, field("about")?);
        let tensors = read_safetensors(bytes, "the checkpoint")?;
        if &digest(header, about, &tensors) != field("sha256")? {
            return Err("it is damaged: its contents do not match their checksum".into());
        }
        let header: Header = serde_json::from_str(header).map_err(|e| format!("its header is unreadable ({e})"))?;
        if header.version != VERSION {
            return Err(format!("it was saved by another version of Tinytune (format {})", header.version));
        }
        let about = serde_json::from_str(about).map_err(|e| format!("its description is unreadable ({e})"))?;
        Ok((Checkpoint { position: header.position, params: params(tensors, &header.updates)? }, about))
    }
}

fn name(index: usize, part: &str) -> String {
    format!("{index:04}.{part}")
}

/// The parameters named by [`name`], with their update counts: every tensor used, none missing.
fn params(mut tensors: Tensors, updates: &[Option<usize>]) -> Result<Vec<SavedParam>, String> {
    let mut take = |index: usize, part: &str| tensors.remove(&name(index, part));
    let params = updates
        .iter()
        .enumerate()
        .map(|(index, updates)| {
            let wrong = |what: &str| format!("parameter {index} has {what}");
            let (shape, values) = take(index, "value").ok_or_else(|| wrong("no value"))?;
            if shape.iter().product::<usize>() != values.len() {
                return Err(wrong("a shape that does not fit its values"));
            }
            let moments = match (updates, take(index, "adam_m"), take(index, "adam_v")) {
                (None, None, None) => None,
                (Some(time), Some((_, first)), Some((_, second)))
                    if first.len() == values.len() && second.len() == values.len() =>
                {
                    Some((*time, first, second))
                }
                _ => return Err(wrong("AdamW moments that do not fit it")),
            };
            Ok(SavedParam { shape, values, moments })
        })
        .collect::<Result<Vec<_>, _>>()?;
    match tensors.keys().next() {
        Some(extra) => Err(format!("it holds a tensor no parameter has ({extra})")),
        None => Ok(params),
    }
}

fn digest(header: &str, about: &str, tensors: &Tensors) -> String {
    let mut hash = Sha256::new();
    for text in [header, about] {
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    }
    for (name, (shape, values)) in tensors {
        hash.update(name.as_bytes());
        shape.iter().for_each(|d| hash.update((*d as u64).to_le_bytes()));
        values.iter().for_each(|v| hash.update(v.to_le_bytes()));
    }
    format!("{:x}", hash.finalize())
}
