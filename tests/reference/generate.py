"""Greedy decoding from BOS alone with a Hugging Face Llama folder (optionally with a PEFT LoRA adapter).

Output: one line of JSON {"prompt_ids": [bos], "ids": [...], "text": "..."}: `ids` are the generated tokens only
(BOS not included), `text` is `ids` decoded with the folder's tokenizer.json, special tokens skipped. Each step
runs the whole sequence again (no KV cache) and takes the argmax of the last position's logits (lowest id on a
tie). It generates exactly --max-new-tokens tokens unless --stop-at-eos is given.
"""

import argparse
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors, "
                        "tokenizer.json)")
    parser.add_argument("--adapter", help="PEFT LoRA folder (adapter_config.json, adapter_model.safetensors)")
    parser.add_argument("--max-new-tokens", type=int, required=True, help="how many tokens to generate")
    parser.add_argument("--stop-at-eos", action="store_true", help="stop after the config's eos_token_id "
                        "(it is kept in ids)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args()
    if args.max_new_tokens < 0:
        parser.error("--max-new-tokens must be 0 or more")
    return args


def main():
    args = parse_args()
    import common
    import torch

    common.setup_torch(args.threads)
    model = common.load_model(args.model)
    tokenizer = common.load_tokenizer(args.model)
    bos, eos = model.config.bos_token_id, model.config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    if bos is None:
        common.fail(f"{args.model}: config.json has no bos_token_id")
    if 1 + args.max_new_tokens > model.config.max_position_embeddings:
        common.fail(f"--max-new-tokens: at most {model.config.max_position_embeddings - 1} for this model")
    if args.adapter:
        model = common.attach_adapter(model, args.adapter)

    sequence = [bos]
    with torch.no_grad():
        for _ in range(args.max_new_tokens):
            logits = model(input_ids=torch.tensor([sequence]), use_cache=False).logits[0, -1]
            next_token = int(torch.argmax(logits))
            sequence.append(next_token)
            if args.stop_at_eos and next_token in eos_ids:
                break
    ids = sequence[1:]
    common.emit_json({"prompt_ids": [bos], "ids": ids, "text": tokenizer.decode(ids, skip_special_tokens=True)})


if __name__ == "__main__":
    sys.exit(main())
