//! Training data as the model sees it: each [`Example`] (read by `crate::dataset`) turned into tokens with a loss
//! mask, and those cut into fixed-length training sequences.
//!
//! ## What the model learns from (the loss mask)
//! A model with a chat template (SmolLM2) reads prompt/response pairs, preference pairs (their chosen answer) and
//! chats through it: the conversation rendered as `apply_chat_template` renders it and encoded as one text, the
//! targets being each assistant reply and the end-of-turn token after it ([`crate::chat::ChatTemplate::pieces`]).
//! Text is the text and EOS, all targets (after BOS, for a model that starts sequences with one).
//!
//! A model without one (stories260K) gets this simple template. Every example starts with BOS (`<s>`). Each part
//! below is encoded separately with the tokenizer, which puts a space in front of each part, and the ids are
//! joined:
//! - text: BOS, the text, EOS. Every token after BOS is a target.
//! - prompt/response: BOS, the prompt, the response, EOS. Only the response and EOS are targets: the model
//!   learns to answer, not to write prompts.
//! - chat: BOS, then for each message its role label (`System:`, `User:` or `Assistant:`) and its content, and
//!   EOS after each assistant message. Only assistant contents and the EOS after each are targets. Decoded,
//!   a chat reads `System: Be kind. User: Tell me a story. Assistant: Once upon a time...</s>`; to ask the
//!   fine-tuned model, encode BOS, `User:`, the question and `Assistant:`, and generate until EOS.
//! - preference pair: as prompt/response with the chosen answer as the response (supervised fine-tuning on the
//!   preferred answers); the rejected answer is for preference tuning.

use crate::chat::Piece;
use crate::dataset::review::TokenFacts;
use crate::dataset::{ChatMessage, Example};
use crate::settings::LossMask;
use crate::tokenizer::TextTokenizer;

/// An example's tokens and, for each token, whether the model is trained to predict it.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizedExample {
    pub tokens: Vec<u32>,
    /// Same length as `tokens`; `loss_mask[i]` says whether `tokens[i]` is a prediction target.
    pub loss_mask: Vec<bool>,
}

impl TokenizedExample {
    fn push(&mut self, tokens: &[u32], is_target: bool) {
        self.tokens.extend_from_slice(tokens);
        self.loss_mask.extend(std::iter::repeat_n(is_target, tokens.len()));
    }

    /// The example with the targets `mask` picks: as tokenized for [`LossMask::Responses`]; every token after BOS
    /// for [`LossMask::PromptsToo`] (role labels of a chat included); the same without the `eos_id` tokens for
    /// [`LossMask::NoEndToken`].
    pub fn masked(&self, mask: LossMask, eos_id: u32) -> TokenizedExample {
        let loss_mask = match mask {
            LossMask::Responses => self.loss_mask.clone(),
            LossMask::PromptsToo => (0..self.tokens.len()).map(|i| i > 0).collect(),
            LossMask::NoEndToken => {
                self.loss_mask.iter().zip(&self.tokens).map(|(&target, &id)| target && id != eos_id).collect()
            }
        };
        TokenizedExample { tokens: self.tokens.clone(), loss_mask }
    }

    /// Its length and how many trained spans (runs of targets) do not end with `eos_id`: what the studio checks.
    pub fn facts(&self, eos_id: u32) -> TokenFacts {
        let mut spans_without_eos = 0;
        for (i, &is_target) in self.loss_mask.iter().enumerate() {
            let span_ends = is_target && !self.loss_mask.get(i + 1).copied().unwrap_or(false);
            if span_ends && self.tokens[i] != eos_id {
                spans_without_eos += 1;
            }
        }
        TokenFacts { tokens: self.tokens.len(), spans_without_eos }
    }
}

/// Text: BOS + text + EOS, all targets. PromptResponse: BOS + prompt + response + EOS, targets only on response
/// tokens and EOS (instruction tuning). Chat: the template in the module documentation, targets only on
/// assistant contents and the EOS after each. BOS is never a target (nothing comes before it).
///
/// A model with a chat template reads prompts, responses and chats through it instead ([`chat_example`]); the
/// template can refuse a conversation (one that does not start with the user, say), which is the error.
pub fn tokenize_example(example: &Example, tokenizer: &TextTokenizer) -> Result<TokenizedExample, String> {
    let start = tokenizer.start_ids();
    let mut out = TokenizedExample { tokens: start.to_vec(), loss_mask: vec![false; start.len()] };
    let eos = [tokenizer.eos_id()];
    match (example, tokenizer.chat_template()) {
        (Example::Text(text), _) => {
            out.push(&tokenizer.encode(text), true);
            out.push(&eos, true);
        }
        (
            Example::PromptResponse { prompt, response } | Example::Preference { prompt, chosen: response, .. },
            Some(template),
        ) => {
            let turns = [ChatMessage::new("user", prompt), ChatMessage::new("assistant", response)];
            chat_example(&mut out, &template.pieces(&turns)?, tokenizer);
        }
        (Example::Chat(messages), Some(template)) => chat_example(&mut out, &template.pieces(messages)?, tokenizer),
        (Example::PromptResponse { prompt, response } | Example::Preference { prompt, chosen: response, .. }, None) => {
            out.push(&tokenizer.encode(prompt), false);
            out.push(&tokenizer.encode(response), true);
            out.push(&eos, true);
        }
        (Example::Chat(messages), None) => {
            for message in messages {
                let is_assistant = message.role == "assistant";
                out.push(&tokenizer.encode(&role_label(&message.role)), false);
                out.push(&tokenizer.encode(&message.content), is_assistant);
                if is_assistant {
                    out.push(&eos, true);
                }
            }
        }
    }
    Ok(out)
}

/// [`tokenize_example`] for each example; an error names the example (from 1).
pub fn tokenize_examples(examples: &[Example], tokenizer: &TextTokenizer) -> Result<Vec<TokenizedExample>, String> {
    examples
        .iter()
        .enumerate()
        .map(|(index, example)| {
            tokenize_example(example, tokenizer).map_err(|why| format!("example {}: {why}", index + 1))
        })
        .collect()
}

/// The rendered conversation encoded as one text (so its ids are those `apply_chat_template` gives), each token a
/// target when it starts inside a trained piece.
fn chat_example(out: &mut TokenizedExample, pieces: &[Piece], tokenizer: &TextTokenizer) {
    let text: String = pieces.iter().map(|piece| piece.text.as_str()).collect();
    let mut trained = Vec::new();
    let mut at = 0;
    for piece in pieces {
        if piece.trained {
            trained.push(at..at + piece.text.len());
        }
        at += piece.text.len();
    }
    for (id, (start, _)) in tokenizer.encode_with_offsets(&text) {
        out.push(&[id], trained.iter().any(|span| span.contains(&start)));
    }
}

/// "user" → "User:".
fn role_label(role: &str) -> String {
    let mut chars = role.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}:", chars.as_str())
}

/// One fixed-length training sequence: inputs are `tokens[..seq_len]`, targets `tokens[1..]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingSequence {
    /// `seq_len + 1` tokens.
    pub tokens: Vec<u32>,
    /// `seq_len` flags: `targets_mask[j]` says whether target j (token j+1) counts in the loss.
    pub targets_mask: Vec<bool>,
}

/// Fixed-length training sequences of seq_len + 1 tokens (inputs are [..seq_len], targets [1..]): examples
/// longer than that are cut into consecutive windows (overlapping by one token so no target is lost); shorter
/// ones are padded with `pad_id` (EOS) whose positions are not targets. A window with no target at all (a long
/// prompt's start) is left out, and `seq_len` 0 gives no sequences.
pub fn training_sequences(examples: &[TokenizedExample], seq_len: usize, pad_id: u32) -> Vec<TrainingSequence> {
    let mut sequences = Vec::new();
    if seq_len == 0 {
        return sequences;
    }
    for example in examples {
        let length = example.tokens.len();
        let is_target = |i: usize| example.loss_mask.get(i).copied().unwrap_or(false);
        let mut start = 0;
        while start + 1 < length {
            let end = (start + seq_len + 1).min(length);
            let mut tokens = example.tokens[start..end].to_vec();
            tokens.resize(seq_len + 1, pad_id);
            let targets_mask: Vec<bool> = (start + 1..start + 1 + seq_len).map(|i| i < end && is_target(i)).collect();
            if targets_mask.contains(&true) {
                sequences.push(TrainingSequence { tokens, targets_mask });
            }
            start += seq_len;
        }
    }
    sequences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ChatMessage;
    use crate::tokenizer::llama2c::tests::stories260k_tokenizer;

    fn message(role: &str, content: &str) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }

    #[test]
    fn text_example_is_all_targets_between_bos_and_eos() {
        let tokenizer = stories260k_tokenizer();
        let text = tokenizer.encode("Lily ran.");
        let example = tokenize_example(&Example::Text("Lily ran.".into()), &tokenizer).unwrap();
        assert_eq!(example.tokens, [vec![1], text.clone(), vec![2]].concat());
        assert_eq!(example.loss_mask, [vec![false], vec![true; text.len() + 1]].concat());
    }

    #[test]
    fn prompt_response_targets_only_the_response_and_eos() {
        let tokenizer = stories260k_tokenizer();
        // Pinned ids: "Hi" is "▁H" "i" and "Hello" is "▁He" "ll" "o" in stories260K.
        assert_eq!(tokenizer.encode("Hi"), vec![320, 417]);
        assert_eq!(tokenizer.encode("Hello"), vec![346, 306, 414]);
        let example = Example::PromptResponse { prompt: "Hi".into(), response: "Hello".into() };
        let example = tokenize_example(&example, &tokenizer).unwrap();
        assert_eq!(example.tokens, vec![1, 320, 417, 346, 306, 414, 2]);
        assert_eq!(example.loss_mask, vec![false, false, false, true, true, true, true]);
    }

    #[test]
    fn a_preference_pair_trains_on_the_chosen_answer() {
        let tokenizer = stories260k_tokenizer();
        let pair = Example::Preference { prompt: "Hi".into(), chosen: "Hello".into(), rejected: "Go".into() };
        let answer = Example::PromptResponse { prompt: "Hi".into(), response: "Hello".into() };
        assert_eq!(tokenize_example(&pair, &tokenizer).unwrap(), tokenize_example(&answer, &tokenizer).unwrap());
    }

    #[test]
    fn each_loss_mask_picks_its_targets() {
        let tokenizer = stories260k_tokenizer();
        let example = Example::PromptResponse { prompt: "Hi".into(), response: "Hello".into() };
        let tokenized = tokenize_example(&example, &tokenizer).unwrap();
        assert_eq!(tokenized.tokens, vec![1, 320, 417, 346, 306, 414, 2]);
        let mask = |loss_mask| tokenized.masked(loss_mask, 2).loss_mask;
        assert_eq!(mask(LossMask::Responses), vec![false, false, false, true, true, true, true]);
        assert_eq!(mask(LossMask::PromptsToo), vec![false, true, true, true, true, true, true]);
        assert_eq!(mask(LossMask::NoEndToken), vec![false, false, false, true, true, true, false]);
    }

    #[test]
    fn facts_count_the_tokens_and_the_trained_spans_without_eos() {
        let tokenizer = stories260k_tokenizer();
        let chat =
            Example::Chat(vec![message("user", "Hi"), message("assistant", "Hello"), message("assistant", "Bye")]);
        let tokenized = tokenize_example(&chat, &tokenizer).unwrap();
        assert_eq!(tokenized.facts(2), TokenFacts { tokens: tokenized.tokens.len(), spans_without_eos: 0 });
        let cut = example(&[1, 5, 6, 2, 7, 8], &[false, true, true, true, false, true]);
        assert_eq!(cut.facts(2), TokenFacts { tokens: 6, spans_without_eos: 1 });
    }

    #[test]
    fn chat_targets_only_assistant_contents_and_their_eos() {
        let tokenizer = stories260k_tokenizer();
        let chat = Example::Chat(vec![
            message("system", "Be kind."),
            message("user", "Hi"),
            message("assistant", "Hello"),
            message("user", "Bye"),
            message("assistant", "Bye!"),
        ]);
        let example = tokenize_example(&chat, &tokenizer).unwrap();
        let mut tokens = vec![1];
        let mut mask = vec![false];
        for (text, is_target) in [
            ("System:", false),
            ("Be kind.", false),
            ("User:", false),
            ("Hi", false),
            ("Assistant:", false),
            ("Hello", true),
        ] {
            let ids = tokenizer.encode(text);
            mask.extend(vec![is_target; ids.len()]);
            tokens.extend(ids);
        }
        tokens.push(2);
        mask.push(true);
        for (text, is_target) in [("User:", false), ("Bye", false), ("Assistant:", false), ("Bye!", true)] {
            let ids = tokenizer.encode(text);
            mask.extend(vec![is_target; ids.len()]);
            tokens.extend(ids);
        }
        tokens.push(2);
        mask.push(true);
        assert_eq!(example.tokens, tokens);
        assert_eq!(example.loss_mask, mask);
        assert_eq!(
            tokenizer.decode(&example.tokens),
            "System: Be kind. User: Hi Assistant: Hello User: Bye Assistant: Bye!"
        );
    }

    fn example(tokens: &[u32], loss_mask: &[bool]) -> TokenizedExample {
        TokenizedExample { tokens: tokens.to_vec(), loss_mask: loss_mask.to_vec() }
    }

    const PAD: u32 = 2;

    #[test]
    fn short_example_is_padded_and_padding_is_not_a_target() {
        let short = example(&[1, 10, 11, 12, 2], &[false, false, true, true, true]);
        let sequences = training_sequences(&[short], 8, PAD);
        assert_eq!(
            sequences,
            vec![TrainingSequence {
                tokens: vec![1, 10, 11, 12, 2, PAD, PAD, PAD, PAD],
                targets_mask: vec![false, true, true, true, false, false, false, false],
            }]
        );
    }

    #[test]
    fn long_example_is_cut_into_windows_that_overlap_by_one_token() {
        let tokens = [1, 20, 21, 22, 23, 24, 25, 26, 27, 28];
        let mut mask = [true; 10];
        mask[0] = false;
        let sequences = training_sequences(&[example(&tokens, &mask)], 4, PAD);
        assert_eq!(
            sequences,
            vec![
                TrainingSequence { tokens: vec![1, 20, 21, 22, 23], targets_mask: vec![true; 4] },
                TrainingSequence { tokens: vec![23, 24, 25, 26, 27], targets_mask: vec![true; 4] },
                TrainingSequence { tokens: vec![27, 28, PAD, PAD, PAD], targets_mask: vec![true, false, false, false] },
            ]
        );
        // Every target of the example is a target exactly once.
        let counted: usize = sequences.iter().map(|s| s.targets_mask.iter().filter(|&&t| t).count()).sum();
        assert_eq!(counted, 9);
    }

    #[test]
    fn example_of_exactly_seq_len_plus_one_is_one_sequence() {
        let sequences = training_sequences(&[example(&[1, 5, 6, 2], &[false, true, true, true])], 3, PAD);
        assert_eq!(sequences, vec![TrainingSequence { tokens: vec![1, 5, 6, 2], targets_mask: vec![true; 3] }]);
    }

    #[test]
    fn windows_without_targets_are_left_out() {
        // A long prompt (ids 30..) then a one-token response and EOS.
        let tokens = [1, 30, 31, 32, 33, 34, 35, 40, 2];
        let mask = [false, false, false, false, false, false, false, true, true];
        let sequences = training_sequences(&[example(&tokens, &mask)], 3, PAD);
        assert_eq!(
            sequences,
            vec![TrainingSequence { tokens: vec![35, 40, 2, PAD], targets_mask: vec![true, true, false] }]
        );
        assert!(training_sequences(&[example(&tokens, &mask)], 0, PAD).is_empty());
    }
}
