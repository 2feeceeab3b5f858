// The staff socket (/staff/ws): authenticates with a first frame (the token stays out of URLs and
// logs), hands parsed events to `onEvent`, reconnects with backoff, and says when it (re)connected so
// the console reloads the queue for whatever it missed. Close 4401: the token is no good, log in again.
import type { StaffEvent } from "../types";

export interface StaffSocketHandlers {
  onEvent: (event: StaffEvent) => void;
  onStatus: (live: boolean) => void;
  onUnauthorized: () => void;
}

export interface StaffSocket {
  sendTyping(sessionId: string, typing: boolean): void;
  close(): void;
}

export function socketUrl(loc: Pick<Location, "protocol" | "host">): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/staff/ws`;
}

/** Backoff before the n-th reconnect: 0.5 s, 1 s, 2 s ... capped at 15 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
}

export function connectStaffSocket(url: string, token: string, handlers: StaffSocketHandlers,
                                   Impl: typeof WebSocket = WebSocket): StaffSocket {
  let ws: WebSocket | null = null;
  let closed = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;

  function open() {
    ws = new Impl(url);
    ws.onopen = () => ws?.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (m) => {
      let event: StaffEvent;
      try { event = JSON.parse(String(m.data)) as StaffEvent; } catch { return; }
      if (event.type === "connected") {
        attempt = 0;
        handlers.onStatus(true);
      }
      handlers.onEvent(event);
    };
    ws.onclose = (e) => {
      handlers.onStatus(false);
      ws = null;
      if (closed) return;
      if (e.code === 4401) { handlers.onUnauthorized(); return; }
      timer = setTimeout(open, reconnectDelay(attempt++));
    };
  }
  open();
  // Keeps idle proxies from cutting the socket; the server answers pong.
  ping = setInterval(() => { if (ws?.readyState === 1) ws.send(JSON.stringify({ type: "ping" })); }, 25_000);

  return {
    sendTyping(sessionId, typing) {
      if (ws?.readyState === 1) ws.send(JSON.stringify({ type: "typing", session_id: sessionId, typing }));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(ping);
      ws?.close();
    },
  };
}
