import { describe, expect, it } from "vitest";
import type { ConversationDetail } from "../types";
import { addEntry, allowedActions, applyThreadEvent, type ThreadView } from "./thread";

const detail: ConversationDetail = {
  session_id: "s1", state: "waiting", status: "active", unread: 0, thread: [
    { id: "m1", kind: "message", role: "user", content: "help", private: false, sources: [], attachments: [],
      created_at: "2026-12-01T10:00:00Z" },
  ], packet: {}, activities: [],
};
const view: ThreadView = { detail, customerTyping: false };

describe("thread", () => {
  it("appends live messages and notes once, ignores other conversations", () => {
    let v = applyThreadEvent(view, { type: "message.created", session_id: "s1", state: "assigned",
      message: { id: "m2", role: "agent", content: "hi", created_at: "2026-12-01T10:01:00Z", author: { name: "Sam" } } });
    v = applyThreadEvent(v, { type: "note.created", session_id: "s1", note: { id: "n1", content: "check refunds",
      author: { name: "Sam" }, created_at: "2026-12-01T10:02:00Z" } });
    // The REST answer of our own reply arrives after its event: no duplicate.
    v = addEntry(v, { ...v.detail.thread[1]! });
    v = applyThreadEvent(v, { type: "note.created", session_id: "other", note: { id: "n2", content: "x",
      author: { name: "A" }, created_at: "2026-12-01T10:03:00Z" } });
    expect(v.detail.thread.map((e) => [e.id, e.kind, e.private])).toEqual([
      ["m1", "message", false], ["m2", "message", false], ["n1", "note", true]]);
    expect(v.detail.state).toBe("assigned");
  });

  it("shows the customer typing until their message arrives", () => {
    let v = applyThreadEvent(view, { type: "typing", session_id: "s1", who: "customer", typing: true });
    expect(v.customerTyping).toBe(true);
    v = applyThreadEvent(v, { type: "typing", session_id: "s1", who: "agent", typing: false });
    expect(v.customerTyping).toBe(true);
    v = applyThreadEvent(v, { type: "message.created", session_id: "s1", state: "waiting",
      message: { id: "m3", role: "user", content: "more", created_at: "2026-12-01T10:04:00Z" } });
    expect(v.customerTyping).toBe(false);
  });

  it("offers the actions the state allows", () => {
    expect(allowedActions(detail, "me", false)).toEqual({ assign: true, resolve: false, returnToBot: true, reply: true });
    const mine = { ...detail, state: "assigned" as const, assignee: { id: "me", name: "Me" } };
    expect(allowedActions(mine, "me", false)).toEqual({ assign: false, resolve: true, returnToBot: true, reply: true });
    const theirs = { ...mine, assignee: { id: "other", name: "Other" } };
    expect(allowedActions(theirs, "me", false)).toEqual({ assign: false, resolve: false, returnToBot: false, reply: false });
    expect(allowedActions(theirs, "me", true)).toEqual({ assign: true, resolve: true, returnToBot: true, reply: true });
    expect(allowedActions({ ...detail, state: "bot" }, "me", false).returnToBot).toBe(false);
  });
});
