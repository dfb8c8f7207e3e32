"""Writes animal-place-instructions.jsonl, the preference pairs animal-place-preferences.jsonl made from it, and
their task metric, animal-place-instructions.check.json (the same for both, also as animal-place-preferences.check.json).

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_animal_place_instructions.py          # writes both files into public/datasets/
    python3 tools/make_animal_place_instructions.py OUT_DIR  # or into OUT_DIR

The output is deterministic (fixed seed, fixed order): running it again gives the same files byte for byte.

animal-place-instructions.jsonl is an instruction data set. Every line is {"prompt": "...", "response": "..."}:
the prompt asks for a story about an animal at a place ("Write a story about a frog at the beach."), and the
response is a short, original children's story (40 to 80 words) in the simple style of TinyStories, the data
stories260K was pretrained on. The behaviour to learn is easy to check: the story names the requested animal and
the requested place, both in its first sentence ("Once upon a time, a little frog lived by the beach.") and again
later.

Each story is assembled from hand-written parts that work for every animal and every place: an opening that names
both, sometimes a sentence about the place, and one of the SCENARIOS (a small problem and its fix: a lost ball, a
rain shower, a lost hat...), one variant of each of its steps. Every variant of a step was written to follow every
variant of the step before, and every animal and place was written to fit every part, so all combinations read as
a story. Since any animal can meet any place, a model cannot learn the stories by heart pair by pair: it has to copy
the animal and the place from the prompt.

animal-place-preferences.jsonl holds the same prompts as preference pairs, {"prompt", "chosen", "rejected"}, for
preference tuning (DPO): the chosen answer is the instruction line's story, and the rejected one is the same story,
word for word, about another animal at another place (drawn from a generator of its own, so the instruction lines
do not change). The two answers differ only where the request is obeyed or ignored, as a base model ignores it.

animal-place-instructions.check.json is the data set's automatic task metric: after a run, the app writes one story
for each of its 8 prompts and counts the stories that contain every word of the sample's must_contain (whole words,
case-insensitive). Its "shape" counts, on the same stories, those whose first sentence names any of the animals and
any of the places, as every training story's does: the answers' format, learned apart from obeying the request. Its 8 animal-and-place pairs never occur in the training lines (each animal and each place on
its own does), so the metric measures whether the model copies the words, not whether it remembers the pairs.

The script checks the word counts, that each story names its animal and place in the first sentence and again
later (and no other animal or place of the lists), the articles (a/an), that no line is repeated, and that no
held-out pair leaks into the training lines.
"""

import json
import random
import re
import sys
from pathlib import Path

from dataset_files import write_dataset

SEED = 260
STORIES_PER_PAIR = 4
MIN_WORDS, MAX_WORDS = 40, 80
NAME = "animal-place-instructions"
PREFERENCES_NAME = "animal-place-preferences"
OUT_DIR = Path(__file__).resolve().parent.parent / "public" / "datasets"

# Common one-word animals that can do everything the scenarios ask of them (look, find, carry a ball, wear a hat).
ANIMALS = ["cat", "dog", "frog", "duck", "bear", "rabbit", "mouse", "pig", "fox", "owl"]

# Places, each with the phrases that read naturally for it: where an animal lives there ("live"), where something
# happens there ("at"), the ways a prompt may say it ("prompt"), and sentences about the place ("scene"). Going
# there is always "to the <place>".
PLACES = {
    "park": {
        "live": "in the park",
        "at": "in the park",
        "prompt": ["in the park", "at the park"],
        "scene": ["The park had green grass and a big old tree.", "There were swings and a slide in the park."],
    },
    "beach": {
        "live": "by the beach",
        "at": "at the beach",
        "prompt": ["at the beach", "on the beach"],
        "scene": ["The beach had soft sand and blue water.", "There were pretty shells all over the beach."],
    },
    "forest": {
        "live": "in the forest",
        "at": "in the forest",
        "prompt": ["in the forest"],
        "scene": ["The forest was full of tall green trees.", "It was cool and quiet in the forest."],
    },
    "farm": {
        "live": "on the farm",
        "at": "on the farm",
        "prompt": ["on the farm", "at the farm"],
        "scene": ["The farm had a big red barn and a field of corn.", "There were green fields all around the farm."],
    },
    "garden": {
        "live": "in the garden",
        "at": "in the garden",
        "prompt": ["in the garden"],
        "scene": ["The garden was full of pretty flowers.", "There were red and yellow flowers in the garden."],
    },
    "river": {
        "live": "by the river",
        "at": "by the river",
        "prompt": ["by the river", "near the river"],
        "scene": ["The water in the river was cool and clear.", "There were big, smooth rocks by the river."],
    },
    "school": {
        "live": "near the school",
        "at": "at the school",
        "prompt": ["at the school", "near the school"],
        "scene": ["The school had a big yard with a slide.", "The school had a green yard and a tall tree."],
    },
    "zoo": {
        "live": "at the zoo",
        "at": "at the zoo",
        "prompt": ["at the zoo"],
        "scene": ["The zoo was big, with many paths and trees.", "The zoo had a little pond and many tall trees."],
    },
}

# The 8 pairs of the task metric: never in the training lines. 8 different animals and 8 different places, so each
# animal and each place still appears in training with 7 or 8 places or animals.
HELD_OUT = [
    ("fox", "farm"), ("duck", "school"), ("cat", "river"), ("bear", "garden"),
    ("frog", "zoo"), ("owl", "park"), ("pig", "beach"), ("rabbit", "forest"),
]

# Animal and place words a story must not name besides its own (the ones above and a few other common ones), so
# that the animal and the place of the prompt are the only ones a story names.
OTHER_WORDS = ["bird", "fish", "cow", "hen", "horse", "sheep", "lion", "goat", "house", "shop", "town"]

# Prompts: {an_animal} is "a frog" or "an owl", {where} one of the place's "prompt" phrases.
PROMPTS = [
    "Write a story about {an_animal} {where}.",
    "Tell me a story about {an_animal} {where}.",
    "Write a short story about {an_animal} {where}.",
    "Please write a story about {an_animal} {where}.",
]

# Children, as in pip-the-purple-robot.jsonl: name and pronouns. {F} name, {p} subject, {P} capitalised subject,
# {o} object, {ps} possessive, {kid} girl or boy. The animal is always "it".
FRIENDS = [
    ("Lily", "f"), ("Tom", "m"), ("Ben", "m"), ("Sue", "f"), ("Max", "m"), ("Anna", "f"), ("Tim", "m"),
    ("Mia", "f"), ("Sam", "m"), ("Lucy", "f"), ("Jack", "m"), ("Amy", "f"), ("Sara", "f"), ("Leo", "m"),
]
PRONOUNS = {
    "f": {"p": "she", "P": "She", "o": "her", "ps": "her", "kid": "girl"},
    "m": {"p": "he", "P": "He", "o": "him", "ps": "his", "kid": "boy"},
}

# First sentences: each names the animal and the place. {animal} "frog", {an_animal} "a frog" or "an owl", {live},
# {at} and {to} the place phrases. "Habit" openings tell how things always were, so the scenario then starts on
# "One day"; "day" openings tell of one day, so the scenario goes on with "Soon".
HABIT_OPENINGS = [
    "Once upon a time, a little {animal} lived {live}.",
    "Once upon a time, there was a little {animal} who lived {live}.",
    "Once upon a time, {an_animal} lived {live}.",
    "There once was {an_animal} who loved to play {at}.",
    "Every morning, a little {animal} went {to}.",
]
DAY_OPENINGS = [
    "One sunny day, a little {animal} went {to}.",
    "One day, {an_animal} went {to} to play.",
    "One morning, a happy little {animal} went for a walk {at}.",
]
HABIT_THEN = ["One day,", "One spring day,", "One afternoon,"]
DAY_THEN = ["Soon,", "After a while,"]

# Scenarios: variants of each step. "start" begins with {Then} (see above); the animal is "the {animal}" or "it".
SCENARIOS = [
    {  # a lost ball
        "start": [
            "{Then} a {kid} named {F} came {to} with a big red ball.",
            "{Then} a little {kid} named {F} came to play with {ps} red ball.",
        ],
        "problem": [
            "{F} threw the ball up high, and it bounced far away.",
            "{F} kicked the ball too hard, and it rolled away. {P} began to cry.",
        ],
        "fix": [
            "The {animal} looked and looked. At last, it found the ball and brought it back.",
            "The little {animal} had seen where the ball went. It got the ball and gave it back to {F}.",
        ],
        "end": [
            "\"Thank you, little {animal}!\" said {F}. They played with the ball {at} until the sun went down.",
            "{F} hugged the {animal}. From that day on, they played {at} every day.",
        ],
    },
    {  # a rain shower
        "start": [
            "{Then} big gray clouds came, and it began to rain.",
            "{Then} the sky got dark, and rain began to fall.",
        ],
        "problem": [
            "The little {animal} was wet and cold. It did not know where to go.",
            "Drip, drop! The {animal} got very wet. It shook and shook.",
        ],
        "fix": [
            "Then a {kid} named {F} came by with a big yellow umbrella. {P} held it over the {animal}.",
            "A kind {kid} named {F} saw the {animal}. \"Come under my umbrella,\" {p} said.",
        ],
        "end": [
            "When the rain stopped, the {animal} and {F} jumped in the puddles {at}.",
            "At last, the sun came out again. The {animal} was dry and happy, and it had a new friend.",
        ],
    },
    {  # hungry
        "start": [
            "{Then} the little {animal} felt very hungry.",
            "{Then} the {animal}'s tummy began to rumble.",
        ],
        "problem": [
            "It looked for food {at}, but it could not find any.",
            "It looked everywhere, but there was no food to eat. The {animal} felt sad.",
        ],
        "fix": [
            "Then a {kid} named {F} sat down to eat {ps} lunch. {P} saw the {animal} and shared {ps} bread with it.",
            "A kind {kid} named {F} saw the hungry {animal}. {P} gave it a piece of {ps} apple.",
        ],
        "end": [
            "The {animal} ate it all up. \"Thank you,\" it said with a big smile.",
            "After that, {F} and the {animal} ate lunch together {at} every day.",
        ],
    },
    {  # lonely
        "start": [
            "{Then} the {animal} felt sad and lonely.",
            "{Then} the little {animal} wanted someone to play with.",
        ],
        "problem": [
            "It sat all alone {at} and looked up at the sky.",
            "But no one came to play. The {animal} sighed and looked down.",
        ],
        "fix": [
            "Then a {kid} named {F} came and sat next to it. \"Do you want to play with me?\" {p} asked.",
            "Then a little {kid} named {F} walked by. {P} smiled and said, \"Hello! Can I be your friend?\"",
        ],
        "end": [
            "They played tag and hide and seek. The {animal} was not lonely anymore.",
            "From that day on, {F} came {to} every day to play with the {animal}.",
        ],
    },
    {  # a hat in the wind
        "start": [
            "{Then} a big wind began to blow.",
            "{Then} the wind began to blow very hard.",
        ],
        "problem": [
            "Whoosh! The {animal}'s little red hat flew off its head.",
            "The wind took the {animal}'s blue hat and blew it far away.",
        ],
        "fix": [
            "A {kid} named {F} saw the hat fly by. {P} ran after it and caught it.",
            "A {kid} named {F} ran after the hat. At last, {p} caught it.",
        ],
        "end": [
            "{F} gave the hat back to the {animal}. \"Thank you!\" said the {animal}.",
            "{F} put the hat back on the {animal}'s head. The {animal} was so happy that it danced {at}.",
        ],
    },
    {  # a shiny stone
        "start": [
            "{Then} the {animal} found a shiny blue stone.",
            "{Then} the little {animal} saw something shiny. It was a pretty blue stone.",
        ],
        "problem": [
            "The {animal} liked the stone very much. But then it saw a {kid} named {F} crying.",
            "The {animal} wanted to keep the stone. Then it heard a {kid} named {F} crying.",
        ],
        "fix": [
            "\"I lost my blue stone,\" said {F}. So the {animal} gave the stone back to {o}.",
            "{F} had lost {ps} lucky stone. So the {animal} gave {o} the shiny stone.",
        ],
        "end": [
            "{F} smiled and hugged the {animal}. \"You are a good friend,\" {p} said.",
            "{F} was so happy. From that day on, {p} and the {animal} played {at} every day.",
        ],
    },
    {  # a lost child
        "start": [
            "{Then} the {animal} heard someone crying.",
            "{Then} the little {animal} heard a sad sound.",
        ],
        "problem": [
            "It was a little {kid} named {F}. {P} could not find {ps} mom.",
            "A {kid} named {F} was sitting all alone. {P} had lost {ps} mom.",
        ],
        "fix": [
            "\"Don't cry,\" said the {animal}. \"I will help you find her.\"",
            "The {animal} knew every path {at}. \"Follow me,\" it said to {F}.",
        ],
        "end": [
            "They walked and walked. Then {F} saw {ps} mom and ran to her. \"Thank you, little {animal}!\" {p} said.",
            "At last, they found {F}'s mom. After that, {F} came {to} every day to see the {animal}.",
        ],
    },
    {  # hide and seek
        "start": [
            "{Then} a {kid} named {F} came to play with the {animal}.",
            "{Then} the {animal} met a {kid} named {F}.",
        ],
        "problem": [
            "\"Let's play hide and seek!\" said {F}. The {animal} hid so well that {F} could not find it.",
            "They played hide and seek. The {animal} hid, and {F} looked and looked, but {p} could not find it.",
        ],
        "fix": [
            "Then {F} heard a little sneeze. \"Achoo!\" It was the {animal}!",
            "Then {F} heard a little giggle. There was the {animal}!",
        ],
        "end": [
            "They laughed and laughed, and they played again {at} until it was time to go home.",
            "\"You are very good at hiding,\" said {F}. They played {at} all day long.",
        ],
    },
]

STEPS = ("start", "problem", "fix", "end")


def an(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def has_word(text, word):
    return re.search(r"\b" + re.escape(word) + r"\b", text, re.IGNORECASE) is not None


def count_word(text, word):
    """Whole-word uses of word, not counting the possessive "frog's"."""
    return len(re.findall(r"\b" + re.escape(word) + r"\b(?!')", text, re.IGNORECASE))


def first_sentence(text):
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]


def prompt_for(template, animal, where):
    return template.format(an_animal=an(animal), where=where)


def fill(text, animal, place, friend, then):
    name, gender = friend
    values = dict(PRONOUNS[gender], F=name, Then=then, animal=animal, an_animal=an(animal),
                  live=PLACES[place]["live"], at=PLACES[place]["at"], to="to the " + place)
    return text.format(**values)


def check(prompt, response, animal, place):
    """What is wrong with a line for the pair (animal, place): [] when nothing is."""
    problems = []
    words = response.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        problems.append(f"{len(words)} words")
    for word in (animal, place):
        if not has_word(prompt, word):
            problems.append(f"prompt does not name {word!r}")
        if not has_word(first_sentence(response), word):
            problems.append(f"first sentence does not name {word!r}")
        if count_word(response, word) < 2:
            problems.append(f"{word!r} is not named again after the first sentence")
    for word in ANIMALS + list(PLACES) + OTHER_WORDS:
        if word not in (animal, place) and (has_word(prompt, word) or has_word(response, word)):
            problems.append(f"names {word!r} too")
    for text in (prompt, response):
        if re.search(r"\ba [aeiou]", text, re.IGNORECASE) or re.search(r"\ban [^aeiou]", text, re.IGNORECASE):
            problems.append("wrong article (a/an)")
        if "{" in text or "}" in text or "  " in text or text != text.strip() or not text.isascii():
            problems.append("template left-overs, stray spaces or non-ASCII characters")
        for sentence in re.split(r"(?<=[.!?])\s", text):
            if not (sentence[:1].isupper() or sentence[:2] in ('"' + c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")):
                problems.append(f"sentence without a capital: {sentence!r}")
    return problems


def make_lines():
    rng, wrong = random.Random(SEED), random.Random(SEED + 1)
    friends = FRIENDS[:]
    rng.shuffle(friends)
    friend_turn = 0
    pairs = [(a, p) for a in ANIMALS for p in PLACES if (a, p) not in HELD_OUT]
    lines, seen = [], set()
    for animal, place in pairs:
        templates = rng.sample(PROMPTS, STORIES_PER_PAIR)
        scenarios = rng.sample(range(len(SCENARIOS)), STORIES_PER_PAIR)
        for template, s in zip(templates, scenarios):
            prompt = prompt_for(template, animal, rng.choice(PLACES[place]["prompt"]))
            for _ in range(100):
                habit = rng.random() < 0.6
                opening = rng.choice(HABIT_OPENINGS if habit else DAY_OPENINGS)
                then = rng.choice(HABIT_THEN if habit else DAY_THEN)
                scene = rng.randrange(2) if rng.random() < 0.5 else None
                middle = [rng.choice(SCENARIOS[s][step]) for step in STEPS]
                friend = friends[friend_turn % len(friends)]
                response = story(opening, scene, middle, animal, place, friend, then)
                if not check(prompt, response, animal, place) and response not in seen:
                    break
            else:
                raise SystemExit(f"no story fits {animal!r} at {place!r} in scenario {s}: "
                                 f"{check(prompt, response, animal, place)}\n{response}")
            friend_turn += 1
            seen.add(response)
            # The same story about an animal and a place the prompt did not ask for, from a generator of its own
            # so the instruction lines stay as they were.
            for _ in range(100):
                other_animal = wrong.choice([a for a in ANIMALS if a != animal])
                other_place = wrong.choice([p for p in PLACES if p != place])
                rejected = story(opening, scene, middle, other_animal, other_place, friend, then)
                if (other_animal, other_place) not in HELD_OUT and not check(
                        other_request(other_animal, other_place), rejected, other_animal, other_place):
                    break
            else:
                raise SystemExit(f"no rejected story for {animal!r} at {place!r}:\n{response}")
            lines.append((animal, place, {"prompt": prompt, "response": response}, (other_animal, other_place, rejected)))
    rng.shuffle(lines)
    return lines


def other_request(animal, place):
    """A request the rejected story about animal at place would obey."""
    return prompt_for(PROMPTS[0], animal, PLACES[place]["prompt"][0])


def story(opening, scene, middle, animal, place, friend, then):
    """One story from its drawn parts (`scene`: which of the place's scene sentences, or None) for animal at place."""
    parts = [opening, PLACES[place]["scene"][scene] if scene is not None else ""] + middle
    return " ".join(fill(part, animal, place, friend, then) for part in parts if part)


def make_check():
    samples = []
    for i, (animal, place) in enumerate(HELD_OUT):
        prompt = prompt_for(PROMPTS[i % len(PROMPTS)], animal, PLACES[place]["prompt"][0])
        samples.append({"prompt": prompt, "must_contain": [animal, place]})
    return {
        "name": "Follows the instruction",
        "description": "The share of 8 stories, written for animal-and-place pairs the run never trained on, "
                       "that name both the animal and the place the prompt asked for.",
        "samples": samples,
        # The shape of every training story, whatever was asked: an animal and a place in the first sentence.
        "shape": {
            "name": "Story shape",
            "description": "The share of the same 8 stories whose first sentence names an animal and a place, any "
                           "of the data set's, as every training story's does, whatever the prompt asked for.",
            "first_sentence_names": [ANIMALS, list(PLACES)],
        },
    }


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    lines = make_lines()
    metric = make_check()

    # Self-checks: they fail loudly rather than write a data set that teaches the wrong thing.
    assert make_lines() == lines and make_check() == metric, "the output is not deterministic"
    for animal, place, line, (other_animal, other_place, rejected) in lines:
        problems = check(line["prompt"], line["response"], animal, place)
        assert not problems, f"{problems}: {line}"
        # The rejected story is right for another request: the pair differs in what was asked for alone.
        problems = check(other_request(other_animal, other_place), rejected, other_animal, other_place)
        assert not problems, f"{problems}: {rejected}"
    texts = [json.dumps(line, ensure_ascii=False) for _, _, line, _ in lines]
    preferences = [
        json.dumps({"prompt": line["prompt"], "chosen": line["response"], "rejected": rejected}, ensure_ascii=False)
        for _, _, line, (_, _, rejected) in lines
    ]
    assert len(set(texts)) == len(texts), "a line is repeated"
    assert len({line["response"] for _, _, line, _ in lines}) == len(lines), "a story is repeated"
    assert len(HELD_OUT) == 8 and len(set(HELD_OUT)) == 8, "the metric needs 8 different pairs"
    for _, _, line, (_, _, rejected) in lines:
        for animal, place in HELD_OUT:
            both = [w for w in (animal, place) if has_word(line["prompt"], w) or has_word(line["response"], w)]
            assert len(both) < 2, f"held-out pair {animal}/{place} in a training line: {line}"
            assert not (has_word(rejected, animal) and has_word(rejected, place)), f"held-out pair in {rejected}"
    prompts = " ".join(line["prompt"] for _, _, line, _ in lines)
    for sample in metric["samples"]:
        assert sample["prompt"] not in prompts, f"check prompt in the training lines: {sample['prompt']}"
        for word in sample["must_contain"]:
            assert has_word(sample["prompt"], word), f"{word!r} is not in its check prompt {sample['prompt']!r}"
            assert has_word(prompts, word), f"check word {word!r} never appears in a training prompt"
        assert re.fullmatch(r"[A-Za-z ]+\.", sample["prompt"]) and sample["prompt"].isascii(), sample["prompt"]

    for name, texts in ((NAME, texts), (PREFERENCES_NAME, preferences)):
        data_path, check_path = write_dataset(out_dir, name, texts, metric)
        # Read back what was written: one JSON object per line, and a newline at the end of each file.
        data = data_path.read_text(encoding="utf-8")
        assert data.endswith("\n") and data.count("\n") == len(lines), f"{data_path} is not one object per line"
        assert [json.loads(line) for line in data.splitlines()] == [json.loads(text) for text in texts], data_path
        assert json.loads(check_path.read_text(encoding="utf-8")) == metric, check_path
        print(f"wrote {len(lines)} lines to {data_path} and {len(metric['samples'])} check prompts to {check_path}")


if __name__ == "__main__":
    main()
