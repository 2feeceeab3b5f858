import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerFrame } from "../state/events";
import { backoffDelay, ChatSocket, type SocketState, socketUrl } from "./websocket";

/** Stands in for the network peer: records what the client sends and lets the test play the server. */
class PeerSocket {
  static all: PeerSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    PeerSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(f: object) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function start(overrides: Partial<ConstructorParameters<typeof ChatSocket>[0]> = {}) {
  const frames: ServerFrame[] = [];
  const states: SocketState[] = [];
  const socket = new ChatSocket({ url: "ws://h/ws", sessionId: "s1", token: "tok", onFrame: (f) => frames.push(f),
    onState: (s) => states.push(s), WebSocketImpl: PeerSocket as unknown as typeof WebSocket, random: () => 1,
    baseDelayMs: 100, maxDelayMs: 1000, ...overrides });
  socket.connect();
  return { socket, frames, states, peer: () => PeerSocket.all.at(-1)! };
}

beforeEach(() => {
  PeerSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("ChatSocket", () => {
  it("authenticates with a first frame, not the URL, and is open only after connected", () => {
    const { socket, states, peer } = start();
    expect(peer().url).toBe("ws://h/ws?session_id=s1");
    peer().open();
    expect(peer().sent).toEqual([{ type: "auth", token: "tok" }]);
    expect(socket.isOpen).toBe(false);
    expect(socket.send({ type: "typing" })).toBe(false);
    peer().frame({ type: "connected", heartbeat_seconds: 20 });
    expect(states.at(-1)).toEqual({ kind: "open" });
    expect(socket.send({ type: "message", content: "hi", client_id: "c1" })).toBe(true);
    expect(peer().sent.at(-1)).toEqual({ type: "message", content: "hi", client_id: "c1" });
  });

  it("reconnects with growing delays and resumes from the last message seen", () => {
    const { frames, states, peer } = start();
    peer().open();
    peer().frame({ type: "connected" });
    peer().frame({ type: "ack", message_id: "u1", client_id: "c1" });
    peer().frame({ type: "complete", message_id: "a1", content: "ok" });
    expect(frames.map((f) => f.type)).toEqual(["connected", "ack", "complete"]);
    peer().drop(1006);
    expect(states.at(-1)).toMatchObject({ kind: "waiting", attempt: 1, everOpened: true });
    vi.advanceTimersByTime(100);
    expect(PeerSocket.all).toHaveLength(2);
    peer().open();
    expect(peer().sent[0]).toEqual({ type: "auth", token: "tok", last_message_id: "a1" });
    peer().drop(1006); // failed again before connected: the next wait is longer
    vi.advanceTimersByTime(199);
    expect(PeerSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(PeerSocket.all).toHaveLength(3);
  });

  it("stops for good when the server refuses the session", () => {
    const { states, peer } = start();
    peer().open();
    peer().drop(4401);
    expect(states.at(-1)).toMatchObject({ kind: "refused", code: 4401 });
    vi.advanceTimersByTime(60_000);
    expect(PeerSocket.all).toHaveLength(1);
  });

  it("pings on the server's heartbeat and replaces a connection that went silent", () => {
    const { peer } = start();
    peer().open();
    peer().frame({ type: "connected", heartbeat_seconds: 10 });
    vi.advanceTimersByTime(10_000);
    expect(peer().sent.at(-1)).toEqual({ type: "ping" });
    vi.advanceTimersByTime(20_000); // no pong, nothing at all: dead
    vi.advanceTimersByTime(1000);
    expect(PeerSocket.all.length).toBeGreaterThan(1);
  });

  it("does not reconnect after close()", () => {
    const { socket, peer } = start();
    peer().open();
    socket.close();
    vi.advanceTimersByTime(60_000);
    expect(PeerSocket.all).toHaveLength(1);
  });
});

describe("backoff and URL", () => {
  it("doubles up to the cap with jitter in [ceiling/2, ceiling]", () => {
    expect(backoffDelay(0, 500, 30000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 30000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 30000, () => 1)).toBe(30000);
  });
  it("derives ws(s) URLs", () => {
    expect(socketUrl("", { protocol: "https:", host: "x.test" })).toBe("wss://x.test/ws");
    expect(socketUrl("http://api:8000/", { protocol: "https:", host: "x" })).toBe("ws://api:8000/ws");
  });
});
