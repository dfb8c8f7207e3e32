//! Files the worker keeps across reloads, in the origin private file system (OPFS): the browser's own storage
//! for this site, never sent anywhere. Written whole (a writable stream replaces the file only when it closes,
//! so a crash never leaves half a file), read whole. When storage is full, blocked (private windows in some
//! browsers) or missing, the caller is told why in words for the learner and keeps working in memory.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions, FileSystemGetFileOptions,
    FileSystemRemoveOptions, FileSystemWritableFileStream,
};

use super::{js_error, scope};

/// The folder of one concern (e.g. `studio`), created when first written.
pub struct Folder {
    name: &'static str,
}

impl Folder {
    pub const fn new(name: &'static str) -> Folder {
        Folder { name }
    }

    async fn handle(&self, create: bool) -> Result<Option<FileSystemDirectoryHandle>, String> {
        let storage = scope().navigator().storage();
        let root = JsFuture::from(storage.get_directory()).await.map_err(unavailable)?;
        let root: FileSystemDirectoryHandle = root.unchecked_into();
        let options = FileSystemGetDirectoryOptions::new();
        options.set_create(create);
        match JsFuture::from(root.get_directory_handle_with_options(self.name, &options)).await {
            Ok(folder) => Ok(Some(folder.unchecked_into())),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Replaces the file `name` with `bytes`.
    pub async fn write(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let folder = self.handle(true).await?.ok_or("the browser's storage did not create the folder")?;
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let file = JsFuture::from(folder.get_file_handle_with_options(name, &options)).await.map_err(unavailable)?;
        let file: FileSystemFileHandle = file.unchecked_into();
        let stream = JsFuture::from(file.create_writable()).await.map_err(unavailable)?;
        let stream: FileSystemWritableFileStream = stream.unchecked_into();
        let written = match stream.write_with_js_u8_array(&Uint8Array::from(bytes)) {
            Ok(promise) => JsFuture::from(promise).await.map(drop),
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            // Abandon the write: the file keeps what it held before.
            let _ = JsFuture::from(stream.abort()).await;
            return Err(unavailable(error));
        }
        JsFuture::from(stream.close()).await.map(drop).map_err(unavailable)
    }

    /// The file `name`, or `None` when it was never written (or the storage was cleared).
    pub async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(folder) = self.handle(false).await? else { return Ok(None) };
        let file = match JsFuture::from(folder.get_file_handle(name)).await {
            Ok(file) => file.unchecked_into::<FileSystemFileHandle>(),
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let blob: Blob = JsFuture::from(file.get_file()).await.map_err(unavailable)?.unchecked_into();
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(unavailable)?;
        Ok(Some(Uint8Array::new(&buffer).to_vec()))
    }

    /// Removes the folder and everything in it.
    pub async fn remove(&self) -> Result<(), String> {
        let storage = scope().navigator().storage();
        let root: FileSystemDirectoryHandle =
            JsFuture::from(storage.get_directory()).await.map_err(unavailable)?.unchecked_into();
        let options = FileSystemRemoveOptions::new();
        options.set_recursive(true);
        match JsFuture::from(root.remove_entry_with_options(self.name, &options)).await {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}

fn error_name(error: &wasm_bindgen::JsValue) -> String {
    Reflect::get(error, &"name".into()).ok().and_then(|name| name.as_string()).unwrap_or_default()
}

fn is_not_found(error: &wasm_bindgen::JsValue) -> bool {
    error_name(error) == "NotFoundError"
}

/// Why storage failed, in words a learner can act on.
fn unavailable(error: wasm_bindgen::JsValue) -> String {
    match error_name(&error).as_str() {
        "QuotaExceededError" => {
            "the browser's storage for this site is full: free space (or allow this site more) and reload".into()
        }
        "SecurityError" | "NotAllowedError" => {
            "this browser does not let the site store files here (a private window, or storage blocked in its \
             settings)"
                .into()
        }
        _ => format!("the browser's storage failed ({})", js_error(error)),
    }
}
