// SmolLM2-135M-Instruct in the tab on the CPU backend (headless Chromium without WebGPU): the hardware preflight's
// figures before anything downloads, the 4-bit GGUF loading from the build output with progress, and the chat box
// answering a message through the model's chat template, streamed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { servedSite, openPage, distDir } from "./harness.mjs";

const site = servedSite();

test("the QLoRA demo measures the device before anything downloads, loads the 4-bit model with progress, and chats", async () => {
  const { page } = await openPage(site.browser, site.origin);
  const modelRequests = [];
  page.on("request", (request) => request.url().endsWith("/model.gguf") && modelRequests.push(request.url()));
  await page.goto(`${site.origin}/embed/qlora-chat`);
  const demo = page.locator("section.demo");

  // The preflight: this device, and a row for each way of training with its memory and verdicts.
  const preflight = demo.locator(".demo-preflight");
  await preflight.getByText(/CPU: [\d.]+ billion operations a second, measured here/).waitFor({ timeout: 60_000 });
  // Headless Chromium without --enable-unsafe-webgpu offers no WebGPU adapter.
  await preflight.getByText(/No GPU for training: .+\./).waitFor();
  const rows = preflight.locator("tbody tr");
  assert.deepEqual(await rows.locator("th").allInnerTexts(), [
    "QLoRA (LoRA on the 4-bit base)",
    "LoRA on the base in 32-bit floats",
    "Full fine-tuning",
  ]);
  const qlora = await rows.nth(0).locator("td").allInnerTexts();
  const lora = await rows.nth(1).locator("td").allInnerTexts();
  const megabytes = (text) => Number(text.replace(/[^\d.]/g, "")) * (text.includes("GB") ? 1000 : 1);
  assert.ok(megabytes(qlora[0]) < megabytes(lora[0]), `QLoRA needs less memory than LoRA: ${qlora[0]} vs ${lora[0]}`);
  assert.match(qlora[1], /^Does not fit: no usable GPU/);
  assert.equal(qlora[2], "Fits");
  assert.match(qlora[3], /^(a few seconds|about \d+ (s|min)|about \d+ h \d+ min)$/);
  assert.deepEqual(modelRequests, [], "nothing downloads before the learner asks");

  // The size comes from the build output's manifest.
  const manifest = JSON.parse(readFileSync(join(distDir, "models/SmolLM2-135M-Instruct/manifest.json"), "utf8"));
  assert.equal(manifest.model, "HuggingFaceTB/SmolLM2-135M-Instruct");
  const load = demo.getByRole("button", { name: /^Load SmolLM2-135M-Instruct \(98\.\d MB\)$/ });
  assert.equal(manifest.files["model.gguf"].bytes, 98_362_432);
  // Every progress line, kept as it changes (over localhost the download is over in moments).
  await page.evaluate(() => {
    window.progressLines = [];
    new MutationObserver(() => {
      const line = document.querySelector(".demo-loading")?.textContent;
      if (line && window.progressLines.at(-1) !== line) window.progressLines.push(line);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await load.click();
  await demo.getByText(/^Training on the CPU/).waitFor({ timeout: 180_000 });
  assert.equal(modelRequests.length, 1);
  const lines = await page.evaluate(() => window.progressLines);
  assert.ok(
    lines.some((line) => /^Downloading model\.gguf: [\d.]+ (bytes?|KB|MB) of 98\.4 MB$/.test(line)),
    `download progress was shown: ${JSON.stringify(lines)}`,
  );

  // The chat box: the reply streams in, then ends at the end-of-turn token, without the template's markup.
  const message = demo.getByLabel("Your message");
  await message.fill("What is the capital of France? Answer in one short sentence.");
  await demo.getByLabel("Temperature").fill("0");
  await demo.getByRole("button", { name: "Send" }).click();
  const reply = demo.locator(".demo-sample").first();
  await reply.locator(".demo-sample-text").waitFor({ timeout: 120_000 });
  await page.waitForFunction(
    () => !document.querySelector(".demo-sample")?.getAttribute("aria-busy"),
    undefined,
    { timeout: 180_000 },
  );
  const text = await reply.locator(".demo-sample-text").innerText();
  assert.match(text, /Paris/, `the model answers: ${text}`);
  assert.doesNotMatch(text, /<\|im_(start|end)\|>|^user|assistant\n/, `only the reply: ${text}`);
  page.assertClean();
});
