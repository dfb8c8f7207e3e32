"""Weights stored and read back by the tools Tinytune's quantization formats copy: the reference for
`tinytune::quantize` (the lesson "QLoRA").

Usage: quantize_reference.py VALUES OUT_DIR
VALUES holds float32 values (little-endian, nothing else). For each format and block size the tools take, writes
OUT_DIR/<format>-<block>.f32: the values quantized and dequantized, float32, in the same order.
  Q8_0, Q4_0, Q4_1 at 32  gguf-py (llama.cpp's Python package), `quants.quantize` then `quants.dequantize`, whose
                          numpy code is bit for bit ggml's reference quantizer; the values' count must be a multiple
                          of 32
  NF4 at 32, 64, 128, 256 bitsandbytes, `functional.quantize_4bit(quant_type="nf4")` then `dequantize_4bit`, on the
                          CPU (its blocks run over the flat values; a shorter last block is its own block)
"""

import os
import sys


def main():
    values_path, out_dir = sys.argv[1:3]
    import numpy as np
    import torch
    import bitsandbytes.functional as bnb
    from gguf import GGMLQuantizationType, quants

    values = np.fromfile(values_path, dtype="<f4")
    os.makedirs(out_dir, exist_ok=True)
    for name in ("Q8_0", "Q4_0", "Q4_1"):
        kind = GGMLQuantizationType[name]
        stored = quants.dequantize(quants.quantize(values.reshape(-1, 32), kind), kind).reshape(-1)
        stored.astype("<f4").tofile(os.path.join(out_dir, f"{name}-32.f32"))
    for block in (32, 64, 128, 256):
        tensor = torch.from_numpy(values.copy())
        packed, state = bnb.quantize_4bit(tensor, blocksize=block, quant_type="nf4")
        stored = bnb.dequantize_4bit(packed, state).reshape(-1).numpy()
        stored.astype("<f4").tofile(os.path.join(out_dir, f"NF4-{block}.f32"))


if __name__ == "__main__":
    main()
