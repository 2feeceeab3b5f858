import { useCallback, useEffect, useRef, useState } from "react";
import type { Runtime } from "../hooks";
import type { AuthSession } from "../state/auth";
import { addEntry, allowedActions, applyThreadEvent, type ThreadView } from "../state/thread";
import { Button, ErrorLine, StateBadge } from "../components/ui";
import { Thread } from "../components/Thread";
import { Packet } from "../components/Packet";
import { Composer } from "../components/Composer";

export function ConversationView({ sessionId, runtime, session }: { sessionId: string; runtime: Runtime;
  session: AuthSession }) {
  const [view, setView] = useState<ThreadView | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const { api, subscribe, markRead } = runtime;

  const load = useCallback(async () => {
    try {
      const detail = await api.conversation(sessionId);
      setView((v) => ({ detail, customerTyping: v?.customerTyping ?? false }));
      markRead(sessionId);
      setError("");
    } catch (e) {
      setError((e as Error).message);
    }
  }, [api, sessionId, markRead]);

  useEffect(() => { void load(); }, [load]);
  // Events that arrive before the detail are covered by the detail itself (it is read after subscribing).
  useEffect(() => subscribe((event) => {
    setView((v) => (v ? applyThreadEvent(v, event) : v));
    if (event.type === "connected") void load();
  }), [subscribe, load]);
  useEffect(() => { if (view) heading.current?.focus(); }, [view === null]); // eslint-disable-line react-hooks/exhaustive-deps

  async function act(name: string, fn: () => Promise<unknown>) {
    setBusy(true);
    setError("");
    try {
      await fn();
      await load();
    } catch (e) {
      setError(`${name}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  if (!view) return <div className="p-6 text-sm">{error ? <ErrorLine error={error} /> : "Loading…"}</div>;
  const d = view.detail;
  const me = session.staff.id;
  const can = allowedActions(d, me, session.staff.role === "admin");

  return (
    <div className="flex h-full min-h-0 flex-col lg:flex-row">
      <div className="flex min-h-0 flex-1 flex-col">
        <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
          <h2 ref={heading} tabIndex={-1} className="text-sm font-semibold">{d.ticket_id ?? "Conversation"}</h2>
          <StateBadge state={d.state} />
          <span className="text-xs text-slate-500" data-testid="assignee">
            {d.assignee ? `with ${d.assignee.name}` : "unassigned"}</span>
          <div className="ml-auto flex flex-wrap gap-2">
            {can.assign && <Button tone="primary" disabled={busy} onClick={() => act("Take", () => api.assign(sessionId))}>
              Take conversation</Button>}
            {can.resolve && <Button disabled={busy} onClick={() => act("Resolve", () => api.resolve(sessionId))}>Resolve</Button>}
            {can.returnToBot && <Button disabled={busy} onClick={() => act("Return", () => api.returnToBot(sessionId))}>
              Return to assistant</Button>}
          </div>
        </div>
        <ErrorLine error={error} />
        <Thread entries={d.thread} customerTyping={view.customerTyping} />
        {can.reply && <Composer sessionId={sessionId} runtime={runtime} disabled={busy}
          onSent={(entry) => setView((v) => (v ? addEntry(v, entry) : v))} />}
      </div>
      <Packet detail={d} />
    </div>
  );
}
