"""Writes a random Llama folder shaped like stories260K, and optionally a random LoRA adapter for it.

Only for checking the reference scripts before the Rust converter exists: the weights are random, so nothing
computed from them is a reference result. The folder has what the Rust tool writes: config.json
(LlamaForCausalLM), model.safetensors, tokenizer.json and tokenizer_config.json. The tokenizer is a small
SentencePiece-style BPE with byte fallback laid out like tok512 (ids 0, 1, 2 = <unk>, <s>, </s>; 3..258 = bytes),
but with made-up merges.
"""

import argparse
import os
import string
import sys

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write the model into (created)")
    parser.add_argument("--adapter-out", help="also write a PEFT LoRA adapter (r 4, alpha 8, all seven "
                        "projections, B ~ N(0, 0.02^2) so it is not a no-op) into this folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return parser.parse_args()


def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, normalizers
    from tokenizers.models import BPE

    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{byte:02X}>" for byte in range(256)]
    pieces += ["▁"] + list(string.ascii_letters + string.digits + string.punctuation)
    merges = [("▁", letter) for letter in string.ascii_lowercase]
    merges += [(a, b) for a in "etaoinshrdlu" for b in "etaoinshrdlu"]
    merges = merges[: 512 - len(pieces)]
    pieces += [a + b for a, b in merges]
    assert len(pieces) == 512

    tokenizer = Tokenizer(BPE({piece: i for i, piece in enumerate(pieces)}, merges, unk_token="<unk>",
                              byte_fallback=True, fuse_unk=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(" ", 1, 0)])
    tokenizer.add_special_tokens(["<unk>", "<s>", "</s>"])
    return tokenizer


def main():
    args = parse_args()
    import common
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    common.setup_torch(args.threads, args.seed)
    config = LlamaConfig(
        vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=5, num_attention_heads=8,
        num_key_value_heads=4, max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, hidden_act="silu",
    )
    model = LlamaForCausalLM(config).float().eval()
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    PreTrainedTokenizerFast(
        tokenizer_object=tiny_tokenizer(), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        model_max_length=512,
    ).save_pretrained(args.out)
    written = {"model": os.path.abspath(args.out)}

    if args.adapter_out:
        lora = LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TARGETS, lora_dropout=0.0)
        model = get_peft_model(model, lora)
        common.randomize_lora_b(model, 0.02)
        model.save_pretrained(args.adapter_out)
        written["adapter"] = os.path.abspath(args.adapter_out)
    common.emit_json(written)


if __name__ == "__main__":
    sys.exit(main())
