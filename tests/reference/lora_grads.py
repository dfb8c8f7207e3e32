"""One forward and backward pass of a Llama folder plus a PEFT LoRA adapter: the loss and the LoRA gradients.

--batch FILE is JSON {"inputs": [[...]], "targets": [[...]], "targets_mask": [[0/1, ...]]}, each batch x seq
token ids. The loss is the mean cross-entropy over the target positions whose mask is 1: the sum of those
positions' token losses divided by their count (no shifting: targets[b][t] is the token predicted at inputs[b][t];
no attention mask: every row is a full causal sequence).

The adapter is loaded with PeftModel.from_pretrained(is_trainable=True) with lora_dropout forced to 0, and the model
is in eval mode, so the pass is deterministic. Only the LoRA A and B matrices require gradients.

With --dpo-beta BETA the loss is DPO's instead (TRL's DPOTrainer, loss_type "sigmoid", no label smoothing): the
batch's first half holds the chosen answers and its second half the rejected ones, pair by pair; each answer's
log-probability is the sum over its masked positions; the reference is the same model with its adapter disabled
(`disable_adapter()`, LoRA's free reference); loss = mean over pairs of
−log σ(β · ((log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)))). The output then also has "chosen_rewards" and
"rejected_rewards" (β · (log π − log π_ref) of each answer).

With --grpo-rewards R,R,... and --grpo-group-size G the loss is GRPO's instead, as TRL's GRPOTrainer computes it
with its defaults (TRL 1.16, `_generate_and_score_completions` and `_compute_loss`): each row is a prompt and one
completion (the completion's tokens masked), the rows in groups of G consecutive completions of one prompt, one
reward per row; advantages = (reward − the group's mean) / (the group's standard deviation, TRL's `nanstd` + 1e-4)
(`scale_rewards="group"`); one step on completions this policy wrote (`num_iterations=1`, so π_old is π detached);
per-token loss −min(ratio · A, clip(ratio, 1 − 0.2, 1 + 0.2) · A), plus β times the KL estimate
exp(ref − logp) − (ref − logp) − 1 against the model with its adapter disabled when --grpo-beta is not 0; summed
over the masked tokens and divided by their count (`loss_type="dapo"`). The output then also has "advantages".

Output: one line of JSON {"loss": float, "grads": {name: nested list}}, with names as in adapter_model.safetensors
(e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight, shape [r, in]; lora_B.weight is [out, r]),
float32 values at full precision.
"""

import argparse
import json
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors), "
                        "or a .gguf file (transformers dequantizes it)")
    parser.add_argument("--adapter", required=True, help="PEFT LoRA folder (adapter_config.json, "
                        "adapter_model.safetensors)")
    parser.add_argument("--batch", required=True, help="JSON file with inputs, targets and targets_mask")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--dpo-beta", type=float, help="DPO's loss with this beta instead of cross-entropy")
    parser.add_argument("--grpo-rewards", help="GRPO's loss with these rewards (one per row, comma-separated)")
    parser.add_argument("--grpo-group-size", type=int, default=2, help="GRPO: completions per prompt (default 2)")
    parser.add_argument("--grpo-beta", type=float, default=0.0, help="GRPO: the KL coefficient (default 0, TRL's)")
    return parser.parse_args()


def read_batch(path):
    """(inputs, targets, mask) as lists, checked to be rectangular and of one shape."""
    try:
        with open(path) as file:
            batch = json.load(file)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: --batch {path}: {error}")
    arrays = []
    for key in ("inputs", "targets", "targets_mask"):
        rows = batch.get(key) if isinstance(batch, dict) else None
        if not rows or not isinstance(rows, list) or not all(isinstance(row, list) and row for row in rows):
            raise SystemExit(f"error: --batch {path}: `{key}` must be a non-empty list of non-empty lists")
        if len({len(row) for row in rows}) != 1 or not all(isinstance(v, int) for row in rows for v in row):
            raise SystemExit(f"error: --batch {path}: `{key}` must be a rectangle of integers")
        arrays.append(rows)
    shapes = {(len(rows), len(rows[0])) for rows in arrays}
    if len(shapes) != 1:
        raise SystemExit(f"error: --batch {path}: inputs, targets and targets_mask differ in shape")
    return arrays


def main():
    args = parse_args()
    inputs, targets, mask = read_batch(args.batch)
    import common
    import torch
    import torch.nn.functional as F

    common.setup_torch(args.threads)
    model = common.load_model(args.model)
    vocab_size = model.config.vocab_size
    if not all(0 <= v < vocab_size for rows in (inputs, targets) for row in rows for v in row):
        common.fail(f"--batch: every token id must be in 0..{vocab_size - 1}")
    model = common.attach_adapter(model, args.adapter, trainable=True)
    lora = common.lora_parameters(model)
    trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    if len(trainable) != len(lora):
        common.fail(f"expected only LoRA A/B to be trainable, got {sorted(trainable)}")

    inputs, targets = torch.tensor(inputs), torch.tensor(targets)
    mask = torch.tensor(mask, dtype=torch.float32)
    if mask.sum() == 0:
        common.fail("--batch: targets_mask selects no position")
    logits = model(input_ids=inputs, use_cache=False).logits  # [batch, seq, vocab]
    token_losses = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")  # [batch * seq]
    answer = {}
    if args.grpo_rewards is not None:
        from trl.trainer.utils import nanstd

        rewards = torch.tensor([float(r) for r in args.grpo_rewards.split(",")])
        size = args.grpo_group_size
        if len(rewards) != len(inputs) or len(rewards) % size:
            common.fail("--grpo-rewards: one reward per row, the rows in whole groups of --grpo-group-size")
        # GRPOTrainer._generate_and_score_completions, scale_rewards "group".
        mean = torch.nanmean(rewards.view(-1, size), dim=1).repeat_interleave(size, dim=0)
        std = nanstd(rewards.view(-1, size), dim=1).repeat_interleave(size, dim=0)
        advantages = (rewards - mean) / (std + 1e-4)
        # GRPOTrainer._compute_loss, loss_type "dapo", importance sampling per token, one process, no accumulation.
        per_token_logps = -token_losses.view(mask.shape)
        coef_1 = torch.exp(per_token_logps - per_token_logps.detach())
        coef_2 = torch.clamp(coef_1, 1 - 0.2, 1 + 0.2)
        per_token_loss = -torch.min(coef_1 * advantages.unsqueeze(1), coef_2 * advantages.unsqueeze(1))
        if args.grpo_beta != 0.0:
            with torch.no_grad(), model.disable_adapter():
                reference_logits = model(input_ids=inputs, use_cache=False).logits
                ref_per_token_logps = -F.cross_entropy(reference_logits.flatten(0, 1), targets.flatten(), reduction="none").view(mask.shape)
            per_token_kl = torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
            per_token_loss = per_token_loss + args.grpo_beta * per_token_kl
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
        answer["advantages"] = advantages.tolist()
    elif args.dpo_beta is None:
        loss = (token_losses * mask.flatten()).sum() / mask.sum()
    else:
        if len(inputs) % 2:
            common.fail("--batch: DPO needs its chosen and rejected answers in two halves of equal size")
        # log π(answer): minus the summed cross-entropy of its masked tokens.
        log_probs = -(token_losses.view(mask.shape) * mask).sum(dim=1)
        with torch.no_grad(), model.disable_adapter():
            reference_logits = model(input_ids=inputs, use_cache=False).logits
            reference = -(F.cross_entropy(reference_logits.flatten(0, 1), targets.flatten(), reduction="none").view(mask.shape) * mask).sum(dim=1)
        pairs = len(inputs) // 2
        chosen, rejected = log_probs[:pairs], log_probs[pairs:]
        reference_chosen, reference_rejected = reference[:pairs], reference[pairs:]
        # TRL DPOTrainer.dpo_loss, loss_type "sigmoid", label_smoothing 0.
        dpo_logits = (chosen - rejected) - (reference_chosen - reference_rejected)
        loss = -F.logsigmoid(args.dpo_beta * dpo_logits).mean()
        answer["chosen_rewards"] = (args.dpo_beta * (chosen - reference_chosen)).detach().tolist()
        answer["rejected_rewards"] = (args.dpo_beta * (rejected - reference_rejected)).detach().tolist()
        # TRL logs their means as logps/chosen and logps/rejected.
        answer["chosen_log_probs"] = chosen.detach().tolist()
        answer["rejected_log_probs"] = rejected.detach().tolist()
    loss.backward()

    grads = {
        name: (parameter.grad if parameter.grad is not None else torch.zeros_like(parameter)).float().tolist()
        for name, parameter in sorted(lora.items())
    }
    common.emit_json({"loss": loss.item(), "grads": grads, **answer})


if __name__ == "__main__":
    sys.exit(main())
