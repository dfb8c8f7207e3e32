"""Shared loading code for the PyTorch + transformers + PEFT reference scripts.

One place for: CPU threads and determinism, loading a Hugging Face Llama folder, attaching a PEFT LoRA adapter,
naming LoRA parameters as adapter_model.safetensors does, and writing the JSON answer to stdout.

The scripts parse their flags before importing this module, so `--help` answers without importing torch
(which, with transformers and peft, takes about 6 s on the 2-core machine).
"""

import json
import os
import sys
import warnings

# The reference never downloads: a model or adapter is always a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Anything a library prints while we work must not end up in the JSON on stdout: keep the real stdout aside and
# point file descriptor 1 (Python's and C's) at stderr until `emit_json`.
_json_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
sys.stdout.flush()
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

import torch  # noqa: E402
import transformers  # noqa: E402
import peft  # noqa: E402
from peft import LoraConfig, PeftModel  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers import LlamaForCausalLM  # noqa: E402

transformers.utils.logging.disable_progress_bar()
# Deprecation notices from inside transformers/peft are noise to a reader of these scripts' stderr.
warnings.filterwarnings("ignore", category=FutureWarning)

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def fail(message):
    """Stops the script with a message on stderr and exit status 1."""
    raise SystemExit(f"error: {message}")


def setup_torch(threads, seed=0):
    """CPU only, `threads` intra-op threads, one inter-op thread, seeded, deterministic kernels."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def load_model(folder):
    """A Hugging Face Llama folder, or a GGUF file (transformers dequantizes every weight), as LlamaForCausalLM in
    float32 with eager attention, in eval mode.

    Fails (rather than silently initialising at random) when a weight is missing, unexpected or mis-shaped.
    """
    if folder.endswith(".gguf"):
        directory, name = os.path.split(os.path.abspath(folder))
        model = LlamaForCausalLM.from_pretrained(
            directory, gguf_file=name, dtype=torch.float32, attn_implementation="eager", local_files_only=True
        )
        return model.eval()
    if not os.path.isfile(os.path.join(folder, "config.json")):
        fail(f"{folder}: no config.json (expected a Hugging Face Llama folder)")
    model, info = LlamaForCausalLM.from_pretrained(
        folder,
        dtype=torch.float32,
        attn_implementation="eager",
        output_loading_info=True,
        local_files_only=True,
    )
    problems = {kind: names for kind, names in info.items() if names}
    if problems:
        fail(f"{folder}: weights do not match the config: {problems}")
    return model.eval()


def adapter_tensor_name(parameter_name, adapter_name="default"):
    """`...q_proj.lora_A.default.weight` (in the PeftModel) -> `...q_proj.lora_A.weight` (in the file)."""
    return parameter_name.replace(f".{adapter_name}.", ".")


def lora_parameters(model):
    """{name as in adapter_model.safetensors: parameter} for every LoRA A and B matrix of a PeftModel."""
    return {
        adapter_tensor_name(name): parameter
        for name, parameter in model.named_parameters()
        if ".lora_A." in name or ".lora_B." in name
    }


def randomize_lora_b(model, std):
    """Draws every LoRA B matrix of a PeftModel from N(0, std²): a fresh adapter's B is zero, which would make every
    comparison with the base model pass."""
    with torch.no_grad():
        for name, parameter in lora_parameters(model).items():
            if ".lora_B." in name:
                parameter.normal_(0.0, std)


def attach_adapter(model, folder, trainable=False):
    """Wraps `model` in a PeftModel loaded from a PEFT LoRA folder, with lora_dropout forced to 0.

    Dropout is forced off so that a forward (and backward) is deterministic. PEFT only warns when a tensor in the
    file matches no module, which would silently compare against a no-op adapter, so every tensor in
    adapter_model.safetensors is checked to have landed, bit for bit, in the model.
    """
    for needed in ("adapter_config.json", ADAPTER_WEIGHTS):
        if not os.path.isfile(os.path.join(folder, needed)):
            fail(f"{folder}: no {needed} (expected a PEFT adapter folder)")
    config = LoraConfig.from_pretrained(folder)
    config.lora_dropout = 0.0
    model = PeftModel.from_pretrained(model, folder, is_trainable=trainable, config=config)

    saved = load_file(os.path.join(folder, ADAPTER_WEIGHTS))
    loaded = lora_parameters(model)
    not_loaded = sorted(set(saved) - set(loaded))
    not_in_file = sorted(set(loaded) - set(saved))
    if not_loaded or not_in_file:
        fail(f"{folder}: adapter tensors that match no LoRA module: {not_loaded}; "
             f"LoRA modules with no tensor in the file: {not_in_file}")
    for name, tensor in saved.items():
        if not torch.equal(loaded[name].detach().to(tensor.dtype), tensor):
            fail(f"{folder}: {name} did not load as saved (shape {list(tensor.shape)} "
                 f"vs {list(loaded[name].shape)} in the model)")
    return model.eval()


def load_tokenizer(folder):
    """The folder's tokenizer.json with the `tokenizers` library, the same file and library the Rust side uses."""
    from tokenizers import Tokenizer

    path = os.path.join(folder, "tokenizer.json")
    if not os.path.isfile(path):
        fail(f"{folder}: no tokenizer.json")
    return Tokenizer.from_file(path)


def emit_json(value):
    """Writes `value` as one line of JSON to the real stdout. Non-finite numbers are an error, not `NaN`."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        fail("the result holds NaN or infinity")
    _json_out.write(text + "\n")
    _json_out.flush()


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
