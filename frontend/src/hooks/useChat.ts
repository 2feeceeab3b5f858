// The conversation, composed: bootstrap (config, session, history), transport (socket with REST
// fallback and resend) and the pure reducer that holds the view state. State changes go through
// chatReducer only.
import { useCallback, useEffect, useReducer } from "react";
import type { ChatApi } from "../services/api";
import { chatReducer, initialChatState } from "../state/chatReducer";
import type { ConnectionState } from "../types/chat";
import { deriveConnection } from "./connection";
import { useBootstrap } from "./useBootstrap";
import { useLinkStatus } from "./useLinkStatus";
import { useTransport } from "./useTransport";

export function useChat(api: ChatApi, apiBase: string) {
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const link = useLinkStatus();
  const boot = useBootstrap(api, dispatch, state.historyLoaded, link);
  const lastId = [...state.messages].reverse().find((m) => m.status === "sent" || m.status === "done")?.id;
  const transport = useTransport({ api, apiBase, dispatch, session: boot.session, config: boot.config,
    closed: boot.closed, setClosed: boot.setClosed, historyLoaded: state.historyLoaded, lastMessageId: lastId,
    link });

  const connection: ConnectionState = deriveConnection({
    historyLoaded: state.historyLoaded, socket: transport.socketState, websocketEnabled: Boolean(boot.config?.websocket),
    httpOnline: link.httpOnline, retryAt: link.retryAt });
  useEffect(() => dispatch({ type: "connection", connection }),
    [connection.mode, connection.retryAt, connection.reason]); // eslint-disable-line react-hooks/exhaustive-deps

  const { restart } = boot;
  const { forget } = transport;
  const newConversation = useCallback(() => {
    // The old session stays open on the server (a human may still answer it); this browser forgets it.
    forget();
    restart();
    dispatch({ type: "reset" });
  }, [forget, restart]);

  const session = boot.session;
  const backToAssistant = useCallback(async () => {
    // The server answers with a `handoff` frame (socket) too; the REST answer is enough without one.
    if (!session) return;
    await api.returnToBot(session.sessionId, session.token);
    dispatch({ type: "handoff", state: "bot", position: null, assignee: null, ticket_id: null,
      rating_requested: false });
  }, [api, session]);
  const rate = useCallback(async (score: number, comment: string) => {
    if (!session) return;
    await api.rate(session.sessionId, session.token, score, comment || undefined);
    dispatch({ type: "rated" });
  }, [api, session]);

  return { state, config: boot.config, session: boot.session, closed: boot.closed, backToAssistant, rate,
    uploadProgress: transport.uploadProgress, send: transport.send, typing: transport.typing, newConversation,
    dismissError: () => dispatch({ type: "dismiss_error" }) };
}
