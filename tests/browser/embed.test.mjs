// An embedded demo as another site would use it: a page on a second origin holds the snippet's <iframe>, the demo
// trains inside it on the CPU backend, and the page hears the demo's height.
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startServer, launchBrowser } from "./harness.mjs";

let site, siteOrigin, docs, docsOrigin, browser;

before(async () => {
  ({ server: site, origin: siteOrigin } = await startServer());
  // "Someone else's docs": another origin (another port), serving one page that embeds the demo.
  docs = createServer((request, response) => {
    const query = "steps=3&eval=1&warmup=0&batch=4&controls=basic&theme=dark";
    response.setHeader("content-type", "text/html");
    response.end(`<!doctype html><title>Docs</title><h1>Our docs</h1>
      <iframe id="demo" src="${siteOrigin}/embed/first-lora?${query}" title="Tinytune demo" style="width:360px;border:0" height="300"></iframe>
      <script>
        window.heights = [];
        addEventListener("message", (event) => {
          const frame = document.getElementById("demo");
          if (event.source === frame.contentWindow && event.data?.type === "tinytune-embed-height") {
            window.heights.push(event.data.height);
            frame.height = event.data.height;
          }
        });
      </script>`);
  });
  await new Promise((resolve) => docs.listen(0, "127.0.0.1", resolve));
  docsOrigin = `http://127.0.0.1:${docs.address().port}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  site?.close();
  docs?.close();
});

test("a demo embedded on another origin trains, has no site chrome, and reports its height", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${docsOrigin}/`);
  const frame = page.frameLocator("#demo");
  await frame.getByText(/is ready to train on the CPU/).waitFor({ timeout: 120_000 });
  assert.equal(await frame.locator(".site-header, .site-footer").count(), 0, "no site header or footer in an embed");
  assert.equal(await frame.locator("html").getAttribute("data-theme"), "dark", "theme=dark applies");
  assert.equal(await frame.getByLabel("Steps", { exact: true }).inputValue(), "3", "settings come from the address");
  await frame.getByRole("button", { name: "Train", exact: true }).click();
  await frame.locator(".task-result h4").getByText(/^Pip rate: [0-8] of 8$/).waitFor({ timeout: 240_000 });
  assert.equal(await frame.locator(".demo-data tbody tr").count(), 3);
  const heights = await page.evaluate(() => window.heights);
  assert.ok(heights.length >= 2, `the height is reported, and again when it changes: ${heights}`);
  assert.ok(heights.at(-1) > 300, `the frame grew to fit the chart: ${heights}`);
  assert.equal(Number(await page.locator("#demo").getAttribute("height")), heights.at(-1));
  const link = await frame.getByRole("link", { name: "Open in Tinytune" }).getAttribute("href");
  assert.ok(link.startsWith(`${siteOrigin}/playground?method=lora&r=8&`), link);
  assert.match(link, /steps=3.*&data=pip$/);
  assert.deepEqual(errors, []);
  await context.close();
});
