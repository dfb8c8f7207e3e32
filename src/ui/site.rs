//! Where the site is served. Docs hosts put projects under a sub-path (`https://example.org/tinytune/`), so the
//! build takes the public URL as a setting (`trunk build --public-url /tinytune/`) and Trunk writes it into the
//! page's `<base href>`. Addresses are made from that base: [`href`] for the router's links and navigation, [`url`]
//! for addresses that leave the page (a copied link, an embed snippet). The files the site serves (the worker, the
//! model, data sets, lesson images and links) are named relative to the base (`models/stories260K/`), which the
//! browser resolves, and so does the worker, served from the base itself.

/// The base path without its trailing slash: `""` at a host's root, `"/tinytune"` under a sub-path.
pub fn base_path() -> String {
    let base = web_sys::window().and_then(|w| w.document()).and_then(|d| d.base_uri().ok().flatten());
    let path = base.and_then(|base| web_sys::Url::new(&base).ok()).map(|url| url.pathname()).unwrap_or_default();
    path.trim_end_matches('/').to_string()
}

/// A path of the site (`/learn/…`) as the router's links and the address bar need it: under the base.
pub fn href(path: &str) -> String {
    format!("{}{path}", base_path())
}

/// A path of the site as a full address, for links that are copied or embedded elsewhere.
pub fn url(path: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}{}", href(path))
}

/// A path from the address bar as the site names it: without the base.
pub fn route(pathname: &str) -> &str {
    let base = base_path();
    match pathname.strip_prefix(base.as_str()) {
        Some("") if !base.is_empty() => "/",
        Some(rest) if !base.is_empty() && rest.starts_with('/') => rest,
        _ => pathname,
    }
}
