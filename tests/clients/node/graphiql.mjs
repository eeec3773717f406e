// Loads GraphiQL in Debian's Chromium (playwright-core, no browser download) with every request that leaves
// loopback aborted, runs its default query and reads the answer. BASE_URL and CHROMIUM in the environment; prints one
// JSON line and exits 0, or fails an assertion and exits 1. Run by tests/clients/test_graphiql_browser.py.
import assert from "node:assert/strict";

import { chromium } from "playwright-core";

const BASE = process.env.BASE_URL;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  const outside = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || LOOPBACK.has(url.hostname)) return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const failed = [];
  page.on("requestfailed", (request) => failed.push(request.url()));
  await page.goto(`${BASE}/graphql`, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-editor", { timeout: 30000 });
  await page.click(".graphiql-execute-button"); // the page's default query: serverTime and announcements
  const result = page.locator(".result-window");
  try {
    await result.filter({ hasText: "serverTime" }).waitFor({ timeout: 30000 });
  } catch (err) {
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
    throw err;
  }
  const text = await result.innerText();
  assert.match(text, /"serverTime": "\d{4}-/);
  assert.match(text, /"announcements"/);
  assert.doesNotMatch(text, /"errors"/);
  assert.deepEqual(outside, [], "the page asked for nothing outside loopback");
  assert.deepEqual(failed, []);
  console.log(JSON.stringify({ outside, answer: text.replace(/\s+/g, " ").trim() }));
} finally {
  await browser.close();
}
