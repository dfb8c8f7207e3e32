"""Writes animal-place-messy.jsonl, the instruction data set as it might come from a hasty export, for the lesson
"Cleaning, labelling and splitting" to fix in the data studio, and its task metric animal-place-messy.check.json
(the instruction set's: the same 8 unseen animal-and-place requests).

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_animal_place_messy.py          # writes both files into public/datasets/
    python3 tools/make_animal_place_messy.py OUT_DIR  # or into OUT_DIR

The output is deterministic: running it again gives the same files byte for byte.

It starts from the lines of animal-place-instructions.jsonl (tools/make_animal_place_instructions.py) and adds
the four faults real data sets have, each one the studio finds:

- Off-label rows: in one stretch of the file the responses were pasted one row out of step (a column sorted on its
  own, a join on row numbers), so each of those prompts carries the story written for the next one. Neighbours in
  the stretch differ in both animal and place, so each such response names neither word of its request.
- Duplicates: a few lines exported again and again, so training sees them many times over.
- Near-duplicates: lines copied with one small edit (a child's name, a comma); split at random, a copy can land on
  the held-out side of its original and make the held-out loss measure memory.
- Broken rows: a line cut off mid-way, a field name misspelt, a response left empty, a prompt without its response,
  and a spreadsheet header left in.

The script checks what it wrote: every fault is where it says, and every line that is not a fault is a line of the
instruction set, unchanged.
"""

import json
import random
import re
import sys
from pathlib import Path

from dataset_files import write_dataset
from make_animal_place_instructions import has_word, make_check, make_lines

NAME = "animal-place-messy"
OUT_DIR = Path(__file__).resolve().parent.parent / "public" / "datasets"
SEED = 13
# The stretch of rows whose responses are one row out of step: a third of the file.
SHIFTED_FROM, SHIFTED = 100, 96
# Lines exported again: how many, and how many extra copies of each.
REPEATED, COPIES = 3, 7
NEAR_COPIES = 10


def shifted_order(rows, rng):
    """The rows in an order where each one differs from the next in both animal and place (greedy, retried)."""
    for _ in range(1000):
        left, order = rows[:], []
        rng.shuffle(left)
        while left:
            nxt = next((r for r in left if not order or (r[0] != order[-1][0] and r[1] != order[-1][1])), None)
            if nxt is None:
                break
            order.append(nxt)
            left.remove(nxt)
        # The last row takes the first one's response: they must differ too.
        if not left and order[-1][0] != order[0][0] and order[-1][1] != order[0][1]:
            return order
    raise SystemExit("no order of the shifted rows differs in animal and place from row to row")


def near_copy(line, rng):
    """The line with one small edit: a child's name swapped for another, or a comma added after the opening."""
    response = line["response"]
    names = [n for n in ("Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia", "Sam", "Lucy", "Jack", "Amy",
                         "Sara", "Leo") if has_word(response, n)]
    if names:
        name = names[0]
        other = rng.choice([n for n in ("Kim", "Ella", "Noah", "Zoe") if n != name])
        response = re.sub(rf"\b{name}\b", other, response)
    else:
        response = response.replace(" day ", " day, ", 1) if " day " in response else response + " The end."
    return {"prompt": line["prompt"], "response": response}


def make_messy():
    """The messy file's lines, and for each the fault it carries (None for a line of the instruction set)."""
    rng = random.Random(SEED)
    rows = [(animal, place, line) for animal, place, line, _ in make_lines()]
    stretch = shifted_order(rows[SHIFTED_FROM:SHIFTED_FROM + SHIFTED], rng)
    shifted = [
        (a, p, {"prompt": line["prompt"], "response": stretch[(i + 1) % len(stretch)][2]["response"]})
        for i, (a, p, line) in enumerate(stretch)
    ]
    lines = [(json.dumps(line, ensure_ascii=False), None) for _, _, line in rows[:SHIFTED_FROM]]
    lines += [(json.dumps(line, ensure_ascii=False), "off-label") for _, _, line in shifted]
    lines += [(json.dumps(line, ensure_ascii=False), None) for _, _, line in rows[SHIFTED_FROM + SHIFTED:]]

    clean = [line for _, _, line in rows[:SHIFTED_FROM] + rows[SHIFTED_FROM + SHIFTED:]]
    extras = []
    for line in rng.sample(clean, REPEATED):
        extras += [(json.dumps(line, ensure_ascii=False), "duplicate")] * COPIES
    for line in rng.sample(clean, NEAR_COPIES):
        extras.append((json.dumps(near_copy(line, rng), ensure_ascii=False), "near-duplicate"))
    prompt, response = clean[0]["prompt"], clean[0]["response"]
    extras += [
        (json.dumps({"prompt": prompt, "response": response})[:70], "broken"),
        (json.dumps({"prompt": clean[1]["prompt"], "reponse": clean[1]["response"]}), "broken"),
        (json.dumps({"prompt": clean[2]["prompt"], "response": ""}), "broken"),
        (json.dumps({"prompt": clean[3]["prompt"]}), "broken"),
        ("prompt,response", "broken"),
    ]
    # Faults land anywhere in the file, but not inside the shifted stretch (it stays one stretch, as an export
    # mistake leaves it).
    start = SHIFTED_FROM
    for extra in extras:
        at = rng.choice([i for i in range(len(lines) + 1) if not start < i < start + SHIFTED])
        lines.insert(at, extra)
        start += at <= start
    return lines


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    lines = make_messy()
    assert make_messy() == lines, "the output is not deterministic"
    instructions = {json.dumps(line, ensure_ascii=False) for _, _, line, _ in make_lines()}
    faults = {}
    for text, fault in lines:
        faults[fault] = faults.get(fault, 0) + 1
        if fault is None:
            assert text in instructions, f"a clean line that is not in the instruction set: {text}"
        elif fault == "off-label":
            line = json.loads(text)
            words = re.findall(r"[a-z]+", line["prompt"].lower())
            animal_place = [w for w in words if has_word(line["response"], w) and len(w) > 2
                            and w not in ("write", "tell", "story", "about", "short", "please", "the")]
            assert not animal_place, f"an off-label response names a word of its request {animal_place}: {text}"
    assert faults == {None: len(instructions) - SHIFTED, "off-label": SHIFTED, "duplicate": REPEATED * COPIES,
                      "near-duplicate": NEAR_COPIES, "broken": 5}, faults
    data_path, check_path = write_dataset(out_dir, NAME, [text for text, _ in lines], make_check())
    counts = ", ".join(f"{n} {fault or 'clean'}" for fault, n in faults.items())
    print(f"wrote {len(lines)} lines to {data_path} ({counts}) and the task check to {check_path}")


if __name__ == "__main__":
    main()
