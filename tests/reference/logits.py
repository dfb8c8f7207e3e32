"""Prints the logits of a Hugging Face Llama folder (optionally with a PEFT LoRA adapter) for one token sequence.

Output: one line of JSON, an array [positions][vocab] of float32 logits at full precision, the same format as
`tinytune logits`. The model is LlamaForCausalLM in float32, eval mode, eager attention, on the CPU; the
adapter is attached with PeftModel.from_pretrained (lora_dropout forced to 0). No BOS is added: the tokens are
used exactly as given.
"""

import argparse

import flags
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors)")
    parser.add_argument("--adapter", help="PEFT LoRA folder (adapter_config.json, adapter_model.safetensors)")
    flags.add_tokens_and_threads(parser, "torch CPU threads (default 2)")
    return flags.parse(parser)


def main():
    args = parse_args()
    import common
    import torch

    common.setup_torch(args.threads)
    model = common.load_model(args.model)
    vocab_size = model.config.vocab_size
    if not all(0 <= token < vocab_size for token in args.tokens):
        common.fail(f"--tokens: every id must be in 0..{vocab_size - 1}")
    if args.adapter:
        model = common.attach_adapter(model, args.adapter)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([args.tokens]), use_cache=False).logits[0]  # [positions, vocab]
    common.emit_json(logits.float().tolist())


if __name__ == "__main__":
    sys.exit(main())
