import type { AttachmentInfo, EscalationInfo, MessageRole, Source } from "./api";

/** Who wrote a message: the customer, the assistant, a staff member (`agent`) or the system. */
export type Role = MessageRole;

/** One bubble in the conversation. `id` is the server id once known, a local id before that. */
export interface ChatMessage {
  id: string;
  clientId?: string;
  role: Role;
  content: string;
  sources: Source[];
  attachments: AttachmentInfo[];
  createdAt: string;
  /** user messages: sending until acknowledged; failed keeps the text so it can be resent. */
  status: "sending" | "sent" | "failed" | "streaming" | "done";
  error?: string;
  degraded?: boolean;
}

/** live: WebSocket open. fallback: socket unusable, REST works. offline: neither reachable. */
export type ConnectionMode = "connecting" | "live" | "fallback" | "offline";

export interface ConnectionState {
  mode: ConnectionMode;
  /** epoch ms of the next reconnect attempt, while offline or reconnecting */
  retryAt?: number;
  reason?: string;
}

export interface ChatState {
  messages: ChatMessage[];
  /** The assistant is composing (between `start`/send and `complete`). */
  assistantBusy: boolean;
  /** Tool currently running, shown next to the typing indicator. */
  activeTool?: string;
  escalation?: EscalationInfo;
  error?: { code: string; detail: string };
  connection: ConnectionState;
  historyLoaded: boolean;
}
