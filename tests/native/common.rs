//! Paths shared by integration tests that need the base model or the Python reference tools.

use std::path::PathBuf;

/// The crate's folder, read when the test runs (cargo sets it for test binaries) rather than baked in when it is
/// compiled: the build folder is shared by every clone on a machine, so a binary built in one clone may run in another.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
}

/// The stories260K folder (tok512.bin, stories260K.bin): `TINYTUNE_MODEL_DIR`, or `../shared/models/stories260K`
/// beside the crate.
pub fn stories260k_dir() -> PathBuf {
    std::env::var_os("TINYTUNE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../shared/models/stories260K"))
}

/// Reads a file of the stories260K folder, failing the test with what to set if it is not there.
pub fn stories260k_file(name: &str) -> Vec<u8> {
    let path = stories260k_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!("cannot read {} ({error}); set TINYTUNE_MODEL_DIR to the stories260K folder", path.display())
    })
}

/// The Python interpreter with `tokenizers` and `transformers` for reference checks: `TINYTUNE_PYTHON`, or the
/// virtual environment at `$HOME/.cache/tinytune/venv` (tools/test.sh sets it up).
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TINYTUNE_PYTHON") {
        return PathBuf::from(python);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    home.join(".cache/tinytune/venv/bin/python")
}

/// stories260K converted by our importer into a Hugging Face folder, once per test process.
pub fn converted_model_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let files =
            tinytune::import::convert_llama2c(&stories260k_file("stories260K.bin"), &stories260k_file("tok512.bin"))
                .expect("stories260K converts");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("stories260K-hf-{}", std::process::id()));
        files.write_to(&dir).expect("the converted folder can be written");
        dir
    })
}

/// Compares every LoRA factor's gradient in `grads` with PyTorch's (`reference["grads"]`, by PEFT's names, from
/// tests/reference/lora_grads.py): the largest difference must be within `relative` of the factor's largest
/// gradient, which must not be zero (a zero gradient would make the comparison mean nothing). Returns how many
/// factors were compared.
#[cfg(feature = "trainer")]
pub fn assert_lora_grads_match(
    model: &tinytune::model::LlamaForCausalLM,
    grads: &burn::tensor::Gradients,
    reference: &serde_json::Value,
    relative: f32,
) -> usize {
    let mut compared = 0;
    for (name, projection) in model.projections() {
        let Some(adapter) = projection.lora.as_ref() else { continue };
        for (factor, param) in [("lora_A", &adapter.lora_a), ("lora_B", &adapter.lora_b)] {
            let key = format!("base_model.model.{name}.{factor}.weight");
            let ours = param
                .val()
                .grad(grads)
                .expect("adapter factors receive gradients")
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let theirs: Vec<f32> = reference["grads"][&key]
                .as_array()
                .unwrap_or_else(|| panic!("PyTorch has no gradient for {key}"))
                .iter()
                .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32))
                .collect();
            let scale = theirs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert_eq!(ours.len(), theirs.len(), "{key}");
            assert!(scale > 0.0, "{key}: PyTorch's gradient is all zero, so the comparison would mean nothing");
            assert!(diff <= relative * scale, "{key}: max |Δ| {diff} against max |g| {scale}");
            compared += 1;
        }
    }
    compared
}

/// stories260K's tokenizer as our importer converts it.
#[cfg(feature = "trainer")]
pub fn stories260k_tokenizer() -> tinytune::tokenizer::TextTokenizer {
    let dir = converted_model_dir();
    tinytune::tokenizer::TextTokenizer::from_files(
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        &std::fs::read(dir.join("tokenizer_config.json")).unwrap(),
    )
    .unwrap()
}

/// Preference pairs for stories260K: the chosen story names the animal asked about, the rejected one does not.
pub fn preference_examples() -> Vec<tinytune::dataset::Example> {
    ["fox", "duck", "cat", "bear", "frog", "owl"]
        .iter()
        .map(|animal| tinytune::dataset::Example::Preference {
            prompt: format!("Tell me about a {animal}."),
            chosen: format!("The {animal} was happy. It played in the park all day."),
            rejected: "The sky was grey and the day was long.".into(),
        })
        .collect()
}
