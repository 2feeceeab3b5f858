import { afterEach, describe, expect, it } from "vitest";
import { clearSession, loadSession, saveSession } from "./storage";

describe("stored session", () => {
  afterEach(() => clearSession());

  it("keeps only the id and token; the handover comes back from the server's history", () => {
    // What an older widget stored: a copy of the escalation next to the session.
    localStorage.setItem("support-chat:session", JSON.stringify({ sessionId: "s1", token: "t1",
      escalation: { ticket_id: "ESC-1", reason: "customer_request", priority: "normal" } }));
    expect(loadSession()).toEqual({ sessionId: "s1", token: "t1" });
    saveSession({ sessionId: "s2", token: "t2" });
    expect(JSON.parse(localStorage.getItem("support-chat:session")!)).toEqual({ sessionId: "s2", token: "t2" });
  });

  it("ignores a malformed copy", () => {
    localStorage.setItem("support-chat:session", "{not json");
    expect(loadSession()).toBeNull();
  });
});
