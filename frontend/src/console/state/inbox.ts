// The queue as the console shows it: conversations by id, updated by staff-socket events, split into
// tabs. Pure: the socket and REST calls live in services/, the component only renders.
import type { ConversationItem, StaffEvent } from "../types";

export type Tab = "waiting" | "mine" | "all" | "resolved";
export const TABS: { id: Tab; label: string }[] = [
  { id: "waiting", label: "Waiting" }, { id: "mine", label: "Mine" },
  { id: "all", label: "All" }, { id: "resolved", label: "Resolved" },
];

export type Inbox = Record<string, ConversationItem>;

export function inboxFrom(items: ConversationItem[]): Inbox {
  return Object.fromEntries(items.map((i) => [i.session_id, i]));
}

/** The queue after one event, and whether it announced a new handoff (the tab badge counts those). */
export function applyInboxEvent(inbox: Inbox, event: StaffEvent): { inbox: Inbox; newHandoff: boolean } {
  switch (event.type) {
    case "handoff.created": {
      const prev = inbox[event.session_id];
      const item: ConversationItem = {
        ...(prev ?? { session_id: event.session_id, unread: 0 }), state: event.state, reason: event.reason,
        priority: event.priority, summary: event.summary, ticket_id: event.ticket_id,
        waiting_since: event.waiting_since, assignee: null,
      };
      return { inbox: { ...inbox, [event.session_id]: item }, newHandoff: true };
    }
    case "conversation.updated": {
      const prev = inbox[event.session_id] ?? { session_id: event.session_id, unread: 0, state: event.state };
      const item: ConversationItem = { ...prev, state: event.state, assignee: event.assignee };
      return { inbox: { ...inbox, [event.session_id]: item }, newHandoff: false };
    }
    case "message.created": {
      const prev = inbox[event.session_id];
      if (!prev) return { inbox, newHandoff: false };
      const m = event.message;
      const unread = (prev.unread ?? 0) + (m.role === "user" ? 1 : 0);
      const item: ConversationItem = { ...prev, state: event.state, unread,
        last_message: { role: m.role, content: m.content, created_at: m.created_at } };
      return { inbox: { ...inbox, [event.session_id]: item }, newHandoff: false };
    }
    default:
      return { inbox, newHandoff: false };
  }
}

/** The open conversation has been read: its unread count goes to zero. */
export function markRead(inbox: Inbox, sessionId: string): Inbox {
  const prev = inbox[sessionId];
  return prev && prev.unread ? { ...inbox, [sessionId]: { ...prev, unread: 0 } } : inbox;
}

function inTab(item: ConversationItem, tab: Tab, meId: string): boolean {
  switch (tab) {
    case "waiting": return item.state === "waiting";
    case "mine": return item.state === "assigned" && item.assignee?.id === meId;
    case "resolved": return item.state === "resolved";
    case "all": return true;
  }
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.POSITIVE_INFINITY);

/** A tab's conversations, oldest handoff first (the one waiting longest is at the top). */
export function tabItems(inbox: Inbox, tab: Tab, meId: string): ConversationItem[] {
  return Object.values(inbox).filter((i) => inTab(i, tab, meId))
    .sort((a, b) => time(a.waiting_since) - time(b.waiting_since) || a.session_id.localeCompare(b.session_id));
}

export function tabCounts(inbox: Inbox, meId: string): Record<Tab, number> {
  const counts: Record<Tab, number> = { waiting: 0, mine: 0, all: 0, resolved: 0 };
  for (const item of Object.values(inbox)) {
    for (const { id } of TABS) if (inTab(item, id, meId)) counts[id] += 1;
  }
  return counts;
}

/** "42 s", "3 min", "1 h 5 min", "2 d 3 h": how long a customer has waited. */
export function formatWaited(sinceIso: string | null | undefined, now: number): string {
  if (!sinceIso) return "";
  const s = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The page title with the number of handoffs that arrived while the agent looked elsewhere. */
export function badgeTitle(base: string, unseen: number): string {
  return unseen > 0 ? `(${unseen}) ${base}` : base;
}
