"""Tinytune's run with TRL and PEFT, for a model and machine of your choosing.

Written by Tinytune from the settings @QUERY@.
One GPU:       python train_trl.py
Several GPUs:  accelerate launch train_trl.py
Check first:   python train_trl.py --dry-run   (reads the data and builds the configs; loads no weights)

The base model loads as @PRECISION@ (--precision: fp32 as Tinytune trains, bf16, or nf4 for QLoRA, which needs
bitsandbytes). Examples become tokens as on Tinytune (tinytune_data.py says how). Prints each logged step's loss
as a line of JSON.
"""

import argparse
import json

import torch
from peft import LoraConfig
from transformers import AutoTokenizer, BitsAndBytesConfig
from trl import SFTTrainer

from tinytune_data import PrintLosses, sft_config, training_pieces

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model", default="@BASE_MODEL@", help="a Hugging Face model name or folder")
parser.add_argument("--data", nargs="+", default=[@DATA@], help="the JSONL files Tinytune wrote")
parser.add_argument("--max-steps", type=int, default=@STEPS@)
parser.add_argument("--precision", choices=["fp32", "bf16", "nf4"], default="@PRECISION@")
parser.add_argument("--output-dir", default="tinytune-trl")
parser.add_argument("--dry-run", action="store_true", help="print the pieces and the configs, and stop")
args = parser.parse_args()

# Which tokens the loss counts (Tinytune's "Loss on" setting), and the run's own training arguments.
PROMPT_COUNTS = @PROMPT_COUNTS@
END_COUNTS = @END_COUNTS@
TRAINING = @TRAINING@
GRADIENT_CHECKPOINTING = @CHECKPOINTING@

tokenizer = AutoTokenizer.from_pretrained(args.model)
data = training_pieces(args.data, tokenizer, PROMPT_COUNTS, END_COUNTS, TRAINING["max_length"])

model_init_kwargs = {"dtype": torch.float32 if args.precision == "fp32" else torch.bfloat16}
if args.precision == "nf4":
    # QLoRA's base: NF4 codes in blocks of 64, their scales quantized again, computing in bf16.
    model_init_kwargs["quantization_config"] = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
config = sft_config(
    TRAINING,
    output_dir=args.output_dir,
    max_steps=args.max_steps,
    bf16=args.precision != "fp32",
    gradient_checkpointing=GRADIENT_CHECKPOINTING,
    model_init_kwargs=model_init_kwargs,
)
peft_config = @PEFT@

if args.dry_run:
    print(json.dumps({"pieces": len(data), "precision": args.precision, "peft": peft_config and peft_config.to_dict(),
                      "training": config.to_dict()}, default=str))
    raise SystemExit

trainer = SFTTrainer(
    model=args.model,
    args=config,
    train_dataset=data,
    processing_class=tokenizer,
    peft_config=peft_config,
    callbacks=[PrintLosses()],
)
trainer.train()
trainer.save_model(args.output_dir)
