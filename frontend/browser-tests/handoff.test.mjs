// The human handoff as the customer sees it, in a real Chromium against the real backend, with a staff
// member working the conversation through the staff API: in line, "Sam joined", Sam's reply styled apart
// from the assistant's, the assistant quiet meanwhile, the rating after resolve, and the way back.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser, shot, startBackend } from "./harness.mjs";

const ADMIN = { username: "admin@example.com", password: "admin-password-1" };
const SAM = { email: "sam@example.com", name: "Sam", role: "agent", password: "sam-password-1" };

describe("human handoff in the widget", { timeout: 240_000 }, () => {
  let backend, browser, page, sam;

  async function api(method, path, token, body) {
    const res = await fetch(`${backend.baseUrl}${path}`, { method,
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async function login(credentials) {
    const res = await api("POST", "/auth/login", null, credentials);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token;
  }

  async function sessionId(p) {
    return p.evaluate(() => JSON.parse(localStorage.getItem("support-chat:session") ?? "{}").sessionId);
  }

  async function say(p, text) {
    const input = p.getByLabel("Your message");
    await input.fill(text);
    await input.press("Enter");
  }

  before(async () => {
    backend = await startBackend({ FIRST_SUPERUSER: ADMIN.username, FIRST_SUPERUSER_PASSWORD: ADMIN.password,
      SECRET_KEY: "browser-test-secret-key-0123456789abcdef" });
    const admin = await login(ADMIN);
    assert.equal((await api("POST", "/staff/users", admin, SAM)).status, 201);
    sam = await login({ username: SAM.email, password: SAM.password });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it("queues the customer, shows who joined and their live reply, and keeps the assistant quiet", async () => {
    await page.goto(backend.baseUrl);
    await page.getByTestId("welcome").waitFor();
    await page.locator('[data-testid="connection-status"][data-mode="live"]').waitFor();
    await say(page, "I want to talk to a human please");
    const banner = page.getByTestId("handoff-banner");
    await banner.waitFor();
    assert.match(await banner.innerText(), /number 1 in line/);
    assert.match(await page.getByTestId("message-system").last().innerText(), /in line/);
    await shot(page, "handoff-01-waiting");

    const sid = await sessionId(page);
    assert.ok(sid, "the widget stored its session");
    const queue = await api("GET", "/staff/conversations?state=waiting", sam);
    assert.ok(queue.body.items.some((i) => i.session_id === sid));
    assert.equal((await api("POST", `/staff/conversations/${sid}/assign`, sam)).status, 200);
    await page.locator('[data-testid="handoff-banner"][data-state="assigned"]').waitFor();
    assert.match(await banner.innerText(), /Sam joined the conversation/);

    assert.equal((await api("POST", `/staff/conversations/${sid}/messages`, sam,
      { content: "Hi, I'm Sam from the support team. How can I help?" })).status, 201);
    const agent = page.getByTestId("message-agent").last();
    await agent.waitFor();
    assert.match(await agent.innerText(), /Sam · support team/);
    assert.match(await agent.innerText(), /How can I help\?/);
    const note = await api("POST", `/staff/conversations/${sid}/messages`, sam,
      { content: "PRIVATE: check the refund log", private: true });
    assert.equal(note.status, 201);
    await shot(page, "handoff-02-agent-reply");

    const answers = await page.getByTestId("message-assistant").count();
    await say(page, "My order 1234 never arrived");
    await page.getByText("My order 1234 never arrived").waitFor();
    const detail = await api("GET", `/staff/conversations/${sid}`, sam);
    const deadline = Date.now() + 10_000;
    let thread = detail.body.thread;
    while (!thread.some((e) => e.content === "My order 1234 never arrived") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100)); // the socket turn stores it; nothing to await from here
      thread = (await api("GET", `/staff/conversations/${sid}`, sam)).body.thread;
    }
    assert.ok(thread.some((e) => e.content === "My order 1234 never arrived"), "the person got the message");
    assert.equal(await page.getByTestId("message-assistant").count(), answers, "the assistant stayed quiet");
    assert.equal(await page.getByTestId("typing").count(), 0);
    assert.doesNotMatch(await page.locator("body").innerText(), /PRIVATE/);
  });

  it("asks for a rating after resolve, then the assistant answers again", async () => {
    const sid = await sessionId(page);
    assert.equal((await api("POST", `/staff/conversations/${sid}/resolve`, sam)).status, 200);
    const prompt = page.getByTestId("rating-prompt");
    await prompt.waitFor();
    await shot(page, "handoff-03-rating");
    await prompt.getByRole("radio", { name: "5 of 5" }).click();
    await prompt.getByLabel(/Comment/).fill("Sam was great");
    await prompt.getByRole("button", { name: "Send rating" }).click();
    await page.getByTestId("rating-thanks").waitFor();
    const detail = await api("GET", `/staff/conversations/${sid}`, sam);
    assert.deepEqual(detail.body.rating, { score: 5, comment: "Sam was great" });

    const before = await page.locator('[data-testid="message-assistant"][data-status="done"]').count();
    await say(page, "How do I reset my password?");
    const answer = page.locator('[data-testid="message-assistant"][data-status="done"]').nth(before);
    await answer.waitFor({ timeout: 30_000 });
    assert.match(await answer.innerText(), /Forgot password/);
    await shot(page, "handoff-04-back-to-assistant");
  });

  it("lets the customer leave the queue and go back to the assistant, and survives a reload", async () => {
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.getByTestId("welcome").waitFor();
    await say(page, "Can I speak to a real person?");
    await page.getByTestId("handoff-banner").waitFor();
    await page.reload();
    await page.locator('[data-testid="handoff-banner"][data-state="waiting"]').waitFor();
    await page.getByRole("button", { name: "Back to the assistant" }).click();
    await page.getByTestId("handoff-banner").waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("escalation-notice").count(), 0);
    const sid = await sessionId(page);
    const detail = await api("GET", `/staff/conversations/${sid}`, sam);
    assert.equal(detail.body.state, "bot");
    await shot(page, "handoff-05-left-queue");
  });
});
