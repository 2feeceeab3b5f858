// One open conversation: the detail from REST, then kept current by staff-socket events for it.
import type { ConversationDetail, StaffEvent, ThreadEntry } from "../types";

export interface ThreadView {
  detail: ConversationDetail;
  customerTyping: boolean;
}

function append(detail: ConversationDetail, entry: ThreadEntry): ConversationDetail {
  if (detail.thread.some((e) => e.id === entry.id)) return detail; // our own reply, already added
  return { ...detail, thread: [...detail.thread, entry] };
}

/** Add what the agent just sent (from the REST answer), before or after its event arrives. */
export function addEntry(view: ThreadView, entry: ThreadEntry): ThreadView {
  return { ...view, detail: append(view.detail, entry) };
}

export function applyThreadEvent(view: ThreadView, event: StaffEvent): ThreadView {
  if (!("session_id" in event) || event.session_id !== view.detail.session_id) return view;
  switch (event.type) {
    case "message.created": {
      const m = event.message;
      const entry: ThreadEntry = { id: m.id, kind: "message", role: m.role, content: m.content,
        private: false, author: m.author ?? null, sources: m.sources ?? [], attachments: m.attachments ?? [],
        created_at: m.created_at };
      // A customer who sent a message has stopped typing it.
      const customerTyping = m.role === "user" ? false : view.customerTyping;
      return { detail: { ...append(view.detail, entry), state: event.state }, customerTyping };
    }
    case "note.created": {
      const n = event.note;
      const entry: ThreadEntry = { id: n.id, kind: "note", role: "note", content: n.content, private: true,
        author: n.author, sources: [], attachments: [], created_at: n.created_at };
      return { ...view, detail: append(view.detail, entry) };
    }
    case "conversation.updated":
      return { ...view, detail: { ...view.detail, state: event.state, assignee: event.assignee } };
    case "typing":
      return event.who === "customer" ? { ...view, customerTyping: event.typing } : view;
    case "conversation.rated":
      return { ...view, detail: { ...view.detail, rating: { ...(view.detail.rating ?? {}), score: event.score } } };
    default:
      return view;
  }
}

/** Which actions make sense in a state, and for whom (the server checks again). */
export function allowedActions(detail: ConversationDetail, meId: string, isAdmin: boolean) {
  const mine = detail.assignee?.id === meId;
  const mayAct = isAdmin || mine || detail.state !== "assigned";
  return {
    assign: detail.state === "waiting" || detail.state === "bot" || (isAdmin && detail.state === "assigned" && !mine),
    resolve: detail.state === "assigned" && mayAct,
    returnToBot: detail.state !== "bot" && mayAct,
    reply: mayAct,
  };
}
