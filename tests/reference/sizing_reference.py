"""What PyTorch, transformers, PEFT and bitsandbytes count and keep for a training job: the reference for the job
sizer (`tinytune::sizing`, the lesson "Toolchains").

Usage: sizing_reference.py --shapes JSON [--threads N]
JSON is a list of model shapes (ModelShape's fields). Output, one line of JSON:
  "models": for each shape, the parameters of the model transformers builds from it (on PyTorch's meta device: no
            memory), and the trainable parameters PEFT gives LoRA at rank 8 on every projection and at rank 16 on
            the attention's; a shape with attention biases is built as Qwen2, the others as Llama
  "nf4_bits": bits a weight of a 4096 × 1024 projection takes in bitsandbytes' NF4 with double quantization (the
            codes, the 8-bit scales, their 32-bit constants and offset)
  "activations": bytes a layer keeps for its backward pass, per token, under bf16 autocast with SDPA attention:
            autograd's saved tensors (parameters left out), for LoRA r 8 on every projection (with and without
            dropout) and on the attention's, and for full fine-tuning; and the small model's shape
"""

import argparse
import json


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", required=True)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def config_of(shape):
    from transformers import LlamaConfig, Qwen2Config

    common = dict(
        vocab_size=shape["vocab_size"],
        hidden_size=shape["hidden_size"],
        intermediate_size=shape["intermediate_size"],
        num_hidden_layers=shape["num_hidden_layers"],
        num_attention_heads=shape["num_attention_heads"],
        num_key_value_heads=shape["num_key_value_heads"],
        max_position_embeddings=shape["max_position_embeddings"],
        tie_word_embeddings=shape["tie_word_embeddings"],
    )
    # Qwen2's q, k and v have biases and its o none: Llama's `attention_bias` would put one on o too.
    return Qwen2Config(**common) if shape.get("attention_bias") else LlamaConfig(**common)


def counts(shape):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    def build():
        with torch.device("meta"):
            return AutoModelForCausalLM.from_config(config_of(shape))

    total = sum(p.numel() for p in build().parameters())
    trainable = {}
    for name, rank, targets in (("all_r8", 8, ALL), ("attention_r16", 16, ALL[:4])):
        model = get_peft_model(build(), LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=targets))
        trainable[name] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, **trainable}


def nf4_bits():
    import torch
    import bitsandbytes.functional as bnb

    weight = torch.randn(4096, 1024, dtype=torch.bfloat16)
    packed, state = bnb.quantize_4bit(weight, blocksize=64, quant_type="nf4", compress_statistics=True)
    tensors = [packed, state.absmax, state.offset, state.state2.absmax]
    stored = sum(t.numel() * t.element_size() for t in tensors)
    return 8 * stored / weight.numel()


def saved_bytes(layers, seq, job):
    """Bytes of the tensors autograd keeps for the backward pass of one forward pass (parameters left out), for a
    batch of 2 sequences of `seq` tokens through a `layers`-layer model, trained as `job` says, under bf16 autocast
    as a Trainer with bf16=True runs it, with SDPA attention."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=512,
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=layers,
        num_attention_heads=8,
        num_key_value_heads=4,
        max_position_embeddings=seq,
    )
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    if job["targets"] is not None:
        lora = LoraConfig(r=job["rank"], lora_alpha=2 * job["rank"], lora_dropout=job["dropout"], target_modules=job["targets"])
        model = get_peft_model(model, lora)
    model.train()
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            kept[storage.data_ptr()] = storage.nbytes()
        return tensor

    ids = torch.randint(0, 512, (2, seq))
    # Saved tensors stay alive for the whole forward pass, so no two of them share an address.
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(input_ids=ids, labels=ids)
    return sum(kept.values()), config


# The jobs measured: LoRA r 8 on all seven projections, the same with dropout, on the attention's four, and full
# fine-tuning (`targets` None).
JOBS = {
    "lora_all": {"rank": 8, "dropout": 0.0, "targets": ALL},
    "lora_all_dropout": {"rank": 8, "dropout": 0.1, "targets": ALL},
    "lora_attention": {"rank": 8, "dropout": 0.0, "targets": ALL[:4]},
    "full": {"rank": 0, "dropout": 0.0, "targets": None},
}


def activations():
    """Bytes a layer keeps a token, for each job: the change from 2 layers to 4 and from 64 tokens a sequence to
    128, so that what does not grow with both (the embeddings, the loss, the adapters' weights cast to bf16 once a
    layer) cancels out."""
    out = {}
    for name, job in JOBS.items():
        (a, config), (b, _), (c, _), (d, _) = (saved_bytes(l, s, job) for l, s in ((4, 128), (2, 128), (4, 64), (2, 64)))
        out[name] = (a - b - c + d) / 2 / (2 * 64)
    out["shape"] = {
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
    }
    return out


def main():
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    shapes = json.loads(args.shapes)
    print(json.dumps({"models": [counts(shape) for shape in shapes], "nf4_bits": nf4_bits(), "activations": activations()}))


if __name__ == "__main__":
    main()
