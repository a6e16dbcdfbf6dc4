// Drives Debian's chromium (never a downloaded browser) against a node's /hive/ui for MeshUiBrowserTest.
// usage: node mesh-ui.mjs URL TOKEN SCREENSHOT
// Talks to the test over stdio: prints "SITES <json>" once every site's row, models and chart are
// shown, then waits for "DOWN <site>" on stdin, waits for that row to say down, saves the
// screenshot and prints "SHOWN-DOWN <site>".
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [url, token, screenshot] = process.argv.slice(2);
const expectedSites = Number(process.env.HIVE_UI_SITES || "3");
const profile = mkdtempSync(join(tmpdir(), "hive-ui-chromium-"));
// A fresh profile each run (playwright passes it to chromium as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.HIVE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1400, height: 420 },
  timeout: 60000,
});
const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();

try {
  const page = browser.pages()[0] || await browser.newPage();
  page.on("console", (msg) => console.error("[page] " + msg.text()));
  await page.goto(url + "/hive/ui");
  // The page asks for the admin token once and keeps it for the tab.
  await page.fill("#token", token);
  await page.click("#connect");
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll("tr[data-site]")];
    return rows.length === n && rows.every((r) => r.querySelector("[data-model]") && r.querySelector("polyline"));
  }, expectedSites, { timeout: 60000 });
  const stored = await page.evaluate(() => sessionStorage.getItem("hive.adminToken"));
  const sites = await page.$$eval("tr[data-site]", (rows) => rows.map((r) => ({
    site: r.dataset.site,
    state: r.dataset.state,
    models: [...r.querySelectorAll("[data-model]")].map((m) => m.dataset.model),
  })));
  console.log("SITES " + JSON.stringify({ sites, tokenKept: stored === token }));

  const command = (await lines.next()).value || "";
  const site = command.replace(/^DOWN /, "").trim();
  await page.waitForSelector(`tr[data-site="${site}"][data-state="down"]`, { timeout: 60000 });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log("SHOWN-DOWN " + site);
} finally {
  input.close();
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
