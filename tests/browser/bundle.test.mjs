// What the build writes: every subresource-integrity hash in the site's pages matches the file it names. A build
// step that rewrites a file after Trunk hashed it breaks the preload, and the page shows no error a test could see.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { distDir, subPathDistDir, SUB_PATH } from "./harness.mjs";

test("every integrity hash in the built pages matches its file", () => {
  let checked = 0;
  for (const [dir, base] of [[distDir, "/"], [subPathDistDir, SUB_PATH]]) {
    for (const page of ["index.html", "404.html"]) {
      const html = readFileSync(join(dir, page), "utf8");
      for (const [tag] of html.matchAll(/<(link|script)\b[^>]*\bintegrity="[^"]+"[^>]*>/g)) {
        const href = tag.match(/\b(?:href|src)="([^"]+)"/)[1];
        const [, algorithm, expected] = tag.match(/\bintegrity="(sha\d+)-([^"]+)"/);
        assert.ok(href.startsWith(base), `${page}: ${href} is outside ${base}`);
        const file = join(dir, href.slice(base.length));
        const actual = createHash(algorithm).update(readFileSync(file)).digest("base64");
        assert.equal(actual, expected, `${dir}/${page}: the integrity hash of ${href} does not match the file`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 8, `only ${checked} integrity hashes found: expected the UI's script and wasm in 2 pages × 2 builds`);
});
