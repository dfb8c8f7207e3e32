//! Ollama's `Modelfile` for the GGUF files: `FROM` the base model, `ADAPTER` the LoRA adapter, the template and
//! the stop token (Ollama's Modelfile reference: `FROM`, `ADAPTER`, `TEMPLATE`, `PARAMETER stop`).

/// A Modelfile beside `base` (and `adapter`), file names relative to it. stories260K has no chat template: a
/// request is continued as it is (`{{ .Prompt }}`), and writing stops at the end-of-sequence token `stop`.
pub fn modelfile(base: &str, adapter: Option<&str>, stop: &str) -> String {
    let mut lines = vec![format!("FROM ./{base}")];
    if let Some(adapter) = adapter {
        lines.push(format!("ADAPTER ./{adapter}"));
    }
    lines.push("TEMPLATE \"{{ .Prompt }}\"".to_string());
    lines.push(format!("PARAMETER stop \"{stop}\""));
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_files_the_template_and_the_stop_token() {
        assert_eq!(
            modelfile("stories260K.gguf", Some("adapter.gguf"), "</s>"),
            "FROM ./stories260K.gguf\nADAPTER ./adapter.gguf\nTEMPLATE \"{{ .Prompt }}\"\nPARAMETER stop \"</s>\"\n"
        );
        assert!(!modelfile("merged.gguf", None, "</s>").contains("ADAPTER"));
    }
}
