"""Times LoRA training steps with PyTorch + PEFT on the CPU: the speed Tinytune's Rust trainer is compared with.

A fresh adapter (get_peft_model: A Kaiming-uniform, B = 0, lora_dropout 0) on the given Llama folder, trained with
torch AdamW (lr 1e-3, other settings torch's defaults) on next-token cross-entropy averaged over every position of
batch-size x seq-len windows. Windows are random token ids, or random slices of --data tokenized with the folder's
tokenizer.json (one BOS in front of the whole file). All batches are drawn before timing; 2 warm-up steps are not
timed; then each of --steps steps (forward, backward, optimizer step) is timed with time.perf_counter.

Output: one line of JSON {"tokens_per_second", "step_seconds" (mean), "steps", "threads", "torch", "peft",
"batch_size", "seq_len", "rank", "final_loss"}.
"""

import argparse
import sys

WARMUP_STEPS = 2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per step (default 16)")
    parser.add_argument("--seq-len", type=int, default=256, help="tokens per sequence (default 256)")
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank r (default 8)")
    parser.add_argument("--alpha", type=float, default=16, help="LoRA alpha; scaling = alpha / r (default 16)")
    parser.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj",
                        help="comma-separated modules to adapt (default q_proj,k_proj,v_proj,o_proj)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the adapter's init and the windows (default 0)")
    parser.add_argument("--data", help="UTF-8 text file to draw windows from (default: random token ids)")
    args = parser.parse_args()
    if args.steps < 1 or args.batch_size < 1 or args.seq_len < 1 or args.rank < 1:
        parser.error("--steps, --batch-size, --seq-len and --rank must be at least 1")
    return args


def draw_windows(args, vocab_size, count, generator, torch, common):
    """[count, batch, seq_len + 1] token ids: inputs are [..., :-1], targets [..., 1:]."""
    shape = (count, args.batch_size, args.seq_len + 1)
    if not args.data:
        return torch.randint(vocab_size, shape, generator=generator)
    try:
        with open(args.data, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        common.fail(f"--data {args.data}: {error}")
    tokenizer = common.load_tokenizer(args.model)
    bos = tokenizer.token_to_id("<s>")
    stream = torch.tensor(([bos] if bos is not None else []) + tokenizer.encode(text).ids)
    if len(stream) < args.seq_len + 1:
        common.fail(f"--data {args.data}: {len(stream)} tokens, fewer than --seq-len + 1")
    starts = torch.randint(len(stream) - args.seq_len, shape[:2], generator=generator)
    return stream[starts[..., None] + torch.arange(args.seq_len + 1)]


def main():
    args = parse_args()
    import time

    import common
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, get_peft_model

    common.setup_torch(args.threads, args.seed)
    model = common.load_model(args.model)
    generator = torch.Generator().manual_seed(args.seed)
    windows = draw_windows(args, model.config.vocab_size, WARMUP_STEPS + args.steps, generator, torch, common)

    lora = LoraConfig(r=args.rank, lora_alpha=args.alpha, target_modules=args.targets.split(","), lora_dropout=0.0)
    model = get_peft_model(model, lora).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step(window):
        logits = model(input_ids=window[:, :-1], use_cache=False).logits  # [batch, seq, vocab]
        loss = F.cross_entropy(logits.flatten(0, 1), window[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    for window in windows[:WARMUP_STEPS]:
        step(window)
    seconds = 0.0
    for window in windows[WARMUP_STEPS:]:
        started = time.perf_counter()
        loss = step(window)
        seconds += time.perf_counter() - started

    common.emit_json({
        "tokens_per_second": args.steps * args.batch_size * args.seq_len / seconds,
        "step_seconds": seconds / args.steps,
        "steps": args.steps,
        "threads": args.threads,
        "torch": torch.__version__,
        "peft": common.versions()["peft"],
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "rank": args.rank,
        "final_loss": loss,
    })


if __name__ == "__main__":
    sys.exit(main())
