import { describe, expect, it } from "vitest";
import { checkFiles, DEFAULT_LIMITS } from "./attachments";
import { deriveConnection } from "./hooks/connection";
import { ApiError, createApi } from "./services/api";

const file = (name: string, size: number) => new File([new Uint8Array(size)], name);

describe("checkFiles", () => {
  it("keeps allowed files and explains each refusal", () => {
    const limits = { ...DEFAULT_LIMITS, max_attachment_bytes: 100, max_attachments_per_message: 2 };
    const { accepted, errors } = checkFiles(
      [file("a.PDF", 10), file("b.exe", 10), file("c.png", 101), file("d.txt", 0), file("e.md", 5), file("f.md", 5)],
      [], limits);
    expect(accepted.map((f) => f.name)).toEqual(["a.PDF", "e.md"]);
    expect(errors).toEqual([
      expect.stringMatching(/^b\.exe: this file type is not accepted/),
      "c.png is too large (101 B; the limit is 100 B)",
      "d.txt is empty",
      "f.md: at most 2 files per message"]);
  });
});

describe("deriveConnection", () => {
  const base = { historyLoaded: true, websocketEnabled: true, httpOnline: true };
  it("live, fallback and offline", () => {
    expect(deriveConnection({ ...base, socket: { kind: "open" } }).mode).toBe("live");
    expect(deriveConnection({ ...base, socket: { kind: "waiting", attempt: 1, retryAt: 5, everOpened: false } }))
      .toEqual({ mode: "fallback", retryAt: 5, reason: "Live connection unavailable" });
    expect(deriveConnection({ ...base, websocketEnabled: false, socket: null }).mode).toBe("fallback");
    expect(deriveConnection({ ...base, httpOnline: false, socket: { kind: "waiting", attempt: 2, retryAt: 9,
      everOpened: true } })).toMatchObject({ mode: "offline", retryAt: 9 });
  });
});

describe("api errors", () => {
  it("turns the API's error body into code and text, and a network failure into offline", async () => {
    const api = createApi("http://x", async () => new Response(JSON.stringify({ detail: "Session is closed",
      code: "session_closed" }), { status: 409 }));
    await expect(api.session("s", "t")).rejects.toMatchObject({ status: 409, code: "session_closed",
      message: "Session is closed" });
    const down = createApi("http://x", async () => { throw new TypeError("fetch failed"); });
    const err = await down.config().catch((e: ApiError) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).offline).toBe(true);
    expect(await down.health()).toBe(false);
  });
});
