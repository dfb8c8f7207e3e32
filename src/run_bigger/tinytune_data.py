"""Tinytune's training examples as tokens, for the job's scripts (train_trl.py, train_unsloth.py).

Examples become tokens as on Tinytune: the beginning-of-sequence token, then each part encoded on its own, the
end-of-sequence token after each answer; a conversation writes "User:", "Assistant:"... before each message.
That is right for a base model. To tune an instruct model on conversations, render them with its own chat
template instead (tokenizer.apply_chat_template), or the model meets a template it never saw.
Examples longer than the sequence are cut into consecutive pieces, as Tinytune cuts them.
"""

import json

import torch
from datasets import concatenate_datasets, load_dataset
from transformers import TrainerCallback
from trl import SFTConfig


def training_pieces(paths, tokenizer, prompt_counts, end_counts, max_tokens):
    """The JSONL files' examples as pieces of at most `max_tokens` tokens with their labels (-100 where a token
    does not count in the loss: Tinytune's "Loss on" setting says whether prompts and end tokens count)."""
    bos = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
    eos = [tokenizer.eos_token_id]

    def encode(text):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    def example_tokens(example):
        tokens, labels = list(bos), [-100] * len(bos)

        def add(ids, counts):
            tokens.extend(ids)
            labels.extend(ids if counts else [-100] * len(ids))

        if example.get("text") is not None:
            add(encode(example["text"]), True)
            add(eos, end_counts)
        elif example.get("prompt") is not None:
            add(encode(example["prompt"]), prompt_counts)
            add(encode(example["completion"]), True)
            add(eos, end_counts)
        else:
            for message in example["messages"]:
                assistant = message["role"] == "assistant"
                add(encode(message["role"][:1].upper() + message["role"][1:] + ":"), prompt_counts)
                add(encode(message["content"]), assistant or prompt_counts)
                if assistant:
                    add(eos, end_counts)
        return tokens, labels

    def pieces(batch):
        """Each example cut into pieces of max_tokens tokens that overlap by one, so no target is lost; the last
        is shorter, and a piece with no target is left out."""
        out = {"input_ids": [], "labels": []}
        for row in zip(*batch.values()):
            tokens, labels = example_tokens(dict(zip(batch.keys(), row)))
            for start in range(0, max(len(tokens) - 1, 0), max_tokens - 1):
                piece = labels[start : start + max_tokens]
                # The first token of a piece is never predicted: it only counts as the previous piece's last.
                if any(label != -100 for label in piece[1:]):
                    out["input_ids"].append(tokens[start : start + max_tokens])
                    out["labels"].append([-100] + piece[1:])
        return out

    data = concatenate_datasets([load_dataset("json", data_files=path, split="train") for path in paths])
    return data.map(pieces, batched=True, remove_columns=data.column_names)


class PrintLosses(TrainerCallback):
    """Prints each logged step's loss as a line of JSON."""

    def on_log(self, _args, state, _control, logs=None, **_kwargs):
        if logs and "loss" in logs:
            print(json.dumps({"step": state.global_step, "loss": logs["loss"]}), flush=True)


def sft_config(training, **more):
    """TRL's SFTConfig for Tinytune's run: the run's own `training` arguments (batch, accumulation, learning rate,
    schedule, warmup, sequence length, seed) and what every Tinytune run does: AdamW with no weight decay and
    epsilon 1e-8, the gradient norm clipped to 1, no packing, a loss logged every step, nothing saved on the way.
    Without a GPU (or another accelerator) it trains on the CPU, which transformers wants said when bf16 is on."""
    return SFTConfig(
        use_cpu=not torch.accelerator.is_available(),
        **training,
        optim="adamw_torch",
        weight_decay=0.0,
        adam_epsilon=1e-8,
        max_grad_norm=1.0,
        packing=False,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        **more,
    )
