// One WebSocket per session (protocol in docs/api.md): reconnects with exponential backoff and jitter,
// resumes with `last_message_id` so replies produced while away are replayed, and keeps itself alive
// with pings. It reports its state; the caller decides when to fall back to REST.
import type { ServerFrame } from "../state/events";

export type SocketState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  /** closed, another attempt at `retryAt`; `everOpened` tells "never worked" from "dropped" */
  | { kind: "waiting"; attempt: number; retryAt: number; everOpened: boolean; code?: number }
  /** the server refused the session for good (bad token, unknown or closed session) */
  | { kind: "refused"; code: number; reason: string };

export type ClientFrame =
  | { type: "message"; content: string; attachment_ids?: string[]; client_id?: string }
  | { type: "typing" }
  | { type: "ping" }
  | { type: "auth"; token: string; last_message_id?: string };

export interface SocketOptions {
  url: string;
  sessionId: string;
  token: string;
  lastMessageId?: string;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: SocketState) => void;
  WebSocketImpl?: typeof WebSocket;
  baseDelayMs?: number;
  maxDelayMs?: number;
  pingIntervalMs?: number;
  now?: () => number;
  random?: () => number;
}

/** Close codes after which retrying cannot help (see docs/api.md). */
const FINAL_CODES: Record<number, string> = {
  4401: "The chat session is no longer valid",
  4404: "The chat session was not found",
  4409: "The chat session is closed",
};

export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2); // jitter: reconnect storms spread out
}

export function socketUrl(apiBase: string, location: { protocol: string; host: string }): string {
  const base = apiBase || `${location.protocol}//${location.host}`;
  return `${base.replace(/^http/, "ws").replace(/\/$/, "")}/ws`;
}

export class ChatSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastSeen = 0;
  private authenticated = false;
  lastMessageId: string | undefined;

  constructor(private readonly opts: SocketOptions) {
    this.lastMessageId = opts.lastMessageId;
  }

  private get now() {
    return this.opts.now ?? Date.now;
  }

  connect(): void {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    // The token goes in the first frame, not the URL: query strings end up in proxy logs.
    const q = new URLSearchParams({ session_id: this.opts.sessionId });
    this.opts.onState({ kind: "connecting", attempt: this.attempt });
    const ws = new Impl(`${this.opts.url}?${q}`);
    this.ws = ws;
    this.authenticated = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const auth: ClientFrame = { type: "auth", token: this.opts.token };
      if (this.lastMessageId) auth.last_message_id = this.lastMessageId;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws !== this.ws) return;
      this.lastSeen = this.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(e.data)) as ServerFrame;
      } catch {
        return; // not ours to show; the server only sends JSON
      }
      if (frame.type === "connected") {
        // Authenticated: only now is the socket usable.
        this.authenticated = true;
        this.attempt = 0;
        this.everOpened = true;
        this.startPings(frame.heartbeat_seconds ? frame.heartbeat_seconds * 1000 : undefined);
        this.opts.onState({ kind: "open" });
      }
      this.remember(frame);
      this.opts.onFrame(frame);
    };
    ws.onclose = (e: CloseEvent) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.stopPings();
      if (this.stopped) return;
      const final = FINAL_CODES[e.code];
      if (final) {
        this.opts.onState({ kind: "refused", code: e.code, reason: final });
        return;
      }
      this.scheduleRetry(e.code);
    };
  }

  /** Sends a frame if the socket is open; false means the caller should use REST instead. */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  /** Connected and authenticated. */
  get isOpen(): boolean {
    return this.ws?.readyState === 1 && this.authenticated;
  }

  /** Try again now (e.g. the browser went back online) instead of waiting for the timer. */
  retryNow(): void {
    if (!this.ws && !this.stopped) this.connect();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPings();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  private remember(frame: ServerFrame): void {
    // Resume point: the newest stored message this client has seen.
    if (frame.type === "ack" || frame.type === "complete") this.lastMessageId = frame.message_id;
    else if (frame.type === "replay" && frame.messages.length) this.lastMessageId = frame.messages.at(-1)!.id;
  }

  private scheduleRetry(code?: number): void {
    const delay = backoffDelay(this.attempt, this.opts.baseDelayMs ?? 500, this.opts.maxDelayMs ?? 30000,
      this.opts.random ?? Math.random);
    this.attempt += 1;
    this.opts.onState({ kind: "waiting", attempt: this.attempt, retryAt: this.now() + delay,
      everOpened: this.everOpened, code });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startPings(serverHeartbeatMs?: number): void {
    this.stopPings();
    this.lastSeen = this.now();
    // Ping at least as often as the server's heartbeat, or it closes the socket as idle (4408).
    const every = this.opts.pingIntervalMs ?? serverHeartbeatMs ?? 25000;
    this.pingTimer = setInterval(() => {
      // Two silent intervals: the connection is dead even if the browser has not noticed.
      if (this.now() - this.lastSeen > 2 * every) {
        // Do not wait for a close handshake that may never come: drop it and reconnect now.
        const dead = this.ws;
        this.ws = null;
        this.stopPings();
        dead?.close(4000);
        this.scheduleRetry(4000);
        return;
      }
      this.send({ type: "ping" });
    }, every);
  }

  private stopPings(): void {
    clearInterval(this.pingTimer);
  }
}
