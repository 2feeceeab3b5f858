// The REST shapes and WebSocket server frames, taken from the generated OpenAPI types: a backend
// rename breaks `tsc` here.
import type { components } from "./openapi";

type Schemas = components["schemas"];
export type SessionCreated = Schemas["SessionCreated"];
export type SessionInfo = Schemas["SessionInfo"];
export type MessageResponse = Schemas["MessageResponse"];
export type HistoryPage = Schemas["HistoryPage"];
export type HistoryMessage = Schemas["HistoryMessage"];
export type Source = Schemas["Source"];
export type AttachmentInfo = Schemas["AttachmentInfo"];
export type EscalationInfo = Schemas["EscalationInfo"];
export type WidgetConfig = Schemas["WidgetConfig"];
export type MessageRole = Schemas["MessageRole"];
export type HandoffState = Schemas["HandoffState"];
export type HandoffStatus = Schemas["HandoffStatus"];

/** Frames the server sends on /ws (docs/api.md), generated from the backend's frame models. */
export type ServerFrame = Schemas["ServerFrame"];

/** Every error the API returns: `{detail, code, request_id}`. */
export interface ApiErrorBody {
  detail: unknown;
  code?: string;
  request_id?: string;
}
