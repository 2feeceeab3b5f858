// Reading an answer in a real Chromium against the real backend: a long answer is shown from its first
// line, an expanded citation shows formatted text (no raw Markdown), and the demo page fits a phone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser, shot, startBackend } from "./harness.mjs";

const DONE = '[data-testid="message-assistant"][data-status="done"]';

describe("answer readability in Chromium", { timeout: 240_000 }, () => {
  let backend, browser;

  before(async () => {
    backend = await startBackend();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it("scrolls a long answer to its start and renders citation Markdown", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 420 });
    await page.goto(backend.baseUrl);
    await page.getByTestId("welcome").waitFor();
    const input = page.getByLabel("Your message");
    await input.fill("How do I return an item?");
    await input.press("Enter");
    const answer = page.locator(DONE).first();
    await answer.waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300); // let the last frame's layout settle before measuring
    const log = await page.locator('[role="log"]').boundingBox();
    const box = await answer.boundingBox();
    assert.ok(box.height > log.height, `the answer (${box.height}px) must be longer than the view (${log.height}px)`);
    // Its first line is in view (the customer starts reading at the start, not mid-answer).
    assert.ok(box.y >= log.y - 2 && box.y < log.y + 60, `answer top ${box.y} vs log top ${log.y}`);
    await shot(page, "12-long-answer-start");

    const citation = answer.getByRole("button", { name: /\[1\]/ });
    await citation.click();
    const passage = answer.getByTestId("citation-passage");
    await passage.waitFor();
    assert.doesNotMatch(await passage.innerText(), /\*\*|^#+ /m, "citation Markdown is rendered, not shown raw");
    await page.close();
  });

  it("keeps the demo page and its launcher on a 390 px phone screen", async () => {
    const demo = await browser.context.newPage();
    await demo.setViewportSize({ width: 390, height: 844 });
    await demo.goto(`${backend.baseUrl}/demo`);
    const launcher = demo.locator("#support-widget-host button.launcher");
    await launcher.waitFor();
    const width = await demo.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
    const box = await launcher.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `launcher at x=${box.x}, width ${box.width}`);
    await shot(demo, "13-demo-phone");
    await demo.close();
  });
});
