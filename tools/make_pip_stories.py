"""Writes pip-the-purple-robot.jsonl, the demo data set of the lesson "Your first LoRA fine-tune".

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_pip_stories.py            # writes public/datasets/pip-the-purple-robot.jsonl (+ .check.json)
    python3 tools/make_pip_stories.py OUT.jsonl  # or writes OUT.jsonl and OUT.check.json

The output is deterministic (fixed seed, fixed order): running it again gives the same file byte for byte.

Every line is {"text": "..."}: one short, original children's story (50 to 90 words) in the simple style of
TinyStories, the data stories260K was pretrained on. All of them share a behaviour that is easy to spot in samples
after a short fine-tune:

- the main character is always Pip, a little purple robot, named as such in the first sentence or two;
- the story always ends with exactly the sentence "And Pip's light blinked happily."

Each story is assembled from one hand-written scenario (a setting and a small problem: a lost ball, a broken kite,
a cat up a tree, a muddy floor...) with a friend from FRIENDS, an opening, and one of the scenario's variants of
each step (scene, problem, fix, happy ending). Every variant of a step was written to follow every variant of the
step before, so all combinations read as a story. The script checks the word count, the character and the ending
of every story, and that no two stories are the same. The held-out split is made by the app, not here.
"""

import itertools
import json
import random
import sys
from pathlib import Path

SEED = 260
STORIES_PER_SCENARIO = 7
MIN_WORDS, MAX_WORDS = 50, 90
ENDING = "And Pip's light blinked happily."
OUT = Path(__file__).resolve().parent.parent / "public" / "datasets" / "pip-the-purple-robot.jsonl"

# Friends: name and pronouns. {F} name, {p} subject, {P} capitalised subject, {o} object, {ps} possessive,
# {Ps} capitalised possessive, {kid} boy or girl.
FRIENDS = [
    ("Lily", "f"), ("Tom", "m"), ("Ben", "m"), ("Sue", "f"), ("Max", "m"), ("Anna", "f"), ("Tim", "m"),
    ("Mia", "f"), ("Sam", "m"), ("Lucy", "f"), ("Jack", "m"), ("Amy", "f"), ("Sara", "f"), ("Leo", "m"),
]
PRONOUNS = {
    "f": {"p": "she", "P": "She", "o": "her", "ps": "her", "Ps": "Her", "kid": "girl"},
    "m": {"p": "he", "P": "He", "o": "him", "ps": "his", "Ps": "His", "kid": "boy"},
}

# Openings that introduce Pip before the scenario's own first sentence (which then says "Pip" again).
OPENINGS = [
    "Once upon a time, there was a little purple robot named Pip.",
    "Once upon a time, there was a little purple robot named Pip. He had a small light on top of his head.",
    "Pip was a little purple robot. He had round eyes and a light on his head.",
    "There once was a little purple robot called Pip. He liked to help his friends.",
    "Once upon a time, in a small town, there lived a purple robot named Pip.",
    "Pip was a small purple robot with a little light on his head. He loved to help.",
    "Once upon a time, there was a purple robot named Pip. He was little, but he was very kind.",
    "There was a little purple robot named Pip. When he walked, he went beep, beep, beep!",
    "Pip was a kind little purple robot. When he was happy, the light on his head blinked.",
    "Once upon a time, a little purple robot named Pip lived in a house with a red door.",
    "Pip was a little purple robot. He was as small as a cat, and he was very brave.",
    "Once there was a happy purple robot. His name was Pip.",
]

# For scenarios that give `when` and `where`: a first sentence after an opening (Pip already introduced) ...
INTROS = [
    "{When}, Pip {where} with his friend {F}.",
    "{When}, Pip and {F} {where}.",
    "Pip had a good friend named {F}. {When}, they {where}.",
]
# ... or one that introduces Pip itself.
LEADS = [
    "{When}, a little purple robot named Pip {where} with his friend {F}.",
    "Pip was a little purple robot. {When}, he {where} with {F}.",
    "{F} had a friend named Pip. Pip was a little purple robot with a light on his head. {When}, they {where}.",
]

# Each scenario: either `when` + `where` (filled into INTROS and LEADS) or its own `intro` (after an opening) and
# `lead` (introduces Pip as a purple robot itself); then variants of scene, problem, fix and end.
SCENARIOS = [
    {  # park: a lost ball
        "when": ["One sunny day", "One warm afternoon"],
        "where": "went to the park",
        "scene": ["They played catch with a big red ball.", "They kicked a red ball across the green grass."],
        "problem": [
            "{F} kicked the ball very hard. It flew over a bush and was gone. \"Where is my ball?\" {p} said.",
            "The ball rolled far away into the tall grass. They looked and looked, but they could not find it.",
        ],
        "fix": [
            "Pip turned on his light and looked under every bush. At last, he saw something red. It was the ball!",
            "Pip walked slowly through the grass. He looked left and right. Then he saw the red ball by a tree.",
        ],
        "end": [
            "{F} gave Pip a big hug. \"Thank you, Pip!\" {p} said.",
            "They played with the ball until the sun went down.",
        ],
    },
    {  # hill: a broken kite
        "when": ["One windy day", "One windy morning"],
        "where": "went up a big hill",
        "scene": ["{F} had a new kite with a long tail.", "They wanted to fly {F}'s blue kite."],
        "problem": [
            "The wind pulled hard, and the kite fell down. Now it had a big hole in it.",
            "The kite flew into a tree and came down with a broken stick. {F} was very sad.",
        ],
        "fix": [
            "\"I can fix it,\" said Pip. He found some tape in his bag and fixed the kite very carefully.",
            "Pip found a strong new stick and some string. He worked hard, and soon the kite was as good as new.",
        ],
        "end": [
            "Soon the kite was high up in the blue sky. {F} laughed and clapped.",
            "They ran down the hill, and the kite danced in the wind.",
        ],
    },
    {  # garden: a cat up a tall tree
        "when": ["One day", "One sunny morning"],
        "where": "played in the garden",
        "scene": ["Then they heard a small sound. \"Meow!\"", "Suddenly, they heard a little cry. \"Meow! Meow!\""],
        "problem": [
            "A little cat was at the top of a tall tree. It was scared and could not get down.",
            "They looked up. A small white cat was stuck high up in the tall tree.",
        ],
        "fix": [
            "Pip stretched his long arms up, up, up. He held the cat gently and brought it down.",
            "Pip climbed the tree very slowly. He picked up the cat and carried it down safely.",
        ],
        "end": [
            "The cat purred and rubbed its head on Pip. {F} smiled.",
            "{F} gave the cat a bowl of milk. The cat was happy, and so were they.",
        ],
    },
    {  # rain and kitchen: a muddy floor
        "when": ["One rainy day", "One wet spring day"],
        "where": "jumped in the puddles outside",
        "scene": ["They jumped and splashed and laughed.", "Splash! Splash! Soon their feet were covered in mud."],
        "problem": [
            "When they came inside, the kitchen floor was brown with mud. \"Oh no! Mom will be sad,\" said {F}.",
            "Then they ran into the kitchen. Their muddy feet made a big mess on the clean floor.",
        ],
        "fix": [
            "Pip got a bucket of water and a big cloth. He cleaned and cleaned until the floor was shiny.",
            "\"Let's clean it up,\" said Pip. {F} got a mop, and Pip got a cloth. They worked together until the "
            "floor was clean.",
        ],
        "end": [
            "When Mom came in, she smiled. \"What a clean floor!\" she said.",
            "Then {F} took off {ps} muddy boots and put them by the door.",
        ],
    },
    {  # beach: a sand castle and a wave
        "when": ["One hot summer day", "One sunny day"],
        "where": "went to the beach",
        "scene": ["They built a big sand castle near the water.", "They made a sand castle with four tall towers."],
        "problem": [
            "Then a big wave came and knocked the castle down. {F} started to cry.",
            "Whoosh! A big wave washed the castle away. {F} looked very sad.",
        ],
        "fix": [
            "\"Don't be sad,\" said Pip. \"We can build a new one, far from the water.\" They worked together and "
            "made an even bigger castle.",
            "Pip had an idea. They moved up the beach, where the waves could not reach, and built a new castle "
            "together.",
        ],
        "end": [
            "They put a pretty shell on the top. It was the best castle on the beach.",
            "This time, the waves did not reach it. {F} jumped up and down.",
        ],
    },
    {  # bakery: a dropped cake
        "when": ["One morning", "One busy morning"],
        "where": "went to help at the bakery",
        "scene": [
            "The bakery smelled of warm bread and sweet cakes.",
            "{F}'s mom made bread and cakes there every day.",
        ],
        "problem": [
            "{F} wanted to carry a big cake, but it was too heavy. Bump! The cake fell on the floor.",
            "A lady wanted a big chocolate cake, but {F} dropped it. The cake was all broken.",
        ],
        "fix": [
            "\"We can bake a new one together,\" said Pip. They mixed flour, eggs and sugar, and put the cake in "
            "the oven.",
            "Pip did not give up. He helped {F} mix a new cake, and they waited by the warm oven.",
        ],
        "end": [
            "The new cake was even better than the first one. Everyone wanted a piece.",
            "Soon the new cake was ready. It was soft and sweet, and it smelled so good.",
        ],
    },
    {  # birthday: no gift
        "intro": [
            "It was {F}'s birthday, and {p} asked {ps} friend Pip to come to the party.",
            "Today was {F}'s birthday. There was a big party with cake and balloons, and Pip was there too.",
        ],
        "lead": [
            "It was {F}'s birthday, and {p} asked {ps} friend Pip, a little purple robot, to come to the party.",
            "Pip was a little purple robot, and today was his friend {F}'s birthday.",
        ],
        "scene": ["All the other kids came with big presents.", "Everyone brought a gift in pretty paper."],
        "problem": [
            "But Pip did not have a gift. He felt sad and did not know what to do.",
            "Pip looked in his bag. Oh no! He had forgotten to bring a gift.",
        ],
        "fix": [
            "Then Pip had an idea. He found some paper and made a card with a big purple heart on it.",
            "So Pip sang {F} a happy birthday song. He beeped and danced, and everyone laughed.",
        ],
        "end": ["\"This is the best gift of all,\" said {F}.", "{F} hugged Pip. \"You are my best friend,\" {p} said."],
    },
    {  # birthday: a balloon in a tree
        "intro": [
            "Pip went to {F}'s birthday party in the park.",
            "It was {F}'s birthday, and Pip went to the party in the park.",
        ],
        "lead": [
            "One day, a little purple robot named Pip went to his friend {F}'s birthday party.",
            "Pip was a little purple robot. One sunny day, he went to {F}'s birthday party in the park.",
        ],
        "scene": ["There were games, a big cake and many balloons.", "{F} had a big red balloon on a long string."],
        "problem": [
            "Then the wind came, and {F}'s red balloon flew up into a tall tree.",
            "A gust of wind pulled the string, and the red balloon got stuck in a tree. {F} began to cry.",
        ],
        "fix": [
            "Pip climbed up the tree, one branch at a time. He took the string and brought the balloon down.",
            "Pip reached up as high as he could. He got the string and pulled the balloon down gently.",
        ],
        "end": [
            "{F} smiled and tied the balloon to {ps} chair. Then they all ate cake.",
            "\"Now my party is perfect,\" said {F}.",
        ],
    },
    {  # school: a broken crayon
        "when": ["One morning", "One day"],
        "where": "went to school",
        "scene": [
            "The teacher asked everyone to draw a big yellow sun.",
            "In class, the kids drew pictures of the sun.",
        ],
        "problem": [
            "But {F}'s yellow crayon was broken into tiny pieces. {P} looked sad.",
            "{F} looked in {ps} box. {P} had no yellow crayon!",
        ],
        "fix": [
            "Pip gave {F} his own yellow crayon. \"We can share,\" he said.",
            "\"You can use mine,\" said Pip, and he gave {F} his yellow crayon.",
        ],
        "end": [
            "{F} drew the biggest, brightest sun in the class.",
            "They drew two suns side by side, and the teacher put them on the wall.",
        ],
    },
    {  # school: scared to read
        "when": ["One day", "One morning"],
        "where": "went to school",
        "scene": [
            "Today, each child had to read a story to the class.",
            "The teacher said, \"Today we will read out loud.\"",
        ],
        "problem": [
            "{F} was scared. \"What if I make a mistake?\" {p} said.",
            "When it was {F}'s turn, {ps} hands shook. {P} was too scared to start.",
        ],
        "fix": [
            "Pip held {F}'s hand. \"You can do it,\" he said. \"I will be right here.\"",
            "Pip smiled and gave a small, happy beep. \"Take a big breath,\" he said.",
        ],
        "end": [
            "{F} read the whole story, and everyone clapped.",
            "So {F} read slowly and clearly. At the end, the class clapped and cheered.",
        ],
    },
    {  # farm: a lost pig
        "when": ["One sunny morning", "One day"],
        "where": "went to the farm",
        "scene": [
            "{F}'s grandpa had cows, hens and a little pink pig.",
            "They helped {F}'s grandpa feed the hens and the cows.",
        ],
        "problem": [
            "But the little pig had run out of the gate! Grandpa could not find it anywhere.",
            "Then Grandpa came running. \"My little pig is gone!\" he said.",
        ],
        "fix": [
            "Pip saw little pig tracks in the mud. He followed them all the way to the barn.",
            "Pip listened very carefully. \"Oink, oink!\" The sound came from the big barn.",
        ],
        "end": [
            "There was the pig, rolling in the hay. Grandpa laughed and said, \"Thank you, Pip!\"",
            "They found the pig asleep in the hay. Pip carried it back, and Grandpa shut the gate.",
        ],
    },
    {  # farm: a heavy pumpkin
        "when": ["One fall day", "One cool morning"],
        "where": "went to the farm",
        "scene": ["They wanted to pick the biggest pumpkin of all.", "There were many orange pumpkins in the field."],
        "problem": [
            "{F} found a huge pumpkin, but it was too heavy to lift. {P} pushed and pulled, but it did not move.",
            "The best pumpkin was so big and heavy that {F} could not carry it.",
        ],
        "fix": [
            "\"Let me help,\" said Pip. He was small, but he was strong. Together they rolled the pumpkin onto a "
            "little cart.",
            "Pip got a little cart. {F} pushed, Pip pulled, and the pumpkin went up onto the cart.",
        ],
        "end": [
            "At home, they made a funny face on the pumpkin.",
            "They took it home and showed it to Mom. \"What a big pumpkin!\" she said.",
        ],
    },
    {  # forest: lost in the dark
        "when": ["One afternoon", "One day"],
        "where": "went for a walk in the forest",
        "scene": [
            "They saw tall trees, pretty flowers and a little brown bunny.",
            "They followed a little bunny deep into the trees.",
        ],
        "problem": [
            "Soon it got dark, and they could not find the path home. {F} was scared.",
            "After a while, they looked around. They did not know the way home!",
        ],
        "fix": [
            "Pip turned on his bright light. He found the path and led {F} back, step by step.",
            "Pip made his light shine bright. \"Follow me,\" he said. Soon they saw {F}'s house.",
        ],
        "end": ["{F} held Pip's hand all the way home.", "\"You are a good friend, Pip,\" said {F}."],
    },
    {  # snow: the snowman's head falls off
        "when": ["One cold winter day", "One snowy morning"],
        "where": "went outside to play in the snow",
        "scene": [
            "They made a big snowman with a hat and a scarf.",
            "They rolled three big balls of snow and made a snowman.",
        ],
        "problem": [
            "Then the snowman's head fell off and broke into pieces. {F} was sad.",
            "Then a dog ran by and bumped the snowman. Plop! Its head fell off.",
        ],
        "fix": [
            "They rolled a new ball of snow. Pip lifted it up and put it on top, very gently.",
            "Pip helped {F} make a new head. This time they pressed the snow hard so it would stay.",
        ],
        "end": [
            "{F} gave the snowman a carrot nose. Now it looked happy.",
            "The snowman stood tall again, and they laughed and threw snowballs.",
        ],
    },
    {  # snow: a lost mitten
        "when": ["One snowy day", "One cold morning"],
        "where": "went sledding down a hill",
        "scene": ["They went down the hill again and again. Whee!", "The hill was white, and the sled went very fast."],
        "problem": [
            "Then {F} looked at {ps} hands. One of {ps} red mittens was gone!",
            "At the bottom, {F} said, \"My hand is cold! I lost my red mitten.\"",
        ],
        "fix": [
            "Pip walked back up the hill. He looked at the white snow and soon saw a little red spot. It was the "
            "mitten!",
            "Pip made his light shine on the snow. Something red was next to a rock. It was the mitten!",
        ],
        "end": [
            "{F} put it on, and {ps} hand was warm again.",
            "\"Thank you, Pip!\" said {F}. Then they went down the hill one more time.",
        ],
    },
    {  # rain: a sad friend stuck inside
        "intro": [
            "It was a rainy day, and Pip was at his friend {F}'s house.",
            "It rained and rained all day long. Pip and {F} had to stay inside.",
        ],
        "lead": [
            "It was a rainy day. A little purple robot named Pip was at his friend {F}'s house.",
            "Pip was a little purple robot. One rainy day, he went to see his friend {F}.",
        ],
        "scene": [
            "{F} looked out the window. \"I want to play outside,\" {p} said.",
            "They could not go to the park, and {F} felt sad.",
        ],
        "problem": [
            "\"There is nothing to do,\" {F} said with a frown.",
            "{F} sat on the floor. The day felt very long.",
        ],
        "fix": [
            "Then Pip had an idea. They made a big fort with pillows and blankets, and Pip's light made it warm "
            "and bright inside.",
            "Pip said, \"Let's build a fort!\" They used chairs, pillows and a big blanket. Inside, they told "
            "stories.",
        ],
        "end": [
            "When the rain stopped, they saw a big rainbow in the sky.",
            "{F} smiled. \"This is more fun than the park,\" {p} said.",
        ],
    },
    {  # rain: no umbrella
        "when": ["One afternoon", "One gray afternoon"],
        "where": "walked home from school",
        "scene": ["The sky was dark, and the wind was cold.", "They talked and laughed on the way."],
        "problem": [
            "Then big drops of rain began to fall. {F} had no umbrella, and {ps} hair got wet.",
            "Suddenly, it began to rain. {F} did not have a coat or an umbrella.",
        ],
        "fix": [
            "Pip opened his big yellow umbrella and held it over them both.",
            "Pip had a big umbrella in his bag. He opened it wide, and they stood under it together.",
        ],
        "end": ["They walked home slowly and jumped over the puddles.", "When they got home, {F} was dry and warm."],
    },
    {  # garden: thirsty flowers
        "when": ["One hot day", "One summer morning"],
        "where": "went to the garden",
        "scene": ["{F} had planted red, yellow and blue flowers there.", "The garden had many pretty flowers."],
        "problem": [
            "But the sun was very hot, and the flowers were dry and sad. They hung down low.",
            "But the flowers were thirsty. Their leaves were dry and brown.",
        ],
        "fix": [
            "Pip filled a can with water and gave each flower a drink. {F} helped too.",
            "Pip and {F} got the hose and gave the flowers lots of cool water.",
        ],
        "end": [
            "The next day, the flowers stood tall and bright again.",
            "Soon the flowers lifted their heads to the sun. A bee came to visit them.",
        ],
    },
    {  # park: a baby bird out of its nest
        "when": ["One spring morning", "One day"],
        "where": "went for a walk in the park",
        "scene": [
            "They heard a tiny \"Peep, peep!\" in the grass.",
            "Then they saw something small and soft on the grass.",
        ],
        "problem": [
            "It was a baby bird. It had fallen out of its nest, high up in a tree.",
            "It was a baby bird! Its nest was high in the tree, and it could not fly yet.",
        ],
        "fix": [
            "Pip held the bird very gently. He climbed the tree slowly and put it back in the nest.",
            "Pip stretched his long arms up high and put the baby bird back in its nest.",
        ],
        "end": ["The mother bird came home and sang a happy song.", "{F} clapped. \"The bird is home!\" {p} said."],
    },
    {  # kitchen: the sugar is too high
        "when": ["One morning", "One Saturday morning"],
        "where": "made cookies in the kitchen",
        "scene": ["They had flour, eggs and butter.", "{F}'s mom said they could use the big bowl."],
        "problem": [
            "But the sugar was on a high shelf. {F} could not reach it.",
            "Then they needed the sugar, but it was on the top shelf, too high for {F}.",
        ],
        "fix": [
            "Pip stood on a chair and stretched his arms. He got the sugar down.",
            "Pip stretched up, up, up and got the sugar down. \"Here you go,\" he said.",
        ],
        "end": [
            "They made cookies shaped like stars. Mom said they were the best cookies ever.",
            "Soon the kitchen smelled sweet. They shared the warm cookies with everyone.",
        ],
    },
    {  # pond: a toy boat stuck
        "when": ["One sunny afternoon", "One day"],
        "where": "went to the pond",
        "scene": ["{F} had a little toy boat with a white sail.", "They took {F}'s toy boat to sail on the water."],
        "problem": [
            "The wind pushed the boat far away. It got stuck in the middle of the pond.",
            "The boat sailed out too far. Now it was stuck, and {F} could not reach it.",
        ],
        "fix": [
            "Pip found a long stick. He reached out and pulled the boat back to the shore.",
            "Pip saw a duck swimming by. \"Can you help us?\" he asked. The duck pushed the boat back with its beak.",
        ],
        "end": [
            "{F} held the boat tight. \"Thank you, Pip!\" {p} said.",
            "They sailed the boat again, but this time they stayed close to the shore.",
        ],
    },
    {  # playground: scared of the slide
        "when": ["One sunny day", "One afternoon"],
        "where": "went to the playground",
        "scene": ["There was a big slide, a red swing and a sandbox.", "{F} looked up at the tall slide."],
        "problem": [
            "{F} wanted to go down the big slide, but {p} was scared. \"It is too high,\" {p} said.",
            "\"I want to go down, but I am scared,\" said {F}.",
        ],
        "fix": [
            "Pip said, \"I will go with you.\" They climbed up and went down together. Whee!",
            "Pip held {F}'s hand. \"We can go together,\" he said. They slid down side by side.",
        ],
        "end": [
            "{F} laughed. \"Again! Again!\" {p} said.",
            "At the bottom, {F} was smiling. It was not scary after all.",
        ],
    },
    {  # zoo: too small to see the lion
        "when": ["One sunny day", "One Sunday"],
        "where": "went to the zoo",
        "scene": [
            "They saw monkeys, a tall giraffe and a big gray elephant.",
            "{F} wanted to see the lion most of all.",
        ],
        "problem": [
            "Many people stood in front of the lion. {F} was too small to see.",
            "But when they got to the lion, a big crowd was there. {F} could not see anything.",
        ],
        "fix": [
            "Pip lifted {F} up onto his strong purple shoulders.",
            "Pip said, \"Climb on my back!\" He held {F} up high.",
        ],
        "end": [
            "\"I can see the lion!\" said {F}. The lion gave a big yawn, and they both laughed.",
            "The lion shook its big head. {F} waved, and Pip beeped hello.",
        ],
    },
    {  # bedtime: scared of the dark
        "intro": [
            "One night, Pip's friend {F} could not sleep.",
            "It was bedtime, but Pip's friend {F} was still awake.",
        ],
        "lead": [
            "{F} had a friend named Pip. Pip was a little purple robot with a light on his head. One night, {F} "
            "could not sleep.",
            "Once upon a time, a little purple robot named Pip lived in {F}'s room. One night, {F} could not sleep.",
        ],
        "scene": ["The room was very dark, and the wind made funny sounds.", "The room was dark and quiet."],
        "problem": [
            "\"I am scared of the dark,\" {p} said.",
            "{P} pulled the blanket up to {ps} nose. \"It is too dark,\" {p} said.",
        ],
        "fix": [
            "Pip made his light glow soft and warm. He told {F} a story about the moon and the stars.",
            "Pip came close and turned on his little light. He hummed a quiet song.",
        ],
        "end": [
            "Soon {F} closed {ps} eyes and fell fast asleep.",
            "Now the room did not look scary. {F} smiled and fell asleep.",
        ],
    },
    {  # toy room: a torn teddy bear
        "intro": [
            "Pip was at his friend {F}'s house. They played with {F}'s old teddy bear.",
            "One day, Pip and {F} played in {F}'s room.",
        ],
        "lead": ["One day, a little purple robot named Pip played with his friend {F} in {F}'s room."],
        "scene": ["{F} loved {ps} teddy bear more than any other toy.", "{F}'s best toy was a soft brown teddy bear."],
        "problem": [
            "Then {F} pulled the bear too hard. Rip! Its arm had a big hole, and {F} began to cry.",
            "Oh no! The bear's arm got caught on the door and tore.",
        ],
        "fix": [
            "Pip found a needle and some thread. Very carefully, he sewed the hole shut.",
            "\"I can fix it,\" said Pip. He sewed the arm with tiny stitches, slow and careful.",
        ],
        "end": [
            "{F} hugged the bear tight. \"He is as good as new!\" {p} said.",
            "The bear was soft and whole again. {F} gave Pip a big smile.",
        ],
    },
    {  # river: no bridge
        "when": ["One summer day", "One morning"],
        "where": "went for a walk by the river",
        "scene": [
            "On the other side, they saw a tree full of red berries.",
            "They wanted to go to the other side, where the flowers were.",
        ],
        "problem": [
            "But the water was too deep to walk through. {F} did not know what to do.",
            "But there was no bridge, and the water was cold and fast.",
        ],
        "fix": [
            "Pip found big flat stones and put them in a line across the water.",
            "Pip pushed some big rocks into the river, one by one, to make a path.",
        ],
        "end": [
            "They hopped across, one stone at a time. {F} did not even get wet.",
            "They hopped across and had a happy day on the other side.",
        ],
    },
    {  # park: a lost dog
        "intro": [
            "Pip had a friend named {F}, and {F} had a little brown dog named Spot.",
            "One day, Pip went to the park with {F} and {ps} little dog, Spot.",
        ],
        "lead": [
            "Pip was a little purple robot. His friend {F} had a little dog named Spot.",
            "Once upon a time, a little purple robot named Pip went to the park with {F} and {ps} dog, Spot.",
        ],
        "scene": ["Spot loved to run and chase sticks.", "Spot ran fast after birds and butterflies."],
        "problem": [
            "But then Spot ran after a butterfly and was gone. {F} called and called, but Spot did not come.",
            "Then Spot ran too far. {F} could not see the little dog anywhere.",
        ],
        "fix": [
            "Pip listened very hard. He heard a small bark far away. Spot was stuck under a bench!",
            "Pip looked behind every tree. At last, he found Spot under a big bush, chewing a stick.",
        ],
        "end": [
            "{F} hugged Spot, and Spot licked Pip's purple face.",
            "They all went home together, and Spot wagged his tail.",
        ],
    },
    {  # orchard: apples too high
        "when": ["One fall day", "One sunny afternoon"],
        "where": "went to pick apples",
        "scene": [
            "The apple tree was very tall, and the apples were red and shiny.",
            "They wanted to make an apple pie.",
        ],
        "problem": [
            "But the apples were too high. {F} jumped and jumped, but {p} could not reach them.",
            "But all the apples were high up at the top of the tree.",
        ],
        "fix": [
            "Pip stretched his long arms and picked the apples one by one.",
            "Pip gave the tree a gentle shake. Down came the apples, plop, plop, plop!",
        ],
        "end": [
            "They filled a whole basket. That night, they made a warm apple pie.",
            "They took the apples home and shared them with everyone.",
        ],
    },
    {  # market: dropped oranges
        "when": ["One morning", "One busy day"],
        "where": "went to the market",
        "scene": ["There was fruit and bread and many people.", "{F}'s mom wanted to buy bread and milk."],
        "problem": [
            "Then an old lady dropped her bag. Oranges rolled all over the street.",
            "Near the door, an old lady's bag broke. Round oranges rolled everywhere.",
        ],
        "fix": [
            "Pip and {F} ran to help. They picked up every orange and put them in a new bag.",
            "Pip ran after the oranges. He caught them, one, two, three, and {F} helped too.",
        ],
        "end": [
            "The old lady smiled. \"You are very kind,\" she said, and she gave them each an orange.",
            "\"Thank you, little robot,\" the lady said. {F} was proud of Pip.",
        ],
    },
    {  # camping: the fire goes out
        "when": ["One summer night", "One warm night"],
        "where": "went camping in the woods",
        "scene": ["They made a fire and ate warm soup.", "They put up a tent near a little lake."],
        "problem": [
            "Then the wind blew out the fire. It was very dark, and {F} could not see.",
            "When night came, their lamp broke. Everything was dark.",
        ],
        "fix": [
            "Pip turned on his light, bright and strong. Now everyone could see.",
            "\"I can help,\" said Pip. He turned on the light on his head, and the dark went away.",
        ],
        "end": [
            "They looked up at the stars and sang songs until it was time to sleep.",
            "They sat together and told stories under the stars.",
        ],
    },
    {  # school: spilled paint
        "when": ["One morning", "One rainy morning"],
        "where": "painted pictures at school",
        "scene": ["{F} painted a little house with a green door.", "{F} made a picture of a house and a tree."],
        "problem": [
            "Then {p} knocked over the blue paint. It spilled all over the picture! {F} began to cry.",
            "Oops! The cup of blue paint fell over, right on {F}'s picture.",
        ],
        "fix": [
            "Pip looked at it and said, \"Look! Now your house is by the sea!\" They painted a little boat on the "
            "blue water.",
            "Pip looked at it. \"It looks like a big blue sky,\" he said. He helped {F} paint birds and a yellow sun.",
        ],
        "end": [
            "{F} smiled. It was the best picture {p} had ever made.",
            "The teacher loved it and put it on the wall.",
        ],
    },
    {  # school: a new kid alone
        "intro": [
            "There was a new {kid} at Pip's school named {F}.",
            "One day, a new {kid} named {F} came to Pip's school.",
        ],
        "lead": [
            "Pip was a little purple robot who went to school. One day, a new {kid} named {F} came to his class.",
            "Once upon a time, there was a little purple robot named Pip. One day, a new {kid} named {F} came to "
            "his school.",
        ],
        "scene": ["{F} did not know anyone.", "At play time, {F} sat alone on a bench."],
        "problem": [
            "{P} looked sad and quiet while the other kids played.",
            "{P} looked at the other kids and wished {p} had a friend.",
        ],
        "fix": [
            "Pip went over and said, \"Hi! I am Pip. Do you want to play with me?\"",
            "Pip walked over with a ball. \"Do you want to play?\" he asked.",
        ],
        "end": [
            "{F} smiled a big smile. They played tag until the bell rang.",
            "They played all day. Now {F} had a new friend.",
        ],
    },
    {  # snow: hungry birds
        "when": ["One cold winter morning", "One snowy day"],
        "where": "looked out of the window",
        "scene": ["Everything was white with snow.", "Snow covered the trees and the ground."],
        "problem": [
            "A little bird hopped in the snow. It was cold and hungry, and it could not find any food.",
            "They saw some little birds on a branch. The birds looked hungry, because the snow hid all their food.",
        ],
        "fix": [
            "Pip and {F} put seeds and bread in a little box and hung it in the tree.",
            "Pip had an idea. He made a bird feeder from an old cup and filled it with seeds.",
        ],
        "end": [
            "Soon the birds came to eat. They sang a sweet song to say thank you.",
            "Soon many birds came. {F} and Pip watched them eat and smiled.",
        ],
    },
    {  # beach: a dropped ice cream
        "when": ["One hot day", "One sunny afternoon"],
        "where": "went to the beach",
        "scene": ["{F} got a big ice cream with a cherry on top.", "{F}'s dad bought {o} a pink ice cream."],
        "problem": [
            "But then a big bird flew down, and {F} dropped the ice cream in the sand!",
            "Then {F} tripped on a shell. Plop! The ice cream fell in the sand.",
        ],
        "fix": [
            "Pip had one shiny coin. He gave it to the ice cream man and got {F} a new ice cream.",
            "Pip went back to the ice cream man with his last coin. He came back with a new ice cream for {F}.",
        ],
        "end": [
            "{F} wanted to share it with Pip, but robots do not eat ice cream. Pip just smiled.",
            "{F} ate it slowly, and this time {p} held it very tight.",
        ],
    },
    {  # street: a fall from a bike
        "when": ["One sunny day", "One afternoon"],
        "where": "went out to ride bikes",
        "scene": ["{F} had a shiny new red bike.", "{F} was still learning to ride."],
        "problem": [
            "Then {F} hit a bump and fell off. {P} hurt {ps} knee and began to cry.",
            "{P} went too fast and fell down. There was a little cut on {ps} knee.",
        ],
        "fix": [
            "Pip helped {o} up. He cleaned the knee and put a bandage on it.",
            "Pip came quickly. \"Are you okay?\" he asked. He gave {F} a bandage with little stars on it.",
        ],
        "end": [
            "Then they rode slowly, side by side, all the way home.",
            "Soon {F} felt better and got back on the bike.",
        ],
    },
    {  # Grandma's house: lost glasses
        "intro": ["One day, Pip and {F} went to visit Grandma.", "Pip and {F} went to Grandma's house for tea."],
        "lead": [
            "One day, a little purple robot named Pip went with his friend {F} to visit Grandma.",
            "Pip was a little purple robot. One day, he and {F} went to Grandma's house for tea.",
        ],
        "scene": ["Grandma wanted to read them a story.", "Grandma had a big book of stories for them."],
        "problem": [
            "But she could not find her glasses. \"Where are they?\" she said.",
            "\"Oh dear,\" said Grandma. \"I can't find my glasses anywhere.\"",
        ],
        "fix": [
            "Pip and {F} looked under the chair, on the table and in the kitchen. Then Pip looked up. The glasses "
            "were on top of Grandma's head!",
            "They looked everywhere. Then Pip's light shone on Grandma's hair. Her glasses were right on top of her "
            "head!",
        ],
        "end": [
            "Everyone laughed, and Grandma read them a long story.",
            "Grandma laughed and laughed. Then she read them the story.",
        ],
    },
    {  # yard: a muddy dog needs a bath
        "intro": [
            "Pip went to play with {F} and {ps} big dog, Buddy.",
            "One sunny day, Pip played in the yard with {F} and {ps} dog, Buddy.",
        ],
        "lead": [
            "Pip was a little purple robot. His friend {F} had a big, happy dog named Buddy.",
            "Once upon a time, a little purple robot named Pip played in the yard with {F} and {ps} dog, Buddy.",
        ],
        "scene": [
            "Buddy ran and jumped into a big puddle of mud.",
            "Buddy saw a mud puddle and rolled in it, again and again.",
        ],
        "problem": [
            "Now Buddy was brown and dirty, but he did not want a bath. He ran away from the tub!",
            "Buddy needed a bath, but he was scared of the water.",
        ],
        "fix": [
            "Pip had an idea. He blew bubbles into the tub. Buddy loved bubbles, so he jumped right in!",
            "Pip made the water warm and put a little toy duck in the tub. Buddy jumped in to get the duck.",
        ],
        "end": [
            "Soon Buddy was clean and shiny. He shook his fur and got everyone wet!",
            "They washed him until he was clean. Then Buddy licked them both.",
        ],
    },
    {  # park: ants at a picnic
        "when": ["One sunny day", "One warm afternoon"],
        "where": "had a picnic in the park",
        "scene": ["They had sandwiches, apples and a big cookie.", "{F} put a red blanket on the grass."],
        "problem": [
            "Then many little ants came. They walked all over the sandwiches!",
            "Soon, a long line of ants came marching to their food.",
        ],
        "fix": [
            "Pip put a small piece of bread far away, under a tree. The ants took it and went home.",
            "Pip had an idea. He put some cookie crumbs away from the blanket, and the ants went to eat them.",
        ],
        "end": [
            "Now everyone had lunch, even the ants.",
            "Then {F} ate {ps} lunch in peace, and Pip sang a little song.",
        ],
    },
    {  # home: a seed that does not grow
        "intro": [
            "Pip's friend {F} planted a little seed in a pot.",
            "One day, Pip helped {F} plant a seed in a little pot.",
        ],
        "lead": [
            "Pip was a little purple robot. One day, he helped his friend {F} plant a seed in a pot.",
            "Once upon a time, a little purple robot named Pip gave his friend {F} a seed and a little pot.",
        ],
        "scene": ["Every morning, {F} looked at the pot.", "{F} wanted a big yellow flower."],
        "problem": [
            "But nothing grew. \"My seed is broken,\" {p} said sadly.",
            "After three days, there was still only dirt. {F} was sad.",
        ],
        "fix": [
            "\"Plants need time,\" said Pip. Every day, they gave the seed water and put it in the sun.",
            "Pip said, \"Let's wait and help it.\" They gave it water every day and sang to it.",
        ],
        "end": [
            "One morning, a little green leaf came up. It grew and grew into a tall yellow flower.",
            "At last, a tiny green plant came up out of the dirt. {F} jumped for joy.",
        ],
    },
    {  # home: a tower of blocks falls
        "intro": [
            "One rainy afternoon, Pip and {F} played with blocks.",
            "Pip and {F} wanted to build the tallest tower in the world.",
        ],
        "lead": [
            "One rainy afternoon, a little purple robot named Pip played with blocks with his friend {F}.",
            "Pip was a little purple robot. He and his friend {F} wanted to build the tallest tower in the world.",
        ],
        "scene": ["They put one block on top of another, higher and higher.", "The tower grew taller than {F}."],
        "problem": [
            "Then the tower shook and fell down. Crash! {F} was upset.",
            "Then {F} sneezed. Achoo! The whole tower fell down.",
        ],
        "fix": [
            "\"Let's try again,\" said Pip. \"This time, we will put the big blocks at the bottom.\"",
            "Pip helped {F} start again. They made the bottom wide and strong.",
        ],
        "end": [
            "The new tower was even taller, and it did not fall.",
            "This time, the tower stood tall. They put a little flag on the top.",
        ],
    },
    {  # street: nobody buys the lemonade
        "when": ["One hot summer day", "One sunny Saturday"],
        "where": "made lemonade",
        "scene": [
            "They set up a little table in front of {F}'s house.",
            "They put a table by the road and a sign that said \"Lemonade.\"",
        ],
        "problem": ["But no one came to buy any. {F} felt sad.", "They waited and waited, but nobody stopped."],
        "fix": [
            "Then Pip danced and beeped and waved his arms. People stopped to watch and laughed.",
            "So Pip sang a funny song with lots of beeps. Soon, kids came running to see the purple robot.",
        ],
        "end": [
            "In the end, all the lemonade was gone, and everyone was smiling.",
            "Everyone bought a cup. \"This is the best day,\" said {F}.",
        ],
    },
    {  # farm: a calf stuck in the mud
        "when": ["One rainy morning", "One wet day"],
        "where": "went to the farm",
        "scene": ["The ground was wet and soft.", "The farm was muddy after the rain."],
        "problem": [
            "A little cow was stuck in the mud. \"Moo!\" it cried. It could not get out.",
            "They heard a sad \"Moo!\" A baby cow was stuck deep in the mud.",
        ],
        "fix": [
            "Pip put a rope around the cow. Pip and {F} pulled and pulled, and out came the cow!",
            "Pip put some big boards on the mud. Slowly, the little cow walked out on the boards.",
        ],
        "end": [
            "The cow ran back to its mother, and {F} laughed.",
            "The farmer said, \"Thank you, Pip! You are a good robot.\"",
        ],
    },
    {  # playground: a broken swing
        "when": ["One sunny morning", "One afternoon"],
        "where": "went to the playground",
        "scene": ["{F} loved the old swing most of all.", "They ran to the swing by the big tree."],
        "problem": [
            "But the rope of the swing was broken. It hung down on one side. {F} was sad.",
            "But when {F} sat on the swing, the old rope broke. Bump! {P} fell in the sand.",
        ],
        "fix": [
            "Pip found a new rope. He climbed up the tree and tied it tight.",
            "Pip got a strong new rope from the shed. He tied the swing back up, nice and tight.",
        ],
        "end": [
            "{F} swung high, and Pip pushed {o}. \"Higher, Pip!\" {p} said.",
            "They took turns on the swing all afternoon.",
        ],
    },
    {  # sea: a lost shoe in the waves
        "when": ["One windy day", "One bright morning"],
        "where": "walked by the sea",
        "scene": ["{F} took off {ps} shoes and ran in the water.", "They looked for shells on the wet sand."],
        "problem": [
            "Then a wave came and took one of {F}'s shoes away!",
            "Then {F} saw that one of {ps} blue shoes was gone. The waves had taken it.",
        ],
        "fix": [
            "Pip looked and looked. He saw the shoe floating on a wave, and he picked it up before it went far.",
            "Pip ran along the water. At last, he found the blue shoe on the sand, next to a little crab.",
        ],
        "end": [
            "{F} laughed. \"Silly shoe!\" {p} said. \"Now you stay with me.\"",
            "{F} put the shoe on, and they walked home, happy and wet.",
        ],
    },
]


def fill(text, friend, scenario_when=""):
    name, gender = friend
    values = dict(PRONOUNS[gender], F=name, When=scenario_when)
    return text.format(**values)


def beginnings(scenario):
    """(opening, first sentence) pairs: the opening is "" when the first sentence introduces Pip itself."""
    out = []
    if "when" in scenario:
        for when in scenario["when"]:
            for intro in INTROS:
                for opening in OPENINGS:
                    out.append((opening, intro.replace("{where}", scenario["where"]), when))
            for lead in LEADS:
                out.append(("", lead.replace("{where}", scenario["where"]), when))
    else:
        for intro in scenario["intro"]:
            for opening in OPENINGS:
                out.append((opening, intro, ""))
        for lead in scenario["lead"]:
            out.append(("", lead, ""))
    return out


def check(text):
    words = text.split()
    head = " ".join(words[:25])
    problems = []
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        problems.append(f"{len(words)} words")
    if "Pip" not in head or "purple robot" not in head:
        problems.append("Pip, the purple robot, is not introduced in the first 25 words")
    if not text.endswith(" " + ENDING) or text.count(ENDING) != 1:
        problems.append("wrong ending")
    if "{" in text or "}" in text or "  " in text or text != text.strip():
        problems.append("template left-overs or stray spaces")
    return problems


def make_stories():
    rng = random.Random(SEED)
    friends = FRIENDS[:]
    rng.shuffle(friends)
    friend_turn = 0
    stories, seen = [], set()
    for scenario in SCENARIOS:
        starts = beginnings(scenario)
        rng.shuffle(starts)
        leads = [s for s in starts if not s[0]]
        intros = [s for s in starts if s[0]]
        steps = [scenario[k] for k in ("scene", "problem", "fix", "end")]
        middles = list(itertools.product(*[range(len(v)) for v in steps]))
        rng.shuffle(middles)
        made, used = 0, set()
        # Try each combination of scene, problem, fix and end once before any of them is used a second time.
        for i in range(len(middles) * 6):
            if made == STORIES_PER_SCENARIO:
                break
            middle = middles[i % len(middles)]
            if middle in used and i < len(middles):
                continue
            # About one story in three introduces Pip inside its first sentence; the rest open with OPENINGS.
            pool = leads if (i % 3 == 0 and leads) else intros
            opening, first, when = pool[(i // 3 if pool is leads else i) % len(pool)]
            friend = friends[friend_turn % len(friends)]
            parts = [opening, first] + [steps[k][j] for k, j in enumerate(middle)]
            text = " ".join(fill(p, friend, when) for p in parts if p) + " " + ENDING
            text = text[0].upper() + text[1:]
            if check(text) or text in seen:
                continue
            friend_turn += 1
            seen.add(text)
            used.add(middle)
            stories.append(text)
            made += 1
        if made < STORIES_PER_SCENARIO:
            raise SystemExit(f"only {made} stories fit for the scenario starting {steps[0][0]!r}")
    rng.shuffle(stories)
    return stories


# The data set's task metric (see src/task.rs): after a run, the app writes one continuation of each prompt (its
# index is the seed) with the base model and the fine-tuned one, and counts those that name Pip.
CHECK = {
    "name": "Pip rate",
    "description": "The share of 8 stories, each started from \"Once upon a time\", in which the model brings in Pip, "
    "the purple robot every story in the data is about.",
    "samples": [{"prompt": "Once upon a time", "must_contain": ["Pip"]} for _ in range(8)],
}


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    stories = make_stories()
    for story in stories:
        assert not check(story), (check(story), story)
    assert len(set(stories)) == len(stories)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for story in stories:
            f.write(json.dumps({"text": story}, ensure_ascii=False) + "\n")
    check_file = out.with_name(out.name.rsplit(".", 1)[0] + ".check.json")
    with open(check_file, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(CHECK, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {len(stories)} stories to {out}, and its task check to {check_file}")


if __name__ == "__main__":
    main()
