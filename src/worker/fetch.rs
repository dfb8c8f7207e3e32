//! Downloads with progress, and the browser's Cache API so a second visit downloads nothing: model files are
//! cached under their sha256 from the model's manifest, so a new model version is fetched again.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::{js_error, post, scope};
use crate::protocol::{FromWorker, ModelManifest};

const CACHE_NAME: &str = "tinytune-models-v1";

/// The model folder's `manifest.json`, typed.
pub async fn manifest(model_url: &str) -> Result<ModelManifest, String> {
    let url = format!("{model_url}manifest.json");
    let bytes = fetch_plain(&url).await?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not a model manifest: {e}"))
}

/// One file of the model folder, from the cache when an earlier visit stored this version of it.
pub async fn model_file(model_url: &str, manifest: &ModelManifest, name: &str) -> Result<Vec<u8>, String> {
    let file = manifest.files.get(name).ok_or_else(|| format!("the model's manifest.json lists no {name}"))?;
    let url = format!("{model_url}{name}");
    fetch_cached(&url, &format!("{url}?sha256={}", file.sha256), name).await
}

async fn fetch_cached(url: &str, cache_key: &str, label: &str) -> Result<Vec<u8>, String> {
    let scope = scope();
    let cache = match scope.caches() {
        Ok(caches) => JsFuture::from(caches.open(CACHE_NAME)).await.ok().map(|c| c.unchecked_into::<web_sys::Cache>()),
        Err(_) => None,
    };
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(cache_key)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                return read_body(&response, label, true).await;
            }
        }
    }
    let response = request(url, label).await?;
    let bytes = read_body(&response, label, false).await?;
    if let Some(cache) = &cache {
        let copy = Uint8Array::from(bytes.as_slice());
        if let Ok(stored) = Response::new_with_opt_buffer_source(Some(&copy)) {
            // A full or blocked cache only means downloading again next time.
            let _ = JsFuture::from(cache.put_with_str(cache_key, &stored)).await;
        }
    }
    Ok(bytes)
}

/// A small file, without progress or caching.
pub async fn fetch_plain(url: &str) -> Result<Vec<u8>, String> {
    body_of(request(url, url).await?).await
}

/// A small file that may be absent: `None` when the server answers 404 Not Found, or with an HTML page (a host
/// that serves the app's page for every unknown path).
pub async fn fetch_if_present(url: &str) -> Result<Option<Vec<u8>>, String> {
    let response = send(url, url).await?;
    let content_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
    if response.status() == 404 || content_type.starts_with("text/html") {
        return Ok(None);
    }
    body_of(check_status(response, url)?).await.map(Some)
}

async fn body_of(response: Response) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

async fn send(url: &str, label: &str) -> Result<Response, String> {
    Ok(JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("cannot download {label}: {}", js_error(e)))?
        .unchecked_into())
}

async fn request(url: &str, label: &str) -> Result<Response, String> {
    check_status(send(url, label).await?, label)
}

fn check_status(response: Response, label: &str) -> Result<Response, String> {
    if !response.ok() {
        return Err(format!(
            "cannot download {label}: the server answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

/// Reads a response body chunk by chunk, posting `Loading` progress.
async fn read_body(response: &Response, label: &str, from_cache: bool) -> Result<Vec<u8>, String> {
    let total_bytes = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
    let progress = |loaded: usize| {
        post(&FromWorker::Loading { file: label.to_string(), loaded_bytes: loaded as u64, total_bytes, from_cache })
    };
    let Some(body) = response.body() else {
        let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        progress(bytes.len());
        return Ok(bytes);
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    progress(0);
    loop {
        let chunk =
            JsFuture::from(reader.read()).await.map_err(|e| format!("download of {label} failed: {}", js_error(e)))?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into()).map_err(js_error)?.unchecked_into();
        bytes.extend(value.to_vec());
        progress(bytes.len());
    }
    Ok(bytes)
}
