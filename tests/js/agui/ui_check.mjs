// Drives the /ui live view in the system's headless Chromium (through playwright-core) and
// prints what the page showed as JSON: every request it made, the call tree (each node's name,
// status and streamed text, with its depth), the reply in reply order, and how the first text
// arrived. Usage: node ui_check.mjs BASE_URL QUESTION PROFILE_DIR [SCREENSHOT_PREFIX].
import { chromium } from "playwright-core";

const [base, question, profile, shots] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1280, height: 820 },
});
const requests = [];
context.on("request", (request) => requests.push(request.url()));
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(`${base}/ui`);
  await page.waitForSelector("#agent option", { state: "attached" });
  await page.fill("#question", question);
  await page.click("#ask");
  // Mid-run: the tree has grown and several calls' texts are streaming.
  await page.waitForFunction(
    () => [...document.querySelectorAll("li.call .part")]
      .filter((p) => p.textContent.length >= 40).length >= 3,
    null, { timeout: 30000 });
  if (shots) await page.screenshot({ path: `${shots}-running.png` });
  await page.waitForFunction(() => document.getElementById("run-status").textContent !== "running"
    && document.getElementById("run-status").textContent !== "idle", null, { timeout: 30000 });
  if (shots) await page.screenshot({ path: `${shots}-finished.png` });
  const shown = await page.evaluate(() => ({
    status: document.getElementById("run-status").textContent,
    calls: [...document.querySelectorAll("li.call")].map((li) => {
      let depth = 0;
      for (let up = li.parentElement; up; up = up.parentElement) if (up.matches("li.call")) depth++;
      return {
        name: li.dataset.callName,
        depth,
        status: li.querySelector(":scope > .head > .status").textContent,
        tokens: li.querySelector(":scope > .head > .tokens").textContent,
        text: li.querySelector(":scope > .text").textContent,
      };
    }),
    reply: [...document.querySelectorAll("#reply .message .body")].map((m) => m.textContent),
    authors: [...document.querySelectorAll("#reply .message")].map((m) => m.dataset.author),
  }));
  process.stdout.write(JSON.stringify({ ...shown, requests, pageErrors }));
} finally {
  await context.close();
}
