// Transport: the WebSocket when it is open, REST otherwise; resends what the socket accepted but never
// acknowledged; probes REST while the socket is down; uploads with progress. Frames go to `dispatch`.
import { useCallback, useEffect, useRef, useState, type Dispatch } from "react";
import { ApiError, type ChatApi } from "../services/api";
import type { StoredSession } from "../services/storage";
import type { SocketState } from "../services/websocket";
import type { ChatEvent, ServerFrame } from "../state/events";
import type { AttachmentInfo, WidgetConfig } from "../types/api";
import type { LinkStatus } from "./useLinkStatus";
import { useWebSocket } from "./useWebSocket";

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `c-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function localAttachment(f: File): AttachmentInfo {
  return { id: "", filename: f.name, content_type: f.type || "application/octet-stream", size_bytes: f.size };
}

export interface Transport {
  socketState: SocketState | null;
  uploadProgress: number | null;
  send: (text: string, files: File[]) => Promise<void>;
  typing: () => void;
  /** Drop the messages waiting for a resend (a new conversation starts). */
  forget: () => void;
}

export function useTransport(p: {
  api: ChatApi;
  apiBase: string;
  dispatch: Dispatch<ChatEvent>;
  session: StoredSession | null;
  config: WidgetConfig | null;
  closed: boolean;
  setClosed: (closed: boolean) => void;
  historyLoaded: boolean;
  lastMessageId?: string;
  link: LinkStatus;
}): Transport {
  const { api, apiBase, dispatch, session, config, closed, setClosed, historyLoaded, lastMessageId, link } = p;
  const { setHttpOnline, setRetryAt } = link;
  const [uploadProgress, setUploadProgress] = useState<number | null>(null);
  const [refetch, setRefetch] = useState(0);
  // Messages sent over the socket and not yet acknowledged: resent (same client_id) after a reconnect.
  const unacked = useRef(new Map<string, { content: string; attachment_ids: string[] }>());

  const onFrame = useCallback((frame: ServerFrame) => {
    if (frame.type === "ack" && frame.client_id) unacked.current.delete(frame.client_id);
    if (frame.type === "error" && frame.client_id) unacked.current.delete(frame.client_id);
    dispatch(frame);
    if (frame.type === "replay" && frame.has_more) setRefetch((n) => n + 1); // more missed than one replay holds
  }, [dispatch]);
  const socket = useWebSocket({ apiBase, sessionId: session?.sessionId, token: session?.token, onFrame,
    enabled: Boolean(config?.websocket) && historyLoaded && !closed, lastMessageId });

  useEffect(() => {
    if (!refetch || !session) return;
    void api.history(session.sessionId, session.token)
      .then((messages) => dispatch({ type: "history_loaded", messages })).catch(() => undefined);
  }, [api, refetch]); // eslint-disable-line react-hooks/exhaustive-deps

  // While the socket is not open, watch REST so the status says whether sending still works.
  const socketOpen = socket.state?.kind === "open";
  useEffect(() => {
    if (socketOpen || !historyLoaded) return undefined;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const probe = async () => {
      const ok = await api.health();
      if (cancelled) return;
      setHttpOnline(ok);
      const delay = ok ? 15000 : Math.min(15000, 1000 * 2 ** attempt++);
      setRetryAt(ok ? undefined : Date.now() + delay);
      timer = setTimeout(() => void probe(), delay);
    };
    void probe();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, socketOpen, historyLoaded]); // eslint-disable-line react-hooks/exhaustive-deps

  // Resend what the socket accepted but never acknowledged before it dropped (idempotent by client_id).
  // Only on the transition to open: a message sent while open is already in flight.
  const sendFrame = socket.send;
  useEffect(() => {
    if (!socketOpen) return;
    for (const [clientId, m] of unacked.current) {
      sendFrame({ type: "message", content: m.content, attachment_ids: m.attachment_ids, client_id: clientId });
    }
  }, [socketOpen, sendFrame]);

  const send = useCallback(async (text: string, files: File[]) => {
    if (!session) return;
    const clientId = newId();
    dispatch({ type: "user_sent", clientId, content: text, attachments: files.map(localAttachment),
      at: new Date().toISOString() });
    try {
      if (socket.state?.kind === "open") {
        let ids: string[] = [];
        if (files.length) {
          setUploadProgress(0);
          ids = (await api.uploadAttachments(session.sessionId, session.token, files, setUploadProgress))
            .map((a) => a.id);
          setUploadProgress(null);
        }
        const frame = { content: text, attachment_ids: ids };
        unacked.current.set(clientId, frame);
        if (socket.send({ type: "message", ...frame, client_id: clientId })) return;
        unacked.current.delete(clientId); // closed in between: REST below instead
      }
      setUploadProgress(files.length ? 0 : null);
      const reply = await api.sendMessage(session.sessionId, session.token, text, files,
        files.length ? setUploadProgress : undefined);
      dispatch({ type: "http_reply", clientId, reply });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, "network_error", String(e));
      if (err.offline) setHttpOnline(false);
      if (err.status === 409) setClosed(true);
      dispatch({ type: "send_failed", clientId, code: err.code, detail: err.message });
    } finally {
      setUploadProgress(null);
    }
  }, [api, session, socket, dispatch, setHttpOnline, setClosed]);

  const typing = useCallback(() => void socket.send({ type: "typing" }), [socket]);
  const forget = useCallback(() => unacked.current.clear(), []);

  return { socketState: socket.state, uploadProgress, send, typing, forget };
}
