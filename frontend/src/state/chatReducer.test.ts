import { describe, expect, it } from "vitest";
import type { HistoryMessage, MessageResponse, ServerFrame, Source } from "../types/api";
import { chatReducer, initialChatState } from "./chatReducer";
import type { ChatEvent } from "./events";

type Kind = ServerFrame["type"];
type FrameOf<K extends Kind> = Extract<ServerFrame, { type: K }>;
// Complete frames as the server sends them (types generated from its models); a test names what matters.
const DEFAULTS: { [K in Kind]?: Omit<FrameOf<K>, "type"> } = {
  ack: { message_id: "u1", client_id: null, content: "", attachments: [], created_at: "t", duplicate: false },
  start: { message_id: "a1", reply_to: "u1" },
  text: { message_id: "a1", delta: "" },
  sources: { message_id: "a1", sources: [] },
  tool: { message_id: "a1", name: "", status: "started", detail: null },
  escalation: { message_id: "a1", required: true, reason: "", ticket_id: "", priority: "normal" },
  degraded: { message_id: "a1", reason: "" },
  complete: { message_id: "a1", reply_to: "u1", content: "", sources: [], requires_escalation: false,
    escalation: null, confidence: null, degraded: false, grounded: false, created_at: "t" },
  error: { code: "", detail: "", client_id: null, reply_to: null },
  replay: { messages: [], has_more: false },
  handoff: { state: "waiting", position: null, assignee: null, ticket_id: null, rating_requested: false },
  agent_message: { message_id: "g1", content: "", author: { name: "Sam" }, created_at: "t" },
  notice: { message_id: "n1", content: "", created_at: "t" },
  agent_typing: { author: { name: "Sam" }, typing: true },
};
function frame<K extends Kind>(type: K, fields: Partial<FrameOf<K>>): FrameOf<K> {
  return { ...DEFAULTS[type], ...fields, type } as unknown as FrameOf<K>;
}

const source: Source = { id: "s1", content: "Click Forgot password", metadata: { source: "reset.md" }, distance: 0.2 };
const run = (events: ChatEvent[], from = initialChatState) => events.reduce(chatReducer, from);
const sent: ChatEvent = { type: "user_sent", clientId: "c1", content: "How do I reset?", attachments: [], at: "t0" };

describe("chatReducer", () => {
  it("streams a turn: ack, start, deltas, sources, complete", () => {
    const s = run([sent,
      frame("ack", { message_id: "u1", client_id: "c1" }),
      frame("start", { message_id: "a1" }),
      frame("text", { delta: "Go to " }),
      frame("sources", { sources: [source] }),
      frame("text", { delta: "sign-in [1]" })]);
    expect(s.messages.map((m) => [m.id, m.role, m.status])).toEqual([["u1", "user", "sent"], ["a1", "assistant", "streaming"]]);
    expect(s.messages[1]!.content).toBe("Go to sign-in [1]");
    expect(s.assistantBusy).toBe(true);
    const done = chatReducer(s, frame("complete", { message_id: "a1", content: "Go to sign-in [1].", sources: [source] }));
    expect(done.messages[1]).toMatchObject({ id: "a1", status: "done", content: "Go to sign-in [1].", sources: [source] });
    expect(done.assistantBusy).toBe(false);
  });

  it("creates the streaming message on a delta that arrives without start", () => {
    const s = run([sent, frame("text", { delta: "Hi" })]);
    expect(s.messages[1]).toMatchObject({ role: "assistant", status: "streaming", content: "Hi" });
  });

  it("discards streamed text on degraded and keeps what follows", () => {
    const s = run([sent, frame("start", { message_id: "a1" }), frame("text", { delta: "half an ans" }),
      frame("degraded", { reason: "model down" }), frame("text", { delta: "Fallback answer" })]);
    expect(s.messages[1]).toMatchObject({ content: "Fallback answer", degraded: true });
  });

  it("shows a server error frame and marks the unsent message failed", () => {
    const s = run([sent, frame("error", { code: "message_too_long", detail: "message is too long", client_id: "c1" })]);
    expect(s.error).toEqual({ code: "message_too_long", detail: "message is too long" });
    expect(s.messages[0]).toMatchObject({ status: "failed", error: "message is too long" });
    expect(s.assistantBusy).toBe(false);
  });

  it("renders validation details of an error frame as text", () => {
    const s = run([frame("error", { code: "invalid_frame", detail: [{ msg: "Field required" }, { msg: "bad type" }] })]);
    expect(s.error?.detail).toBe("Field required; bad type");
  });

  it("drops an empty streaming bubble when the turn fails", () => {
    const s = run([sent, frame("ack", { message_id: "u1", client_id: "c1" }), frame("start", { message_id: "a1" }),
      frame("error", { code: "agent_unavailable", detail: "try again" })]);
    expect(s.messages.map((m) => m.id)).toEqual(["u1"]);
    expect(s.messages[0]!.status).toBe("sent");
  });

  it("records an escalation from its frame and from a REST reply", () => {
    const s = run([frame("escalation", { required: true, reason: "customer_request", ticket_id: "ESC-1", priority: "high" })]);
    expect(s.escalation).toEqual({ ticket_id: "ESC-1", reason: "customer_request", priority: "high" });
    const reply: MessageResponse = { message: "A person will help", sources: [], requires_escalation: true,
      message_id: "a2", user_message_id: "u2", session_id: "s", created_at: "t", attachments: [],
      escalation: { ticket_id: "ESC-2", reason: "frustration", priority: "normal" }, confidence: null, degraded: false, grounded: false,
      handled_by: "bot", handoff_state: "waiting", queue_position: 2 };
    const r = run([sent, { type: "http_reply", clientId: "c1", reply }]);
    expect(r.escalation?.ticket_id).toBe("ESC-2");
    expect(r.messages.map((m) => [m.id, m.status])).toEqual([["u2", "sent"], ["a2", "done"]]);
  });

  it("loads history and keeps a local message the server does not have yet", () => {
    const history: HistoryMessage[] = [
      { id: "u0", role: "user", content: "hi", sources: [], attachments: [], created_at: "t" },
      { id: "a0", role: "assistant", content: "hello", sources: [source], attachments: [], created_at: "t" }];
    const s = run([sent, { type: "history_loaded", messages: history }]);
    expect(s.messages.map((m) => m.id)).toEqual(["u0", "a0", "c1"]);
    expect(s.historyLoaded).toBe(true);
  });

  it("restores a handover notice from the server's history", () => {
    const history: HistoryMessage[] = [
      { id: "u0", role: "user", content: "a person please", sources: [], attachments: [], created_at: "t" },
      { id: "a0", role: "assistant", content: "Connecting you", sources: [], attachments: [], created_at: "t",
        escalation: { ticket_id: "ESC-7", reason: "customer_request", priority: "normal" } }];
    expect(run([{ type: "history_loaded", messages: history }]).escalation?.ticket_id).toBe("ESC-7");
    expect(run([{ type: "history_loaded", messages: [] }]).escalation).toBeUndefined();
  });

  it("adds replayed messages once and replaces our unacknowledged copy", () => {
    const replayed: HistoryMessage[] = [
      { id: "u1", role: "user", content: "How do I reset?", sources: [], attachments: [], created_at: "t" },
      { id: "a1", role: "assistant", content: "Like this", sources: [], attachments: [], created_at: "t" }];
    const s = run([sent, frame("replay", { messages: replayed }), frame("replay", { messages: replayed })]);
    expect(s.messages.map((m) => [m.id, m.status])).toEqual([["u1", "sent"], ["a1", "done"]]);
  });

  it("shows the notice of a handover replayed after a reconnect", () => {
    const replayed: HistoryMessage[] = [
      { id: "u3", role: "user", content: "a person please", sources: [], attachments: [], created_at: "t" },
      { id: "a3", role: "assistant", content: "Connecting you", sources: [], attachments: [], created_at: "t",
        escalation: { ticket_id: "ESC-9", reason: "customer_request", priority: "normal" } }];
    const s = run([frame("replay", { messages: replayed })]);
    expect(s.escalation).toEqual({ ticket_id: "ESC-9", reason: "customer_request", priority: "normal" });
    expect(s.messages.map((m) => m.id)).toEqual(["u3", "a3"]);
  });

  it("shows a message another tab sent, and ignores a duplicate ack of ours", () => {
    const s = run([sent, frame("ack", { message_id: "u1", client_id: "c1" }),
      frame("ack", { message_id: "u1", client_id: "c1", duplicate: true }),
      frame("ack", { message_id: "u9", client_id: "other", content: "from tab 2" })]);
    expect(s.messages.map((m) => [m.id, m.content])).toEqual([["u1", "How do I reset?"], ["u9", "from tab 2"]]);
  });

  it("does not duplicate a reply completed twice (resend after a drop)", () => {
    const complete: ChatEvent = frame("complete", { message_id: "a1", content: "Done" });
    const s = run([sent, frame("start", { message_id: "a1" }), complete, complete]);
    expect(s.messages.filter((m) => m.id === "a1")).toHaveLength(1);
  });

  it("tracks the running tool and resets to a fresh conversation", () => {
    const s = run([frame("tool", { name: "rag_search", status: "started" })]);
    expect(s.activeTool).toBe("rag_search");
    expect(chatReducer(s, frame("tool", { name: "rag_search", status: "ok" })).activeTool).toBeUndefined();
    const live = run([sent, { type: "connection", connection: { mode: "live" } }, { type: "reset" }]);
    expect(live.messages).toEqual([]);
    expect(live.connection.mode).toBe("live");
  });

  it("follows a handoff: in line, a person joins and writes, typing, resolved, rated", () => {
    let s = run([frame("handoff", { state: "waiting", position: 2, ticket_id: "ESC-1" }),
      frame("notice", { message_id: "n1", content: "You are number 2 in line" })]);
    expect(s.handoff).toMatchObject({ state: "waiting", position: 2 });
    expect(s.messages.map((m) => [m.role, m.content])).toEqual([["system", "You are number 2 in line"]]);
    // While a person handles it, an acknowledged message leaves nobody "typing" for the assistant.
    s = run([sent, frame("ack", { message_id: "u1", client_id: "c1" })], s);
    expect(s.assistantBusy).toBe(false);
    s = run([frame("handoff", { state: "assigned", assignee: { name: "Sam" } }), frame("agent_typing", {}),
      frame("agent_message", { message_id: "g1", content: "Hi, Sam here" }),
      frame("agent_message", { message_id: "g1", content: "Hi, Sam here" })], s);
    expect(s.handoff).toMatchObject({ state: "assigned", assignee: "Sam" });
    expect(s.agentTyping).toBeUndefined();
    expect(s.messages.filter((m) => m.role === "agent").map((m) => [m.author, m.content])).toEqual([["Sam", "Hi, Sam here"]]);
    s = run([frame("handoff", { state: "resolved", rating_requested: true })], s);
    expect(s.handoff.canRate).toBe(true);
    s = chatReducer(s, { type: "rated" });
    expect(s.handoff).toMatchObject({ canRate: false, rated: true });
  });

  it("a REST message a person handles gets no assistant bubble; back to the bot clears the notice", () => {
    const reply: MessageResponse = { message: "", sources: [], requires_escalation: false, message_id: null,
      user_message_id: "u5", session_id: "s", created_at: "t", attachments: [], escalation: null, confidence: null,
      degraded: false, grounded: false, handled_by: "human", handoff_state: "assigned", queue_position: null };
    const waiting = run([frame("escalation", { required: true, reason: "customer_request", ticket_id: "ESC-3" }),
      frame("handoff", { state: "waiting", position: 1 })]);
    const s = run([sent, { type: "http_reply", clientId: "c1", reply }], waiting);
    expect(s.messages.map((m) => [m.id, m.role])).toEqual([["u5", "user"]]);
    expect(s.assistantBusy).toBe(false);
    const back = chatReducer(s, frame("handoff", { state: "bot" }));
    expect(back.escalation).toBeUndefined();
    expect(back.handoff.state).toBe("bot");
  });

  it("restores the handoff state and agent authors from history", () => {
    const history: HistoryMessage[] = [
      { id: "g0", role: "agent", content: "Hello from Sam", sources: [], attachments: [], created_at: "t",
        author: { name: "Sam" } }];
    const s = run([{ type: "history_loaded", messages: history,
      handoff: { state: "assigned", position: null, assignee: { name: "Sam" }, can_rate: false } }]);
    expect(s.messages[0]).toMatchObject({ role: "agent", author: "Sam" });
    expect(s.handoff).toMatchObject({ state: "assigned", assignee: "Sam" });
  });
});
