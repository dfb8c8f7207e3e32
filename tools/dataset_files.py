"""Writing a generated data set and its task check, shared by the data set generators in tools/."""

import json


def write_dataset(out_dir, name, texts, metric):
    """Writes `texts` (one line each) to OUT_DIR/NAME.jsonl and `metric` to OUT_DIR/NAME.check.json, UTF-8 with
    Unix line ends, the check indented; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path, check_path = out_dir / f"{name}.jsonl", out_dir / f"{name}.check.json"
    with open(data_path, "w", encoding="utf-8", newline="\n") as f:
        for text in texts:
            f.write(text + "\n")
    with open(check_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(metric, ensure_ascii=False, indent=2) + "\n")
    return data_path, check_path
