//! The GGUF container (versions 2 and 3), read: the metadata, and each tensor's type, shape and bytes, borrowed
//! from the file. Every count and offset in the file is checked against its length before use, so a damaged or
//! hostile file gives an error naming what was being read, never a panic or a huge allocation.
//!
//! Read by hand for the same reason it is written by hand ([`super::file`]): a few dozen lines of llama.cpp's
//! `docs/gguf.md`, where the crates come inside a tensor framework.

use std::collections::BTreeMap;

use super::file::Value;
use super::quant::GgmlType;

/// A tensor as the file lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Row-major shape, outermost first (the file lists it innermost first).
    pub shape: Vec<usize>,
    pub kind: GgmlType,
    /// Where its data starts in the file, and how many bytes it takes.
    start: usize,
    len: usize,
}

/// A GGUF file's metadata and tensors; the tensors' bytes stay in the caller's buffer.
pub struct GgufView<'a> {
    pub metadata: BTreeMap<String, Value>,
    pub tensors: BTreeMap<String, TensorInfo>,
    bytes: &'a [u8],
}

impl<'a> GgufView<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4, "the magic number")? != b"GGUF" {
            return Err("not a GGUF file: it does not start with the letters GGUF".into());
        }
        let version = reader.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(format!("GGUF version {version} is not read here (versions 2 and 3 are)"));
        }
        let tensor_count = reader.count("the tensor count", 8)?;
        let metadata_count = reader.count("the metadata count", 8)?;
        let mut metadata = BTreeMap::new();
        for index in 0..metadata_count {
            let key = reader.string(&format!("the name of metadata entry {index}"))?;
            let kind = reader.u32(&format!("the type of {key}"))?;
            if let Some(value) = reader.value(kind, &key)? {
                metadata.insert(key, value);
            }
        }
        let mut listed = Vec::with_capacity(tensor_count);
        for index in 0..tensor_count {
            let name = reader.string(&format!("the name of tensor {index}"))?;
            let dims = reader.u32(&format!("the dimension count of {name}"))? as usize;
            if dims == 0 || dims > 4 {
                return Err(format!("tensor {name} has {dims} dimensions (GGUF allows 1 to 4)"));
            }
            let mut shape = Vec::with_capacity(dims);
            for _ in 0..dims {
                shape.push(reader.u64(&format!("the shape of {name}"))? as usize);
            }
            shape.reverse();
            let kind = GgmlType::from_id(reader.u32(&format!("the type of {name}"))?)
                .map_err(|why| format!("tensor {name}: {why}"))?;
            let offset = reader.u64(&format!("the offset of {name}"))? as usize;
            listed.push((name, shape, kind, offset));
        }
        let alignment = match metadata.get("general.alignment") {
            Some(Value::U32(alignment)) if alignment.is_power_of_two() => *alignment as usize,
            Some(other) => return Err(format!("general.alignment is {other:?}, not a power of two")),
            None => 32,
        };
        let data = reader.at.next_multiple_of(alignment);
        let mut tensors = BTreeMap::new();
        for (name, shape, kind, offset) in listed {
            let values = shape.iter().try_fold(1usize, |n, &dim| n.checked_mul(dim));
            let len = values.and_then(|values| kind.bytes_for(values)).ok_or_else(|| {
                format!("tensor {name}: shape {shape:?} does not fit a whole number of {kind:?} blocks")
            })?;
            let start = data.checked_add(offset).filter(|start| start % alignment == 0);
            let Some(start) = start.filter(|start| start.checked_add(len).is_some_and(|end| end <= bytes.len())) else {
                return Err(format!(
                    "tensor {name}: its {len} bytes at offset {offset} lie outside the file ({} bytes) or off \
                     its alignment; the file is cut short or damaged",
                    bytes.len()
                ));
            };
            if tensors.insert(name.clone(), TensorInfo { shape, kind, start, len }).is_some() {
                return Err(format!("tensor {name} is listed twice"));
            }
        }
        Ok(GgufView { metadata, tensors, bytes })
    }

    /// The tensor's info and its bytes, or an error naming it.
    pub fn tensor(&self, name: &str) -> Result<(&TensorInfo, &'a [u8]), String> {
        let info = self.tensors.get(name).ok_or_else(|| format!("the file has no tensor {name}"))?;
        Ok((info, &self.bytes[info.start..info.start + info.len]))
    }

    pub fn get(&self, key: &str) -> Result<&Value, String> {
        self.metadata.get(key).ok_or_else(|| format!("the file's metadata has no {key}"))
    }

    /// A whole number, whichever integer type the file chose for it.
    pub fn usize(&self, key: &str) -> Result<usize, String> {
        match self.get(key)? {
            Value::U32(v) => Ok(*v as usize),
            Value::U64(v) => usize::try_from(*v).map_err(|_| format!("{key} = {v} is too large")),
            Value::I32(v) if *v >= 0 => Ok(*v as usize),
            other => Err(format!("{key} is {other:?}, not a whole number")),
        }
    }

    pub fn f64(&self, key: &str) -> Result<f64, String> {
        match self.get(key)? {
            Value::F32(v) => Ok(f64::from(*v)),
            Value::F64(v) => Ok(*v),
            other => Err(format!("{key} is {other:?}, not a number")),
        }
    }

    pub fn str(&self, key: &str) -> Result<&str, String> {
        match self.get(key)? {
            Value::String(text) => Ok(text),
            other => Err(format!("{key} is {other:?}, not text")),
        }
    }

    pub fn strings(&self, key: &str) -> Result<&[String], String> {
        match self.get(key)? {
            Value::Strings(texts) => Ok(texts),
            _ => Err(format!("{key} is not a list of texts")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, String> {
        match self.get(key)? {
            Value::Bool(value) => Ok(*value),
            other => Err(format!("{key} is {other:?}, not true or false")),
        }
    }
}

/// Little-endian values off the front of the file, naming what was being read when it runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| {
            format!("the file is cut short: it ends at byte {} while reading {what}", self.bytes.len())
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count of things at least `min_bytes` long each: larger than what is left of the file, it is a lie.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize, String> {
        let count = self.u64(what)?;
        let left = (self.bytes.len() - self.at) as u64;
        if count.saturating_mul(min_bytes as u64) > left {
            return Err(format!("{what} is {count}, more than the {left} bytes left in the file could hold"));
        }
        Ok(count as usize)
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        let len = self.count(what, 1)?;
        String::from_utf8(self.take(len, what)?.to_vec()).map_err(|_| format!("{what} is not UTF-8 text"))
    }

    /// A metadata value of GGUF type `kind` (`gguf_type`). Narrow integers widen to 32 bits. Arrays of other
    /// elements than text, f32 and i32 (none that a Llama needs) are skipped over (`None`), so the rest of the
    /// file still reads.
    fn value(&mut self, kind: u32, key: &str) -> Result<Option<Value>, String> {
        Ok(Some(match kind {
            0 => Value::U32(u32::from(self.array::<1>(key)?[0])),
            1 => Value::I32(i32::from(i8::from_le_bytes(self.array(key)?))),
            2 => Value::U32(u32::from(u16::from_le_bytes(self.array(key)?))),
            3 => Value::I32(i32::from(i16::from_le_bytes(self.array(key)?))),
            4 => Value::U32(self.u32(key)?),
            5 => Value::I32(i32::from_le_bytes(self.array(key)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(key)?)),
            7 => match self.array::<1>(key)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(format!("{key}: {other} is not a truth value (0 or 1)")),
            },
            8 => Value::String(self.string(key)?),
            9 => {
                let element = self.u32(key)?;
                let len = self.count(&format!("the length of {key}"), 1)?;
                match element {
                    8 => Value::Strings((0..len).map(|_| self.string(key)).collect::<Result<_, _>>()?),
                    6 => Value::F32s(self.take(len * 4, key)?.chunks_exact(4).map(f32_of).collect()),
                    5 => Value::I32s(self.take(len * 4, key)?.chunks_exact(4).map(i32_of).collect()),
                    _ => {
                        for _ in 0..len {
                            self.value(element, key)?;
                        }
                        return Ok(None);
                    }
                }
            }
            10 => Value::U64(self.u64(key)?),
            11 => Value::I64(i64::from_le_bytes(self.array(key)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(key)?)),
            other => return Err(format!("{key} has type {other}, which GGUF does not define")),
        }))
    }
}

fn f32_of(bytes: &[u8]) -> f32 {
    f32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

fn i32_of(bytes: &[u8]) -> i32 {
    i32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::super::file::GgufFile;
    use super::*;

    #[test]
    fn what_the_writer_writes_reads_back() {
        let mut file = GgufFile::default();
        file.set("general.architecture", Value::String("llama".into()));
        file.set("llama.block_count", Value::U32(2));
        file.set("tokenizer.ggml.tokens", Value::Strings(vec!["a".into(), "b".into()]));
        file.set("tokenizer.ggml.scores", Value::F32s(vec![0.5, -1.0]));
        file.add_tensor("t", &[2, 3], (0..6).map(|i| i as f32).collect());
        let bytes = file.to_bytes();
        let view = GgufView::parse(&bytes).unwrap();
        assert_eq!(view.str("general.architecture").unwrap(), "llama");
        assert_eq!(view.usize("llama.block_count").unwrap(), 2);
        assert_eq!(view.strings("tokenizer.ggml.tokens").unwrap(), ["a", "b"]);
        assert_eq!(view.get("tokenizer.ggml.scores").unwrap(), &Value::F32s(vec![0.5, -1.0]));
        let (info, data) = view.tensor("t").unwrap();
        assert_eq!((info.shape.as_slice(), info.kind), (&[2, 3][..], GgmlType::F32));
        assert_eq!(GgmlType::F32.dequantize(data).unwrap(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(view.tensor("u").unwrap_err().contains("no tensor u"));
        assert!(view.usize("general.architecture").unwrap_err().contains("not a whole number"));
    }

    #[test]
    fn every_cut_of_a_file_is_an_error_that_says_so() {
        let mut file = GgufFile::default();
        file.set("general.architecture", Value::String("llama".into()));
        file.add_tensor("t", &[4], vec![1.0; 4]);
        let bytes = file.to_bytes();
        // The last 16 bytes are the padding after the tensor's data, which a reader does not need.
        for len in 0..bytes.len() - 16 {
            let Err(error) = GgufView::parse(&bytes[..len]) else { panic!("{len} bytes read") };
            assert!(
                error.contains("cut short") || error.contains("not a GGUF") || error.contains("more than the"),
                "{len}: {error}"
            );
        }
        let mut lying = bytes.clone();
        lying[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let Err(error) = GgufView::parse(&lying) else { panic!("a lying count read") };
        assert!(error.contains("the tensor count is 18446744073709551615"), "{error}");
    }
}
