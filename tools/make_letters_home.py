"""Writes letters-home.txt, the raw-text demo data set (a new domain and format), and its check file.

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_letters_home.py        # writes public/datasets/letters-home.txt and letters-home.check.json
    python3 tools/make_letters_home.py DIR    # or writes both files into DIR

The output is deterministic (fixed seed, fixed order): running it again gives the same files byte for byte.

letters-home.txt holds 300 short letters that children write to their grandparents (mostly), an aunt or uncle,
or, from Grandma's house or from camp, their parents. The letters are separated by one blank line, so the app reads
each letter as one text example (every token is a target, as in continued pretraining). A letter has no blank line
inside it and always has this form, which stories260K (pretrained on TinyStories, stories told in the third
person) never writes:

    Dear Grandma,
    How are you? Our cat had three kittens! I made you a card. I miss you.
    Love,
    Tom

Each letter is assembled from hand-written parts: a greeting from RECIPIENTS, then, on one line, an opener (left
out in some letters), one or two news items on different topics (school, a pet, the garden, a trip, a game, the
weather, a drawing sent with the letter, the family...) and a wish or a question, then "Love," and the child's
name. Every part is a whole sentence (or two) that reads well next to every other, so all combinations are
grammatical; the few pairs that would not make sense together (snow and a day at the beach, a birthday just had
and a birthday to come) are kept apart by tags.

Why the letters are so short (15 to 25 words, 3 or 4 short sentences between greeting and sign-off): the data
set's check (letters-home.check.json) starts the model at a greeting, samples about 60 tokens and looks for the
sign-off "Love,". stories260K's tokenizer has only 512 pieces; on these letters it averages about 1.6 characters
per token ("Grandma" alone is 6 tokens), so 60 tokens are only about 95 characters. Every letter here reaches the
end of "Love," at most MAX_SIGNOFF_TOKENS tokens after its greeting (about 43 on average), which leaves the
fine-tuned model a little room for letters longer than those it was shown. The parts are assembled under a limit
in characters (MAX_BODY_CHARS), so the output does not depend on any other file; the limit in tokens is then
checked with the model's own tokenizer, read from ../shared/models/stories260K/tok512.bin (or
$TINYTUNE_MODEL_DIR/tok512.bin) where it is present. Whoever changes the parts should run the script where it is.

letters-home.check.json is the data set's automatic task metric: after a run, the app writes one continuation of
60 tokens for each of its 8 greetings, with the base model and with the fine-tuned one, and counts those that
contain "Love," (as a word, in any case). Six of the greetings occur in the data and two (Uncle Bob, Granny) never
do, so the score also shows whether the letter form carries over to a new name. stories260K itself writes stories
after "Dear Grandma," ("Deepy, Deepy... He liked to play with his toys"), so it should rarely pass.

The script checks every letter (a greeting line, one body line of 3 to 5 sentences, "Love," then a name, the word
count, the length up to the sign-off, plain ASCII, no blank line inside), that no two letters say the same things
(in any order, to anyone), that making the data twice gives the same bytes, and that the check file's prompts are
greetings. The held-out split is made by the app, not here.
"""

import hashlib
import json
import os
import random
import re
import struct
import sys
from pathlib import Path

SEED = 1225
MIN_WORDS, MAX_WORDS = 15, 25
MIN_SENTENCES, MAX_SENTENCES = 3, 5  # in the body line, between the greeting and "Love,"
MAX_BODY_CHARS = 70  # the body line; keeps "Love," within MAX_SIGNOFF_TOKENS tokens even without the tokenizer
MAX_SIGNOFF_TOKENS = 54  # tokens after the greeting, up to and including "Love," (the check samples about 60)
SIGN_OFF = "Love,"
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "public" / "datasets"
DATA_NAME, CHECK_NAME = "letters-home.txt", "letters-home.check.json"
MODEL_DIR = Path(os.environ.get("TINYTUNE_MODEL_DIR") or ROOT.parent / "shared" / "models" / "stories260K")

# Who the letter is to, how many letters each gets, and where the child writes from: "home" (news of the week) or
# "away" (the child is at Grandma's house or at camp and writes to a parent).
RECIPIENTS = [
    ("Grandma", 72, "home"),
    ("Grandpa", 50, "home"),
    ("Nana", 34, "home"),
    ("Grandma and Grandpa", 30, "home"),
    ("Aunt Sue", 14, "home"),
    ("Aunt May", 10, "home"),
    ("Uncle Tom", 12, "home"),
    ("Uncle Joe", 8, "home"),
    ("Mom", 28, "away"),
    ("Dad", 20, "away"),
    ("Mom and Dad", 22, "away"),
]

# The child who signs. A child is never given the name of the aunt or uncle the letter is to.
NAMES = [
    "Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia", "Sam", "Lucy", "Jack", "Amy", "Leo", "Emma", "Kate",
    "Jane",
]

# Parts of a letter. A part is a string, or (string, tags): two parts that share a tag never go in one letter
# (so "I miss you" is not said twice), and neither do two whose tags clash (snow and a day at the beach).
# Items are grouped by topic; a letter tells news on two different topics at most.
CLASHES = [("cold", "warm"), ("birthday-past", "birthday-next")]
SEASONS = {"cold", "warm"}  # tags that only keep apart from their clash: two "warm" items go together well

HOME = {
    "openers": [
        "How are you?",
        "I hope you are well.",
        ("I miss you so much.", ["miss"]),
        "Thank you for the book.",
        "Thank you for your letter.",
        ("Thank you for the hat.", ["hat"]),
        "I have big news!",
        "I wrote this by myself.",
        ("How is your cat?", ["your-cat"]),
        "How is your garden?",
        ("Mom says hello.", ["mom"]),
        "It was a busy week.",
    ],
    "items": {
        "school": [
            "I got a gold star at school.",
            "My teacher is very nice.",
            "I can write my name now.",
            "I can read a whole book!",
        ],
        "pet": [
            "Our dog dug a big hole.",
            "Our cat had three kittens!",
            "My fish is getting big.",
            "Our dog ate my sock!",
        ],
        "garden": [
            ("Mom and I planted flowers.", ["warm", "mom"]),
            ("Our tree has red apples now.", ["warm"]),
            ("I helped Dad pick beans.", ["warm"]),
        ],
        "trip": [
            "I saw a lion at the zoo.",
            ("I found a shell at the beach.", ["warm"]),
            "I flew my kite in the park.",
            ("We had a picnic by the lake.", ["warm"]),
        ],
        "play": [
            "I can ride my bike now!",
            "I played ball with my friends.",
            "I can jump rope ten times!",
            "We made a fort with blankets.",
        ],
        "weather": [
            ("It snowed! I made a snowman.", ["cold"]),
            "It rained, so I played inside.",
            ("It is hot, so we swim.", ["warm"]),
            ("It is cold, so I wear my hat.", ["cold", "hat"]),
        ],
        "drawing": [
            "I drew you a big sun.",
            "I made you a card.",
            "Here is a picture for you.",
            "I put a drawing in this letter.",
        ],
        "family": [
            "My baby brother can walk now.",
            "I lost my first tooth!",
            ("Mom made a cake, and I helped.", ["mom"]),
            ("I am six years old now!", ["birthday-past"]),
        ],
    },
    "endings": [
        "When will you come?",
        "Come and see us soon!",
        ("I miss you.", ["miss"]),
        "Please write back.",
        "Can I visit you soon?",
        ("Come to my birthday!", ["birthday-next"]),
        "I can't wait to see you.",
        ("Hug your cat for me.", ["your-cat"]),
        "See you soon!",
        "Write to me soon.",
    ],
}

# A letter to a parent always opens by saying where the child is (Grandma's house or camp), so its news makes sense.
AWAY_ENDINGS = [
    ("I miss you.", ["miss"]),
    "See you soon!",
    "Hug our dog for me.",
    "Please write back.",
    "See you on Sunday!",
]
GRANDMAS = {
    "openers": [
        ("Hello from Grandma's!", ["grandma"]),
        ("I am at Grandma's house.", ["grandma"]),
        ("Grandma's house is fun.", ["grandma"]),
        ("Grandpa says hello.", ["grandpa"]),
    ],
    "items": {
        "baking": [("Grandma and I baked cookies.", ["grandma"]), "We made a big apple pie."],
        "animals": ["I feed the hens every day.", "The cat here sleeps with me."],
        "outing": [("Grandpa and I went fishing.", ["grandpa"]), "We saw ducks at the lake."],
        "bedtime": [("Grandma reads me a story.", ["grandma"]), "My room here has a blue bed."],
        "garden": ["I help in the garden.", "We pick apples every day."],
    },
    "endings": AWAY_ENDINGS + ["Can I stay longer?"],
}
CAMP = {
    "openers": ["Camp is so much fun!", "I like camp a lot.", "I am having fun at camp.", "Hello from camp!"],
    "items": {
        "lake": ["We swim in the lake every day.", "I can row a boat now!"],
        "fire": ["We sang songs by the fire.", "We cooked hot dogs on a fire."],
        "friends": ["I made a new friend.", "My new friend can swim fast."],
        "woods": ["We saw a deer in the woods.", "We went on a long walk."],
        "food": ["The food here is good.", "We had pancakes today."],
    },
    "endings": AWAY_ENDINGS + ["Please send more socks!"],
}

# Where a child writes from, by the kind of recipient: to a parent, from Grandma's house or from camp in turn.
PLACES = {"home": HOME, "grandmas": GRANDMAS, "camp": CAMP}
SETTINGS = {"home": ["home"], "away": ["grandmas", "camp"]}

# How the body line is built, in turn: (opener?, number of news items). Every shape ends with a wish or question.
SHAPES = [(True, 1), (False, 2), (True, 2), (True, 1), (False, 2)]


class Deck:
    """Cards dealt in a shuffled order, each dealt once before any is dealt again.

    A deal may ask for a card that fits: the first one in the pile that fits is dealt and the others wait for their
    turn. When none left in the pile fits, any card that fits is dealt (the pile stays as it is), or None."""

    def __init__(self, cards, rng):
        self.cards, self.rng, self.pile = list(cards), rng, []

    def deal(self, fits=lambda card: True):
        if not self.pile:
            self.pile = self.cards[:]
            self.rng.shuffle(self.pile)
        for i in reversed(range(len(self.pile))):
            if fits(self.pile[i]):
                return self.pile.pop(i)
        spare = self.cards[:]
        self.rng.shuffle(spare)
        return next((card for card in spare if fits(card)), None)


def part(card):
    """(text, tags) of a part written as a string or as (string, tags)."""
    return (card, []) if isinstance(card, str) else (card[0], list(card[1]))


def fits_together(parts):
    """Whether no two parts share a tag (other than a season) and no two clash (see CLASHES)."""
    tags = [tag for _, part_tags in parts for tag in part_tags]
    kept_apart = [tag for tag in tags if tag not in SEASONS]
    if len(kept_apart) != len(set(kept_apart)):
        return False
    return not any(a in tags and b in tags for a, b in CLASHES)


GREETING = re.compile(r"Dear [A-Z][a-z]+( [A-Z][a-z]+)?( and [A-Z][a-z]+)?,")


def body_sentences(body):
    return re.findall(r"[^.!?]+[.!?]", body)


def check(letter):
    """Problems with one letter (empty when it is fine)."""
    problems = []
    lines = letter.split("\n")
    if len(lines) != 4:
        return [f"{len(lines)} lines, not 4 (greeting, body, sign-off, name)"]
    greeting, body, sign_off, name = lines
    if not GREETING.fullmatch(greeting):
        problems.append("the first line is not a greeting such as 'Dear Grandma,'")
    if sign_off != SIGN_OFF:
        problems.append(f"the third line is not {SIGN_OFF!r}")
    if name not in NAMES:
        problems.append("the last line is not a child's name")
    if not MIN_SENTENCES <= len(body_sentences(body)) <= MAX_SENTENCES:
        problems.append(f"{len(body_sentences(body))} sentences in the body")
    if "".join(body_sentences(body)).strip() != body or "  " in body:
        problems.append("the body has text outside sentences or stray spaces")
    if len(body) > MAX_BODY_CHARS:
        problems.append(f"the body has {len(body)} characters, over {MAX_BODY_CHARS}")
    words = len(letter.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        problems.append(f"{words} words")
    if any(not line.strip() or line != line.strip() for line in lines):
        problems.append("a blank line or stray spaces")
    if letter.lower().count(SIGN_OFF.lower()) != 1:
        problems.append(f"{SIGN_OFF!r} somewhere other than the sign-off (the check would count it)")
    if not all(32 <= ord(c) < 127 or c == "\n" for c in letter) or "{" in letter or '"' in letter:
        problems.append("a character other than plain ASCII letters and punctuation")
    return problems


def joined(parts):
    return " ".join(text for text, _ in parts)


def said(body):
    """What a body says, whatever the order: its sentences, sorted."""
    return tuple(sorted(sentence.strip() for sentence in body_sentences(body)))


def make_letters():
    rng = random.Random(SEED)
    recipients = [(who, where) for who, count, where in RECIPIENTS for _ in range(count)]
    rng.shuffle(recipients)
    names, shapes = Deck(NAMES, rng), Deck(SHAPES, rng)
    places = {where: Deck(options, rng) for where, options in SETTINGS.items()}
    decks = {}  # per place: its topics, the items of each topic, its openers and its endings
    seen = set()  # sentences of the bodies so far: no two letters say the same, in any order, even to someone else

    def deal(place, key, cards, fits):
        """A card from the place's deck `key` that fits, as (text, tags), or None."""
        card = decks.setdefault((place, key), Deck(cards, rng)).deal(lambda card: fits(part(card)))
        return None if card is None else part(card)

    def compose(who, name, place, with_opener, n_items):
        """The body of a letter, or None where the parts dealt do not fit. The news is dealt first, so that every
        item is told about as often as the others, then an ending and an opener that fit with it in the room left
        (so short openers such as "How are you?" come most often, as in children's letters)."""
        setting = PLACES[place]
        shortest = {key: min(len(part(card)[0]) + 1 for card in setting[key]) for key in ("openers", "endings")}
        room = MAX_BODY_CHARS - shortest["endings"] - (shortest["openers"] if with_opener else 0)
        topics, items = [], []
        for _ in range(n_items):
            topics.append(deal(place, "topics", sorted(setting["items"]), lambda p: p[0] not in topics)[0])
            item = deal(place, topics[-1], setting["items"][topics[-1]],
                        lambda p: fits_together(items + [p]) and len(joined(items + [p])) <= room)
            if item is None:
                return None
            items.append(item)
        room = MAX_BODY_CHARS - (shortest["openers"] if with_opener else 0)
        ending = deal(place, "endings", setting["endings"],
                      lambda p: fits_together(items + [p]) and len(joined(items + [p])) <= room)
        if ending is None:
            return None
        if not with_opener:
            return None if said(joined(items + [ending])) in seen else joined(items + [ending])

        def finishes(p):
            body = joined([p] + items + [ending])
            return fits_together([p] + items + [ending]) and said(body) not in seen and not check(
                as_letter(who, body, name)
            )

        opener = deal(place, "openers", setting["openers"], finishes)
        return None if opener is None else joined([opener] + items + [ending])

    letters = []
    for who, where in recipients:
        place = places[where].deal()
        name = names.deal(lambda name: name not in who.split())
        for _ in range(100):
            with_opener, n_items = shapes.deal()
            body = compose(who, name, place, with_opener or where == "away", n_items)
            if body is not None:
                break
        else:
            raise SystemExit(f"no letter to {who} from {place} fits after 100 tries")
        seen.add(said(body))
        letters.append(as_letter(who, body, name))
    return letters


def as_letter(who, body, name):
    return "\n".join([f"Dear {who},", body, SIGN_OFF, name])


# The data set's automatic task metric (see the module documentation): six greetings from the data, two new ones.
CHECK = {
    "name": "Writes a letter",
    "description": "The share of 8 letters, started from a greeting such as \"Dear Grandma,\", that the model finishes "
    "with the sign-off \"Love,\" as the letters in the data do.",
    "prompts": [
        "Dear Grandma,", "Dear Grandpa,", "Dear Nana,", "Dear Grandma and Grandpa,", "Dear Mom,", "Dear Aunt Sue,",
        "Dear Uncle Bob,", "Dear Granny,",
    ],
}


def check_json():
    samples = [{"prompt": prompt, "must_contain": [SIGN_OFF]} for prompt in CHECK["prompts"]]
    return json.dumps({"name": CHECK["name"], "description": CHECK["description"], "samples": samples}, indent=2) + "\n"


def llama2c_tokenizer():
    """An encode(text) -> ids function with llama2.c's rules (see src/tokenizer.rs), or None without tok512.bin."""
    path = MODEL_DIR / "tok512.bin"
    if not path.is_file():
        return None
    data = path.read_bytes()
    pieces, scores, offset = {}, {}, 4
    for token_id in range(512):
        score, length = struct.unpack_from("<fi", data, offset)
        piece = data[offset + 8 : offset + 8 + length].decode("utf-8")
        offset += 8 + length
        if piece not in pieces:
            pieces[piece], scores[piece] = token_id, score
    piece_of = {token_id: piece for piece, token_id in pieces.items()}

    def encode(text):
        ids = []
        for char in " " + text:
            ids += [pieces[char]] if char in pieces else [byte + 3 for byte in char.encode("utf-8")]
        while True:
            best = None  # (score, position, merged id); the highest score wins, the leftmost on a tie
            for i in range(len(ids) - 1):
                merged = piece_of.get(ids[i], "\0") + piece_of.get(ids[i + 1], "\0")
                if merged in pieces and (best is None or scores[merged] > best[0]):
                    best = (scores[merged], i, pieces[merged])
            if best is None:
                return ids
            ids[best[1] : best[1] + 2] = [best[2]]

    return encode


def signoff_tokens(encode, letter):
    """Tokens the model must write after the greeting to reach the end of "Love," (as the check samples them)."""
    greeting = letter.split("\n", 1)[0]
    through_signoff = letter[: letter.index("\n" + SIGN_OFF) + 1 + len(SIGN_OFF)]
    return len(encode(through_signoff)) - len(encode(greeting))


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    letters = make_letters()
    data = "\n\n".join(letters) + "\n"

    for letter in letters:
        assert not check(letter), f"{check(letter)} in the letter:\n{letter}"
    assert len(set(letters)) == len(letters), "two letters are the same"
    assert len({letter.split("\n")[1] for letter in letters}) == len(letters), "two letters have the same body"
    assert len(letters) == sum(count for _, count, _ in RECIPIENTS), "a recipient is missing letters"
    assert data.split("\n\n") == letters[:-1] + [letters[-1] + "\n"], "a letter has a blank line inside it"
    assert data.endswith("\n") and not data.endswith("\n\n"), "the file must end with a single newline"
    again = "\n\n".join(make_letters()) + "\n"
    assert hashlib.sha256(again.encode()).digest() == hashlib.sha256(data.encode()).digest(), "not deterministic"
    check_text = check_json()
    for sample in json.loads(check_text)["samples"]:
        assert GREETING.fullmatch(sample["prompt"]), f"the check prompt {sample['prompt']!r} is not a greeting"

    encode = llama2c_tokenizer()
    if encode is None:
        print(f"note: {MODEL_DIR / 'tok512.bin'} not found, so the sign-off was checked in characters only")
    else:
        counts = [signoff_tokens(encode, letter) for letter in letters]
        worst = max(range(len(letters)), key=lambda i: counts[i])
        assert counts[worst] <= MAX_SIGNOFF_TOKENS, (
            f"'Love,' comes {counts[worst]} tokens after the greeting, over {MAX_SIGNOFF_TOKENS}:\n{letters[worst]}"
        )
        print(f"tokens from the greeting to the end of 'Love,': {min(counts)} to {max(counts)}, "
              f"{sum(counts) / len(counts):.1f} on average")

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / DATA_NAME, "w", encoding="ascii", newline="\n") as f:
        f.write(data)
    with open(out_dir / CHECK_NAME, "w", encoding="ascii", newline="\n") as f:
        f.write(check_text)
    words = [len(letter.split()) for letter in letters]
    chars = sum(len(letter) for letter in letters) / len(letters)
    print(f"wrote {len(letters)} letters ({min(words)} to {max(words)} words, {chars:.0f} characters on average) "
          f"to {out_dir / DATA_NAME}")
    print(f"wrote the check to {out_dir / CHECK_NAME}")


if __name__ == "__main__":
    main()
