"""Runs a GGUF model (optionally with a GGUF LoRA adapter) in llama.cpp itself, through llama-cpp-python.

Output: one line of JSON {"logits": [positions][vocab], "greedy": [...], "tokenized": [[...], ...]}:
- logits: llama.cpp's float32 logits for every position of --tokens (used exactly as given, no BOS added);
- greedy: --greedy new tokens after --tokens, each the argmax of the last position's logits (lowest id on a
  tie), decoded one token at a time through the KV cache, as `tinytune generate` does at temperature 0;
- tokenized: llama.cpp's token ids of each --text, with BOS, for comparing tokenizers.
The adapter is applied at scale 1, where llama.cpp multiplies by adapter.lora.alpha / r as PEFT does.
"""

import argparse
import json
import sys

import flags


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a GGUF model file")
    parser.add_argument("--lora", help="a GGUF LoRA adapter file")
    parser.add_argument("--greedy", type=int, default=0, help="how many tokens to generate greedily (default 0)")
    parser.add_argument("--text", action="append", default=[], help="a text to tokenize (repeatable)")
    flags.add_tokens_and_threads(parser, "CPU threads (default 2)")
    return flags.parse(parser)


def main():
    args = parse_args()
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(
        model_path=args.model,
        lora_path=args.lora,
        n_ctx=512,
        n_batch=512,
        logits_all=True,
        n_threads=args.threads,
        seed=0,
        # The KV cache in 32-bit floats: llama.cpp's default, 16-bit, rounds keys and values (about 0.01 in the
        # logits of this model) where the comparison is of the model, not of a cache format.
        type_k=0,
        type_v=0,
        verbose=False,
    )
    llm.eval(args.tokens)
    logits = np.array(llm.scores[: len(args.tokens)], dtype=np.float32)
    greedy = []
    for _ in range(args.greedy):
        # argmax takes the lowest id on a tie.
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        greedy.append(token)
        llm.eval([token])
    tokenized = [llm.tokenize(text.encode("utf-8"), add_bos=True, special=False) for text in args.text]
    answer = {"logits": logits.tolist(), "greedy": greedy, "tokenized": tokenized}
    sys.stdout.write(json.dumps(answer, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
