"""Tinytune's run with TRL and PEFT, for a model and machine of your choosing.

Written by Tinytune from the settings @QUERY@.
One GPU:       python train_trl.py --model @BASE_MODEL@
Several GPUs:  accelerate launch train_trl.py --model @BASE_MODEL@

Examples become tokens as on Tinytune: the beginning-of-sequence token, then each part encoded on its own, the
end-of-sequence token after each answer; a conversation writes "User:", "Assistant:"... before each message.
That is right for a base model. To tune an instruct model on conversations, render them with its own chat
template instead (tokenizer.apply_chat_template), or the model meets a template it never saw.
Examples longer than the sequence are cut into consecutive pieces, as Tinytune cuts them.
Prints each logged step's loss as a line of JSON.
"""

import argparse
import json

from datasets import concatenate_datasets, load_dataset
from peft import LoraConfig
from transformers import AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model", default="@BASE_MODEL@", help="a Hugging Face model name or folder")
parser.add_argument("--data", nargs="+", default=[@DATA@], help="the JSONL files Tinytune wrote")
parser.add_argument("--max-steps", type=int, default=@STEPS@)
parser.add_argument("--output-dir", default="tinytune-trl")
args = parser.parse_args()

# Which tokens the loss counts (Tinytune's "Loss on" setting).
PROMPT_COUNTS = @PROMPT_COUNTS@
END_COUNTS = @END_COUNTS@
MAX_TOKENS = @MAX_TOKENS@

tokenizer = AutoTokenizer.from_pretrained(args.model)
BOS = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]


def encode(text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def example_tokens(example):
    """The example's tokens and labels (the token where it counts in the loss, -100 where it does not)."""
    tokens, labels = list(BOS), [-100] * len(BOS)

    def add(ids, counts):
        tokens.extend(ids)
        labels.extend(ids if counts else [-100] * len(ids))

    eos = [tokenizer.eos_token_id]
    if example.get("text") is not None:
        add(encode(example["text"]), True)
        add(eos, END_COUNTS)
    elif example.get("prompt") is not None:
        add(encode(example["prompt"]), PROMPT_COUNTS)
        add(encode(example["completion"]), True)
        add(eos, END_COUNTS)
    else:
        for message in example["messages"]:
            assistant = message["role"] == "assistant"
            add(encode(message["role"][:1].upper() + message["role"][1:] + ":"), PROMPT_COUNTS)
            add(encode(message["content"]), assistant or PROMPT_COUNTS)
            if assistant:
                add(eos, END_COUNTS)
    return tokens, labels


def pieces(batch):
    """Each example cut into pieces of MAX_TOKENS tokens that overlap by one, so no target is lost; the last is
    shorter, and a piece with no target is left out."""
    out = {"input_ids": [], "labels": []}
    for row in zip(*batch.values()):
        tokens, labels = example_tokens(dict(zip(batch.keys(), row)))
        for start in range(0, max(len(tokens) - 1, 0), MAX_TOKENS - 1):
            piece = labels[start : start + MAX_TOKENS]
            # The first token of a piece is never predicted: it only counts as the previous piece's last.
            if any(label != -100 for label in piece[1:]):
                out["input_ids"].append(tokens[start : start + MAX_TOKENS])
                out["labels"].append([-100] + piece[1:])
    return out


data = concatenate_datasets([load_dataset("json", data_files=path, split="train") for path in args.data])
data = data.map(pieces, batched=True, remove_columns=data.column_names)


class PrintLosses(TrainerCallback):
    def on_log(self, _args, state, _control, logs=None, **_kwargs):
        if logs and "loss" in logs:
            print(json.dumps({"step": state.global_step, "loss": logs["loss"]}), flush=True)


config = SFTConfig(
    output_dir=args.output_dir,
    max_steps=args.max_steps,
    per_device_train_batch_size=@BATCH@,
    gradient_accumulation_steps=@ACCUMULATION@,
    learning_rate=@LEARNING_RATE@,
    lr_scheduler_type="@SCHEDULER@",
    warmup_steps=@WARMUP@,
    optim="adamw_torch",
    weight_decay=0.0,
    adam_epsilon=1e-8,
    max_grad_norm=1.0,
    max_length=MAX_TOKENS,
    # 32-bit floats, as Tinytune trains; on a GPU with bfloat16, bf16=True is faster.
    bf16=False,
    packing=False,
    seed=@SEED@,
    logging_steps=1,
    report_to="none",
    save_strategy="no",
)
trainer = SFTTrainer(
    model=args.model,
    args=config,
    train_dataset=data,
    processing_class=tokenizer,
    peft_config=@PEFT@,
    callbacks=[PrintLosses()],
)
trainer.train()
trainer.save_model(args.output_dir)
