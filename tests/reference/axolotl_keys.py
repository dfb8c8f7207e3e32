"""Checks an Axolotl config's keys against the configuration schema of the installed Axolotl (its pydantic
models in axolotl/utils/schemas/, read as source: importing Axolotl would need its whole GPU stack).

Output: one line of JSON {"unknown": [...], "deprecated": [...], "missing": [...], "known": N}: keys (top level,
each dataset, a dataset's user-defined `type`) that no schema field or alias names; keys the schema keeps only as
deprecated; required top-level fields the config lacks; and how many top-level fields the schema has.
"""

import argparse
import ast
import json
import sys
from importlib.metadata import files, version
from pathlib import Path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the YAML config to check")
    return parser.parse_args()


def schema_classes():
    """Every class of the schema modules: name -> (base names, {field: required}, aliases)."""
    sources = [f for f in files("axolotl") if str(f).startswith("axolotl/utils/schemas/") and str(f).endswith(".py")]
    classes = {}
    for source in sources:
        tree = ast.parse(Path(source.locate()).read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            fields, aliases = {}, set()
            for item in node.body:
                if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                    continue
                name = item.target.id
                if name == "model_config":
                    continue
                required = item.value is None
                if isinstance(item.value, ast.Call) and getattr(item.value.func, "id", None) == "Field":
                    keywords = {k.arg: k.value for k in item.value.keywords}
                    first = item.value.args[0] if item.value.args else None
                    has_default = "default" in keywords or "default_factory" in keywords or (
                        first is not None and not (isinstance(first, ast.Constant) and first.value is Ellipsis)
                    )
                    required = not has_default
                    alias = keywords.get("alias")
                    if isinstance(alias, ast.Constant):
                        aliases.add(alias.value)
                fields[name] = required
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            classes[node.name] = (bases, fields, aliases)
    return classes


def all_fields(classes, name, seen=None):
    """A class's fields and aliases with its bases'."""
    seen = set() if seen is None else seen
    if name not in classes or name in seen:
        return {}, set()
    seen.add(name)
    bases, fields, aliases = classes[name]
    fields, aliases = dict(fields), set(aliases)
    for base in bases:
        more_fields, more_aliases = all_fields(classes, base, seen)
        for field, required in more_fields.items():
            fields.setdefault(field, required)
        aliases |= more_aliases
    return fields, aliases


def main():
    args = parse_args()
    import yaml

    config = yaml.safe_load(open(args.config))
    classes = schema_classes()
    top, top_aliases = all_fields(classes, "AxolotlInputConfig")
    deprecated, _ = all_fields(classes, "DeprecatedParameters")
    dataset, dataset_aliases = all_fields(classes, "SFTDataset")
    prompter, _ = all_fields(classes, "UserDefinedPrompterType")
    if len(top) < 100 or not dataset or not prompter:
        print(f"axolotl {version('axolotl')}: the schema was not found where expected", file=sys.stderr)
        sys.exit(1)

    unknown = [k for k in config if k not in top and k not in top_aliases]
    for i, entry in enumerate(config.get("datasets", [])):
        unknown += [f"datasets[{i}].{k}" for k in entry if k not in dataset and k not in dataset_aliases]
        if isinstance(entry.get("type"), dict):
            unknown += [f"datasets[{i}].type.{k}" for k in entry["type"] if k not in prompter]
    missing = [k for k, required in top.items() if required and k not in config]
    answer = {
        "unknown": unknown,
        "deprecated": [k for k in config if k in deprecated],
        "missing": missing,
        "known": len(top),
    }
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
