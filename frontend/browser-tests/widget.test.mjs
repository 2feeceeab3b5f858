// The customer's whole path in a real Chromium against the real backend: ask, cite, upload, escalate,
// reload, the embedded widget on the demo page, a hostile help-center article, and losing the server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { launchBrowser, REPO, shot, startBackend } from "./harness.mjs";

const DONE = '[data-testid="message-assistant"][data-status="done"]';
const realtimeMounted = () => existsSync(path.join(REPO, "backend", "app", "realtime", "router.py"))
  && readFileSync(path.join(REPO, "backend", "app", "main.py"), "utf8").includes("realtime");

describe("chat widget in Chromium", { timeout: 240_000 }, () => {
  let backend, browser, page, websocket;
  const frames = [];
  const dialogs = [];

  async function ask(p, text) {
    const before = await p.locator(DONE).count();
    const input = p.getByLabel("Your message");
    await input.fill(text);
    await input.press("Enter");
    await p.locator(DONE).nth(before).waitFor({ timeout: 30_000 });
    return p.locator(DONE).nth(before);
  }

  before(async () => {
    backend = await startBackend();
    browser = await launchBrowser();
    websocket = (await (await fetch(`${backend.baseUrl}/web/config`)).json()).websocket;
    if (realtimeMounted()) assert.equal(websocket, true, "the /ws route is in the app, so the widget must use it");
    page = await browser.context.newPage();
    page.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss(); });
    page.on("websocket", (ws) => ws.on("framereceived", (f) => {
      try { frames.push(JSON.parse(String(f.payload))); } catch { /* binary: not ours */ }
    }));
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it("answers a question with a streamed reply and an expandable citation", async () => {
    await page.goto(backend.baseUrl);
    await page.getByTestId("welcome").waitFor();
    await page.locator(`[data-testid="connection-status"][data-mode="${websocket ? "live" : "fallback"}"]`).waitFor();
    await shot(page, "01-welcome");
    const answer = await ask(page, "How do I reset my password?");
    assert.match(await answer.innerText(), /Forgot password/);
    if (websocket) {
      // Streaming: the reply arrived as several text frames before its complete frame.
      const end = frames.findIndex((f) => f.type === "complete");
      assert.ok(end > 0, "a complete frame arrived");
      const deltas = frames.slice(0, end).filter((f) => f.type === "text");
      assert.ok(deltas.length >= 2, `expected several deltas, got ${deltas.length}`);
      assert.equal(deltas.map((f) => f.delta).join(""), frames[end].content);
    }
    const citation = answer.getByRole("button", { name: /\[1\].*reset your password/i });
    assert.equal(await citation.getAttribute("aria-expanded"), "false");
    await citation.click();
    assert.equal(await citation.getAttribute("aria-expanded"), "true");
    assert.match(await answer.getByTestId("citation-passage").first().innerText(), /Forgot password/);
    await shot(page, "02-answer-with-citation");
  });

  it("refuses a file that is too large or of a type not allowed, before uploading", async () => {
    let uploads = 0;
    page.on("request", (r) => r.method() === "POST" && /attachments|messages/.test(r.url()) && uploads++);
    await page.getByTestId("file-input").setInputFiles([
      { name: "huge.pdf", mimeType: "application/pdf", buffer: Buffer.alloc(11 * 1024 * 1024, 1) },
      { name: "setup.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ") },
    ]);
    const errors = await page.getByTestId("attachment-errors").innerText();
    assert.match(errors, /huge\.pdf is too large/);
    assert.match(errors, /setup\.exe: this file type is not accepted/);
    assert.equal(await page.getByRole("list", { name: "Files to send" }).count(), 0);
    assert.equal(uploads, 0);
    await shot(page, "03-refused-files");
  });

  it("takes a dropped file and answers about it", async () => {
    // A real drop event carrying a File, as the browser fires it when a file is dragged in.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["Order note\n\nMy order number is TH-99812. The tent pole in the Ridgeline 2 tent arrived bent.\n"],
        "order-note.txt", { type: "text/plain" }));
      const target = document.querySelector('[role="log"]');
      target.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: dt }));
      target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: dt }));
    });
    await page.getByRole("list", { name: "Files to send" }).getByText("order-note.txt").waitFor();
    const answer = await ask(page, "What does the attached file say about the tent pole?");
    assert.match(await answer.innerText(), /TH-99812/);
    const mine = page.locator('[data-testid="message-user"]').last();
    assert.match(await mine.innerText(), /order-note\.txt/);
    await shot(page, "04-file-answer");
  });

  it("hands over to a human and says so", async () => {
    await ask(page, "I want to talk to a human please");
    const notice = page.getByTestId("escalation-notice");
    await notice.waitFor();
    assert.match(await notice.innerText(), /team will take over[\s\S]*ESC-/);
    await shot(page, "05-escalation");
  });

  it("restores the conversation after a reload", async () => {
    const count = await page.locator("article").count();
    await page.reload();
    await page.locator(DONE).nth(2).waitFor();
    assert.equal(await page.locator("article").count(), count);
    assert.match(await page.locator('[data-testid="message-user"]').first().innerText(), /reset my password/);
    await page.getByTestId("escalation-notice").waitFor();
    await shot(page, "06-after-reload");
  });

  it("renders a help-center article with an onerror image inert", async () => {
    // The handover above queued the conversation for a person, and the assistant stays quiet while it
    // waits: go back to the assistant first.
    await page.getByRole("button", { name: "Back to the assistant" }).click();
    await page.getByTestId("handoff-banner").waitFor({ state: "detached" });
    const answer = await ask(page, "How do I check my gift card balance?");
    await answer.getByRole("button", { name: /\[1\]/ }).click();
    // The passage's Markdown is rendered through the answers' sanitiser: its text stays, the image goes.
    const passage = answer.getByTestId("citation-passage");
    assert.match(await passage.innerText(), /16-digit gift card number/);
    assert.equal(await passage.locator("img").count(), 0);
    const state = await page.evaluate(() => ({ xss: window.__xss, title: document.title,
      handlers: document.querySelectorAll("[onerror]").length }));
    assert.deepEqual(state, { xss: undefined, title: "Customer support", handlers: 0 });
    assert.deepEqual(dialogs, []);
    await shot(page, "07-xss-inert");
  });

  it("starts a new conversation", async () => {
    const old = await page.evaluate(() => localStorage.getItem("support-chat:session"));
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.getByTestId("welcome").waitFor();
    await page.waitForFunction((prev) => {
      const now = localStorage.getItem("support-chat:session");
      return now && now !== prev;
    }, old);
  });

  it("embeds the widget on the demo host page, isolated from its CSS", async () => {
    const demo = await browser.context.newPage();
    await demo.goto(`${backend.baseUrl}/demo`);
    const launcher = demo.locator("#support-widget-host button.launcher");
    await launcher.waitFor();
    const look = await launcher.evaluate((b) => {
      const s = getComputedStyle(b);
      return { bg: s.backgroundColor, border: s.borderTopStyle, font: s.fontFamily };
    });
    assert.equal(look.bg, "rgb(47, 111, 79)"); // data-color, not the host's !important magenta
    assert.equal(look.border, "none");
    assert.doesNotMatch(look.font, /Comic Sans/);
    await shot(demo, "08-demo-closed");
    await launcher.click();
    const frame = demo.frameLocator("#support-widget-host iframe");
    await frame.getByTestId("welcome").waitFor();
    assert.match(await frame.locator("h1").innerText(), /Trailhead help/);
    const iframeBorder = await demo.locator("#support-widget-host iframe").evaluate((f) => getComputedStyle(f).borderTopWidth);
    assert.equal(iframeBorder, "0px");
    await frame.getByRole("button", { name: "What is your return policy?" }).click();
    await frame.locator(DONE).first().waitFor({ timeout: 30_000 });
    assert.match(await frame.locator(DONE).first().innerText(), /return/i);
    await shot(demo, "09-demo-open");
    await frame.getByLabel("Your message").press("Escape");
    await demo.waitForFunction(() => !document.querySelector("#support-widget-host")
      .shadowRoot.querySelector(".panel").classList.contains("open"));
    assert.equal(await launcher.getAttribute("aria-expanded"), "false");
    await demo.close();
  });

  it("fills a phone screen, in the dark theme", async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.emulateMedia({ colorScheme: "dark" });
    await phone.goto(backend.baseUrl);
    // Same browser profile: the conversation started in the demo widget is restored here.
    await phone.locator(DONE).first().waitFor();
    const box = await phone.locator("header").boundingBox();
    assert.equal(Math.round(box.width), 390);
    const bg = await phone.locator('[role="log"]').evaluate((el) => getComputedStyle(el.parentElement).backgroundColor);
    assert.notEqual(bg, "rgb(255, 255, 255)");
    await shot(phone, "10-phone-dark");
    await phone.close();
  });

  it("shows that the server went away and disables sending with the reason", async () => {
    await backend.stop();
    await page.locator('[data-testid="connection-status"][data-mode="offline"]').waitFor({ timeout: 40_000 });
    assert.match(await page.getByTestId("input-disabled-reason").innerText(), /offline/i);
    assert.equal(await page.getByLabel("Your message").isDisabled(), true);
    assert.match(await page.getByTestId("connection-status").innerText(), /Offline/);
    await shot(page, "11-offline");
  });
});
