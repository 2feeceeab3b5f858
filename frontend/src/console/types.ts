// The console's shapes: REST ones from the generated OpenAPI types (a backend rename breaks `tsc`), the
// staff socket's events and the knowledge routes' untyped answers written down from docs/staff-api.md.
import type { components } from "../types/openapi";

type Schemas = components["schemas"];
export type ConversationItem = Schemas["ConversationItem"];
export type ConversationDetail = Schemas["ConversationDetail"];
export type ThreadEntry = Schemas["ThreadEntry"];
export type StaffPublic = Schemas["StaffPublic"];
export type StaffRef = Schemas["StaffRef"];
export type CannedReply = Schemas["CannedReplyOut"];
export type TokenResponse = Schemas["TokenResponse"];
export type Draft = Schemas["Draft"];
export type StaffMessageCreated = Schemas["StaffMessageCreated"];
export type HandoffState = Schemas["HandoffState"];
export type StaffRole = Schemas["StaffRole"];

export interface EventMessage {
  id: string;
  role: string;
  content: string;
  created_at: string;
  author?: StaffRef | null;
  sources?: Record<string, unknown>[];
  attachments?: Record<string, unknown>[];
}

/** Events the server sends on /staff/ws (docs/staff-api.md, "Staff WebSocket"). */
export type StaffEvent =
  | { type: "connected"; staff: { id: string; name: string; role: string } }
  | { type: "handoff.created"; session_id: string; state: HandoffState; reason: string; priority: string;
      summary: string; ticket_id: string; waiting_since: string; position: number }
  | { type: "conversation.updated"; session_id: string; state: HandoffState; from_state: HandoffState;
      assignee: StaffRef | null }
  | { type: "message.created"; session_id: string; state: HandoffState; message: EventMessage }
  | { type: "note.created"; session_id: string; note: { id: string; content: string; author: StaffRef;
      created_at: string } }
  | { type: "typing"; session_id: string; who: "customer" | "agent"; author?: StaffRef; typing: boolean }
  | { type: "conversation.rated"; session_id: string; score: number }
  | { type: "heartbeat" | "pong" }
  | { type: "error"; code: string; detail: string };

export interface KnowledgeDocument {
  doc_id: string;
  source: string;
  title: string;
  chunks: number;
  status: string;
  format: string;
  updated_at: string;
}

export interface UploadResult {
  filename: string;
  status: "ingested" | "unchanged" | "empty" | "failed";
  doc_id?: string;
  chunks?: number;
  reason?: string;
}

export interface SearchHit {
  id: string;
  content: string;
  metadata: { source?: string; title?: string; section?: string };
  distance: number;
  score: number;
  signals: Record<string, number>;
}

export interface SearchAnswer {
  query: string;
  confidence: number;
  answerable: boolean;
  threshold: number;
  results: SearchHit[];
}

export type WidgetSettings = Required<Schemas["WidgetSettings"]>;
