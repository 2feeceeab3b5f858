// REST client for the staff API (docs/staff-api.md). Every call carries the staff JWT; a 401 calls
// `onUnauthorized`, which sends the console back to its login page.
import { describeDetail } from "../../state/describe";
import type {
  CannedReply, ConversationDetail, ConversationItem, Draft, KnowledgeDocument, SearchAnswer,
  StaffMessageCreated, StaffPublic, StaffRole, TokenResponse, UploadResult, WidgetSettings,
} from "../types";

export class StaffApiError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string) {
    super(detail);
    this.name = "StaffApiError";
  }
}

type Fetch = typeof fetch;

function errorFrom(status: number, body: unknown): StaffApiError {
  const b = (body ?? {}) as { detail?: unknown; code?: string };
  return new StaffApiError(status, b.code ?? `http_${status}`, describeDetail(b.detail ?? `HTTP ${status}`));
}

async function request<T>(fetchImpl: Fetch, path: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(path, init);
  } catch {
    throw new StaffApiError(0, "network_error", "Cannot reach the support service");
  }
  if (res.status === 204) return undefined as T;
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw errorFrom(res.status, body);
  return body as T;
}

export async function login(email: string, password: string, fetchImpl: Fetch = (...a) => fetch(...a)):
    Promise<{ token: TokenResponse; me: StaffPublic }> {
  const token = await request<TokenResponse>(fetchImpl, "/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: email, password }) });
  const me = await request<StaffPublic>(fetchImpl, "/auth/me",
    { headers: { Authorization: `Bearer ${token.access_token}` } });
  return { token, me };
}

export type UploadProgress = (fraction: number) => void;

export function createStaffApi(token: string, onUnauthorized: () => void,
                               fetchImpl: Fetch = (...a) => fetch(...a)) {
  const auth = { Authorization: `Bearer ${token}` };
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await request<T>(fetchImpl, path, { method, headers: body === undefined ? auth
        : { ...auth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      if (e instanceof StaffApiError && e.status === 401) onUnauthorized();
      throw e;
    }
  }
  const conv = (id: string) => `/staff/conversations/${encodeURIComponent(id)}`;

  return {
    conversations: (state?: string) =>
      call<{ items: ConversationItem[]; total: number }>("GET", `/staff/conversations?limit=200${state ? `&state=${state}` : ""}`),
    conversation: (id: string) => call<ConversationDetail>("GET", conv(id)),
    assign: (id: string, assigneeId?: string) =>
      call<unknown>("POST", `${conv(id)}/assign`, assigneeId ? { assignee_id: assigneeId } : undefined),
    resolve: (id: string) => call<unknown>("POST", `${conv(id)}/resolve`),
    returnToBot: (id: string) => call<unknown>("POST", `${conv(id)}/return-to-bot`),
    send: (id: string, content: string, isPrivate: boolean) =>
      call<StaffMessageCreated>("POST", `${conv(id)}/messages`, { content, private: isPrivate }),
    draft: (id: string) => call<Draft>("POST", `${conv(id)}/draft`),

    cannedReplies: () => call<{ items: CannedReply[] }>("GET", "/staff/canned-replies"),
    createCanned: (short_code: string, content: string) =>
      call<CannedReply>("POST", "/staff/canned-replies", { short_code, content }),
    updateCanned: (id: string, short_code: string, content: string) =>
      call<CannedReply>("PATCH", `/staff/canned-replies/${id}`, { short_code, content }),
    deleteCanned: (id: string) => call<void>("DELETE", `/staff/canned-replies/${id}`),

    users: () => call<{ items: StaffPublic[]; total: number }>("GET", "/staff/users"),
    createUser: (body: { email: string; name: string; role: StaffRole; password: string }) =>
      call<StaffPublic>("POST", "/staff/users", body),
    updateUser: (id: string, body: { role?: StaffRole; active?: boolean; name?: string; password?: string }) =>
      call<StaffPublic>("PATCH", `/staff/users/${id}`, body),

    documents: () => call<{ documents: KnowledgeDocument[]; total: number }>("GET", "/knowledge/documents"),
    deleteDocument: (docId: string) => call<unknown>("DELETE", `/knowledge/documents/${encodeURIComponent(docId)}`),
    search: (query: string, k = 5) => call<SearchAnswer>("POST", "/knowledge/search", { query, k }),
    /** XHR rather than fetch: fetch cannot report upload progress. */
    upload(files: File[], onProgress?: UploadProgress): Promise<UploadResult[]> {
      return new Promise((resolve, reject) => {
        const form = new FormData();
        for (const f of files) form.append("files", f, f.name);
        const xhr = new XMLHttpRequest();
        xhr.open("POST", "/knowledge/documents");
        xhr.setRequestHeader("Authorization", auth.Authorization);
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); };
        xhr.onerror = () => reject(new StaffApiError(0, "network_error", "Cannot reach the support service"));
        xhr.onload = () => {
          let body: unknown = null;
          try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
          if (xhr.status === 401) onUnauthorized();
          const b = body as { documents?: UploadResult[]; detail?: unknown; code?: string } | null;
          // Every file unreadable is a 422 whose detail lists each file's reason: show them per file.
          if (xhr.status === 422 && Array.isArray(b?.detail)) resolve(b.detail as UploadResult[]);
          else if (xhr.status >= 200 && xhr.status < 300 && b?.documents) resolve(b.documents);
          else reject(errorFrom(xhr.status, body));
        };
        xhr.send(form);
      });
    },

    widgetSettings: () => call<WidgetSettings>("GET", "/staff/widget-settings"),
    saveWidgetSettings: (body: WidgetSettings) => call<WidgetSettings>("PUT", "/staff/widget-settings", body),
  };
}

export type StaffApi = ReturnType<typeof createStaffApi>;
