//! ggml's tensor types: how many bytes a tensor of each type takes, and its values as f32. The block layouts are
//! ggml's (`ggml-common.h`; `dequantize_row_q4_1` and friends in `ggml-quants.c`): a block holds 32 values, an f16
//! scale `d` and for Q4_1 an f16 minimum `m`, then the quantized values.
//! - Q4_0: 4-bit `q` in 0..16, value `d·(q − 8)`;
//! - Q4_1: 4-bit `q` in 0..16, value `d·q + m`;
//! - Q8_0: 8-bit signed `q`, value `d·q`.
//!
//! In the 4-bit types byte `j` of a block holds value `j` in its low four bits and value `j + 16` in its high four.

use half::{bf16, f16};

/// Values per quantized block.
pub const BLOCK: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q8_0,
}

impl GgmlType {
    /// The type of ggml's number `id` (`enum ggml_type`), if this reader knows it.
    pub fn from_id(id: u32) -> Result<Self, String> {
        Ok(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            30 => GgmlType::BF16,
            other => {
                return Err(format!(
                    "ggml type {other} is not read here (F32, F16, BF16, Q4_0, Q4_1 and Q8_0 are): convert the \
                     model with llama.cpp's llama-quantize to one of those"
                ))
            }
        })
    }

    /// Bytes of a tensor of `values` values, or `None` when they do not fill whole blocks.
    pub fn bytes_for(self, values: usize) -> Option<usize> {
        let (per_block, block_bytes) = match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (BLOCK, 2 + BLOCK / 2),
            GgmlType::Q4_1 => (BLOCK, 4 + BLOCK / 2),
            GgmlType::Q8_0 => (BLOCK, 2 + BLOCK),
        };
        values.is_multiple_of(per_block).then(|| values / per_block * block_bytes)
    }

    /// Bits of storage per value.
    pub fn bits_per_value(self) -> f64 {
        (self.bytes_for(BLOCK).expect("a block fills a block") * 8) as f64 / BLOCK as f64
    }

    /// The values of a tensor of this type held in `bytes`, in the file's order (row-major).
    pub fn dequantize(self, bytes: &[u8]) -> Result<Vec<f32>, String> {
        let half = |b: &[u8]| f16::from_le_bytes([b[0], b[1]]).to_f32();
        let whole = |size: usize| {
            if bytes.len().is_multiple_of(size) {
                Ok(bytes.chunks_exact(size))
            } else {
                Err(format!("{} bytes are not whole {self:?} blocks of {size} bytes", bytes.len()))
            }
        };
        Ok(match self {
            GgmlType::F32 => whole(4)?.map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect(),
            GgmlType::F16 => whole(2)?.map(half).collect(),
            GgmlType::BF16 => whole(2)?.map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            GgmlType::Q4_0 => {
                whole(2 + BLOCK / 2)?.flat_map(|b| nibbles(&b[2..]).map(move |q| half(b) * (q - 8.0))).collect()
            }
            GgmlType::Q4_1 => q4_1_blocks(bytes)?
                .flat_map(|block| block.codes.map(|q| block.scale * f32::from(q) + block.min))
                .collect(),
            GgmlType::Q8_0 => {
                whole(2 + BLOCK)?.flat_map(|b| b[2..].iter().map(move |&q| half(b) * f32::from(q as i8))).collect()
            }
        })
    }
}

/// The 32 four-bit values of a block's 16 bytes, in order: the low halves, then the high halves.
fn nibbles(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    let low = bytes.iter().map(|&b| f32::from(b & 0x0F));
    let high = bytes.iter().map(|&b| f32::from(b >> 4));
    low.chain(high)
}

/// One Q4_1 block: its values are `scale · code + min`.
pub struct Q4_1Block {
    pub scale: f32,
    pub min: f32,
    /// The 32 codes (0..16) in value order.
    pub codes: [u8; BLOCK],
}

/// The blocks of a Q4_1 tensor's bytes, in order (QLoRA's 4-bit base keeps them as they are: `q4_linear`).
pub fn q4_1_blocks(bytes: &[u8]) -> Result<impl Iterator<Item = Q4_1Block> + '_, String> {
    const SIZE: usize = 4 + BLOCK / 2;
    if !bytes.len().is_multiple_of(SIZE) {
        return Err(format!("{} bytes are not whole Q4_1 blocks of {SIZE} bytes", bytes.len()));
    }
    Ok(bytes.chunks_exact(SIZE).map(|b| {
        let half = |at: usize| f16::from_le_bytes([b[at], b[at + 1]]).to_f32();
        let mut codes = [0; BLOCK];
        for (j, &byte) in b[4..].iter().enumerate() {
            codes[j] = byte & 0x0F;
            codes[j + BLOCK / 2] = byte >> 4;
        }
        Q4_1Block { scale: half(0), min: half(2), codes }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half_bytes(value: f32) -> [u8; 2] {
        f16::from_f32(value).to_le_bytes()
    }

    #[test]
    fn q4_1_is_scale_times_nibble_plus_minimum_low_halves_first() {
        // d = 0.5, m = −1; byte j holds q = j in its low half and 15 − j in its high half.
        let mut block = [half_bytes(0.5), half_bytes(-1.0)].concat();
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let values = GgmlType::Q4_1.dequantize(&block).unwrap();
        let expected: Vec<f32> =
            (0..16).map(|j| 0.5 * j as f32 - 1.0).chain((0..16).map(|j| 0.5 * (15 - j) as f32 - 1.0)).collect();
        assert_eq!(values, expected);
        assert!(GgmlType::Q4_1.dequantize(&block[..19]).unwrap_err().contains("not whole"));
    }

    #[test]
    fn q8_0_is_scale_times_a_signed_byte_and_q4_0_centres_on_eight() {
        let mut block = half_bytes(0.25).to_vec();
        block.extend((0..32).map(|j| (j as i8 - 16) as u8));
        let values = GgmlType::Q8_0.dequantize(&block).unwrap();
        assert_eq!(values, (0..32).map(|j| 0.25 * (j - 16) as f32).collect::<Vec<_>>());

        let mut block = half_bytes(2.0).to_vec();
        block.extend([0x80u8; 16]); // low 0 → −16, high 8 → 0
        let values = GgmlType::Q4_0.dequantize(&block).unwrap();
        assert_eq!(values[..16], [-16.0; 16]);
        assert_eq!(values[16..], [0.0; 16]);
    }

    #[test]
    fn sizes_are_whole_blocks() {
        assert_eq!(GgmlType::Q4_1.bytes_for(64), Some(40));
        assert_eq!(GgmlType::Q8_0.bytes_for(32), Some(34));
        assert_eq!(GgmlType::Q4_1.bytes_for(33), None);
        assert_eq!(GgmlType::F16.bytes_for(3), Some(6));
        assert_eq!(GgmlType::Q4_1.bits_per_value(), 5.0);
        assert!(GgmlType::from_id(12).unwrap_err().contains("llama-quantize"));
    }
}
