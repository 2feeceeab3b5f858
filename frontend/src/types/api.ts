// The REST shapes, taken from the generated OpenAPI types: a backend rename breaks `tsc` here.
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

/** Every error the API returns: `{detail, code, request_id}`. */
export interface ApiErrorBody {
  detail: unknown;
  code?: string;
  request_id?: string;
}
