// Everything that can change the conversation: server frames (WebSocket protocol, docs/api.md, types
// generated from the backend) and what the client itself does. The reducer turns these into view
// state; nothing else mutates it.
import type { AttachmentInfo, HandoffStatus, HistoryMessage, MessageResponse, ServerFrame } from "../types/api";
import type { ConnectionState } from "../types/chat";

export type { ServerFrame };

export type ChatEvent =
  | ServerFrame
  | { type: "history_loaded"; messages: HistoryMessage[]; handoff?: HandoffStatus }
  | { type: "rated" }
  | { type: "user_sent"; clientId: string; content: string; attachments: AttachmentInfo[]; at: string }
  | { type: "http_reply"; clientId: string; reply: MessageResponse }
  | { type: "send_failed"; clientId: string; code: string; detail: string }
  | { type: "connection"; connection: ConnectionState }
  | { type: "dismiss_error" }
  | { type: "reset" };
