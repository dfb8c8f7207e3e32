//! The GGUF container (version 3), written ([`super::read`] reads it): a header, typed metadata, tensor descriptions, then the tensors' data,
//! each aligned. Only what our exports need is here: f32 tensors and the metadata types llama.cpp reads.
//!
//! Written by hand rather than with a crate: the format is a few dozen lines to write (llama.cpp's
//! `docs/gguf.md`), and the Rust crates that write it either come inside a whole tensor framework (candle) or
//! lack array metadata.

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Strings(Vec<String>),
    F32s(Vec<f32>),
    I32s(Vec<i32>),
}

impl Value {
    /// GGUF's number for the value's type (`gguf_type`), and for arrays the type of their elements.
    fn type_id(&self) -> u32 {
        match self {
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::String(_) => 8,
            Value::Strings(_) | Value::F32s(_) | Value::I32s(_) => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend(self.type_id().to_le_bytes());
        match self {
            Value::U32(v) => out.extend(v.to_le_bytes()),
            Value::I32(v) => out.extend(v.to_le_bytes()),
            Value::F32(v) => out.extend(v.to_le_bytes()),
            Value::U64(v) => out.extend(v.to_le_bytes()),
            Value::I64(v) => out.extend(v.to_le_bytes()),
            Value::F64(v) => out.extend(v.to_le_bytes()),
            Value::Bool(v) => out.push(u8::from(*v)),
            Value::String(text) => write_string(out, text),
            Value::Strings(texts) => {
                write_array_header(out, 8, texts.len());
                texts.iter().for_each(|text| write_string(out, text));
            }
            Value::F32s(values) => {
                write_array_header(out, 6, values.len());
                values.iter().for_each(|v| out.extend(v.to_le_bytes()));
            }
            Value::I32s(values) => {
                write_array_header(out, 5, values.len());
                values.iter().for_each(|v| out.extend(v.to_le_bytes()));
            }
        }
    }
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text.as_bytes());
}

fn write_array_header(out: &mut Vec<u8>, element_type: u32, len: usize) {
    out.extend(element_type.to_le_bytes());
    out.extend((len as u64).to_le_bytes());
}

/// Where every tensor's data starts: a multiple of this many bytes (GGUF's default `general.alignment`).
const ALIGNMENT: usize = 32;
/// `ggml_type` of 32-bit floats.
const GGML_TYPE_F32: u32 = 0;

/// A GGUF file being put together: metadata in the order added, then tensors in the order added.
#[derive(Default)]
pub struct GgufFile {
    metadata: Vec<(String, Value)>,
    /// Name, shape in row-major order (as PyTorch and safetensors give it), values.
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl GgufFile {
    pub fn set(&mut self, key: &str, value: Value) {
        self.metadata.push((key.to_string(), value));
    }

    /// Adds an f32 tensor of `shape` (row-major, outermost first).
    pub fn add_tensor(&mut self, name: &str, shape: &[usize], values: Vec<f32>) {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}: shape {shape:?} holds the values");
        self.tensors.push((name.to_string(), shape.to_vec(), values));
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(b"GGUF");
        out.extend(3u32.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            write_string(&mut out, key);
            value.write(&mut out);
        }
        let mut offset = 0;
        for (name, shape, values) in &self.tensors {
            write_string(&mut out, name);
            out.extend((shape.len() as u32).to_le_bytes());
            // GGUF lists dimensions innermost first (ggml's `ne`): the reverse of row-major order.
            shape.iter().rev().for_each(|&dim| out.extend((dim as u64).to_le_bytes()));
            out.extend(GGML_TYPE_F32.to_le_bytes());
            out.extend((offset as u64).to_le_bytes());
            offset += (values.len() * 4).next_multiple_of(ALIGNMENT);
        }
        out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
        for (_, _, values) in &self.tensors {
            values.iter().for_each(|v| out.extend(v.to_le_bytes()));
            out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_metadata_and_tensors_sit_where_the_format_puts_them() {
        let mut file = GgufFile::default();
        file.set("general.architecture", Value::String("llama".into()));
        file.set("x.scores", Value::F32s(vec![1.5]));
        file.add_tensor("t", &[2, 3], (0..6).map(|i| i as f32).collect());
        let bytes = file.to_bytes();
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(&bytes[..4], b"GGUF");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 3);
        assert_eq!((u64_at(8), u64_at(16)), (1, 2), "one tensor, two keys");
        // Key: length 20, the name, type 8 (string), length 5, "llama".
        assert_eq!(u64_at(24), 20);
        assert_eq!(&bytes[32..52], b"general.architecture");
        assert_eq!(u32::from_le_bytes(bytes[52..56].try_into().unwrap()), 8);
        assert_eq!((u64_at(56), &bytes[64..69]), (5, &b"llama"[..]));
        // Array of one f32: key, type 9, element type 6, count 1, 1.5.
        let at = 69 + 8 + "x.scores".len();
        assert_eq!(bytes[at..at + 8], [9, 0, 0, 0, 6, 0, 0, 0]);
        assert_eq!((u64_at(at + 8), f32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap())), (1, 1.5));
        // The tensor: name, 2 dimensions innermost first (3, 2), F32, offset 0.
        let at = at + 20;
        assert_eq!((u64_at(at), &bytes[at + 8..at + 9]), (1, &b"t"[..]));
        assert_eq!(u32::from_le_bytes(bytes[at + 9..at + 13].try_into().unwrap()), 2);
        assert_eq!((u64_at(at + 13), u64_at(at + 21)), (3, 2));
        assert_eq!((&bytes[at + 29..at + 33], u64_at(at + 33)), (&[0u8, 0, 0, 0][..], 0));
        // Data starts at the next multiple of 32 and holds the values row by row.
        let data = (at + 41).next_multiple_of(32);
        assert!(bytes[at + 41..data].iter().all(|&b| b == 0));
        let values: Vec<f32> =
            bytes[data..data + 24].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(values, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(bytes.len(), data + 32, "the last tensor is padded too");
    }
}
