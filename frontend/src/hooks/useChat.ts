// The conversation: session bootstrap and restore, sending over the socket or REST, uploads with
// progress, connection status. State changes go through chatReducer only.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { ApiError, type ChatApi } from "../services/api";
import { clearSession, loadSession, saveSession, type StoredSession } from "../services/storage";
import { chatReducer, initialChatState } from "../state/chatReducer";
import type { ServerFrame } from "../state/events";
import type { AttachmentInfo, WidgetConfig } from "../types/api";
import type { ConnectionState } from "../types/chat";
import { useWebSocket } from "./useWebSocket";
import { deriveConnection } from "./connection";

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `c-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function localAttachment(f: File): AttachmentInfo {
  return { id: "", filename: f.name, content_type: f.type || "application/octet-stream", size_bytes: f.size };
}

export function useChat(api: ChatApi, apiBase: string) {
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [session, setSession] = useState<StoredSession | null>(() => loadSession());
  const [config, setConfig] = useState<WidgetConfig | null>(null);
  const [httpOnline, setHttpOnline] = useState(true);
  const [retryAt, setRetryAt] = useState<number | undefined>();
  const [closed, setClosed] = useState(false);
  const [uploadProgress, setUploadProgress] = useState<number | null>(null);
  const [bootTick, setBootTick] = useState(0);
  const [refetch, setRefetch] = useState(0);
  // Messages sent over the socket and not yet acknowledged: resent (same client_id) after a reconnect.
  const unacked = useRef(new Map<string, { content: string; attachment_ids: string[] }>());

  const onFrame = useCallback((frame: ServerFrame) => {
    if (frame.type === "ack" && frame.client_id) unacked.current.delete(frame.client_id);
    if (frame.type === "error" && frame.client_id) unacked.current.delete(frame.client_id);
    dispatch(frame);
    if (frame.type === "replay" && frame.has_more) setRefetch((n) => n + 1); // more missed than one replay holds
  }, []);
  const lastId = [...state.messages].reverse().find((m) => m.status === "sent" || m.status === "done")?.id;
  const socket = useWebSocket({ apiBase, sessionId: session?.sessionId, token: session?.token, onFrame,
    enabled: Boolean(config?.websocket) && state.historyLoaded && !closed, lastMessageId: lastId });

  // Bootstrap: limits first, then the stored session's history or a fresh session. Retries with backoff.
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const boot = async (attempt: number): Promise<void> => {
      try {
        const cfg = config ?? await api.config();
        if (cancelled) return;
        setConfig(cfg);
        setHttpOnline(true);
        setRetryAt(undefined);
        let current = session;
        if (current) {
          try {
            const info = await api.session(current.sessionId, current.token);
            const history = await api.history(current.sessionId, current.token);
            if (cancelled) return;
            setClosed(info.status !== "active");
            dispatch({ type: "history_loaded", messages: history });
            if (current.escalation) dispatch({ type: "escalation_restored", escalation: current.escalation });
            return;
          } catch (e) {
            // A session the server no longer knows or accepts: start over rather than show an error.
            if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 404)) throw e;
            clearSession();
            current = null;
          }
        }
        const created = await api.createSession({ channel: "widget" });
        if (cancelled) return;
        current = { sessionId: created.session_id, token: created.session_token };
        saveSession(current);
        setClosed(false);
        setSession(current);
        dispatch({ type: "history_loaded", messages: [] });
      } catch (e) {
        if (cancelled) return;
        const delay = Math.min(15000, 1000 * 2 ** attempt);
        setHttpOnline(!(e instanceof ApiError && e.offline));
        setRetryAt(Date.now() + delay);
        timer = setTimeout(() => void boot(attempt + 1), delay);
      }
    };
    if (!state.historyLoaded) void boot(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, bootTick]);

  useEffect(() => {
    if (!refetch || !session) return;
    void api.history(session.sessionId, session.token)
      .then((messages) => dispatch({ type: "history_loaded", messages })).catch(() => undefined);
  }, [api, refetch]); // eslint-disable-line react-hooks/exhaustive-deps

  // While the socket is not open, watch REST so the status says whether sending still works.
  const socketOpen = socket.state?.kind === "open";
  useEffect(() => {
    if (socketOpen || !state.historyLoaded) return undefined;
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
  }, [api, socketOpen, state.historyLoaded]);

  // Resend what the socket accepted but never acknowledged before it dropped (idempotent by client_id).
  // Only on the transition to open: a message sent while open is already in flight.
  const sendFrame = socket.send;
  useEffect(() => {
    if (!socketOpen) return;
    for (const [clientId, m] of unacked.current) {
      sendFrame({ type: "message", content: m.content, attachment_ids: m.attachment_ids, client_id: clientId });
    }
  }, [socketOpen, sendFrame]);

  useEffect(() => {
    if (session && state.escalation && session.escalation?.ticket_id !== state.escalation.ticket_id) {
      const next = { ...session, escalation: state.escalation };
      saveSession(next);
      setSession(next);
    }
  }, [session, state.escalation]);

  const connection: ConnectionState = deriveConnection({
    historyLoaded: state.historyLoaded, socket: socket.state, websocketEnabled: Boolean(config?.websocket),
    httpOnline, retryAt });
  useEffect(() => dispatch({ type: "connection", connection }),
    [connection.mode, connection.retryAt, connection.reason]); // eslint-disable-line react-hooks/exhaustive-deps

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
  }, [api, session, socket]);

  const typing = useCallback(() => void socket.send({ type: "typing" }), [socket]);

  const newConversation = useCallback(() => {
    // The old session stays open on the server (a human may still answer it); this browser forgets it.
    clearSession();
    unacked.current.clear();
    setSession(null);
    setClosed(false);
    dispatch({ type: "reset" });
    setBootTick((t) => t + 1);
  }, []);

  return { state, config, session, closed, uploadProgress, send, typing, newConversation,
    dismissError: () => dispatch({ type: "dismiss_error" }) };
}
