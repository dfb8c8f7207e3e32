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
