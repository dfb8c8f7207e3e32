"""Trunk post-build hook: gives the built index.html its Content-Security-Policy, then copies it to 404.html.

The policy allows scripts from the site itself and the inline scripts the page has (Trunk's module loader, the
theme script, and `trunk serve`'s reload script when serving), each by its sha256, and nothing inline besides;
no eval, only WebAssembly compilation ('wasm-unsafe-eval'); connections, workers, images and styles from the
site only. The hashes are computed here because Trunk's loader differs per build (file hashes, public URL).

One hook does both jobs because Trunk runs post-build hooks at the same time: a separate 404 copy could copy
the page before its policy is in.

A plain static host serves the policy as a <meta> tag: `frame-ancestors` cannot be set that way (and embeds
must stay frameable anyway), and workers loaded by URL get no policy from the page.
"""

import base64
import hashlib
import os
import re
import sys

staging = os.environ.get("TRUNK_STAGING_DIR")
if not staging:
    sys.exit("finish_html.py runs as a Trunk hook (TRUNK_STAGING_DIR is not set)")
index_path = os.path.join(staging, "index.html")
with open(index_path, encoding="utf-8") as file:
    html = file.read()

# Inline scripts: <script ...>content</script> without a src attribute.
inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.DOTALL)
hashes = [
    "'sha256-" + base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode("ascii") + "'"
    for content in inline
    if content.strip()
]
policy = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval' " + " ".join(hashes),
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}" />'
charset = re.search(r"<meta charset=[^>]*>", html)
if not charset:
    sys.exit("finish_html.py: index.html has no <meta charset>, after which the policy must come")
if "Content-Security-Policy" in html:
    sys.exit("finish_html.py: index.html already has a Content-Security-Policy")
html = html[: charset.end()] + "\n    " + meta + html[charset.end() :]
with open(index_path, "w", encoding="utf-8") as file:
    file.write(html)
# A plain static host answers an unknown path (a deep link such as /learn/<slug>) with 404.html: make that the app,
# whose router then shows the page the address names.
with open(os.path.join(staging, "404.html"), "w", encoding="utf-8") as file:
    file.write(html)
