import { describe, expect, it } from "vitest";
import type { StaffPublic } from "../types";
import { isExpired, loadSession, msUntilExpiry, saveSession, sessionFrom } from "./auth";
import { parseRoute, routeHash } from "./route";

const staff: StaffPublic = { id: "u1", email: "sam@example.com", name: "Sam", role: "agent", active: true,
  created_at: "2026-12-01T00:00:00Z" };

function memoryStorage() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k), data };
}

describe("auth session", () => {
  const now = 1_000_000;
  const s = sessionFrom({ access_token: "jwt", token_type: "bearer", expires_in: 3600 }, staff, now);

  it("expires a few seconds before the server would refuse the token", () => {
    expect(s.expiresAt).toBe(now + 3_600_000);
    expect(isExpired(s, now)).toBe(false);
    expect(isExpired(s, now + 3_600_000 - 4_000)).toBe(true);
    expect(msUntilExpiry(s, now)).toBe(3_595_000);
  });

  it("survives a reload in the tab, but never past its expiry", () => {
    const st = memoryStorage();
    saveSession(st, s);
    expect(loadSession(st, now)?.token).toBe("jwt");
    expect(loadSession(st, now + 3_600_000)).toBeNull();
    saveSession(st, null);
    expect(st.data.size).toBe(0);
    st.setItem("support-console:auth", "{broken");
    expect(loadSession(st, now)).toBeNull();
  });
});

describe("routes", () => {
  it("parses and builds the hash routes", () => {
    const id = "0b5a3c1e-1111-4222-8333-944455556666";
    expect(parseRoute(`#/inbox/${id}`)).toEqual({ page: "inbox", conversation: id });
    expect(parseRoute("#/knowledge")).toEqual({ page: "knowledge" });
    expect(parseRoute("#/nope/<script>")).toEqual({ page: "inbox" });
    expect(parseRoute("#/inbox/not-an-id")).toEqual({ page: "inbox" });
    expect(routeHash({ page: "inbox", conversation: id })).toBe(`#/inbox/${id}`);
  });
});
