"""Writes a LoRA adapter with PEFT itself, as a learner would bring one: get_peft_model on a Hugging Face Llama
folder, B drawn at random (a fresh adapter's B is zero, which would make every check pass), saved with
save_pretrained into a folder, and the same folder as a deflated zip (as a system's "compress" makes one).

Output: one line of JSON, {"folder": path, "zip": path}.
"""

import argparse
import os
import sys
import zipfile


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors)")
    parser.add_argument("--out", required=True, help="folder to create; the zip is written beside it")
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--alpha", type=float, default=8.0)
    parser.add_argument("--targets", default="q_proj,v_proj,down_proj", help="comma-separated target modules")
    return parser.parse_args()


def main():
    args = parse_args()
    import common
    from peft import LoraConfig, get_peft_model

    common.setup_torch(2, seed=3)
    model = common.load_model(args.model)
    lora = LoraConfig(r=args.rank, lora_alpha=args.alpha, target_modules=args.targets.split(","), lora_dropout=0.0)
    model = get_peft_model(model, lora)
    common.randomize_lora_b(model, 0.05)
    model.save_pretrained(args.out)
    archive = args.out.rstrip("/") + ".zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name in sorted(os.listdir(args.out)):
            zipped.write(os.path.join(args.out, name), os.path.join(os.path.basename(args.out.rstrip("/")), name))
    common.emit_json({"folder": os.path.abspath(args.out), "zip": os.path.abspath(archive)})


if __name__ == "__main__":
    sys.exit(main())
