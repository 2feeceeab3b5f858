// Everything that can change the conversation: server frames (WebSocket protocol, docs/api.md) and
// what the client itself does. The reducer turns these into view state; nothing else mutates it.
import type { AttachmentInfo, EscalationInfo, HistoryMessage, MessageResponse, Source } from "../types/api";
import type { ConnectionState } from "../types/chat";

/** Frames the server sends on /ws. Fields beyond these are ignored. */
export type ServerFrame =
  | { type: "connected"; session_id?: string; last_message_id?: string | null; heartbeat_seconds?: number }
  | { type: "replay"; messages: HistoryMessage[]; has_more?: boolean }
  | { type: "heartbeat" }
  | { type: "ack"; message_id: string; client_id?: string | null; attachments?: AttachmentInfo[]; content?: string;
      created_at?: string; duplicate?: boolean }
  | { type: "start"; message_id?: string; reply_to?: string }
  | { type: "text"; delta: string }
  | { type: "sources"; sources: Source[] }
  | { type: "tool"; name: string; status: string }
  | { type: "escalation"; required?: boolean; reason: string; ticket_id: string; priority?: string }
  | { type: "degraded"; reason?: string }
  | { type: "complete"; message_id: string; message?: string; content?: string; sources?: Source[];
      requires_escalation?: boolean; escalation?: EscalationInfo | null; degraded?: boolean; created_at?: string }
  | { type: "error"; code: string; detail: unknown; client_id?: string | null; reply_to?: string | null }
  | { type: "pong" };

export type ChatEvent =
  | ServerFrame
  | { type: "history_loaded"; messages: HistoryMessage[] }
  | { type: "user_sent"; clientId: string; content: string; attachments: AttachmentInfo[]; at: string }
  | { type: "http_reply"; clientId: string; reply: MessageResponse }
  | { type: "send_failed"; clientId: string; code: string; detail: string }
  | { type: "connection"; connection: ConnectionState }
  | { type: "escalation_restored"; escalation: EscalationInfo }
  | { type: "dismiss_error" }
  | { type: "reset" };
