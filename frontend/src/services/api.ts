// REST client for the chat API (docs/api.md). Shapes come from the generated OpenAPI types.
import type {
  ApiErrorBody, AttachmentInfo, HistoryMessage, HistoryPage, MessageResponse, SessionCreated, SessionInfo,
  WidgetConfig,
} from "../types/api";
import { describeDetail } from "../state/describe";

/** A failed call: `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string) {
    super(detail);
    this.name = "ApiError";
  }
  get offline(): boolean {
    return this.status === 0;
  }
}

export { describeDetail };

function errorFrom(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as ApiErrorBody;
  return new ApiError(status, b.code ?? `http_${status}`, describeDetail(b.detail ?? `HTTP ${status}`));
}

export type Progress = (fraction: number) => void;

export interface ChatApi {
  config(): Promise<WidgetConfig>;
  health(): Promise<boolean>;
  createSession(metadata?: Record<string, unknown>): Promise<SessionCreated>;
  session(id: string, token: string): Promise<SessionInfo>;
  history(id: string, token: string): Promise<HistoryMessage[]>;
  sendMessage(id: string, token: string, text: string, files: File[], onProgress?: Progress): Promise<MessageResponse>;
  /** Leave the staff queue (or the person) and talk to the assistant again. */
  returnToBot(id: string, token: string): Promise<void>;
  /** CSAT once a person resolved the conversation: 1-5 and an optional comment. */
  rate(id: string, token: string, score: number, comment?: string): Promise<void>;
  /** Files stored ahead of a WebSocket `message` frame, which names them by id. */
  uploadAttachments(id: string, token: string, files: File[], onProgress?: Progress): Promise<AttachmentInfo[]>;
}

export function createApi(baseUrl = "", fetchImpl: typeof fetch = (...a) => fetch(...a)): ChatApi {
  const url = (path: string) => `${baseUrl.replace(/\/$/, "")}${path}`;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(url(path), init);
    } catch {
      throw new ApiError(0, "network_error", "Cannot reach the support service");
    }
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) throw errorFrom(res.status, body);
    return body as T;
  }

  // XHR rather than fetch: fetch cannot report upload progress.
  function upload<T>(path: string, token: string, form: FormData, onProgress?: Progress): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url(path));
      xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.responseType = "json";
      if (onProgress) {
        xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      }
      xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
        ? resolve(xhr.response as T) : reject(errorFrom(xhr.status, xhr.response)));
      xhr.onerror = () => reject(new ApiError(0, "network_error", "Cannot reach the support service"));
      xhr.send(form);
    });
  }

  return {
    config: () => json<WidgetConfig>("/web/config"),
    async health() {
      try {
        return (await fetchImpl(url("/health/liveness"), { cache: "no-store" })).ok;
      } catch {
        return false;
      }
    },
    createSession: (metadata = {}) => json<SessionCreated>("/chat/sessions", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata }) }),
    session: (id, token) => json<SessionInfo>(`/chat/sessions/${id}`, { headers: auth(token) }),
    async history(id, token) {
      const all: HistoryMessage[] = [];
      for (let offset = 0; ; ) {
        const page = await json<HistoryPage>(`/chat/sessions/${id}/history?limit=200&offset=${offset}`,
          { headers: auth(token) });
        all.push(...page.messages);
        if (!page.has_more || page.messages.length === 0) return all;
        offset += page.messages.length;
      }
    },
    async returnToBot(id, token) {
      await json(`/chat/sessions/${id}/return-to-bot`, { method: "POST", headers: auth(token) });
    },
    async rate(id, token, score, comment) {
      await json(`/chat/sessions/${id}/rating`, { method: "POST",
        headers: { ...auth(token), "Content-Type": "application/json" },
        body: JSON.stringify(comment ? { score, comment } : { score }) });
    },
    sendMessage(id, token, text, files, onProgress) {
      const form = new FormData();
      form.append("message", text);
      for (const f of files) form.append("attachments", f, f.name);
      return upload<MessageResponse>(`/chat/sessions/${id}/messages`, token, form, onProgress);
    },
    async uploadAttachments(id, token, files, onProgress) {
      const form = new FormData();
      for (const f of files) form.append("attachments", f, f.name);
      const body = await upload<{ attachments: AttachmentInfo[] }>(`/chat/sessions/${id}/attachments`, token, form,
        onProgress);
      return body.attachments;
    },
  };
}
