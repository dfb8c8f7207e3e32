// What the build writes: every subresource-integrity hash in the site's pages matches the file it names. A build
// step that rewrites a file after Trunk hashed it breaks the preload, and the page shows no error a test could see.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
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

test("every page declares a Content-Security-Policy that allows each inline script by its hash and nothing else", () => {
  for (const dir of [distDir, subPathDistDir]) {
    for (const page of ["index.html", "404.html"]) {
      const html = readFileSync(join(dir, page), "utf8");
      const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
      assert.ok(meta, `${dir}/${page} has no Content-Security-Policy`);
      assert.ok(html.indexOf(meta[0]) < html.indexOf("<script"), `${page}: the policy must come before any script`);
      const directives = new Map(meta[1].split(/;\s*/).map((d) => { const [name, ...values] = d.split(" "); return [name, values]; }));
      const scripts = directives.get("script-src");
      assert.deepEqual(scripts.filter((s) => !s.startsWith("'sha256-")), ["'self'", "'wasm-unsafe-eval'"], `${page}: script-src`);
      assert.deepEqual(directives.get("connect-src"), ["'self'"]);
      assert.deepEqual(directives.get("default-src"), ["'none'"]);
      assert.ok(!meta[1].includes("unsafe-inline") && !meta[1].includes("'unsafe-eval'"), meta[1]);
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).filter((s) => s.trim());
      assert.ok(inline.length >= 2, `${page}: expected Trunk's loader and the theme script inline`);
      for (const script of inline) {
        const hash = `'sha256-${createHash("sha256").update(script).digest("base64")}'`;
        assert.ok(scripts.includes(hash), `${page}: an inline script is not in the policy: ${script.slice(0, 80)}`);
      }
      assert.equal(scripts.length - 2, inline.length, `${page}: the policy allows a script the page does not have`);
    }
  }
});

test("every shipped data set has a recorded run beside it (the default settings', or its lesson's), with every step", () => {
  const datasets = join(distDir, "datasets");
  const files = readdirSync(datasets);
  const shipped = files.filter((name) => /\.(jsonl|txt)$/.test(name));
  assert.ok(shipped.length >= 3, `shipped data sets: ${shipped}`);
  // `<stem>.recorded.json` with the default settings; a lesson's runs as `<stem>.<run>.recorded.json` (the messy
  // practice set, which cannot train as it stands, has only those).
  const recordings = shipped.flatMap((name) => {
    const stem = name.replace(/\.[^.]+$/, "");
    const own = files.filter((file) => file.startsWith(`${stem}.`) && file.endsWith(".recorded.json"));
    assert.ok(own.length > 0, `${name} has no recorded run beside it`);
    return own;
  });
  assert.ok(shipped.filter((name) => name !== "animal-place-messy.jsonl").every((name) => recordings.includes(name.replace(/\.[^.]+$/, ".recorded.json"))));
  for (const file of recordings) {
    const recorded = JSON.parse(readFileSync(join(datasets, file), "utf8"));
    assert.equal(recorded.metrics.length, recorded.settings.steps, `${file}: a row per step`);
    assert.deepEqual(recorded.metrics.map((m) => m.step), [...Array(recorded.settings.steps).keys()].map((i) => i + 1), file);
    assert.ok(recorded.metrics.every((m) => Number.isFinite(m.loss)), `${file}: finite losses`);
    assert.ok(recorded.base_sample.length > 0 && recorded.tuned_sample.length > 0, `${file}: both samples`);
  }
});

test("the shipped instruction adapter is a PEFT folder naming its base by name, with its recorded run judged on every check prompt", () => {
  const folder = join(distDir, "models", "stories260K", "instruction-adapter");
  const config = JSON.parse(readFileSync(join(folder, "adapter_config.json"), "utf8"));
  assert.equal(config.base_model_name_or_path, "stories260K", "no path of the machine that built it");
  assert.equal(config.peft_type, "LORA");
  // safetensors: an 8-byte header length, then the JSON header naming each LoRA factor.
  const weights = readFileSync(join(folder, "adapter_model.safetensors"));
  const header = JSON.parse(weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString("utf8"));
  const factors = Object.keys(header).filter((key) => key.endsWith("lora_A.weight"));
  assert.equal(factors.length, config.target_modules.length * 5, "a factor per target in each of the 5 layers");
  const recorded = JSON.parse(readFileSync(join(folder, "recorded.json"), "utf8"));
  assert.equal(recorded.base_checked.length, 8);
  assert.equal(recorded.tuned_checked.length, 8);
  assert.equal(recorded.task.passed, recorded.tuned_checked.filter((sample) => sample.passed).length);
  assert.equal(recorded.task.base_passed, recorded.base_checked.filter((sample) => sample.passed).length);
});
