import { useRef, useState, type KeyboardEvent } from "react";
import type { Runtime } from "../hooks";
import { useNow } from "../hooks";
import type { AuthSession } from "../state/auth";
import { formatWaited, type Tab, TABS, tabCounts, tabItems } from "../state/inbox";
import { StateBadge } from "../components/ui";
import { ConversationView } from "./ConversationView";

export function InboxPage({ runtime, session, open, onOpen }: { runtime: Runtime; session: AuthSession;
  open?: string; onOpen: (id: string) => void }) {
  const [tab, setTab] = useState<Tab>("waiting");
  const now = useNow(15_000);
  const me = session.staff.id;
  const counts = tabCounts(runtime.inbox, me);
  const items = tabItems(runtime.inbox, tab, me);
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);

  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  function onTabKey(e: KeyboardEvent, i: number) {
    const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!d) return;
    const next = (i + d + TABS.length) % TABS.length;
    setTab(TABS[next]!.id);
    tabRefs.current[next]?.focus();
  }

  return (
    <div className="flex h-full min-h-0 flex-col md:flex-row">
      <section aria-label="Queue" className="flex min-h-0 flex-col border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 md:w-80 md:border-r lg:w-96">
        <div role="tablist" aria-label="Conversations" className="flex border-b border-slate-200 dark:border-slate-800">
          {TABS.map((t, i) => (
            <button key={t.id} ref={(el) => { tabRefs.current[i] = el; }} role="tab" type="button"
              id={`tab-${t.id}`} aria-selected={tab === t.id} aria-controls="queue-panel" tabIndex={tab === t.id ? 0 : -1}
              onClick={() => setTab(t.id)} onKeyDown={(e) => onTabKey(e, i)} data-testid={`tab-${t.id}`}
              className={`flex-1 px-2 py-2 text-sm focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500 ${tab === t.id
                ? "border-b-2 border-blue-600 font-semibold" : "text-slate-600 dark:text-slate-300"}`}>
              {t.label} <span data-testid={`count-${t.id}`} className="ml-1 rounded-full bg-slate-200 px-1.5 text-xs dark:bg-slate-700">{counts[t.id]}</span>
            </button>
          ))}
        </div>
        {runtime.loadError && <p role="alert" className="p-3 text-sm text-red-700 dark:text-red-300">{runtime.loadError}</p>}
        <ul id="queue-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} aria-live="polite"
          className="min-h-0 flex-1 overflow-y-auto" data-testid="queue">
          {items.length === 0 && <li className="p-4 text-sm text-slate-500">Nothing here.</li>}
          {items.map((item) => (
            <li key={item.session_id}>
              <button type="button" onClick={() => onOpen(item.session_id)} data-testid="queue-item"
                data-session={item.session_id} aria-current={open === item.session_id ? "true" : undefined}
                className={`block w-full border-b border-slate-100 px-3 py-2 text-left hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-blue-500 dark:border-slate-800 dark:hover:bg-slate-800 ${open === item.session_id ? "bg-blue-50 dark:bg-slate-800" : ""}`}>
                <div className="flex items-center gap-2 text-xs">
                  <StateBadge state={item.state} />
                  {item.priority === "high" && <span className="font-semibold text-red-700 dark:text-red-300">high priority</span>}
                  <span className="text-slate-500">{item.ticket_id}</span>
                  {item.unread > 0 && <span className="rounded-full bg-blue-600 px-1.5 text-white" aria-label={`${item.unread} unread`}>{item.unread}</span>}
                  {item.state === "waiting" && <span className="ml-auto" data-testid="waited">waited {formatWaited(item.waiting_since, now)}</span>}
                </div>
                <div className="mt-1 text-sm font-medium">{item.reason?.replace(/_/g, " ") ?? "conversation"}</div>
                <div className="line-clamp-2 text-xs text-slate-600 dark:text-slate-300">
                  {item.summary || item.last_message?.content || ""}
                </div>
                {item.assignee && <div className="text-xs text-slate-500">with {item.assignee.name}</div>}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-label="Conversation" className="min-h-0 flex-1">
        {open ? <ConversationView key={open} sessionId={open} runtime={runtime} session={session} />
          : <p className="p-6 text-sm text-slate-500">Pick a conversation from the queue.</p>}
      </section>
    </div>
  );
}
