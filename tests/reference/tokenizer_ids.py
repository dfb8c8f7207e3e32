"""Reference ids from Hugging Face transformers for Tinytune's tokenizer parity test.

Usage: tokenizer_ids.py FOLDER < strings.json
FOLDER holds tokenizer.json and tokenizer_config.json; stdin is a JSON list of strings. Prints one JSON object:
{"class": the tokenizer class AutoTokenizer chose, "ids": [ids per string, as AutoTokenizer gives them
(with BOS)], "decoded": [each string's ids decoded with skip_special_tokens=True]}.
"""

import json
import sys

from transformers import AutoTokenizer


def main():
    folder = sys.argv[1]
    texts = json.load(sys.stdin)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = [tokenizer(text)["input_ids"] for text in texts]
    decoded = [tokenizer.decode(one, skip_special_tokens=True) for one in ids]
    json.dump({"class": type(tokenizer).__name__, "ids": ids, "decoded": decoded}, sys.stdout)


if __name__ == "__main__":
    main()
