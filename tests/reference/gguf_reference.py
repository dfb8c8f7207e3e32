"""What transformers makes of a GGUF model (SmolLM2-135M-Instruct's Q4_1 file): the reference for Tinytune's GGUF
reader, tokenizer, chat template and generation.

Usage: gguf_reference.py --gguf FILE < request.json
The request is one JSON object, every key optional:
  "texts":         strings to tokenize (without special tokens added: as `tokenizer(text, add_special_tokens=False)`)
  "conversations": lists of {"role", "content"} messages, rendered with `apply_chat_template` both with and
                   without the generation prompt
  "tokens":        token ids whose logits to return ([positions][vocab], float32 at full precision)
  "chat":          one conversation to answer greedily, `max_new_tokens` tokens at most (default 32)
  "judge":         user messages, each asking for one letter, A or B: the probability of "A" against "B" as the
                   reply's first token (a softmax over those two logits alone)
Prints one JSON object with the same keys: "texts" (ids per string; and "llama_cpp_texts", llama.cpp's ids for
them), "conversations" ({"text", "prompt",
"ids"} each: the rendering, the rendering with the generation prompt, and `apply_chat_template(tokenize=True)`),
"tokens" (the logits), "chat" ({"ids", "text"}: the answer's new tokens, and them decoded), "judge" (one
probability per message).

The model is loaded with `from_pretrained(folder, gguf_file=...)`, which dequantizes every weight to float32
(transformers' GGUF support), eager attention, on the CPU.
"""

import argparse
import json
import os
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", required=True, help="the .gguf file")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return parser.parse_args()


def main():
    args = parse_args()
    request = json.load(sys.stdin)
    import common
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    common.setup_torch(args.threads)
    folder, name = os.path.split(os.path.abspath(args.gguf))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    answer = {}
    if "texts" in request:
        answer["texts"] = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in request["texts"]]
        # llama.cpp's own tokenizer for the file (special tokens parsed, no BOS), which splits digits first as
        # the `smollm` pre-tokenizer says; transformers' GGUF converter leaves that rule out.
        from llama_cpp import Llama

        vocab = Llama(args.gguf, vocab_only=True, verbose=False)
        answer["llama_cpp_texts"] = [vocab.tokenize(text.encode(), add_bos=False, special=True) for text in request["texts"]]
    if "conversations" in request:
        answer["conversations"] = [
            {
                "text": tokenizer.apply_chat_template(messages, tokenize=False),
                "prompt": tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                "ids": list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]),
            }
            for messages in request["conversations"]
        ]
    if "tokens" in request or "chat" in request or "judge" in request:
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32, attn_implementation="eager"
        ).eval()
        with torch.no_grad():
            if "tokens" in request:
                logits = model(torch.tensor([request["tokens"]])).logits[0]
                answer["tokens"] = logits.tolist()
            if "chat" in request:
                prompt = tokenizer.apply_chat_template(
                    request["chat"], tokenize=True, add_generation_prompt=True, return_dict=True, return_tensors="pt"
                )["input_ids"]
                out = model.generate(
                    prompt, max_new_tokens=request.get("max_new_tokens", 32), do_sample=False,
                    eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id,
                )
                new = out[0, prompt.shape[1]:].tolist()
                answer["chat"] = {"ids": new, "text": tokenizer.decode(new, skip_special_tokens=True)}
            if "judge" in request:
                [a], [b] = (tokenizer(letter, add_special_tokens=False)["input_ids"] for letter in ("A", "B"))
                answer["judge"] = []
                for message in request["judge"]:
                    prompt = tokenizer.apply_chat_template(
                        [{"role": "user", "content": message}], tokenize=True, add_generation_prompt=True,
                        return_dict=True, return_tensors="pt",
                    )["input_ids"]
                    last = model(prompt).logits[0, -1]
                    answer["judge"].append(torch.softmax(last[[a, b]], dim=0)[0].item())
    common.emit_json(answer)


if __name__ == "__main__":
    main()
