"""Mixes two LoRA adapters with PEFT's own `add_weighted_adapter`, as the reference for `tinytune combine`.

Two adapters of the same rank on overlapping targets ("one" on q_proj and v_proj with lora_alpha = 2r, "two" on
v_proj and down_proj with lora_alpha = r), B drawn at random (a fresh adapter's B is zero). Each is saved as its
own PEFT folder; then, for each combination type, PEFT mixes them with the given weights and the mix is saved.
For every mix, the answer also gives how far its update B·A·scaling is from the weighted sum of the two updates
(the largest absolute difference over all adapted projections), as PEFT's own adapters load it.

Output: one line of JSON: {"one": folder, "two": folder, "mixes": {type: {"folder": folder, "off_the_sum": x}}}.
"""

import argparse
import os
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face Llama folder (config.json, model.safetensors)")
    parser.add_argument("--out", required=True, help="folder to create, holding one folder per adapter and mix")
    parser.add_argument("--weights", default="0.7,-0.4", help="the two adapters' weights, comma-separated")
    parser.add_argument("--rank", type=int, default=4)
    return parser.parse_args()


def main():
    args = parse_args()
    import common
    from peft import LoraConfig, get_peft_model

    weights = [float(w) for w in args.weights.split(",")]
    common.setup_torch(2, seed=5)
    model = common.load_model(args.model)
    r = args.rank
    one = LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    two = LoraConfig(r=r, lora_alpha=r, target_modules=["v_proj", "down_proj"], lora_dropout=0.0)
    model = get_peft_model(model, one, adapter_name="one")
    model.add_adapter("two", two)
    common.randomize_lora_b(model, 0.05)

    def save(name):
        # PEFT writes an adapter other than "default" into a folder of its name under the given one.
        model.save_pretrained(args.out, selected_adapters=[name])
        return os.path.abspath(os.path.join(args.out, name))

    answer = {"one": save("one"), "two": save("two"), "mixes": {}}

    def updates(name):
        """{module: B·A·scaling} for every projection the adapter `name` adapts."""
        return {
            module_name: layer.get_delta_weight(name).detach()
            for module_name, layer in model.named_modules()
            if hasattr(layer, "lora_A") and name in layer.lora_A
        }

    expected = {}
    for name, weight in zip(["one", "two"], weights):
        for module, delta in updates(name).items():
            expected[module] = expected.get(module, 0) + weight * delta
    for how in ["cat", "linear", "svd"]:
        mix = f"mix-{how}"
        model.add_weighted_adapter(["one", "two"], weights, mix, combination_type=how)
        got = updates(mix)
        if set(got) != set(expected):
            common.fail(f"{how}: the mix adapts {sorted(got)}, the sources {sorted(expected)}")
        off = max(float((got[m] - expected[m]).abs().max()) for m in expected)
        answer["mixes"][how] = {"folder": save(mix), "off_the_sum": off}
    common.emit_json(answer)


if __name__ == "__main__":
    sys.exit(main())
