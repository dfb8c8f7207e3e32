"""Tinytune's run with Unsloth, on one GPU.

Written by Tinytune from the settings @QUERY@.
  pip install unsloth
  python train_unsloth.py
  python train_unsloth.py --dry-run   (reads the data and builds the configs; loads no weights)

Unsloth loads the model with its own kernels (in bf16 where the GPU has it, else fp16)@FOUR_BIT_WORDS@, then
trains with TRL's SFTTrainer. Examples become tokens as on Tinytune (tinytune_data.py says how). Prints each
logged step's loss as a line of JSON.
"""

import argparse
import json

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model", default="@BASE_MODEL@", help="a Hugging Face model name or folder")
parser.add_argument("--data", nargs="+", default=[@DATA@], help="the JSONL files Tinytune wrote")
parser.add_argument("--max-steps", type=int, default=@STEPS@)
parser.add_argument("--output-dir", default="tinytune-unsloth")
parser.add_argument("--dry-run", action="store_true", help="print the pieces and the configs, and stop")
args = parser.parse_args()

# Which tokens the loss counts (Tinytune's "Loss on" setting), and the run's own training arguments.
PROMPT_COUNTS = @PROMPT_COUNTS@
END_COUNTS = @END_COUNTS@
TRAINING = @TRAINING@
LOAD = @LOAD@
LORA = @LORA@

if args.dry_run:
    from transformers import AutoTokenizer

    from tinytune_data import sft_config, training_pieces

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    data = training_pieces(args.data, tokenizer, PROMPT_COUNTS, END_COUNTS, TRAINING["max_length"])
    config = sft_config(TRAINING, output_dir=args.output_dir, max_steps=args.max_steps)
    print(json.dumps({"pieces": len(data), "load": LOAD, "lora": LORA, "training": config.to_dict()}, default=str))
    raise SystemExit

# Unsloth patches transformers, PEFT and TRL as it is imported: before them.
from unsloth import FastLanguageModel, is_bfloat16_supported  # noqa: E402
from trl import SFTTrainer  # noqa: E402

from tinytune_data import PrintLosses, sft_config, training_pieces  # noqa: E402

model, tokenizer = FastLanguageModel.from_pretrained(model_name=args.model, dtype=None, **LOAD)
if LORA is not None:
    model = FastLanguageModel.get_peft_model(model, **LORA)
data = training_pieces(args.data, tokenizer, PROMPT_COUNTS, END_COUNTS, TRAINING["max_length"])
config = sft_config(
    TRAINING,
    output_dir=args.output_dir,
    max_steps=args.max_steps,
    bf16=is_bfloat16_supported(),
    fp16=not is_bfloat16_supported(),
    # Unsloth checkpoints (or not) as LOAD and LORA say; TRL's own would come on top.
    gradient_checkpointing=False,
)
trainer = SFTTrainer(
    model=model, args=config, train_dataset=data, processing_class=tokenizer, callbacks=[PrintLosses()]
)
trainer.train()
model.save_pretrained(args.output_dir)
tokenizer.save_pretrained(args.output_dir)
