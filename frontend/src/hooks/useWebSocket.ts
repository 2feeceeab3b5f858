// React lifetime for one ChatSocket: opened while a session is known and sockets are on, closed after.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ServerFrame } from "../state/events";
import { ChatSocket, type ClientFrame, type SocketState, socketUrl } from "../services/websocket";

export interface UseWebSocket {
  state: SocketState | null;
  send: (frame: ClientFrame) => boolean;
  retryNow: () => void;
  /** Resolves true once the socket is open, false after `ms` without it. */
  waitForOpen: (ms: number) => Promise<boolean>;
}

export function useWebSocket(opts: {
  apiBase: string;
  sessionId?: string;
  token?: string;
  enabled: boolean;
  lastMessageId?: string;
  onFrame: (frame: ServerFrame) => void;
}): UseWebSocket {
  const [state, setState] = useState<SocketState | null>(null);
  const socket = useRef<ChatSocket | null>(null);
  const onFrame = useRef(opts.onFrame);
  onFrame.current = opts.onFrame;
  const waiters = useRef<Array<(open: boolean) => void>>([]);
  const lastMessageId = useRef(opts.lastMessageId);
  lastMessageId.current = opts.lastMessageId;
  const { apiBase, sessionId, token, enabled } = opts;

  useEffect(() => {
    if (!enabled || !sessionId || !token) {
      setState(null);
      return undefined;
    }
    const s = new ChatSocket({
      url: socketUrl(apiBase, window.location), sessionId, token, lastMessageId: lastMessageId.current,
      onFrame: (f) => onFrame.current(f),
      onState: (st) => {
        setState(st);
        if (st.kind === "open" || st.kind === "refused" || (st.kind === "waiting")) {
          const open = st.kind === "open";
          waiters.current.splice(0).forEach((w) => w(open));
        }
      },
    });
    socket.current = s;
    s.connect();
    const online = () => s.retryNow();
    window.addEventListener("online", online);
    return () => {
      window.removeEventListener("online", online);
      s.close();
      socket.current = null;
    };
  }, [apiBase, sessionId, token, enabled]);

  const send = useCallback((frame: ClientFrame) => socket.current?.send(frame) ?? false, []);
  const retryNow = useCallback(() => socket.current?.retryNow(), []);
  const waitForOpen = useCallback((ms: number) => {
    if (socket.current?.isOpen) return Promise.resolve(true);
    if (!socket.current) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      waiters.current.push((open) => {
        clearTimeout(timer);
        resolve(open);
      });
    });
  }, []);
  return { state, send, retryNow, waitForOpen };
}
