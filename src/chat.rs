//! Chat templates: the Jinja template a chat model carries (`chat_template` in `tokenizer_config.json`,
//! `tokenizer.chat_template` in a GGUF) rendered as `transformers`' `apply_chat_template` renders it, and the
//! rendered conversation cut into the parts a model is trained on (the assistant's replies and the token that
//! ends each) and the parts it only reads.
//!
//! Rendering follows `transformers` (`utils/chat_template_utils.py`): blocks trimmed (`trim_blocks`,
//! `lstrip_blocks`), the variables `messages`, `add_generation_prompt`, `bos_token` and `eos_token`, a
//! `raise_exception` function, and Python's string methods.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;

use crate::dataset::ChatMessage;

/// A model's chat template, compiled once, with the special tokens it may refer to.
#[derive(Clone, Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: Option<String>,
    eos: String,
}

/// A piece of a rendered conversation, and whether the model is trained to write it.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    pub text: String,
    pub trained: bool,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

impl ChatTemplate {
    /// The template, checked to compile.
    pub fn new(source: &str, bos: Option<&str>, eos: &str) -> Result<Self, String> {
        let env =
            Self::environment(source).map_err(|error| format!("the chat template does not compile: {error:#}"))?;
        Ok(ChatTemplate { env, bos: bos.map(String::from), eos: eos.to_string() })
    }

    fn environment(source: &str) -> Result<Environment<'static>, Error> {
        let mut env = Environment::new();
        env.set_syntax(SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build()?);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned("chat", source.to_string())?;
        Ok(env)
    }

    /// The conversation as the model reads it; with `add_generation_prompt`, followed by what opens the
    /// assistant's reply (for generation).
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String, String> {
        let messages: Vec<Message> = messages.iter().map(|m| Message { role: &m.role, content: &m.content }).collect();
        let template = self.env.get_template("chat").expect("added when compiled");
        template
            .render(context! {
                messages => Serde(messages),
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos.as_deref().unwrap_or(""),
                eos_token => self.eos.as_str(),
            })
            .map_err(|error| format!("the chat template failed on this conversation: {error:#}"))
    }

    /// The rendered conversation in pieces: each assistant reply up to and including the end-of-turn token is
    /// trained, everything else (system prompt, the user's turns, the markup that opens a reply, what follows the
    /// end token) is not. A reply starts where the template, asked for a generation prompt after the messages
    /// before it, stops; a template that does not render a conversation turn by turn cannot be cut this way and
    /// is an error.
    pub fn pieces(&self, messages: &[ChatMessage]) -> Result<Vec<Piece>, String> {
        let full = self.render(messages, false)?;
        let mut pieces = Vec::new();
        let mut done = 0;
        for (index, _) in messages.iter().enumerate().filter(|(_, m)| m.role == "assistant") {
            let opened = self.render(&messages[..index], true)?;
            let closed = self.render(&messages[..=index], false)?;
            if !full.starts_with(&opened)
                || !full.starts_with(&closed)
                || opened.len() < done
                || closed.len() < opened.len()
            {
                return Err(format!(
                    "the chat template does not render message {} as a continuation of the ones before it, so its \
                     reply cannot be told apart for training",
                    index + 1
                ));
            }
            let reply = &full[opened.len()..closed.len()];
            let trained = reply.find(&self.eos).map_or(reply.len(), |at| at + self.eos.len());
            pieces.push(Piece { text: full[done..opened.len()].to_string(), trained: false });
            pieces.push(Piece { text: reply[..trained].to_string(), trained: true });
            pieces.push(Piece { text: reply[trained..].to_string(), trained: false });
            done = closed.len();
        }
        pieces.push(Piece { text: full[done..].to_string(), trained: false });
        pieces.retain(|piece| !piece.text.is_empty());
        Ok(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-Instruct's template, as its GGUF carries it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn message(role: &str, content: &str) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }

    #[test]
    fn replies_and_their_end_token_are_trained_the_rest_is_read() {
        let template = ChatTemplate::new(SMOLLM2, Some("<|im_start|>"), "<|im_end|>").unwrap();
        let chat = [
            message("user", "Hi"),
            message("assistant", "Hello!"),
            message("user", "Bye"),
            message("assistant", "Bye."),
        ];
        let pieces = template.pieces(&chat).unwrap();
        let trained: Vec<&str> = pieces.iter().filter(|p| p.trained).map(|p| p.text.as_str()).collect();
        assert_eq!(trained, ["Hello!<|im_end|>", "Bye.<|im_end|>"]);
        let joined: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, template.render(&chat, false).unwrap());
        assert!(joined.starts_with("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"));
        assert_eq!(
            template.render(&chat[..1], true).unwrap(),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
             <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn a_template_that_raises_or_does_not_compile_says_so() {
        let strict = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations start with the user') }}{% endif %}";
        let template = ChatTemplate::new(strict, None, "</s>").unwrap();
        let error = template.render(&[message("assistant", "Hi")], false).unwrap_err();
        assert!(error.contains("Conversations start with the user"), "{error}");
        assert!(ChatTemplate::new("{% for %}", None, "</s>").unwrap_err().contains("does not compile"));
        // Python's string methods work, as in transformers.
        let stripping = ChatTemplate::new("{{ messages[0]['content'].strip() }}", None, "</s>").unwrap();
        assert_eq!(stripping.render(&[message("user", "  hi  ")], false).unwrap(), "hi");
    }

    #[test]
    fn a_template_that_rewrites_earlier_turns_cannot_be_cut() {
        // Writes only the last message: the second reply is not a continuation of the first.
        let template = ChatTemplate::new("{{ messages[-1]['content'] }}", None, "</s>").unwrap();
        let chat = [message("user", "a"), message("assistant", "b"), message("user", "c"), message("assistant", "d")];
        assert!(template.pieces(&chat).unwrap_err().contains("continuation"));
    }
}
