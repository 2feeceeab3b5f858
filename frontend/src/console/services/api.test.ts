import { describe, expect, it } from "vitest";
import { createStaffApi, login, StaffApiError } from "./api";
import { reconnectDelay, socketUrl } from "./socket";

type Call = { url: string; init: RequestInit };

function server(answers: Record<string, [number, unknown]>) {
  const calls: Call[] = [];
  const impl = (async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    const [status, body] = answers[`${init.method ?? "GET"} ${url}`] ?? [404, { detail: "Not Found", code: "not_found" }];
    return new Response(status === 204 ? null : JSON.stringify(body), { status,
      headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return { impl, calls };
}

describe("staff api", () => {
  it("logs in with JSON and reads the account with the new token", async () => {
    const { impl, calls } = server({
      "POST /auth/login": [200, { access_token: "jwt1", token_type: "bearer", expires_in: 60 }],
      "GET /auth/me": [200, { id: "u1", name: "Sam", role: "agent" }],
    });
    const { token, me } = await login("sam@example.com", "pw", impl);
    expect(token.access_token).toBe("jwt1");
    expect(me.name).toBe("Sam");
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ username: "sam@example.com", password: "pw" });
    expect((calls[1]!.init.headers as Record<string, string>).Authorization).toBe("Bearer jwt1");
  });

  it("a wrong password is an error with the server's words", async () => {
    const { impl } = server({ "POST /auth/login": [401, { detail: "Invalid email or password", code: "invalid_credentials" }] });
    await expect(login("a@b.c", "x", impl)).rejects.toMatchObject({ status: 401, code: "invalid_credentials",
      message: "Invalid email or password" });
  });

  it("sends the bearer token and returns to login on any 401", async () => {
    let loggedOut = 0;
    const { impl, calls } = server({
      "POST /staff/conversations/s1/messages": [201, { id: "m1", private: true, content: "n" }],
      "GET /staff/conversations?limit=200&state=waiting": [401, { detail: "expired", code: "invalid_staff_token" }],
      "DELETE /staff/canned-replies/c1": [204, null],
    });
    const api = createStaffApi("jwt2", () => { loggedOut += 1; }, impl);
    expect((await api.send("s1", "n", true)).private).toBe(true);
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ content: "n", private: true });
    expect((calls[0]!.init.headers as Record<string, string>).Authorization).toBe("Bearer jwt2");
    await expect(api.deleteCanned("c1")).resolves.toBeUndefined();
    const err = await api.conversations("waiting").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaffApiError);
    expect(loggedOut).toBe(1);
  });

  it("an unreachable server is status 0", async () => {
    const api = createStaffApi("t", () => {}, (async () => { throw new TypeError("fetch failed"); }) as typeof fetch);
    await expect(api.cannedReplies()).rejects.toMatchObject({ status: 0, code: "network_error" });
  });
});

describe("staff socket", () => {
  it("uses ws or wss like the page and backs off to a cap", () => {
    expect(socketUrl({ protocol: "https:", host: "support.example" })).toBe("wss://support.example/staff/ws");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/staff/ws");
    expect([0, 1, 2, 10].map(reconnectDelay)).toEqual([500, 1000, 2000, 15000]);
  });
});
