// Pure conversion of chat events to view state (no I/O, no clocks, no transport): tested on its own.
import { describeDetail } from "./describe";
import type { HistoryMessage, Source } from "../types/api";
import type { ChatMessage, ChatState } from "../types/chat";
import type { ChatEvent } from "./events";

export const initialChatState: ChatState = {
  messages: [],
  assistantBusy: false,
  connection: { mode: "connecting" },
  historyLoaded: false,
  handoff: { state: "bot" },
};

/** A person is handling the conversation: the assistant stays quiet. */
export function withHuman(state: ChatState): boolean {
  return state.handoff.state === "waiting" || state.handoff.state === "assigned";
}

const STREAMING_ID = "assistant-streaming";

export function fromHistory(m: HistoryMessage): ChatMessage {
  return { id: m.id, role: m.role, content: m.content, sources: m.sources, attachments: m.attachments,
    createdAt: m.created_at, status: m.role === "user" ? "sent" : "done", author: m.author?.name };
}

/** A message another producer (a person, the system) added: appended once, whatever channel brought it. */
function appendOnce(state: ChatState, message: ChatMessage): ChatState {
  if (state.messages.some((m) => m.id === message.id)) return state;
  return { ...state, messages: [...state.messages, message] };
}

function updateWhere(messages: ChatMessage[], match: (m: ChatMessage) => boolean,
                     change: (m: ChatMessage) => ChatMessage): ChatMessage[] {
  return messages.map((m) => (match(m) ? change(m) : m));
}

function streaming(state: ChatState): ChatMessage | undefined {
  return state.messages.find((m) => m.status === "streaming");
}

/** The streaming assistant message, created on the first frame that needs it. */
function withStreaming(state: ChatState, change: (m: ChatMessage) => ChatMessage, id?: string): ChatState {
  const current = streaming(state);
  if (current) {
    return { ...state, messages: updateWhere(state.messages, (m) => m === current, change) };
  }
  const fresh: ChatMessage = { id: id ?? STREAMING_ID, role: "assistant", content: "", sources: [], attachments: [],
    createdAt: "", status: "streaming" };
  return { ...state, assistantBusy: true, messages: [...state.messages, change(fresh)] };
}

function knownIds(state: ChatState): Set<string> {
  return new Set(state.messages.map((m) => m.id));
}

export function chatReducer(state: ChatState, event: ChatEvent): ChatState {
  switch (event.type) {
    case "history_loaded": {
      // Server history is the record; keep only local messages it does not know yet (unsent, failed).
      const server = event.messages.map(fromHistory);
      const ids = new Set(server.map((m) => m.id));
      const local = state.messages.filter((m) => !ids.has(m.id) && (m.status === "sending" || m.status === "failed"
        || m.status === "streaming"));
      // The server records handovers on the reply, so the notice survives a reload on any device.
      const handedOver = [...event.messages].reverse().find((m) => m.escalation)?.escalation;
      const h = event.handoff;
      const handoff = h ? { state: h.state, position: h.position, assignee: h.assignee?.name, canRate: h.can_rate }
        : state.handoff;
      return { ...state, messages: [...server, ...local], historyLoaded: true, handoff,
        // Back with the assistant (the server says so): the handover notice has served its purpose.
        escalation: h?.state === "bot" ? undefined : handedOver ?? state.escalation };
    }
    case "user_sent":
      return { ...state, assistantBusy: true, error: undefined, messages: [...state.messages, {
        id: event.clientId, clientId: event.clientId, role: "user", content: event.content, sources: [],
        attachments: event.attachments, createdAt: event.at, status: "sending" }] };
    case "ack": {
      const mine = state.messages.some((m) => m.role === "user"
        && ((event.client_id && m.clientId === event.client_id) || m.id === event.message_id));
      if (!mine) {
        // Sent from another tab or over REST: every socket of the session sees every turn.
        return { ...state, messages: [...state.messages, { id: event.message_id, role: "user",
          content: event.content, sources: [], attachments: event.attachments,
          createdAt: event.created_at, status: "sent" }] };
      }
      return { ...state, assistantBusy: withHuman(state) ? false : state.assistantBusy, messages: updateWhere(
        state.messages,
        (m) => m.role === "user" && ((event.client_id && m.clientId === event.client_id) || m.id === event.message_id),
        (m) => ({ ...m, id: event.message_id, status: "sent", attachments: event.attachments })) };
    }
    case "agent_message":
      return { ...appendOnce(state, { id: event.message_id, role: "agent", content: event.content, sources: [],
        attachments: [], createdAt: event.created_at, status: "done", author: event.author.name }),
      agentTyping: undefined };
    case "notice":
      return appendOnce(state, { id: event.message_id, role: "system", content: event.content, sources: [],
        attachments: [], createdAt: event.created_at, status: "done" });
    case "handoff": {
      const handoff = { state: event.state, position: event.position, assignee: event.assignee?.name,
        canRate: event.rating_requested, rated: false };
      // Back with the assistant: the handover notice has served its purpose.
      return { ...state, handoff, assistantBusy: false, agentTyping: undefined,
        escalation: event.state === "bot" ? undefined : state.escalation };
    }
    case "agent_typing":
      return { ...state, agentTyping: event.typing ? event.author.name : undefined };
    case "rated":
      return { ...state, handoff: { ...state.handoff, canRate: false, rated: true } };
    case "start":
      return { ...withStreaming(state, (m) => m, event.message_id), assistantBusy: true };
    case "text":
      return withStreaming(state, (m) => ({ ...m, content: m.content + event.delta }));
    case "sources":
      return withStreaming(state, (m) => ({ ...m, sources: event.sources }));
    case "tool":
      return { ...state, activeTool: event.status === "started" ? event.name : undefined };
    case "degraded":
      // The model failed mid-answer; the built-in responder starts over, so drop what was shown.
      return withStreaming(state, (m) => ({ ...m, content: "", degraded: true }));
    case "escalation":
      return { ...state, escalation: { ticket_id: event.ticket_id, reason: event.reason, priority: event.priority } };
    case "complete": {
      const finish = (m: ChatMessage): ChatMessage => ({ ...m, id: event.message_id, status: "done",
        content: event.content, sources: event.sources, degraded: event.degraded, createdAt: event.created_at });
      const already = state.messages.some((m) => m.id === event.message_id && m.status === "done");
      const next = already ? state : withStreaming(state, finish);
      const escalation = event.escalation ?? state.escalation;
      return { ...next, assistantBusy: false, activeTool: undefined, escalation: escalation ?? undefined };
    }
    case "replay": {
      // Messages stored while this client was away (after a reconnect), oldest first: add the new ones.
      const ids = knownIds(state);
      const missed = event.messages.filter((m) => !ids.has(m.id));
      if (!missed.length) return state;
      const fresh = missed.map(fromHistory);
      // A replayed user message may be one of ours still marked as sending: the replay is the truth.
      const byContent = new Set(fresh.filter((m) => m.role === "user").map((m) => m.content));
      const kept = state.messages.filter((m) => !(m.status === "sending" && byContent.has(m.content)));
      // A handover that happened while away comes back with its reply, like in history.
      const handedOver = [...missed].reverse().find((m) => m.escalation)?.escalation;
      return { ...state, messages: [...kept, ...fresh], escalation: handedOver ?? state.escalation };
    }
    case "error": {
      const failed = event.client_id ?? undefined;
      const messages = state.messages
        .filter((m) => !(m.status === "streaming" && m.content === ""))
        .map((m) => (m.status === "streaming" ? { ...m, status: "done" as const } : m));
      return { ...state, assistantBusy: false, activeTool: undefined,
        error: { code: event.code, detail: describeDetail(event.detail) },
        messages: updateWhere(messages, (m) => m.role === "user" && m.status === "sending"
          && (failed === undefined || m.clientId === failed),
        (m) => ({ ...m, status: "failed", error: describeDetail(event.detail) })) };
    }
    case "http_reply": {
      const r = event.reply;
      const user = updateWhere(state.messages, (m) => m.clientId === event.clientId,
        (m) => ({ ...m, id: r.user_message_id, status: "sent", attachments: r.attachments ?? m.attachments }));
      if (r.handled_by === "human" || !r.message_id) {
        // A person handles the conversation: the message reached them; no reply from the assistant.
        return { ...state, assistantBusy: false, activeTool: undefined, messages: user,
          handoff: { ...state.handoff, state: r.handoff_state ?? state.handoff.state } };
      }
      const handoff = r.handoff_state && r.handoff_state !== state.handoff.state
        ? { state: r.handoff_state, position: r.queue_position } : state.handoff;
      const answer: ChatMessage = { id: r.message_id, role: "assistant", content: r.message,
        sources: r.sources as Source[], attachments: [], createdAt: r.created_at, status: "done",
        degraded: r.degraded ?? false };
      return { ...state, assistantBusy: false, activeTool: undefined, handoff,
        escalation: r.requires_escalation && r.escalation ? r.escalation : state.escalation,
        messages: user.some((m) => m.id === r.message_id) ? user : [...user, answer] };
    }
    case "send_failed":
      return { ...state, assistantBusy: false, error: { code: event.code, detail: event.detail },
        messages: updateWhere(state.messages, (m) => m.clientId === event.clientId && m.role === "user",
          (m) => ({ ...m, status: "failed", error: event.detail })) };
    case "connection":
      return { ...state, connection: event.connection };
    case "dismiss_error":
      return { ...state, error: undefined };
    case "reset":
      return { ...initialChatState, connection: state.connection };
    case "connected":
    case "heartbeat":
    case "pong":
      return state;
  }
}
