//! llama2.c's tokenizer file (`tok512.bin`) converted to a Hugging Face `tokenizer.json` and `tokenizer_config.json`.
//!
//! llama2.c encodes text like this (run.c `encode()`): put a space in front of the text (if it is not empty),
//! look up every character as a token (a character that is not in the vocabulary becomes one byte token per
//! UTF-8 byte, id = byte + 3), then repeatedly merge the adjacent pair whose concatenation is a token with the
//! highest score, the leftmost pair on a tie, until no pair merges.
//!
//! The `tokenizer.json` written here does the same with the `tokenizers` crate's own parts, as Hugging Face's
//! converter does for SentencePiece models:
//! - normalizer: prepend "▁" (if the text is not empty), then replace every " " with "▁";
//! - model: BPE with byte fallback. Its merges come from the scores: every way of splitting a token into two
//!   tokens is a merge, ranked by the merged token's score, highest first (splits of the same token by the
//!   ids of their two halves). BPE then always applies the best-ranked pair, leftmost among equal ranks,
//!   which is llama2.c's rule as long as different tokens have different scores (SentencePiece scores a merged
//!   token by its merge order, so they do). The order among splits of one token would only matter if two of
//!   them could overlap in one text (`ab`+`a` beside `a`+`ba`, sharing the middle `a`, both making `aba`),
//!   which no token of stories260K's vocabulary allows;
//! - decoder: "▁" back to " ", byte tokens back to bytes, and the leading space removed;
//! - post-processor: BOS in front when special tokens are asked for (`add_bos_token`).
//!
//! Two deliberate details keep every text's ids equal to llama2.c's. `<unk>`, `<s>` and `</s>` are special
//! tokens, but text that spells them out is encoded as ordinary characters, as llama2.c does
//! ([`TextTokenizer`] sets this; `tokenizer_config.json` says `split_special_tokens`). And the one known
//! difference: the character "▁" (U+2581) itself, which llama2.c byte-encodes, is read here as a space,
//! because the Hugging Face format uses that character for a space inside its vocabulary.

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::{Prepend, Replace, Sequence as NormalizerSequence};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

use super::TokenizerError;

/// How the Hugging Face format writes a space inside tokens (SentencePiece's "▁", U+2581).
const SPACE_MARK: &str = "\u{2581}";
const UNK_TOKEN: &str = "<unk>";
const BOS_TOKEN: &str = "<s>";
const EOS_TOKEN: &str = "</s>";
/// llama2.c's tokenizer files start with `<unk>`, `<s>`, `</s>`, then the 256 byte tokens `<0x00>`..`<0xFF>`.
const SPECIAL_TOKENS: [&str; 3] = [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN];
const FIRST_BYTE_TOKEN: usize = SPECIAL_TOKENS.len();
const FIRST_PLAIN_TOKEN: usize = FIRST_BYTE_TOKEN + 256;

/// The tokens of a llama2.c tokenizer file, in id order, as Hugging Face pieces ("▁" for a space).
struct Llama2cVocab {
    pieces: Vec<String>,
    scores: Vec<f32>,
}

/// Reads llama2.c's tokenizer layout: int32 max_token_length, then per token f32 score, i32 length, bytes.
fn read_llama2c_vocab(bytes: &[u8]) -> Result<Llama2cVocab, TokenizerError> {
    let fail = |message: String| Err(TokenizerError(format!("llama2.c tokenizer file: {message}")));
    if bytes.len() < 4 {
        return fail(format!("{} bytes is too short to hold its 4-byte header", bytes.len()));
    }
    let read_4 = |at: usize| -> [u8; 4] { bytes[at..at + 4].try_into().expect("4 bytes were bounds-checked") };

    let mut pieces = Vec::new();
    let mut scores = Vec::new();
    let mut at = 4;
    while at < bytes.len() {
        let id = pieces.len();
        if bytes.len() - at < 8 {
            return fail(format!(
                "truncated at token {id} (its score and length need 8 bytes at byte {at}, but the file ends at byte {})",
                bytes.len()
            ));
        }
        let score = f32::from_le_bytes(read_4(at));
        let length = i32::from_le_bytes(read_4(at + 4));
        at += 8;
        let remaining = bytes.len() - at;
        let length = match usize::try_from(length) {
            Ok(length) if length <= remaining => length,
            _ => {
                return fail(format!(
                    "truncated at token {id} (it says it is {length} bytes long, but only {remaining} bytes remain)"
                ))
            }
        };
        if !score.is_finite() {
            return fail(format!("token {id} has the score {score}; scores must be finite numbers"));
        }
        let text = match std::str::from_utf8(&bytes[at..at + length]) {
            Ok(text) => text,
            Err(_) => return fail(format!("token {id} is not valid UTF-8: {:?}", &bytes[at..at + length])),
        };
        at += length;
        // llama2.c's export writes BOS and EOS as "\n<s>\n" and "\n</s>\n" and a space as " ".
        let piece = match SPECIAL_TOKENS.get(id) {
            Some(special) => special.to_string(),
            None => text.replace(' ', SPACE_MARK),
        };
        pieces.push(piece);
        scores.push(score);
    }

    if pieces.len() < FIRST_PLAIN_TOKEN {
        return fail(format!(
            "it has {} tokens, but a llama2.c tokenizer starts with <unk>, <s>, </s> and the 256 byte tokens",
            pieces.len()
        ));
    }
    for byte in 0..=255u8 {
        let id = FIRST_BYTE_TOKEN + usize::from(byte);
        let expected = format!("<0x{byte:02X}>");
        if pieces[id] != expected {
            return fail(format!("token {id} should be the byte token {expected} but is {:?}", pieces[id]));
        }
    }
    let mut seen = std::collections::HashMap::new();
    for (id, piece) in pieces.iter().enumerate() {
        if let Some(first) = seen.insert(piece.as_str(), id) {
            return fail(format!("token {id} ({piece:?}) is the same text as token {first}"));
        }
    }
    Ok(Llama2cVocab { pieces, scores })
}

/// The BPE merges that make Hugging Face's BPE merge the same pairs as llama2.c: for each token (in id order),
/// each split into two tokens, then ranked by the merged token's score, highest first (a stable sort, as in
/// Hugging Face's SentencePiece converter). Special tokens take no part: llama2.c spells them differently.
fn merges_by_score(vocab: &Llama2cVocab, ids: &Vocab) -> Vec<(String, String)> {
    let is_special = |piece: &str| SPECIAL_TOKENS.contains(&piece);
    let mut merges: Vec<(f32, u32, u32, &str, &str)> = Vec::new();
    for (piece, &score) in vocab.pieces.iter().zip(&vocab.scores) {
        if is_special(piece) {
            continue;
        }
        let mut splits: Vec<(f32, u32, u32, &str, &str)> = piece
            .char_indices()
            .skip(1)
            .filter_map(|(at, _)| {
                let (left, right) = piece.split_at(at);
                if is_special(left) || is_special(right) {
                    return None;
                }
                Some((score, *ids.get(left)?, *ids.get(right)?, left, right))
            })
            .collect();
        splits.sort_by_key(|&(_, left_id, right_id, _, _)| (left_id, right_id));
        merges.extend(splits);
    }
    // Scores were checked to be finite; -0.0 and 0.0 compare equal here, as in Python.
    merges.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    merges.into_iter().map(|(_, _, _, left, right)| (left.to_string(), right.to_string())).collect()
}

/// tokenizer.json text for llama2.c's tokenizer file (`tok512.bin`): a byte-fallback BPE tokenizer that encodes
/// every text to the same ids as llama2.c's `encode()` (see the module documentation for the one exception).
pub fn tokenizer_json_from_llama2c(tok_bin: &[u8]) -> Result<String, TokenizerError> {
    let vocab = read_llama2c_vocab(tok_bin)?;
    let ids: Vocab = vocab.pieces.iter().enumerate().map(|(id, piece)| (piece.clone(), id as u32)).collect();
    let merges = merges_by_score(&vocab, &ids);
    let internal = |error: tokenizers::Error| TokenizerError(format!("could not build the tokenizer: {error}"));

    let bpe = BPE::builder()
        .vocab_and_merges(ids, merges)
        .unk_token(UNK_TOKEN.to_string())
        .fuse_unk(true)
        .byte_fallback(true)
        .build()
        .map_err(internal)?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_normalizer(Some(NormalizerSequence::new(vec![
        Prepend::new(SPACE_MARK.to_string()).into(),
        Replace::new(" ", SPACE_MARK).map_err(internal)?.into(),
    ])));
    tokenizer.with_decoder(Some(DecoderSequence::new(vec![
        Replace::new(SPACE_MARK, " ").map_err(internal)?.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
        Strip::new(' ', 1, 0).into(),
    ])));
    let bos_id = 1;
    tokenizer.with_post_processor(Some(
        TemplateProcessing::builder()
            .try_single(format!("{BOS_TOKEN} $A"))
            .and_then(|builder| builder.try_pair(format!("{BOS_TOKEN} $A {BOS_TOKEN}:1 $B:1")))
            .map_err(|error| TokenizerError(format!("could not build the tokenizer: {error}")))?
            .special_tokens(vec![(BOS_TOKEN, bos_id)])
            .build()
            .map_err(|error| TokenizerError(format!("could not build the tokenizer: {error}")))?,
    ));
    let specials: Vec<AddedToken> = SPECIAL_TOKENS.iter().map(|token| AddedToken::from(*token, true)).collect();
    tokenizer.add_special_tokens(&specials);
    tokenizer.to_string(true).map_err(internal)
}

/// tokenizer_config.json for the tokenizer of [`tokenizer_json_from_llama2c`], so that `transformers`'
/// `AutoTokenizer` gives BOS followed by the same ids as [`TextTokenizer::encode`].
///
/// The class is `PreTrainedTokenizerFast`, which runs `tokenizer.json` as written. (`LlamaTokenizerFast` in
/// transformers 5 replaces the normalizer with its own Metaspace pre-tokenizer, which drops the dummy space
/// before text that starts with a space: " hi" would lose a token.) `split_special_tokens` makes "<s>" typed
/// in a text ordinary characters, as in llama2.c.
pub fn tokenizer_config_json(model_max_length: usize) -> String {
    let config = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "unk_token": UNK_TOKEN,
        "add_bos_token": true,
        "add_eos_token": false,
        "legacy": false,
        "split_special_tokens": true,
        "clean_up_tokenization_spaces": false,
        "model_max_length": model_max_length,
    });
    serde_json::to_string_pretty(&config).expect("a JSON value always serializes")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tokenizer::TextTokenizer;
    use std::path::PathBuf;

    /// stories260K's `tok512.bin`, from `TINYTUNE_MODEL_DIR` or `../shared/models/stories260K`.
    pub(crate) fn stories260k_tok_bin() -> Vec<u8> {
        let dir = std::env::var_os("TINYTUNE_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::tests::crate_dir().join("../shared/models/stories260K"));
        let path = dir.join("tok512.bin");
        std::fs::read(&path).unwrap_or_else(|error| {
            panic!("cannot read {} ({error}); set TINYTUNE_MODEL_DIR to the stories260K folder", path.display())
        })
    }

    /// The stories260K tokenizer, converted and loaded as the trainer does.
    pub(crate) fn stories260k_tokenizer() -> TextTokenizer {
        let json = tokenizer_json_from_llama2c(&stories260k_tok_bin()).unwrap();
        TextTokenizer::from_json_bytes(json.as_bytes()).unwrap()
    }

    /// A tiny llama2.c tokenizer file: the 259 fixed tokens, then `plain` (text, score) tokens.
    fn llama2c_file(plain: &[(&str, f32)]) -> Vec<u8> {
        let mut tokens: Vec<(String, f32)> =
            vec![("<unk>".into(), 0.0), ("\n<s>\n".into(), 0.0), ("\n</s>\n".into(), 0.0)];
        tokens.extend((0..=255u8).map(|byte| (format!("<0x{byte:02X}>"), 0.0)));
        tokens.extend(plain.iter().map(|(text, score)| (text.to_string(), *score)));
        let mut bytes = 7i32.to_le_bytes().to_vec();
        for (text, score) in tokens {
            bytes.extend(score.to_le_bytes());
            bytes.extend((text.len() as i32).to_le_bytes());
            bytes.extend(text.as_bytes());
        }
        bytes
    }

    #[test]
    fn stories260k_has_512_tokens_with_llama_special_ids() {
        let tokenizer = stories260k_tokenizer();
        assert_eq!(tokenizer.vocab_size(), 512);
        assert_eq!(tokenizer.start_ids(), [1]);
        assert_eq!(tokenizer.eos_id(), 2);
    }

    #[test]
    fn encodes_with_a_dummy_space_and_no_bos() {
        let tokenizer = stories260k_tokenizer();
        assert_eq!(tokenizer.encode(""), Vec::<u32>::new());
        // " " alone is the dummy space plus the space: two "▁" tokens (id 410).
        assert_eq!(tokenizer.encode(" "), vec![410, 410]);
        let ids = tokenizer.encode("Once upon a time");
        assert!(!ids.contains(&1) && !ids.contains(&2));
        assert_eq!(tokenizer.decode(&ids), "Once upon a time");
    }

    #[test]
    fn merges_follow_scores_not_token_order() {
        // "ab" scores higher than "bc", so "abc" is "ab" + "c" even though "bc" comes first in the file.
        let file = llama2c_file(&[(" ", -1.0), ("a", -2.0), ("b", -3.0), ("c", -4.0), ("bc", -5.0), ("ab", 0.5)]);
        let json = tokenizer_json_from_llama2c(&file).unwrap();
        let tokenizer = TextTokenizer::from_json_bytes(json.as_bytes()).unwrap();
        let id = |piece: &str| 259 + [" ", "a", "b", "c", "bc", "ab"].iter().position(|p| *p == piece).unwrap() as u32;
        assert_eq!(tokenizer.encode("abc"), vec![id(" "), id("ab"), id("c")]);
        assert_eq!(tokenizer.encode("bca"), vec![id(" "), id("bc"), id("a")]);
    }

    #[test]
    fn characters_outside_the_vocabulary_fall_back_to_bytes() {
        let tokenizer = stories260k_tokenizer();
        // "😀" is F0 9F 98 80; byte b is token b + 3.
        let ids = tokenizer.encode("😀");
        assert_eq!(ids[1..], [0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3]);
        assert_eq!(tokenizer.decode(&ids), "😀");
    }

    #[test]
    fn special_tokens_typed_in_text_are_plain_characters() {
        let tokenizer = stories260k_tokenizer();
        let ids = tokenizer.encode("<s> hi </s>");
        assert!(!ids.contains(&1) && !ids.contains(&tokenizer.eos_id()));
        assert_eq!(tokenizer.decode(&ids), "<s> hi </s>");
    }

    #[test]
    fn decode_skips_bos_and_eos() {
        let tokenizer = stories260k_tokenizer();
        let mut ids = tokenizer.start_ids().to_vec();
        ids.extend(tokenizer.encode("The end."));
        ids.push(tokenizer.eos_id());
        assert_eq!(tokenizer.decode(&ids), "The end.");
    }

    #[test]
    fn the_space_mark_character_is_read_as_a_space() {
        // The one known difference from llama2.c, which would byte-encode U+2581 (E2 96 81).
        let tokenizer = stories260k_tokenizer();
        assert_eq!(tokenizer.encode("a\u{2581}b"), tokenizer.encode("a b"));
    }

    #[test]
    fn truncated_file_names_the_token() {
        let file = llama2c_file(&[("a", -1.0), ("b", -2.0)]);
        let cut = &file[..file.len() - 3];
        let error = tokenizer_json_from_llama2c(cut).unwrap_err().to_string();
        assert!(error.starts_with("llama2.c tokenizer file: truncated at token 260 ("), "{error}");
        let cut = &file[..file.len() - 6];
        let error = tokenizer_json_from_llama2c(cut).unwrap_err().to_string();
        assert!(error.starts_with("llama2.c tokenizer file: truncated at token 260 ("), "{error}");
        let error = tokenizer_json_from_llama2c(&[1, 2]).unwrap_err().to_string();
        assert!(error.contains("too short"), "{error}");
    }

    #[test]
    fn file_without_byte_tokens_is_rejected() {
        let mut file = 7i32.to_le_bytes().to_vec();
        for text in ["<unk>", "<s>", "</s>", "a"] {
            file.extend(0f32.to_le_bytes());
            file.extend((text.len() as i32).to_le_bytes());
            file.extend(text.as_bytes());
        }
        let error = tokenizer_json_from_llama2c(&file).unwrap_err().to_string();
        assert!(error.contains("it has 4 tokens"), "{error}");
    }

    #[test]
    fn tokenizer_json_that_is_not_json_is_rejected() {
        let error = TextTokenizer::from_json_bytes(b"{ not json").unwrap_err().to_string();
        assert!(error.starts_with("tokenizer.json could not be read"), "{error}");
    }

    #[test]
    fn tokenizer_config_names_the_special_tokens() {
        let config: serde_json::Value = serde_json::from_str(&tokenizer_config_json(512)).unwrap();
        assert_eq!(config["bos_token"], "<s>");
        assert_eq!(config["eos_token"], "</s>");
        assert_eq!(config["add_bos_token"], true);
        assert_eq!(config["add_eos_token"], false);
        assert_eq!(config["model_max_length"], 512);
    }
}
