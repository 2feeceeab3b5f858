// What the status badge and the input say, from the socket's state and whether REST answers.
import type { SocketState } from "../services/websocket";
import type { ConnectionState } from "../types/chat";

export function deriveConnection(p: {
  historyLoaded: boolean;
  socket: SocketState | null;
  websocketEnabled: boolean;
  httpOnline: boolean;
  retryAt?: number;
}): ConnectionState {
  if (p.socket?.kind === "open") return { mode: "live" };
  if (!p.httpOnline) {
    return { mode: "offline", retryAt: p.socket?.kind === "waiting" ? p.socket.retryAt : p.retryAt,
      reason: "Can't reach the support service" };
  }
  if (!p.historyLoaded) return { mode: "connecting" };
  if (!p.websocketEnabled) return { mode: "fallback", reason: "Live updates are not available" };
  if (p.socket?.kind === "refused") return { mode: "fallback", reason: p.socket.reason };
  if (p.socket?.kind === "waiting") {
    return { mode: "fallback", retryAt: p.socket.retryAt,
      reason: p.socket.everOpened ? "Live connection lost, reconnecting" : "Live connection unavailable" };
  }
  return { mode: "connecting" };
}
