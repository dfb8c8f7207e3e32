"""Checks what an Unsloth script calls against the installed Unsloth's own source (read, not imported: importing
Unsloth needs a GPU): the keyword arguments it passes to FastLanguageModel.from_pretrained and to get_peft_model
(FastLlamaModel's, which FastLanguageModel inherits), and the names it imports from `unsloth`.

Input: --load and --lora, JSON objects of the keyword arguments (the script's --dry-run prints them; --lora may be
null for full fine-tuning), and --imports, the names imported.
Output: one line of JSON {"unknown_load": [...], "unknown_lora": [...], "missing_imports": [...], "version": "..."}:
keywords no parameter of the function names (its **kwargs left aside), and imports the package does not export.
"""

import argparse
import ast
import json
from importlib.metadata import files, version
from pathlib import Path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", required=True)
    parser.add_argument("--lora", required=True)
    parser.add_argument("--imports", required=True, help="comma-separated names")
    return parser.parse_args()


def source(path):
    matches = [f for f in files("unsloth") if str(f) == path]
    if not matches:
        raise SystemExit(f"error: the installed unsloth has no {path}")
    return ast.parse(Path(matches[0].locate()).read_text())


def parameters(tree, class_name, method):
    """The named parameters of `class_name.method` in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == method:
                    args = item.args
                    return {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    raise SystemExit(f"error: no {class_name}.{method} in the installed unsloth")


def exported(tree):
    """The names a module's __all__ lists."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return {element.value for element in node.value.elts}
    return set()


def imported_names(tree):
    """The names a module imports from elsewhere (`from x import a, b`)."""
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}


def main():
    args = parse_args()
    load, lora = json.loads(args.load), json.loads(args.lora)
    loader, llama = source("unsloth/models/loader.py"), source("unsloth/models/llama.py")
    from_pretrained = parameters(loader, "FastLanguageModel", "from_pretrained")
    get_peft_model = parameters(llama, "FastLlamaModel", "get_peft_model")
    # `from unsloth import X` finds what unsloth.models re-exports: FastLanguageModel from the loader, the helpers
    # from _utils (its __all__).
    available = imported_names(source("unsloth/models/__init__.py")) | exported(source("unsloth/models/_utils.py"))
    answer = {
        "unknown_load": sorted(set(load) - from_pretrained),
        "unknown_lora": sorted(set(lora or {}) - get_peft_model),
        "missing_imports": sorted(set(args.imports.split(",")) - available),
        "version": version("unsloth"),
    }
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
