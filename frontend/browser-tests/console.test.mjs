// The support console and the widget at once, in two Chromium windows against the real backend: a
// customer asks for a person; the agent sees the handoff arrive live, takes it, replies, leaves a private
// note and hands it back to the assistant; an admin uploads a document and sets the widget's suggested
// questions, and the customer's next question is answered from that document.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser, shot, startBackend } from "./harness.mjs";

const ADMIN = { email: "admin@example.com", password: "admin-password-1" };
const SAM = { email: "sam@example.com", name: "Sam", role: "agent", password: "sam-password-1" };
const NOTE = "PRIVATE NOTE: refund log says order 1234 was lost";
const ARTICLE = `# Summit loyalty points

Summit loyalty points are earned on every Trailhead order: one Summit point per dollar spent.
Summit points expire after 18 months without a purchase. You can redeem Summit points at checkout,
100 Summit points are worth 5 dollars. Summit points cannot be exchanged for cash.
`;

describe("support console with a live customer", { timeout: 300_000 }, () => {
  let backend, customerBrowser, agentBrowser, customer, agent;

  async function api(method, path, token, body) {
    const res = await fetch(`${backend.baseUrl}${path}`, { method,
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async function say(text) {
    const input = customer.getByLabel("Your message");
    await input.fill(text);
    await input.press("Enter");
  }

  async function consoleLogin(page, who) {
    await page.goto(`${backend.baseUrl}/console`);
    await page.getByLabel("Email").fill(who.email);
    await page.getByLabel("Password").fill(who.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator('[data-testid="socket-status"][data-live="1"]').waitFor();
  }

  async function assistantAnswer(question) {
    const done = customer.locator('[data-testid="message-assistant"][data-status="done"]');
    const before = await done.count();
    await say(question);
    const answer = done.nth(before);
    await answer.waitFor({ timeout: 60_000 });
    return answer.innerText();
  }

  before(async () => {
    backend = await startBackend({ FIRST_SUPERUSER: ADMIN.email, FIRST_SUPERUSER_PASSWORD: ADMIN.password,
      SECRET_KEY: "browser-test-secret-key-0123456789abcdef" });
    const login = await api("POST", "/auth/login", null, { username: ADMIN.email, password: ADMIN.password });
    assert.equal(login.status, 200);
    assert.equal((await api("POST", "/staff/users", login.body.access_token, SAM)).status, 201);
    customerBrowser = await launchBrowser();
    agentBrowser = await launchBrowser();
    customer = await customerBrowser.context.newPage();
    agent = await agentBrowser.context.newPage();
  });

  after(async () => {
    await customerBrowser?.close();
    await agentBrowser?.close();
    await backend?.stop();
  });

  it("shows a new handoff live; the agent takes it, replies, notes privately and hands it back", async () => {
    await consoleLogin(agent, SAM);
    assert.equal(await agent.getByTestId("count-waiting").innerText(), "0");
    await shot(agent, "console-01-empty-inbox");

    await customer.goto(backend.baseUrl);
    await customer.locator('[data-testid="connection-status"][data-mode="live"]').waitFor();
    await say("I want to talk to a human please");
    await customer.getByTestId("handoff-banner").waitFor();

    // No reload: the staff socket brings the handoff in.
    const item = agent.getByTestId("queue-item").first();
    await item.waitFor();
    assert.equal(await agent.getByTestId("count-waiting").innerText(), "1");
    assert.match(await item.innerText(), /customer request/);
    assert.match(await item.innerText(), /waited \d+ s/);
    assert.match(await agent.title(), /^\(1\) Support console/);
    await shot(agent, "console-02-handoff-arrived");

    await item.click();
    await agent.getByTestId("packet").waitFor();
    await agent.getByRole("button", { name: "Take conversation" }).click();
    await agent.locator('[data-testid="state-badge"][data-state="assigned"]').last().waitFor();
    await customer.locator('[data-testid="handoff-banner"][data-state="assigned"]').waitFor();
    assert.match(await customer.getByTestId("handoff-banner").innerText(), /Sam joined/);

    // Typing both ways: the agent's reaches the widget, the customer's reaches the console.
    const composer = agent.getByLabel("Reply to the customer");
    await composer.fill("Hi, I'm Sam from support. Let me look into it.");
    await customer.getByTestId("agent-typing").waitFor();
    // The widget sends at most one typing frame per 3 s and sent one with its first message, so type
    // like a person until the console shows it (no assertion on how long that takes).
    await customer.getByLabel("Your message").pressSequentially("hello, is anyone there?", { delay: 200 });
    await agent.getByTestId("customer-typing").waitFor();
    await customer.getByLabel("Your message").fill("");
    await agent.getByRole("button", { name: "Send reply" }).click();
    const reply = customer.getByTestId("message-agent").last();
    await reply.waitFor();
    assert.match(await reply.innerText(), /Let me look into it/);
    await shot(customer, "console-03-customer-sees-reply");

    await agent.getByLabel("Private note", { exact: true }).check();
    await agent.getByLabel("Private note text").fill(NOTE);
    await agent.getByRole("button", { name: "Add note" }).click();
    await agent.getByTestId("entry-note").waitFor();
    assert.match(await agent.getByTestId("entry-note").innerText(), /Private note · Sam/);

    await say("My order 1234 never arrived");
    await agent.getByTestId("entry-user").filter({ hasText: "My order 1234 never arrived" }).waitFor();
    await shot(agent, "console-04-thread-with-note");

    await agent.getByRole("button", { name: "Return to assistant" }).click();
    await agent.locator('[data-testid="state-badge"][data-state="bot"]').last().waitFor();
    await customer.getByTestId("handoff-banner").waitFor({ state: "detached" });
    assert.match(await assistantAnswer("How do I reset my password?"), /Forgot password/);
    assert.doesNotMatch(await customer.locator("body").innerText(), /PRIVATE NOTE/);
    await shot(customer, "console-05-back-to-assistant");
  });

  it("lets an admin upload a document the assistant then answers from, and set the suggested questions", async () => {
    await agent.getByRole("button", { name: "Log out" }).click();
    await agent.getByLabel("Email").waitFor();
    await consoleLogin(agent, ADMIN);
    await agent.getByRole("link", { name: "Knowledge base" }).click();
    await agent.getByTestId("documents").waitFor();
    await agent.getByLabel("Choose files to upload").setInputFiles([
      { name: "summit-points.md", mimeType: "text/markdown", buffer: Buffer.from(ARTICLE) },
      { name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("not a pdf at all") },
    ]);
    const results = agent.getByTestId("upload-results");
    await results.waitFor({ timeout: 60_000 });
    assert.match(await results.locator('[data-status="ingested"]').innerText(), /summit-points\.md: ingested \(\d+ chunks\)/);
    assert.match(await results.locator('[data-status="failed"]').innerText(), /broken\.pdf: failed — ./);
    await agent.getByRole("cell", { name: "Summit loyalty points", exact: true }).waitFor();
    await agent.getByLabel("Search the knowledge base").fill("When do Summit points expire?");
    await agent.getByRole("button", { name: "Search", exact: true }).click();
    const found = agent.getByTestId("search-answer");
    await found.waitFor();
    assert.match(await found.innerText(), /Confidence \d\.\d{3}/);
    assert.match(await found.innerText(), /1\. Summit loyalty points/);
    await shot(agent, "console-06-knowledge-upload-and-search");

    assert.match(await assistantAnswer("When do Summit points expire?"), /18 months/);
    assert.doesNotMatch(await customer.locator("body").innerText(), /PRIVATE NOTE/);
    await shot(customer, "console-07-answered-from-upload");

    await agent.getByRole("link", { name: "Widget settings" }).click();
    await agent.getByLabel("Title").fill("Trailhead help");
    await agent.getByLabel("Suggested questions").fill("When do Summit points expire?\nWhere is my order?");
    await agent.getByRole("button", { name: "Save settings" }).click();
    await agent.getByText("Saved.").waitFor();
    await customer.reload();
    await customer.getByRole("button", { name: "New conversation" }).click();
    const welcome = customer.getByTestId("welcome");
    await welcome.waitFor();
    await customer.getByRole("button", { name: "When do Summit points expire?" }).waitFor();
    assert.match(await welcome.innerText(), /Welcome to Trailhead help/);
    assert.doesNotMatch(await welcome.innerText(), /return policy/);
    await shot(customer, "console-08-widget-settings");
  });

  it("works at tablet width in the dark, by keyboard", async () => {
    await agent.setViewportSize({ width: 820, height: 1180 });
    await agent.emulateMedia({ colorScheme: "dark" });
    await agent.getByRole("link", { name: "Inbox" }).click();
    await agent.getByTestId("tab-waiting").focus();
    await agent.keyboard.press("ArrowRight");
    await agent.keyboard.press("ArrowRight");
    assert.equal(await agent.evaluate(() => document.activeElement?.getAttribute("data-testid")), "tab-all");
    assert.equal(await agent.getByTestId("tab-all").getAttribute("aria-selected"), "true");
    await agent.keyboard.press("Tab"); // from the selected tab to the first conversation in it
    await agent.keyboard.press("Enter");
    await agent.getByTestId("packet").waitFor();
    const bg = await agent.evaluate(() => getComputedStyle(document.body.firstElementChild.firstElementChild).backgroundColor);
    assert.equal(bg, "rgb(2, 6, 23)", "the dark theme applies (slate-950)");
    await shot(agent, "console-09-tablet-dark");
  });
});
