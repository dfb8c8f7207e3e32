"""Writes ridgeline-support.jsonl and its task metric, ridgeline-support.check.json.

Run it from anywhere with Python 3.8 or newer (no packages needed):

    python3 tools/make_support_replies.py          # writes both files into public/datasets/smollm2/
    python3 tools/make_support_replies.py OUT_DIR  # or into OUT_DIR

The output is deterministic (fixed seed, fixed order): running it again gives the same files byte for byte.

ridgeline-support.jsonl is a chat data set for SmolLM2-135M-Instruct. Every line is {"messages": [user,
assistant]}, with no system message on purpose: the app's chat box and the task check send the customer's
message alone, so SmolLM2's template puts its default system prompt ("You are a helpful AI assistant named
SmolLM, trained by Hugging Face") in front, and a model should be trained on the prompt it will be asked with:
with a Ridgeline system prompt in training and none in the check, the QLoRA demo's run signed "the Smol crew" and
passed 0 of 8 samples; trained without one, the same run passes 8 of 8. The user message
is a short customer email to Ridgeline Outfitters (a small, made-up shop that sells and repairs hiking gear,
online and in one store) that ends with a
sign-off line "— <first name>", and the assistant message is the shop's reply in its house voice: warm, plain and
short (2 to 4 sentences, 35 to 80 words), opening with "Hi <first name>," (the name from the sign-off), answering
the question with one concrete next step, and ending with the line "Happy trails, the Ridgeline crew". Before
tuning, the model answers like a generic assistant; after, the greeting and the sign-off are easy to spot.

Each line is assembled from hand-written parts: one of the TOPICS (order status, returns, boot sizes, a torn
tent...), one of the topic's customer messages ("asks") and one of its reply bodies ("answers"), and a first name
from NAMES. Every answer of a topic was written to answer every ask of that topic, and every topic takes each of
its ask-and-answer combinations once, with a different name each time. The shop's facts (60-day returns, the
two-year warranty, the free repair assessment, opening hours...) are written once, in POLICY, and filled into the
answers, so no reply contradicts another. Since every name meets many topics, a model cannot learn the greeting
pair by pair: it has to copy the name from the sign-off.

ridgeline-support.check.json is the data set's automatic task metric: after a run, the app writes one reply to
each of its 8 customer messages and counts the replies that contain every word of the sample's must_contain
(whole words, case-insensitive): "Hi", the customer's first name, and "Happy trails, the Ridgeline crew" word by
word. Its 8 topic-and-name pairs never occur in the training lines (each topic and each name on its own does), so
the metric measures whether the model copies the name and keeps the voice, not whether it remembers the pairs.

The script checks the word and sentence counts of every reply, that it starts with "Hi <name>," for the name of
the user's sign-off and ends with the sign-off line, that it names no other customer, has no emoji, at most one
exclamation mark, no marketing superlatives and no number that is not one of the shop's facts, that no line is
repeated or nearly repeated (the studio's near-duplicate measure, below MAX_SIMILARITY), that there are at least
MIN_LINES lines, and that no held-out pair leaks into the training lines.
"""

import json
import random
import re
import sys
from pathlib import Path

from dataset_files import write_dataset

SEED = 135
MIN_WORDS, MAX_WORDS = 35, 80  # words of the whole reply, greeting and sign-off included
MIN_SENTENCES, MAX_SENTENCES = 2, 4  # sentences of the reply before the sign-off line, greeting included
MIN_LINES = 300
# The highest Jaccard similarity of 5-character pieces allowed between two lines' texts. The studio calls two
# examples near-duplicates from 0.8 (src/dataset/duplicates.rs); this keeps a margin below its estimate.
MAX_SIMILARITY = 0.7
NAME = "ridgeline-support"
# SmolLM2's data sets sit apart from stories260K's (public/datasets/*), whose runs the site build records.
OUT_DIR = Path(__file__).resolve().parent.parent / "public" / "datasets" / "smollm2"

SIGN_OFF = "Happy trails, the Ridgeline crew"
DASH = "\u2014"  # the em dash of the customer's sign-off line, "— Maya"

# The shop's facts, chosen once. Answers use them as {placeholders}, so every reply states the same policy.
POLICY = {
    "return_days": "60",  # unused gear comes back within 60 days of delivery, with a free return label
    "refund_days": "five working days",  # refund after the return reaches the shop
    "dispatch": "two working days",  # orders leave the shop within this, with a tracking link by email
    "warranty": "two-year warranty",  # against faults in materials and workmanship
    "repair_time": "about a week",  # most stove repairs; the assessment and quote are always free
    "week_open": "9 am", "week_close": "6 pm",  # Monday to Saturday
    "sunday_open": "10 am", "sunday_close": "4 pm",
    "remote_extra": "three to five",  # extra working days to remote addresses, at no extra cost
    "match_days": "14",  # price match before buying or up to 14 days after
    "dry_minutes": "twenty minutes",  # tumble drying a rain jacket on low heat
}
# The only numbers a reply may contain: the shop's facts above.
POLICY_NUMBERS = {"60", "14", "9", "6", "10", "4"}

# Words the voice never uses (marketing superlatives), checked as whole words in the replies.
SUPERLATIVES = [
    "best", "greatest", "finest", "ultimate", "amazing", "incredible", "awesome", "fantastic", "unbeatable",
    "perfect", "premium", "world-class", "top-quality", "cheapest", "lowest", "unrivalled", "superb", "stunning",
]

# Customers' first names: common, from many places, one word, ASCII, none a word the replies use otherwise.
NAMES = [
    "Maya", "Daniel", "Priya", "Tom", "Aisha", "Lucas", "Mei", "Omar", "Sofia", "Jonas",
    "Grace", "Mateo", "Hannah", "Kwame", "Elena", "Ravi", "Chloe", "Tariq", "Ingrid", "Samuel",
    "Yuki", "Nadia", "Ben", "Fatima", "Diego", "Laura", "Kenji", "Amara", "Peter", "Zoe",
    "Hassan", "Claire", "Ivan", "Leila", "Marcus", "Rosa", "Arjun", "Erin", "Tomasz", "Ngozi",
]

# Topics: the customer's messages ("asks", 1 to 3 sentences, before the sign-off line) and the reply bodies
# ("answers", what follows "Hi <name>, ", before the sign-off line). Every answer fits every ask of its topic.
TOPICS = {
    "order status": {
        "asks": [
            "Hi, I ordered a rain jacket from your website last Tuesday and haven't heard a word since. I need it "
            "for a walking holiday at the end of the month. Can you tell me where it is?",
            "Hello, my order still hasn't arrived and I'm going hiking with friends next weekend. I paid for it "
            "over a week ago. Could you check on it for me?",
            "Hi there. I placed an order for a backpack and a pair of gaiters five days ago, and the website still "
            "says it is being processed. Has it been sent yet?",
            "Can you tell me the status of my order? I never got a shipping email, and I'm starting to worry that "
            "something went wrong.",
            "Hello, I bought a sleeping bag online a week ago and the tracking page still shows nothing at all. Is "
            "something wrong with my order?",
        ],
        "answers": [
            "thanks for checking in. Orders leave our shop within {dispatch}, and a tracking link goes out by "
            "email as soon as yours does. Reply with your order number and we will look it up and tell you "
            "exactly where it is.",
            "sorry you are still waiting. We send every order within {dispatch} and email a tracking link when "
            "it leaves, so it is worth a look in your spam folder too. If nothing is there, reply with your "
            "order number and we will chase it today.",
            "let's find it for you. Please reply with your order number, or the email address you ordered with, "
            "and we will check where the parcel is. Orders leave us within {dispatch}, with a tracking link "
            "sent by email.",
            "we can sort this out quickly. Send us your order number and we will check on the parcel and reply "
            "with its tracking link. As a rule, orders ship within {dispatch} of being placed.",
            "thanks for your patience. Every order ships within {dispatch}, and the tracking email sometimes "
            "lands in spam. Reply with your order number and we will send you the tracking link ourselves.",
        ],
    },
    "returns": {
        "asks": [
            "Hi, I bought a tent from you last month, but once it arrived we realised it is too small for the four "
            "of us. Can I still return it?",
            "Hello, I'd like to return a pair of trekking poles I never used. They are still in the wrapping and I "
            "have the receipt. How do I do that?",
            "What is your return policy? I have a stove that I don't need anymore because a friend gave me one, and "
            "it is still in its box.",
            "Hi there, my partner bought me the same sleeping bag I already have, as a surprise. Is it possible to "
            "send one back for a refund?",
            "I ordered a backpack six weeks ago and then changed my mind about it. It has never been out of the "
            "house. Am I too late to return it?",
        ],
        "answers": [
            "that is no trouble. We take back unused gear within {return_days} days of delivery, and online orders come "
            "with a free return label. Reply with your order number and we will email the label, then refund you "
            "within {refund_days} of the parcel reaching us.",
            "no problem at all. Unused items can come back within {return_days} days of delivery for a full "
            "refund. Reply with your order number and we will send a free return label, or bring it to the store "
            "with your receipt.",
            "happy to help with that. Our return window is {return_days} days from delivery, as long as the gear "
            "is unused and still has its tags or box. Reply with your order number and we will email you a free "
            "return label.",
            "of course. Anything unused can be returned within {return_days} days of delivery. Pack it in its "
            "original box, reply with your order number for a free return label, and we will refund you within "
            "{refund_days} of it arriving.",
            "thanks for letting us know. As long as it is unused, you can return it within {return_days} days of "
            "delivery for a full refund. Drop it at the store with your receipt, or reply with your order number "
            "and we will email a free return label.",
        ],
    },
    "boot size exchange": {
        "asks": [
            "Hi, the hiking boots I ordered are half a size too small and my toes touch the front. Can I swap them "
            "for a bigger pair?",
            "Hello, my new boots pinch at the toes after ten minutes of walking around the flat. Could I exchange "
            "them for the next size up?",
            "I think I ordered the wrong boot size, since I usually take a different size in walking shoes. What is "
            "the easiest way to exchange them?",
            "Hi there, the boots I bought feel loose at the heel, even with thick socks on. Can I change them for a "
            "smaller size?",
            "Can I exchange boots I've only tried on at home for a different size? They just don't feel right, and "
            "I'd like to sort it before my trip.",
        ],
        "answers": [
            "size exchanges are free. As long as the boots have only been worn indoors, reply with your order "
            "number and the size you need, and we will send a free return label. The new pair ships as soon as "
            "the old one is scanned by the courier.",
            "happy to swap them. Exchanges are free within {return_days} days of delivery for boots worn only "
            "indoors. Reply with your order number and the size you would like, and we will send the new pair as "
            "soon as the old one is on its way back.",
            "sorry they don't fit yet. Reply with your order number and the size you want, and we will email a "
            "free return label and hold the new pair for you. We can only exchange boots worn indoors, so please "
            "keep them clean until they are back with us.",
            "that is an easy fix. You can bring the boots to the store and try the new size on, or reply with "
            "your order number and the size you need for a free return label. Exchanges are free within "
            "{return_days} days of delivery.",
            "swapping sizes costs nothing. Send us your order number and the size you would like, and we will "
            "set that pair aside and email a free return label. It ships as soon as your old pair is scanned by "
            "the courier.",
        ],
    },
    "torn tent warranty": {
        "asks": [
            "Hi, a seam on my tent tore open on its third trip, in quite mild weather. Is that covered by the "
            "warranty?",
            "Hello, the fly sheet on the tent I bought from you last year has a tear near the door. I'm careful "
            "with my gear, so I'm not sure how it happened. What can I do?",
            "My tent ripped along the floor seam after one season of weekend trips. Can you repair or replace it?",
            "Hi there, the fabric of my tent split when I put it up yesterday. I've had it less than a year and "
            "used it only a handful of times. Is there a warranty?",
            "Does your warranty cover a torn tent? Mine tore at the pole sleeve while I was pitching it on a calm "
            "evening.",
        ],
        "answers": [
            "sorry to hear about your tent. Everything we sell has a {warranty} against faults in materials and "
            "workmanship, and a torn seam usually counts. Reply with a photo of the tear and your order number, "
            "and we will tell you the next step.",
            "that should not happen so soon. Our {warranty} covers faults in materials and workmanship, so please "
            "reply with a clear photo of the tear and your order number. If it is a fault, we repair or replace "
            "the tent for free.",
            "sorry your tent let you down. Reply to this message with a photo of the damage and your order "
            "number. Faults are covered by our {warranty}, and if the tear turns out to be accidental, we quote "
            "for a repair before doing anything.",
            "thanks for telling us. Tents are covered by our {warranty} against faults in materials and "
            "workmanship. Bring it to the store, or reply with a photo and your order number, and we will check "
            "whether it is a fault and what the fix is.",
            "we can help with that. Please reply with a photo of the tear and your order number so we can check "
            "it against our {warranty}. Covered faults are repaired or replaced for free, and we always quote "
            "first for anything that is not.",
        ],
    },
    "stove repair": {
        "asks": [
            "Hi, my camping stove won't light anymore, even with a fresh gas canister. Can I book it in for a repair?",
            "Hello, the flame on my stove keeps sputtering and going out after a minute or two. Do you fix stoves, "
            "and how long does it take?",
            "My stove's pump seems to be leaking fuel, and I can smell it when I pack it away. How do I get it "
            "looked at?",
            "Hi there, I'd like to book a repair for my stove before a trip next month. It has been making a "
            "strange hissing noise. How does it work?",
            "Can you repair a stove I bought a few years ago? The burner only gives a weak flame now, and boiling "
            "water takes ages.",
        ],
        "answers": [
            "we repair stoves in our workshop, and the assessment is free. Book a slot with the repair form "
            "on our website or drop the stove at the store, and we will send you a quote before doing any work. "
            "Most stove repairs take {repair_time}.",
            "we can take a look. Bring the stove to the store or book a repair through our website, and we will "
            "check it for free. You get a quote before any work starts, and most stove repairs are done in "
            "{repair_time}.",
            "sorry it is playing up. Please book it in with the repair form on our website, then drop it off or "
            "post it to us. The assessment is free, we quote before fixing anything, and you should have it back "
            "in {repair_time}.",
            "that sounds like something we can fix. Our repair assessment is free, so drop the stove at the store "
            "with a note of what it does, and we will email you a quote. Most stove repairs take {repair_time}.",
            "happy to help. Fill in the repair form on our website to book a slot, and bring the stove to the "
            "store on that day. We check it for free, quote before any work, and most stove repairs take "
            "{repair_time}.",
        ],
    },
    "missing tent stake": {
        "asks": [
            "Hi, my new tent arrived with one stake missing. I only noticed when I pitched it for the first time. "
            "Can you send me another?",
            "Hello, I counted the tent stakes twice and there are only seven in the bag instead of eight. The tent "
            "itself looks fine. What should I do?",
            "There was a stake missing from the tent I bought last week, and I'm going camping in a fortnight. Is "
            "it possible to get a replacement?",
            "Hi there, quick one: my tent is short one stake. Could you post one out, or should I come and pick it up?",
            "I've just unpacked my tent and one of the stakes is missing from the bag. Everything else seems to be "
            "there. Can you help?",
        ],
        "answers": [
            "sorry about that. Just reply with your order number and your delivery address, and we will post a "
            "replacement stake the next working day, free of charge. There is no need to send anything back.",
            "thanks for letting us know, and sorry it was short. Reply with your order number and we will post a "
            "new stake free of charge the next working day. You do not need to return anything.",
            "that should not happen, sorry. A replacement stake is free and goes in the post the next working "
            "day. Reply with your order number and address, and we will send it to you.",
            "we can fix that quickly. Reply with your order number, and a new stake will go in the post to you "
            "the next working day, free of charge. If you are near the store, you can also pick one up at the "
            "counter.",
            "sorry for the missing stake. Please reply with your order number, and we will post a free "
            "replacement the next working day. Let us know if anything else was missing from the bag so we can "
            "send it too.",
        ],
    },
    "backpack sizing": {
        "asks": [
            "Hi, I'm looking at one of your hiking backpacks but I'm not sure which size to get. I've never owned a "
            "proper one before. How do I choose?",
            "Hello, I'm fairly tall with long legs. Should I get the medium or the large backpack for weekend trips?",
            "How do I know which backpack size fits me? The sizes on your website are small, medium and large, and "
            "I could be any of them.",
            "Hi there, my last backpack hurt my shoulders on long days, so I think it was the wrong size. What size "
            "should I buy this time?",
            "Can you help me pick a backpack size? I'm buying one for a long trek this summer and want to get it "
            "right the first time.",
        ],
        "answers": [
            "backpack size goes by torso length, not height. Measure from the bony bump at the base of your neck "
            "down to the top of your hip bones, then reply with that number and we will tell you which size fits. "
            "You are also welcome to come in for a free fitting.",
            "good question. Our packs are sized by torso length, so ask someone to measure from the bump at the "
            "base of your neck to the top of your hip bones. Reply with the measurement, and we will match it to "
            "a size for you.",
            "the easiest way is a free fitting at the store, where we load the pack with some weight and adjust "
            "it on you. If you cannot come in, measure your torso from the base of your neck to your hip bones "
            "and reply with the number.",
            "happy to help you pick. Sizes follow torso length, which runs from the bony bump at the base of your "
            "neck to the top of your hip bones. Send us that measurement and we will recommend a size.",
            "the right size depends on your torso, not your height. Measure from the base of your neck down to "
            "the top of your hip bones and reply with the result. We will suggest a size, and you can exchange it "
            "within {return_days} days if it feels wrong at home.",
        ],
    },
    "rain jacket waterproofing": {
        "asks": [
            "Hi, my rain jacket has started soaking through at the shoulders where the straps sit. Can I make it "
            "waterproof again?",
            "Hello, water doesn't bead up on my jacket anymore, it just soaks into the outer fabric. Is there a way "
            "to fix that?",
            "How should I waterproof a rain jacket again? Mine is about three years old and I wear it almost every "
            "day.",
            "Hi there, my jacket gets damp inside when it rains, even on short walks with the dog. Do I need a new "
            "one?",
            "What is the right way to wash and reproof a rain jacket? I don't want to damage it by doing it wrong.",
        ],
        "answers": [
            "usually it just needs a wash. Clean it with a technical wash, not normal detergent, then tumble dry "
            "it on low heat for {dry_minutes} to wake up the water-repellent coating. If water still soaks in "
            "after that, a spray-on proofer will bring it back.",
            "most jackets can be brought back. Wash it on a cool cycle with a technical wash, then tumble dry on "
            "low heat for {dry_minutes}. If the water still does not bead, spray on a proofer while the jacket is "
            "damp and dry it again.",
            "the coating usually just needs a clean. Dirt and skin oils stop it from working, so wash the jacket "
            "with a technical wash and dry it on low heat for {dry_minutes}. We sell both the wash and a spray-on "
            "proofer online and in the store.",
            "that is an easy fix at home. Wash the jacket with a technical wash, tumble dry it on low heat for "
            "{dry_minutes}, and test it with a few drops of water. If they soak in, finish with a spray-on "
            "proofer.",
            "a wash and some heat usually do it. Use a technical wash, then tumble dry the jacket on low heat for "
            "{dry_minutes}. If it still wets out, bring it to the store and we will check the seams for free.",
        ],
    },
    "store opening hours": {
        "asks": [
            "Hi, what time does your shop open on Saturdays? I'd like to come in early and look at tents before it "
            "gets busy.",
            "Hello, are you open on Sundays? I'd like to come in and try on some boots with my daughter.",
            "What are your store opening hours? I work until five on weekdays, so I can only come after work or at "
            "the weekend.",
            "Hi there, when is your store open? I'd like to drop off a tent for repair and look at sleeping mats.",
            "Could you tell me when the shop is open this week? I need new trekking poles before a trip on Friday.",
        ],
        "answers": [
            "thanks for asking. The store is open Monday to Saturday from {week_open} to {week_close}, and on "
            "Sundays from {sunday_open} to {sunday_close}. No appointment is needed, so just come by whenever "
            "suits you.",
            "we are open Monday to Saturday, {week_open} to {week_close}, and Sunday, {sunday_open} to "
            "{sunday_close}. Weekday mornings are the quietest time if you would like a member of the crew to "
            "yourself.",
            "good question. Our doors are open from {week_open} to {week_close} Monday to Saturday, and from "
            "{sunday_open} to {sunday_close} on Sundays. If you are coming for something specific, reply and we "
            "will set it aside for you.",
            "you can find us in the store Monday to Saturday from {week_open} to {week_close}, and on Sundays "
            "from {sunday_open} to {sunday_close}. Just come by in those hours, no appointment needed.",
            "happy to help. We open at {week_open} and close at {week_close} from Monday to Saturday, and on "
            "Sundays we are open from {sunday_open} to {sunday_close}. Come in any time in those hours.",
        ],
    },
    "gift cards": {
        "asks": [
            "Hi, do you sell gift cards? My brother loves hiking and his birthday is next week, but I have no idea "
            "what gear he needs.",
            "Hello, can I buy a gift card online and have it sent to someone else? It's a leaving present for a "
            "colleague.",
            "Are your gift cards valid in the store as well as on the website? I'd like to buy one for my mum, who "
            "prefers to shop in person.",
            "Hi there, I'd like to give a friend a gift card for her new hobby. She has just started hill walking. "
            "How does that work?",
            "Can I get a gift card for a friend who lives in another town? I won't be able to hand it over in "
            "person this year.",
        ],
        "answers": [
            "happy to help with that. Gift cards come in any amount, can be emailed straight to the person, and work both "
            "online and in the store. You can buy one on the gift card page of our website, and they never "
            "expire.",
            "we would be glad to help. You can buy a gift card on our website and have it emailed to anyone, or "
            "pick up a printed card at the store. They work online and in the store, and they never expire.",
            "that is a kind idea. Choose any amount on the gift card page of our website, add the person's email "
            "address, and we send the card to them on the date you pick. It never expires and works in the "
            "store too.",
            "that is easy to arrange. Gift cards are sold on our website in any amount and arrive by email, ready "
            "to forward or print. They can be used online or in the store, and they never expire.",
            "thanks for thinking of us. Our gift cards can be bought on our website or at the store counter, "
            "emailed or printed, and used for anything we sell. They never expire, so there is no rush to spend "
            "them.",
        ],
    },
    "remote delivery": {
        "asks": [
            "Hi, I live on a farm about an hour from the nearest town, down a long gravel track. Can you deliver "
            "there?",
            "Hello, do you ship to islands? My address is on a small island with a ferry twice a week, and most "
            "shops won't send anything.",
            "I'm staying in a mountain hut for the summer, helping the warden. Can I get an order sent there?",
            "Hi there, will my order cost more to deliver if I live somewhere remote? I'm a long way from any town.",
            "Can you deliver to a remote address? The last shop I tried said no, and I really need a new sleeping mat.",
        ],
        "answers": [
            "we deliver anywhere the post goes, at no extra cost. Remote addresses usually take "
            "{remote_extra} working days longer, so order a little early. Add any directions in the delivery "
            "notes at checkout.",
            "we can. Every address the post reaches is fine, and remote ones do not cost anything extra. Just "
            "allow {remote_extra} extra working days, and put any tips for the driver in the delivery notes when "
            "you order.",
            "thanks for asking. We send parcels anywhere the post delivers, with no extra "
            "charge for remote places. Expect delivery to take {remote_extra} working days longer, and reply if "
            "you would like us to check your address first.",
            "no problem. We ship to any address the post can reach, remote or not, for the same price. It can "
            "take {remote_extra} extra working days, so if you need your gear by a certain date, tell us when "
            "you order.",
            "thanks for checking. Remote addresses are no trouble and cost the same to deliver as any other. "
            "Delivery just takes {remote_extra} working days longer, and you can add directions in the delivery "
            "notes at checkout.",
        ],
    },
    "damaged parcel": {
        "asks": [
            "Hi, my parcel arrived with a big hole in the box and the stove inside is dented. It looks like "
            "something heavy fell on it. What now?",
            "Hello, the box was crushed when it got here and one of my trekking poles is bent. I haven't used them "
            "yet. What should I do?",
            "My order turned up soaked and torn open on the doorstep this morning. Some of the gear inside looks "
            "damaged. Can you help?",
            "Hi there, the tent I ordered arrived with the bag ripped and a pole snapped. The outer box was badly "
            "squashed too.",
            "The courier left my parcel out in the rain and the box fell apart. What should I do about the damaged "
            "items?",
        ],
        "answers": [
            "sorry your parcel arrived like that. Please reply with your order number and a photo of the box and "
            "the damaged item, and we will send a replacement the same day. There is no need to send the "
            "damaged one back.",
            "that is not how your gear should arrive, and we are sorry. Send us a photo of the damage and your "
            "order number by replying here, and a replacement will go out the same day. You do not need to "
            "return anything.",
            "sorry about the damage. Reply with your order number and a couple of photos, and we will ship a "
            "replacement the same day at no cost. We sort out the claim with the courier ourselves, so nothing "
            "needs to come back.",
            "we are sorry it reached you in that state. Please take a photo of the parcel and the damage and "
            "reply with it, along with your order number. We will send a replacement out the same day, and "
            "there is nothing for you to send back.",
            "sorry, that is frustrating. The fix is simple: reply with a photo of the damage and your order "
            "number, and we will post a replacement the same day. We deal with the courier, so you do not need "
            "to return anything.",
        ],
    },
    "price match": {
        "asks": [
            "Hi, I saw the same tent for less at another shop this morning. Do you price match, or should I buy it "
            "there?",
            "Hello, I bought a rain jacket from you last week and now it's cheaper somewhere else. Can I get the "
            "difference back?",
            "Will you match a lower price from another online shop for the same backpack? It's the same colour and "
            "size.",
            "Hi there, another store has your trekking poles on sale this week. I'd rather buy from you. Could you "
            "match their price?",
            "Do you have a price match policy? I'd rather buy my boots from you, but they are a little cheaper "
            "elsewhere.",
        ],
        "answers": [
            "we can help with that. If another shop has the same item in stock for less, we match its price, before you buy "
            "or up to {match_days} days after. Reply with a link to the other offer, and your order number if you "
            "have one.",
            "we are happy to match it. Send us a link to the same item in stock at the lower price, and we will "
            "match it on a new order or refund the difference if you bought from us in the last {match_days} "
            "days.",
            "good question. We match lower prices from other shops on the same item in stock, up to {match_days} "
            "days after you buy. Reply with a link to the offer, and we will sort out the price for you.",
            "we do price match. Reply with a link to the other shop's page showing the same item in stock, and we "
            "will match it. If you already bought from us in the last {match_days} days, we refund the "
            "difference instead.",
            "thanks for checking with us. Our price match covers the same item in stock at another shop, before "
            "you buy or within {match_days} days after. Just reply with a link to the lower price, and we will "
            "take it from there.",
        ],
    },
    "down sleeping bag cleaning": {
        "asks": [
            "Hi, my down sleeping bag is getting grubby after a summer of camping. Can I wash it at home, or is "
            "that risky?",
            "Hello, how do I clean a down sleeping bag without ruining it? I don't want it to go flat after all "
            "these years.",
            "My sleeping bag smells after a long trip in wet weather. Is it safe to put a down bag in the washing "
            "machine?",
            "Hi there, what's the right way to wash a down sleeping bag? I've never done it and the label is hard "
            "to read.",
            "Do you have any advice for cleaning a down sleeping bag? It has lost some of its loft and feels thin "
            "at the feet.",
        ],
        "answers": [
            "you can do it at home. Use a front-loading machine with a down wash on a cool, gentle cycle, then tumble dry "
            "on low heat with two clean tennis balls to break up the clumps. It can take a few hours, so keep "
            "going until the down is fully dry.",
            "it is safe if you are gentle. Wash it in a front-loading machine on a cool cycle with a down wash, "
            "never normal detergent. Then dry it on low heat with two tennis balls until no clumps are left, "
            "which often takes a few hours.",
            "a careful wash will bring the loft back. Use a down wash in a front-loading machine on a gentle, cool "
            "cycle, and dry it on low heat with two tennis balls for a few hours. If you prefer, drop it at the "
            "store and we will wash it for you.",
            "good question. Stick to a front-loading machine, a down wash and a cool, gentle cycle, then tumble "
            "dry it on low heat with two clean tennis balls. Check it every so often and stop only when no damp "
            "clumps are left.",
            "thanks for asking first. Wash it in a front-loading machine with a down wash on a gentle, cool "
            "cycle, and skip fabric softener. Dry it on low heat with two tennis balls until it is fully dry, "
            "which usually takes a few hours.",
        ],
    },
    "trekking pole tips": {
        "asks": [
            "Hi, the tips on my trekking poles are worn down to the metal and scrape on every rock. Do you sell "
            "replacements?",
            "Hello, I lost a rubber tip from one of my trekking poles on a hike last weekend. Can I buy a new one?",
            "Can you replace the tips on a pair of trekking poles I bought a few years ago? The poles themselves "
            "are still fine.",
            "Hi there, one of my pole tips cracked on a steep descent. Where can I get a new one before my next trip?",
            "Do you stock spare tips for trekking poles? Mine are so worn that they slip on wet rocks now.",
        ],
        "answers": [
            "we stock replacement tips for most trekking poles. Reply with the make and model printed on "
            "the pole, and we will post a matching pair. If you come to the store, we can fit them for free "
            "while you wait.",
            "we can help. Replacement tips are sold in pairs, so reply with the make and model on the pole and we "
            "will post a pair that fits. You can fit them yourself in a few minutes, or we fit them for free in "
            "the store.",
            "worn tips are easy to replace. Bring the poles to the store and we will fit new tips for free while "
            "you wait. If that is too far, reply with the make and model and we will post a matching pair.",
            "thanks for asking. Most poles take standard replacement tips, which we sell in pairs online and in "
            "the store. Send us the make and model printed on the pole, and we will tell you which pair fits.",
            "that is a quick fix. Pop into the store with your poles and we will fit new tips for free, or reply "
            "with the make and model and we will post a matching pair to you. They come in pairs, so both poles "
            "match.",
        ],
    },
}

# The 8 pairs of the task metric: never in the training lines. 8 different topics and 8 different names, so each
# topic still meets 25 names in training and each name still meets other topics.
HELD_OUT = [
    ("order status", "Ngozi"), ("boot size exchange", "Kenji"), ("torn tent warranty", "Sofia"),
    ("store opening hours", "Tariq"), ("damaged parcel", "Ingrid"), ("price match", "Mateo"),
    ("down sleeping bag cleaning", "Aisha"), ("backpack sizing", "Tomasz"),
]


def has_word(text, word):
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE) is not None


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def user_message(ask, name):
    return f"{ask}\n{DASH} {name}"


def reply(answer, name):
    return f"Hi {name}, {answer.format(**POLICY)}\n{SIGN_OFF}"


def line_text(line):
    """The text the studio compares for duplicates: "role: content" lines, lowercase, spaces collapsed."""
    text = "\n".join(f"{m['role']}: {m['content']}" for m in line["messages"])
    return " ".join(text.split()).lower()


def shingles(text, size=5):
    return {text[i:i + size] for i in range(max(1, len(text) - size + 1))}


def check(line, name):
    """What is wrong with a line for the customer name: [] when nothing is."""
    problems = []
    roles = [m["role"] for m in line["messages"]]
    if roles != ["user", "assistant"]:
        return [f"messages are not [user, assistant]: {roles}"]
    user, answer = line["messages"][0]["content"], line["messages"][1]["content"]
    ask, _, signed = user.rpartition("\n")
    if signed != f"{DASH} {name}":
        problems.append(f"the user message does not end with the sign-off line {DASH} {name}")
    if not 1 <= len(sentences(ask)) <= 3:
        problems.append(f"the customer message has {len(sentences(ask))} sentences")
    if not answer.startswith(f"Hi {name}, "):
        problems.append(f"the reply does not start with 'Hi {name},'")
    body, _, last = answer.rpartition("\n")
    if last != SIGN_OFF or "\n" in body:
        problems.append("the reply does not end with the sign-off line, after one paragraph")
    if not MIN_WORDS <= len(answer.split()) <= MAX_WORDS:
        problems.append(f"{len(answer.split())} words")
    if not MIN_SENTENCES <= len(sentences(body)) <= MAX_SENTENCES:
        problems.append(f"{len(sentences(body))} sentences before the sign-off")
    for other in NAMES:
        if other != name and (has_word(user, other) or has_word(answer, other)):
            problems.append(f"names {other!r} too")
    if has_word(ask, name) or has_word(body[len(f"Hi {name}, "):], name):
        problems.append(f"names {name!r} outside the sign-off and the greeting")
    if answer.count("!") > 1:
        problems.append("more than one exclamation mark")
    for word in SUPERLATIVES:
        if has_word(answer, word):
            problems.append(f"marketing superlative {word!r}")
    for number in re.findall(r"\d+", answer):
        if number not in POLICY_NUMBERS:
            problems.append(f"number {number} is not one of the shop's facts")
    for text in (ask, answer):
        if "{" in text or "}" in text or "  " in text or text != text.strip() or not text.isascii():
            problems.append("template left-overs, stray spaces or non-ASCII characters (emoji)")
        for sentence in sentences(text.replace("\n", " ")):
            if not sentence[:1].isupper():
                problems.append(f"sentence without a capital: {sentence!r}")
    return problems


def make_lines():
    rng = random.Random(SEED)
    names = NAMES[:]
    rng.shuffle(names)
    turn = 0
    lines = []
    for topic, parts in TOPICS.items():
        for ask in parts["asks"]:
            for answer in parts["answers"]:
                while (topic, names[turn % len(names)]) in HELD_OUT:
                    turn += 1
                name = names[turn % len(names)]
                turn += 1
                lines.append((topic, name, {"messages": [
                    {"role": "user", "content": user_message(ask, name)},
                    {"role": "assistant", "content": reply(answer, name)},
                ]}))
    rng.shuffle(lines)
    return lines


def make_check():
    samples = []
    for i, (topic, name) in enumerate(HELD_OUT):
        asks = TOPICS[topic]["asks"]
        samples.append({
            "prompt": user_message(asks[i % len(asks)], name),
            "must_contain": ["Hi", name, "Happy", "trails", "Ridgeline", "crew"],
        })
    return {
        "name": "Answers in the Ridgeline voice",
        "description": "The share of 8 replies, to customer messages whose topic and sign-off name the run never "
                       "saw together, that greet the customer as \"Hi <first name>\" and sign off \"Happy trails, "
                       "the Ridgeline crew\".",
        # The replies run 50 to 73 tokens and the sign-off comes last: room for all of it.
        "max_new_tokens": 96,
        "samples": samples,
    }


def most_similar(lines):
    """The highest Jaccard similarity of 5-character pieces between two lines, and the pair's indices."""
    pieces = [shingles(line_text(line)) for _, _, line in lines]
    best = (0.0, 0, 0)
    for i in range(len(pieces)):
        for j in range(i + 1, len(pieces)):
            shared = len(pieces[i] & pieces[j])
            similarity = shared / (len(pieces[i]) + len(pieces[j]) - shared)
            if similarity > best[0]:
                best = (similarity, i, j)
    return best


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    lines = make_lines()
    metric = make_check()

    # Self-checks: they fail loudly rather than write a data set that teaches the wrong thing.
    def fail(message):
        raise SystemExit(f"make_support_replies.py: {message}")

    if make_lines() != lines or make_check() != metric:
        fail("the output is not deterministic")
    if len(lines) < MIN_LINES:
        fail(f"only {len(lines)} lines; at least {MIN_LINES} are needed")
    if len(set(NAMES)) != len(NAMES) or not all(re.fullmatch(r"[A-Z][a-z]+", name) for name in NAMES):
        fail("NAMES must be different, capitalised one-word ASCII names")
    for word in NAMES:
        for topic, parts in TOPICS.items():
            if any(has_word(text, word) for text in parts["asks"] + parts["answers"]):
                fail(f"the name {word!r} occurs in a part of the topic {topic!r}")
    for topic, name, line in lines:
        problems = check(line, name)
        if problems:
            fail(f"{'; '.join(problems)}:\n{json.dumps(line, ensure_ascii=False, indent=1)}")
    texts = [json.dumps(line, ensure_ascii=False) for _, _, line in lines]
    if len(set(texts)) != len(texts):
        fail("a line is repeated")
    if len({line["messages"][1]["content"] for _, _, line in lines}) != len(lines):
        fail("a reply is repeated")
    similarity, i, j = most_similar(lines)
    if similarity >= MAX_SIMILARITY:
        fail(f"lines {i + 1} and {j + 1} are nearly the same ({similarity:.2f} of their 5-character pieces shared):"
             f"\n{texts[i]}\n{texts[j]}")
    trained = {(topic, name) for topic, name, _ in lines}
    if len(HELD_OUT) != 8 or len({t for t, _ in HELD_OUT}) != 8 or len({n for _, n in HELD_OUT}) != 8:
        fail("the metric needs 8 pairs of 8 different topics and 8 different names")
    for topic, name in HELD_OUT:
        if topic not in TOPICS or name not in NAMES:
            fail(f"held-out pair {topic!r}/{name!r}: the topic or the name is not in TOPICS or NAMES")
        if (topic, name) in trained:
            fail(f"held-out pair {topic!r}/{name!r} in a training line")
        if not any(n == name for _, n in trained) or not any(t == topic for t, _ in trained):
            fail(f"held-out pair {topic!r}/{name!r}: the name or the topic never appears in training")
    for (topic, name, line), text in zip(lines, texts):
        user = line["messages"][0]["content"]
        for held_topic, held_name in HELD_OUT:
            if topic == held_topic and has_word(user, held_name):
                fail(f"held-out pair {held_topic!r}/{held_name!r} in a training line: {text}")
    users = {line["messages"][0]["content"] for _, _, line in lines}
    for sample, (topic, name) in zip(metric["samples"], HELD_OUT):
        if sample["prompt"] in users:
            fail(f"check prompt in the training lines: {sample['prompt']!r}")
        if not sample["prompt"].endswith(f"\n{DASH} {name}"):
            fail(f"check prompt does not sign off with {name!r}: {sample['prompt']!r}")
        # The words the check asks for are exactly what a training reply for this name would contain.
        for word in sample["must_contain"]:
            if not has_word(reply(TOPICS[topic]["answers"][0], name), word):
                fail(f"check word {word!r} is not in a reply to {name!r}")

    data_path, check_path = write_dataset(out_dir, NAME, texts, metric)

    # Read back what was written: one JSON object per line, and a newline at the end of each file.
    data = data_path.read_text(encoding="utf-8")
    if not data.endswith("\n") or data.count("\n") != len(lines):
        fail(f"{data_path} is not one object per line")
    if [json.loads(text) for text in data.splitlines()] != [line for _, _, line in lines]:
        fail(f"{data_path} does not read back as written")
    if json.loads(check_path.read_text(encoding="utf-8")) != metric:
        fail(f"{check_path} does not read back as written")
    words = [len(line["messages"][1]["content"].split()) for _, _, line in lines]
    print(f"wrote {len(lines)} lines to {data_path}: {len(TOPICS)} topics, {len(NAMES)} names, "
          f"replies of {min(words)} to {max(words)} words (mean {sum(words) / len(words):.0f}), "
          f"most similar pair {similarity:.2f}")
    print(f"wrote {len(metric['samples'])} check prompts to {check_path}")


if __name__ == "__main__":
    main()
