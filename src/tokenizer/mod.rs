//! The tokenizer: the [`TextTokenizer`] the trainer uses to turn text into token ids and back, loaded from a model
//! folder's `tokenizer.json` with the special tokens and chat template its `tokenizer_config.json` names; and the
//! two ways this crate writes those files: from llama2.c's tokenizer file (`tok512.bin`, [`llama2c`]) and from a GGUF's
//! metadata ([`gguf`]).

use std::fmt;

use serde::Deserialize;
use tokenizers::{ModelWrapper, Tokenizer};

use crate::chat::ChatTemplate;
use crate::dataset::ChatMessage;
use crate::protocol::TokenPiece;

pub mod gguf;
pub mod llama2c;

pub use llama2c::{tokenizer_config_json, tokenizer_json_from_llama2c};

/// A tokenizer file or `tokenizer.json` that cannot be used, with a message saying what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizerError(pub String);

impl fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenizerError {}
/// What a model's `tokenizer_config.json` says that its `tokenizer.json` does not.
#[derive(Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    bos_token: Option<TokenName>,
    eos_token: TokenName,
    #[serde(default)]
    add_bos_token: bool,
    /// Special tokens typed in a text are plain characters (so a data set cannot inject them).
    #[serde(default)]
    split_special_tokens: bool,
    #[serde(default)]
    chat_template: Option<String>,
}

/// A special token as `tokenizer_config.json` names it: its text, or an added-token object with that text.
#[derive(Deserialize)]
#[serde(untagged)]
enum TokenName {
    Text(String),
    Added { content: String },
}

impl TokenName {
    fn text(&self) -> &str {
        match self {
            TokenName::Text(text) | TokenName::Added { content: text } => text,
        }
    }
}

/// One user turn saying `request`.
fn request_turn(request: &str) -> [ChatMessage; 1] {
    [ChatMessage::new("user", request)]
}

/// A model's tokenizer, loaded from its `tokenizer.json` and `tokenizer_config.json`: the text ↔ ids mapping,
/// the special tokens, and the chat template if the model has one.
#[derive(Clone, Debug)]
pub struct TextTokenizer {
    inner: Tokenizer,
    /// What every sequence starts with: BOS when the model adds it.
    start: Vec<u32>,
    eos_id: u32,
    chat: Option<ChatTemplate>,
}

impl TextTokenizer {
    /// Loads stories260K's converted `tokenizer.json` ([`tokenizer_json_from_llama2c`]) with the config written
    /// for it ([`tokenizer_config_json`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, TokenizerError> {
        Self::from_files(bytes, tokenizer_config_json(0).as_bytes())
    }

    /// Loads a model folder's `tokenizer.json` and `tokenizer_config.json` (from memory, so it works in the browser
    /// too). The tokenizer must be a BPE with byte fallback and all 256 byte tokens, or a byte-level BPE.
    pub fn from_files(tokenizer_json: &[u8], tokenizer_config: &[u8]) -> Result<Self, TokenizerError> {
        let mut inner = Tokenizer::from_bytes(tokenizer_json)
            .map_err(|error| TokenizerError(format!("tokenizer.json could not be read: {error}")))?;
        let config: TokenizerConfig = serde_json::from_slice(tokenizer_config)
            .map_err(|error| TokenizerError(format!("tokenizer_config.json could not be read: {error}")))?;
        let byte_level = serde_json::from_slice::<serde_json::Value>(tokenizer_json)
            .is_ok_and(|json| json["pre_tokenizer"].to_string().contains("\"ByteLevel\""));
        let missing_byte =
            match inner.get_model() {
                ModelWrapper::BPE(bpe) if bpe.byte_fallback => {
                    (0..=255u8).map(|byte| format!("<0x{byte:02X}>")).find(|t| inner.token_to_id(t).is_none())
                }
                // Byte-level vocabularies often leave out bytes their training text never held (control characters,
                // bytes UTF-8 never uses): such a byte is dropped from a text, as transformers drops it.
                ModelWrapper::BPE(_) if byte_level => None,
                _ => return Err(TokenizerError(
                    "tokenizer.json: Tinytune needs a BPE tokenizer with byte fallback or a byte-level BPE (as Llama \
                     models use)"
                        .into(),
                )),
            };
        if let Some(missing) = missing_byte {
            return Err(TokenizerError(format!("tokenizer.json: the byte token {missing} is missing")));
        }
        let id_of = |token: &TokenName| {
            inner.token_to_id(token.text()).ok_or_else(|| {
                TokenizerError(format!(
                    "tokenizer.json has no token {}, which tokenizer_config.json names",
                    token.text()
                ))
            })
        };
        let eos_id = id_of(&config.eos_token)?;
        let start = match (&config.bos_token, config.add_bos_token) {
            (Some(bos), true) => vec![id_of(bos)?],
            (None, true) => {
                return Err(TokenizerError("tokenizer_config.json: add_bos_token without a bos_token".into()))
            }
            (_, false) => Vec::new(),
        };
        inner.set_encode_special_tokens(config.split_special_tokens);
        let chat = config
            .chat_template
            .map(|source| {
                ChatTemplate::new(&source, config.bos_token.as_ref().map(|t| t.text()), config.eos_token.text())
            })
            .transpose()
            .map_err(|error| TokenizerError(format!("tokenizer_config.json: {error}")))?;
        if let Some(template) = &chat {
            template.render(&request_turn("Hello"), true).map_err(|error| {
                TokenizerError(format!("tokenizer_config.json: the chat template cannot render a request: {error}"))
            })?;
        }
        Ok(Self { inner, start, eos_id, chat })
    }

    /// A request as the model reads it: for an instruction model, one user turn through its chat template and the
    /// opening of the reply; for a base model, the text after BOS.
    pub fn request_ids(&self, request: &str) -> Vec<u32> {
        match &self.chat {
            Some(template) => self.encode(
                &template.render(&request_turn(request), true).expect("the template rendered a request when it loaded"),
            ),
            None => [self.start.as_slice(), &self.encode(request)].concat(),
        }
    }

    /// What a sample of `tokens` (a request's `prompt_len` ids, then what the model wrote) shows: an instruction
    /// model's reply alone, since its prompt is the chat template's markup around the request; a base model's
    /// prompt and continuation, one text.
    pub fn sample_text(&self, tokens: &[u32], prompt_len: usize) -> String {
        match &self.chat {
            Some(_) => self.decode(&tokens[prompt_len.min(tokens.len())..]),
            None => self.decode(tokens),
        }
    }

    /// The token ids of `text`, without BOS or EOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let encoding = self
            .inner
            .encode(text, false)
            .expect("a tokenizer that covers every byte (checked when loading) can encode any text");
        encoding.get_ids().to_vec()
    }

    /// The token ids of `text` (special tokens as the config says, see `split_special_tokens`), each with the byte
    /// range of `text` it came from.
    pub fn encode_with_offsets(&self, text: &str) -> Vec<(u32, (usize, usize))> {
        let encoding = self
            .inner
            .encode(text, false)
            .expect("a tokenizer that covers every byte (checked when loading) can encode any text");
        encoding.get_ids().iter().copied().zip(encoding.get_offsets().iter().copied()).collect()
    }

    /// The text of `ids`, leaving out special tokens (BOS, EOS, unk) and the space the encoder put in front.
    pub fn decode(&self, ids: &[u32]) -> String {
        // Ids outside the vocabulary are skipped by the tokenizer; its decoders have no failure case.
        self.inner.decode(ids, true).unwrap_or_default()
    }

    /// One token as the vocabulary writes it (`▁Once`, `<0x0A>`, `</s>`, `Ġthe`); an id outside it as `<id N>`.
    pub fn token_text(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_else(|| format!("<id {id}>"))
    }

    /// One token with its text and whether it is special.
    pub fn piece(&self, id: u32) -> TokenPiece {
        TokenPiece { id, text: self.token_text(id), special: self.is_special(id) }
    }

    /// Whether `id` is a special token (BOS, EOS, unknown, chat markup) rather than text.
    pub fn is_special(&self, id: u32) -> bool {
        self.inner.get_added_tokens_decoder().get(&id).is_some_and(|token| token.special)
    }

    /// What every sequence starts with: `[BOS]` for models that add it, else nothing.
    pub fn start_ids(&self) -> &[u32] {
        &self.start
    }

    /// The end-of-sequence token: where a reply or a text ends.
    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    /// The model's chat template, if it has one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat.as_ref()
    }

    /// The number of token ids, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
