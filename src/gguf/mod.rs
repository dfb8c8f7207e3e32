//! GGUF, the file format of llama.cpp and Ollama: the container written ([`file`]) and read ([`read`]), ggml's
//! tensor types ([`quant`]), our Llama and its LoRA adapters written in it ([`llama`]) and a Llama GGUF read back
//! ([`load`]), and the Ollama `Modelfile` that runs them ([`ollama`]). [`take_home_files`] puts them together,
//! the same for the CLI (`tinytune export`) and the tab's download.

pub mod file;
pub mod llama;
pub mod load;
pub mod ollama;
pub mod quant;
pub mod read;

use crate::export::read_safetensors;
use crate::lora::LoraConfig;
use crate::model::LlamaConfig;

/// The model folder the files are made from.
pub struct BaseModel<'a> {
    pub config: &'a LlamaConfig,
    /// Its name (`stories260K`), written into the files.
    pub name: &'a str,
    /// `model.safetensors`.
    pub weights: &'a [u8],
    /// `tokenizer.json`.
    pub tokenizer_json: &'a str,
    /// The end-of-sequence token as text (`</s>`): where Ollama stops.
    pub eos: &'a str,
}

/// A LoRA adapter for it.
pub struct Adapter<'a> {
    pub lora: &'a LoraConfig,
    /// PEFT's `adapter_model.safetensors`.
    pub weights: &'a [u8],
}

/// `model.gguf` (F32), and with an adapter `adapter.gguf` and `merged.gguf`; then the `Modelfile` beside them.
pub fn take_home_files(base: &BaseModel, adapter: Option<&Adapter>) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let weights = read_safetensors(base.weights, "model.safetensors")?;
    let model = llama::model_gguf(base.config, weights.clone(), base.tokenizer_json, base.name)?;
    let mut files = vec![("model.gguf", model)];
    if let Some(adapter) = adapter {
        let factors = read_safetensors(adapter.weights, "adapter_model.safetensors")?;
        let adapter_name = format!("{} LoRA adapter", base.name);
        files.push(("adapter.gguf", llama::adapter_gguf(base.config, adapter.lora, &factors, &adapter_name)?));
        let merged_name = format!("{} with its LoRA adapter merged", base.name);
        let merged = crate::export::merge_adapter(base.config, &weights, adapter.lora, &factors)?;
        files.push(("merged.gguf", llama::model_gguf(base.config, merged, base.tokenizer_json, &merged_name)?));
    }
    let modelfile = ollama::modelfile("model.gguf", adapter.map(|_| "adapter.gguf"), base.eos);
    files.push(("Modelfile", modelfile.into_bytes()));
    files.push(("RUN.md", run_instructions(base.name, adapter.is_some()).into_bytes()));
    Ok(files)
}

/// How to run the files: Ollama, llama.cpp's `llama-completion` and llama-cpp-python (the commands as their
/// documentation of the versions we test against gives them).
fn run_instructions(name: &str, with_adapter: bool) -> String {
    let lora = if with_adapter { " --lora adapter.gguf" } else { "" };
    // Ollama's model names are lower case.
    let tag = name.to_lowercase();
    let lora_path = if with_adapter { ", lora_path=\"adapter.gguf\"" } else { "" };
    let mut text = format!(
        "# Running {name} from these files\n\n\
         `model.gguf` is the model in llama.cpp's format, every weight in 32-bit floats."
    );
    if with_adapter {
        text.push_str(
            " `adapter.gguf` is your LoRA adapter for it, and `merged.gguf` the model with the adapter merged in, \
             for tools that cannot load adapters.",
        );
    }
    text.push_str(&format!(
        "\n\n## Ollama\n\n```\nollama create {tag}-tinytune -f Modelfile\nollama run {tag}-tinytune \"Once upon a \
         time\"\n```\n\n`Modelfile` names the files, the template (the request as it is: this model has no chat \
         template) and the token that ends a reply.\n\n## llama.cpp\n\n```\nllama-completion -m model.gguf{lora} \
         -no-cnv -p \"Once upon a time\" -n 60\n```\n\n## Python (llama-cpp-python)\n\n```python\nfrom llama_cpp \
         import Llama\n\nllm = Llama(model_path=\"model.gguf\"{lora_path})\nprint(llm(\"Once upon a time\", \
         max_tokens=60)[\"choices\"][0][\"text\"])\n```\n"
    ));
    text
}
