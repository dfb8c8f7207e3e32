//! A GGUF's tokenizer (`tokenizer.ggml.*` metadata) as a Hugging Face `tokenizer.json` and
//! `tokenizer_config.json`: byte-level BPE (`tokenizer.ggml.model = "gpt2"`, as SmolLM2 and most recent models
//! use) with its merges, its control tokens as special tokens, its special-token ids, and its chat template.
//!
//! The tokenizer is the one `transformers` builds from the same file (`GGUFGPTConverter`): a GPT-2 byte-level
//! BPE whose tokens are spelled in GPT-2's byte alphabet, control tokens (type 3) added as special tokens and
//! user-defined ones (type 4) as plain added tokens. For pre-tokenizer `smollm`, digits are split one by one
//! first, as llama.cpp and the model's own `tokenizer.json` do; the vocabulary has no merge that joins a digit
//! to anything, so this changes no ids, only makes the rule the model was trained with explicit.

use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::{AddedToken, Tokenizer};

use super::TokenizerError;
use crate::gguf::read::GgufView;

/// llama.cpp's token types (`llama_token_type`).
const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;

/// `tokenizer.json` and `tokenizer_config.json` for the GGUF's tokenizer.
pub fn hf_tokenizer_files(view: &GgufView) -> Result<(String, String), TokenizerError> {
    let error = |why: String| TokenizerError(format!("the GGUF's tokenizer: {why}"));
    let model = view.str("tokenizer.ggml.model").map_err(error)?;
    if model != "gpt2" {
        return Err(error(format!(
            "tokenizer.ggml.model is {model:?}; only byte-level BPE (\"gpt2\") vocabularies are read from GGUF files"
        )));
    }
    let tokens = view.strings("tokenizer.ggml.tokens").map_err(error)?;
    let kinds = match view.get("tokenizer.ggml.token_type") {
        Ok(crate::gguf::file::Value::I32s(kinds)) if kinds.len() == tokens.len() => kinds.clone(),
        _ => vec![1; tokens.len()],
    };
    let alphabet = ByteLevel::alphabet();
    let spelled = |token: &str| -> String {
        if token.chars().all(|c| alphabet.contains(&c)) {
            token.to_string()
        } else {
            // A token written as its plain text: spell its bytes in GPT-2's byte alphabet, as transformers does.
            let bytes_char = bytes_to_chars();
            token.bytes().map(|b| bytes_char[b as usize]).collect()
        }
    };
    let vocab: Vocab = tokens.iter().enumerate().map(|(id, token)| (spelled(token), id as u32)).collect();
    let merges = view
        .strings("tokenizer.ggml.merges")
        .map_err(error)?
        .iter()
        .enumerate()
        .map(|(index, merge)| {
            merge
                .split_once(' ')
                .map(|(left, right)| (left.to_string(), right.to_string()))
                .ok_or_else(|| error(format!("merge {index} ({merge:?}) is not two tokens separated by a space")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let internal = |why: tokenizers::Error| error(format!("could not build the tokenizer: {why}"));
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(internal)?;
    let mut tokenizer = Tokenizer::new(bpe);
    let byte_level = ByteLevel::new(false, true, true);
    match view.str("tokenizer.ggml.pre").unwrap_or("default") {
        "default" | "gpt-2" | "gpt2" => tokenizer.with_pre_tokenizer(Some(byte_level)),
        "smollm" => tokenizer
            .with_pre_tokenizer(Some(PreTokenizerSequence::new(vec![Digits::new(true).into(), byte_level.into()]))),
        // Other models split text by other rules (llama3's, qwen2's...); GPT-2's would give them wrong ids.
        other => {
            return Err(error(format!(
                "pre-tokenizer {other:?} is not supported (GPT-2's and SmolLM's are): its ids would differ from \
                 llama.cpp's"
            )))
        }
    };
    tokenizer.with_decoder(Some(ByteLevel::default()));
    let added = |kind: i32, special: bool| -> Vec<AddedToken> {
        tokens
            .iter()
            .zip(&kinds)
            .filter(|(token, &k)| k == kind && token.chars().all(|c| alphabet.contains(&c)))
            .map(|(token, _)| AddedToken::from(token.clone(), special))
            .collect()
    };
    tokenizer.add_special_tokens(&added(CONTROL, true));
    tokenizer.add_tokens(&added(USER_DEFINED, false));
    let tokenizer_json = tokenizer.to_string(true).map_err(internal)?;

    let token_of = |key: &str| -> Option<String> {
        let id = view.usize(&format!("tokenizer.ggml.{key}")).ok()?;
        tokens.get(id).cloned()
    };
    let eos = token_of("eos_token_id").ok_or_else(|| error("tokenizer.ggml.eos_token_id names no token".into()))?;
    let mut config = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token_of("bos_token_id"),
        "eos_token": eos,
        "unk_token": token_of("unknown_token_id"),
        "pad_token": token_of("padding_token_id"),
        "add_bos_token": view.bool("tokenizer.ggml.add_bos_token").unwrap_or(false),
        "add_eos_token": view.bool("tokenizer.ggml.add_eos_token").unwrap_or(false),
        "clean_up_tokenization_spaces": false,
        "model_max_length": view.usize("llama.context_length").unwrap_or(2048),
    });
    if let Ok(template) = view.str("tokenizer.chat_template") {
        config["chat_template"] = template.into();
    }
    let config_json = serde_json::to_string_pretty(&config).expect("a JSON value always serializes");
    Ok((tokenizer_json, config_json))
}

/// GPT-2's byte alphabet: the character that spells each byte (`bytes_to_unicode`). Written out because the
/// `tokenizers` crate keeps its table (`bytes_char`) private.
fn bytes_to_chars() -> [char; 256] {
    let mut chars = ['\0'; 256];
    let mut next = 256u32;
    for byte in 0..=255u8 {
        let printable = matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        chars[byte as usize] = if printable {
            char::from(byte)
        } else {
            next += 1;
            char::from_u32(next - 1).expect("below the surrogates")
        };
    }
    chars
}
