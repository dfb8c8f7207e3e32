//! How a message crosses `postMessage`, both ways between the page and the trainer worker: its JSON alone, or
//! `[json, ArrayBuffer]` with the buffer transferred (moved, not copied) when bytes travel with it (an adapter's
//! zip, a learner's data set file). See [`crate::protocol`] for which messages carry bytes.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::js_sys::{Array, ArrayBuffer, Uint8Array};

/// The value to post, and the list of what to transfer with it (`None` when nothing is).
pub fn pack(json: &str, payload: Option<&[u8]>) -> (JsValue, Option<Array>) {
    let json = JsValue::from_str(json);
    match payload {
        None => (json, None),
        Some(bytes) => {
            let buffer: ArrayBuffer = Uint8Array::from(bytes).buffer();
            (Array::of2(&json, &buffer).into(), Some(Array::of1(&buffer)))
        }
    }
}

/// A posted value back as its JSON and bytes.
pub fn unpack(data: JsValue) -> Result<(String, Option<Vec<u8>>), String> {
    if let Some(json) = data.as_string() {
        return Ok((json, None));
    }
    let parts =
        data.dyn_into::<Array>().map_err(|_| "a message arrived that is neither text nor [text, bytes]".to_string())?;
    let json = parts.get(0).as_string().ok_or("bytes arrived without a message")?;
    let buffer = parts
        .get(1)
        .dyn_into::<ArrayBuffer>()
        .map_err(|_| "a message arrived with something other than bytes".to_string())?;
    Ok((json, Some(Uint8Array::new(&buffer).to_vec())))
}
