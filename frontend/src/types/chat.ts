import type { AttachmentInfo, EscalationInfo, HandoffState, MessageRole, Source } from "./api";

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
  /** The staff member who wrote it (role `agent`). */
  author?: string;
}

/** Who the customer is talking to once a person is involved (human handoff). */
export interface HandoffView {
  state: HandoffState;
  /** Place in the staff queue while waiting. */
  position?: number | null;
  /** The person who joined. */
  assignee?: string | null;
  /** A person resolved the conversation and asks for a rating (until it is given). */
  canRate?: boolean;
  rated?: boolean;
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
  handoff: HandoffView;
  /** The name of the staff member typing right now. */
  agentTyping?: string;
}
