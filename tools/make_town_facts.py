"""Writes the two data sets of the lesson "Domain text vs new facts" and their shared probe set:
town-notes.jsonl (raw text about a made-up town), town-questions.jsonl (the same facts as questions and answers)
and the task check beside each, town-notes.check.json and town-questions.check.json (the same probes).

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_town_facts.py          # writes the four files into public/datasets/
    python3 tools/make_town_facts.py OUT_DIR  # or into OUT_DIR

The output is deterministic (fixed seed, fixed order): running it again gives the same files byte for byte.

The facts: eight made-up characters of a small town (PEOPLE), each an animal with a home and a favourite food.
stories260K has never seen them, so whatever it says about them after a run came from the run.

town-notes.jsonl is domain text, the kind continued pretraining reads: three short notes about each character, every
token a target ({"text": ...}). Every note states the character's home with the same sentence, name first ("Bo lives
by the old mill."), in a different place among other sentences, none of which names the character after it.

town-questions.jsonl is the same facts as question/answer pairs ({"prompt", "response"}): two wordings of a question
about each fact, each answered with one sentence that starts with the name ("Bo lives by the old mill."). The home's
answer is the notes' sentence word for word, so the two runs see the same fact in the same words; what differs is
the context, a story or a question.

The check (the same probes beside both data sets) asks about each character's home in five ways, eight probes each,
writes 32 tokens for each and judges the answer's first sentence (judge_first_sentence), since a model that only
half-learned the facts strings names and places together at random after it:
  asked      the training question, word for word ("Where does Bo live?"): must name the home's last word ("mill")
  reworded   a wording no line uses, with the question word of the training question ("Where can I find Bo?")
  no-where   a wording no line uses, without "where" ("Which place does Bo live by?"); the food questions start
             with "What"
  reversed   the fact asked from the other end ("Who lives by the old mill?"): the character's name ("Bo")
  finish     the answer's own opening to complete ("Bo lives by"): the home's last word
Every fact is written name first, in both sets, and no line names a home before its character or its character
after its home, so "reversed" measures whether a model trained on "A is B" can answer "B is A" (Berglund et al.,
2023, "The Reversal Curse").

The script checks that every home is stated in at least two lines of each set (so the app's held-out split, 10% of
the lines, cannot take a fact away from training; tests/native/task_metric.rs checks the split itself), that no line
names a home before its character or the character after its home, that no probe but "asked" is a training prompt,
and that each home's last word and each name belong to one character only.
"""

import json
import random
import sys
from pathlib import Path

from dataset_files import write_dataset

SEED = 17
OUT_DIR = Path(__file__).resolve().parent.parent / "public" / "datasets"
NOTES, QUESTIONS = "town-notes", "town-questions"
# Tokens per answer: only the first sentence is judged, and the longest right one ("Kit lives by the blue
# bridge.") is 21 of stories260K's tokens. Fewer than the default 60 keeps the 32 probes quick in a tab.
MAX_NEW_TOKENS = 32

# Name, animal, home (after "lives by"), favourite food. Names are short and unlike any word of TinyStories; every
# home ends in a word no other home uses.
PEOPLE = [
    ("Bo", "frog", "the old mill", "plums"),
    ("Kit", "fox", "the blue bridge", "honey"),
    ("Dot", "duck", "the tall tower", "pears"),
    ("Rex", "dog", "the red barn", "cheese"),
    ("Fay", "cat", "the little boat", "jam"),
    ("Gus", "pig", "the windy hill", "corn"),
    ("Pam", "owl", "the big oak", "nuts"),
    ("Ned", "bear", "the dark cave", "fish"),
]

# The notes: a character's home sentence among others, three notes each. {name} {animal} {home} {food}.
NOTE_OPENERS = ["One day, {name} the {animal} went for a walk.", "It was a sunny morning in the town.",
                "Everyone in the town knows {name}.", "{name} is a little {animal}.",
                "{name} the {animal} likes {food} best."]
# Nothing after the home sentence names the character, so no note reads home-then-name (see "reversed" below).
NOTE_SHAPES = [
    "{opener} {name} likes to eat {food}. {name} lives by {home}. It is a quiet place.",
    "{opener} Every day {name} eats {food} for lunch. {name} lives by {home}.",
    "{opener} {name} lives by {home}. It is a good place to live, and the food there is good too.",
]

# Two wordings of each question, and the answer (name first).
QUESTION_WORDINGS = {
    "home": (["Where does {name} live?", "Where is the home of {name}?"], "{name} lives by {home}."),
    "food": (["What does {name} like to eat?", "What food does {name} like?"], "{name} likes to eat {food}."),
    "animal": (["What kind of animal is {name}?", "What animal is {name}?"], "{name} is {a_animal}."),
}

PROBES = [
    ("asked", "Asked as trained", "Where does {name} live?", "home"),
    ("reworded", "In other words", "Where can I find {name}?", "home"),
    ("no-where", "Without “where”", "Which place does {name} live by?", "home"),
    ("reversed", "In reverse", "Who lives by {home}?", "name"),
    ("finish", "A sentence to finish", "{name} lives by", "home"),
]


def last_word(phrase):
    return phrase.split()[-1]


def fields_of(name, animal, home, food):
    a_animal = ("an " if animal[0] in "aeiou" else "a ") + animal
    return {"name": name, "animal": animal, "a_animal": a_animal, "home": home, "food": food}


def notes(rng):
    lines = []
    for name, animal, home, food in PEOPLE:
        for shape in NOTE_SHAPES:
            fields = fields_of(name, animal, home, food)
            opener = rng.choice(NOTE_OPENERS).format(**fields)
            lines.append({"text": shape.format(opener=opener, **fields)})
    rng.shuffle(lines)
    return lines


def questions(rng):
    lines = []
    for name, animal, home, food in PEOPLE:
        fields = fields_of(name, animal, home, food)
        for wordings, answer in QUESTION_WORDINGS.values():
            for wording in wordings:
                lines.append({"prompt": wording.format(**fields), "response": answer.format(**fields)})
    rng.shuffle(lines)
    return lines


def check():
    samples = []
    for kind, _, template, wanted in PROBES:
        for name, animal, home, food in PEOPLE:
            word = name if wanted == "name" else last_word(home)
            samples.append({"prompt": template.format(name=name, home=home), "must_contain": [word], "kind": kind})
    return {
        "name": "Knows where they live",
        "description": "The share of 40 answers about the town's eight characters whose first sentence names the "
                       "right home (or, asked in reverse, the right character): asked as trained, in other words, "
                       "without “where”, in reverse, and as a sentence to finish.",
        "max_new_tokens": MAX_NEW_TOKENS,
        "judge_first_sentence": True,
        "kinds": [{"key": kind, "name": title} for kind, title, _, _ in PROBES],
        "samples": samples,
    }


def verify(note_lines, question_lines, probe_check):
    names = [p[0] for p in PEOPLE]
    homes = [last_word(p[2]) for p in PEOPLE]
    assert len(set(names)) == len(names) and len(set(homes)) == len(homes), "names and homes must be unique"
    texts = [line["text"] for line in note_lines] + [l["prompt"] + " " + l["response"] for l in question_lines]
    for name, _, home, _ in PEOPLE:
        fact = f"{name} lives by {home}."
        assert sum(fact in line["text"] for line in note_lines) >= 2, f"notes: {fact} in fewer than two lines"
        assert sum(fact == line["response"] for line in question_lines) >= 2, f"questions: {fact} in fewer than two"
        for text in texts:
            at_home = text.find(home)
            assert at_home < 0 or 0 <= text.find(name) < at_home, f"a home named before its character: {text}"
            assert at_home < 0 or name not in text[at_home:], f"the character named after the home: {text}"
    prompts = {line["prompt"] for line in question_lines}
    for sample in probe_check["samples"]:
        assert (sample["prompt"] in prompts) == (sample["kind"] == "asked"), f"probe {sample['prompt']}"
    assert len(set(map(str, note_lines))) == len(note_lines) and len(set(prompts)) == len(question_lines)


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    rng = random.Random(SEED)
    note_lines, question_lines, probe_check = notes(rng), questions(rng), check()
    verify(note_lines, question_lines, probe_check)
    for name, lines in [(NOTES, note_lines), (QUESTIONS, question_lines)]:
        for path in write_dataset(out_dir, name, [json.dumps(line) for line in lines], probe_check):
            print(path)


if __name__ == "__main__":
    main()
