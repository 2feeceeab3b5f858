import { describe, expect, it } from "vitest";
import type { ConversationItem, StaffEvent } from "../types";
import { applyInboxEvent, badgeTitle, formatWaited, inboxFrom, markRead, tabCounts, tabItems } from "./inbox";

const ME = "me-id";
const item = (id: string, state: ConversationItem["state"], since: string | null, assignee?: string): ConversationItem => ({
  session_id: id, state, waiting_since: since, unread: 0, reason: "customer_request",
  assignee: assignee ? { id: assignee, name: assignee } : null,
});

describe("inbox", () => {
  const inbox = inboxFrom([
    item("b", "waiting", "2026-12-01T10:05:00Z"), item("a", "waiting", "2026-12-01T10:00:00Z"),
    item("c", "assigned", "2026-12-01T09:00:00Z", ME), item("d", "assigned", "2026-12-01T09:30:00Z", "other"),
    item("e", "resolved", "2026-12-01T08:00:00Z"),
  ]);

  it("splits into tabs with counts, oldest waiting first", () => {
    expect(tabItems(inbox, "waiting", ME).map((i) => i.session_id)).toEqual(["a", "b"]);
    expect(tabItems(inbox, "mine", ME).map((i) => i.session_id)).toEqual(["c"]);
    expect(tabItems(inbox, "all", ME).map((i) => i.session_id)).toEqual(["e", "c", "d", "a", "b"]);
    expect(tabCounts(inbox, ME)).toEqual({ waiting: 2, mine: 1, all: 5, resolved: 1 });
  });

  it("adds a new handoff live and flags it for the badge", () => {
    const ev: StaffEvent = { type: "handoff.created", session_id: "z", state: "waiting", reason: "frustration",
      priority: "high", summary: "angry about a refund", ticket_id: "ESC-1", waiting_since: "2026-12-01T11:00:00Z",
      position: 3 };
    const { inbox: next, newHandoff } = applyInboxEvent(inbox, ev);
    expect(newHandoff).toBe(true);
    expect(tabItems(next, "waiting", ME).map((i) => i.session_id)).toEqual(["a", "b", "z"]);
    expect(next.z?.priority).toBe("high");
    expect(inbox.z).toBeUndefined(); // pure: the old state is untouched
  });

  it("moves a conversation between tabs when its state changes", () => {
    const { inbox: next } = applyInboxEvent(inbox, { type: "conversation.updated", session_id: "a", state: "assigned",
      from_state: "waiting", assignee: { id: ME, name: "Me" } });
    expect(tabCounts(next, ME)).toMatchObject({ waiting: 1, mine: 2 });
    const { inbox: back } = applyInboxEvent(next, { type: "conversation.updated", session_id: "a", state: "bot",
      from_state: "assigned", assignee: null });
    expect(tabCounts(back, ME)).toMatchObject({ waiting: 1, mine: 1, all: 5 });
  });

  it("counts unread customer messages and clears them when read", () => {
    const msg = (role: string): StaffEvent => ({ type: "message.created", session_id: "c", state: "assigned",
      message: { id: role + "1", role, content: "hello", created_at: "2026-12-01T11:00:00Z" } });
    let s = applyInboxEvent(inbox, msg("user")).inbox;
    s = applyInboxEvent(s, msg("agent")).inbox;
    expect(s.c?.unread).toBe(1);
    expect(s.c?.last_message?.content).toBe("hello");
    expect(markRead(s, "c").c?.unread).toBe(0);
    // An event for a conversation the console never loaded is ignored (the reload on connect covers it).
    expect(applyInboxEvent(inbox, { ...msg("user"), session_id: "unknown" } as StaffEvent).inbox).toBe(inbox);
  });

  it("formats the time waited and the tab badge", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(formatWaited("2026-12-01T11:59:18Z", now)).toBe("42 s");
    expect(formatWaited("2026-12-01T11:57:00Z", now)).toBe("3 min");
    expect(formatWaited("2026-12-01T10:55:00Z", now)).toBe("1 h 5 min");
    expect(formatWaited("2026-11-29T09:00:00Z", now)).toBe("2 d 3 h");
    expect(formatWaited(null, now)).toBe("");
    expect(badgeTitle("Support console", 2)).toBe("(2) Support console");
    expect(badgeTitle("Support console", 0)).toBe("Support console");
  });
});
