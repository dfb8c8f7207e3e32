//! Whether an answer is about its request: a labelling check. An answer that shares no word with its request is
//! often a labelling mistake (answers pasted one row out of step, a join on the wrong key, a label from another
//! example), so the studio lists it for the learner to look at. It is only a hint, the learner's call: a
//! translation, a yes or no, or a good answer in other words shares no word with its request either.

use super::example::Example;
use super::problem::{Problem, ProblemKind};

/// Words that say nothing about what a request is about: English function words and the words requests are made
/// of. A short list written out here rather than a stop-word crate, which would ship every language's list in the
/// page's WebAssembly.
const STOP_WORDS: [&str; 88] = [
    "about", "after", "again", "all", "also", "and", "any", "are", "because", "been", "before", "but", "can", "could",
    "did", "does", "doing", "for", "from", "give", "had", "has", "have", "her", "here", "hers", "him", "his", "how",
    "into", "its", "just", "let", "like", "make", "more", "most", "much", "must", "not", "now", "off", "once", "one",
    "only", "other", "our", "out", "over", "please", "say", "she", "short", "should", "some", "story", "tell", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "very", "was", "way", "were",
    "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "write", "you", "your", "yours",
    "explain", "describe",
];

/// The words of `text` that can say what it is about: lower-cased, three letters or more, not stop words.
fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Whether two words are the same word, allowing an ending (`frog`, `frogs`; `garden`, `gardening`).
fn same_word(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.chars().count() >= 4 && long.starts_with(short))
}

/// The request and the answer an example pairs: a prompt and its response (or its chosen answer), or a
/// conversation's first user message and the assistant's reply to it. Plain text has none.
fn request_and_answer(example: &Example) -> Option<(&str, &str)> {
    match example {
        Example::Text(_) => None,
        Example::PromptResponse { prompt, response } => Some((prompt, response)),
        Example::Preference { prompt, chosen, .. } => Some((prompt, chosen)),
        Example::Chat(messages) => messages
            .windows(2)
            .find(|pair| pair[0].role == "user" && pair[1].role == "assistant")
            .map(|pair| (pair[0].content.as_str(), pair[1].content.as_str())),
    }
}

/// The fewest content words a request needs to be judged: "Write a greeting." or "Pick one." say too little about
/// their answer ("Hello, and welcome!") for shared words to tell.
const JUDGED_FROM: usize = 2;

/// An [`ProblemKind::OffTopic`] problem when the answer uses none of the request's content words (a request with
/// fewer than [`JUDGED_FROM`] is not judged).
pub fn off_topic(example: &Example) -> Option<Problem> {
    let (request, answer) = request_and_answer(example)?;
    let mut asked: Vec<String> = Vec::new();
    for word in content_words(request) {
        if !asked.contains(&word) {
            asked.push(word);
        }
    }
    if asked.len() < JUDGED_FROM {
        return None;
    }
    let answered = content_words(answer);
    if asked.iter().any(|w| answered.iter().any(|a| same_word(w, a))) {
        return None;
    }
    let shown: Vec<&str> = asked.iter().take(4).map(String::as_str).collect();
    let field = if matches!(example, Example::Preference { .. }) { "chosen" } else { "response" };
    Some(Problem::new(
        ProblemKind::OffTopic,
        Some(field),
        format!(
            "the answer uses none of the request's words ({}): read it; if it answers another request (answers one \
             row out of step are a common export mistake), fix it or drop it, and if it is right, keep it",
            shown.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ChatMessage;

    fn pair(prompt: &str, response: &str) -> Example {
        Example::PromptResponse { prompt: prompt.into(), response: response.into() }
    }

    #[test]
    fn an_answer_to_another_request_is_flagged_with_the_words_it_lacks() {
        let problem = off_topic(&pair(
            "Tell me a story about a frog in the forest.",
            "One sunny day, a little mouse went to the zoo. It met a boy named Leo.",
        ))
        .expect("the mouse at the zoo does not answer the frog in the forest");
        assert_eq!(problem.kind, ProblemKind::OffTopic);
        assert_eq!(problem.field.as_deref(), Some("response"));
        assert!(problem.message.starts_with("the answer uses none of the request's words (frog, forest):"));
    }

    #[test]
    fn an_answer_that_names_its_subject_once_or_with_an_ending_is_not() {
        let request = "Write a short story about a frog in the forest.";
        assert_eq!(off_topic(&pair(request, "Once upon a time, two frogs sang all night.")), None);
        assert_eq!(off_topic(&pair(request, "The FOREST was quiet.")), None);
        // Too little to judge: a request of stop words alone, or with one word that says what it is about.
        assert_eq!(off_topic(&pair("Tell me one, please!", "Here it is.")), None);
        assert_eq!(off_topic(&pair("Write a greeting.", "Hello, and welcome!")), None);
        assert_eq!(off_topic(&Example::Text("a mouse at the zoo".into())), None);
    }

    #[test]
    fn preference_pairs_are_judged_on_the_chosen_answer_and_chats_on_the_first_reply() {
        let preference = Example::Preference {
            prompt: "A story about a duck at school.".into(),
            chosen: "A duck went to school.".into(),
            rejected: "A cat went to the park.".into(),
        };
        assert_eq!(off_topic(&preference), None);
        let swapped = Example::Preference {
            prompt: "A story about a duck at school.".into(),
            chosen: "A cat went to the park.".into(),
            rejected: "A duck went to school.".into(),
        };
        assert_eq!(off_topic(&swapped).map(|p| p.field), Some(Some("chosen".to_string())));
        let chat = |reply: &str| {
            Example::Chat(vec![
                ChatMessage::new("system", "You are the support team of Ridgeline."),
                ChatMessage::new("user", "My tent pole snapped on the first night."),
                ChatMessage::new("assistant", reply),
                ChatMessage::new("user", "Thanks!"),
                ChatMessage::new("assistant", "You are welcome."),
            ])
        };
        assert_eq!(off_topic(&chat("Sorry about the pole! Send us your order number for a new one.")), None);
        assert!(off_topic(&chat("Your refund is on its way.")).is_some(), "a reply to another message");
    }
}
