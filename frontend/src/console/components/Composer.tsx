import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import type { Runtime } from "../hooks";
import { cannedMatches, expandCanned } from "../state/canned";
import type { CannedReply, ThreadEntry } from "../types";
import { Button, ErrorLine } from "./ui";

const TYPING_IDLE_MS = 3_000;

export function Composer({ sessionId, runtime, disabled, onSent }: { sessionId: string; runtime: Runtime;
  disabled: boolean; onSent: (e: ThreadEntry) => void }) {
  const { api, sendTyping } = runtime;
  const [text, setText] = useState("");
  const [isPrivate, setPrivate] = useState(false);
  const [canned, setCanned] = useState<CannedReply[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [draftInfo, setDraftInfo] = useState("");
  const box = useRef<HTMLTextAreaElement>(null);
  const typing = useRef<{ on: boolean; timer?: ReturnType<typeof setTimeout> }>({ on: false });

  useEffect(() => {
    api.cannedReplies().then((r) => setCanned(r.items)).catch(() => setCanned([]));
  }, [api]);

  function stopTyping() {
    clearTimeout(typing.current.timer);
    if (typing.current.on) sendTyping(sessionId, false);
    typing.current.on = false;
  }
  useEffect(() => stopTyping, []); // eslint-disable-line react-hooks/exhaustive-deps

  function change(value: string) {
    setText(value);
    if (isPrivate) return; // a note is not something the customer should see being typed
    if (!typing.current.on && value.trim()) { sendTyping(sessionId, true); typing.current.on = true; }
    clearTimeout(typing.current.timer);
    typing.current.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  const matches = cannedMatches(text, canned);

  function pickCanned(reply: CannedReply) {
    setText(reply.content);
    box.current?.focus();
  }

  async function send(e?: FormEvent) {
    e?.preventDefault();
    const content = expandCanned(text, canned).trim();
    if (!content) return;
    setBusy(true);
    setError("");
    try {
      const sent = await api.send(sessionId, content, isPrivate);
      stopTyping();
      onSent({ id: sent.id, kind: sent.private ? "note" : "message", role: sent.private ? "note" : "agent",
        content: sent.content, private: sent.private, author: sent.author, sources: [], attachments: [],
        created_at: sent.created_at });
      setText("");
      setDraftInfo("");
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
      box.current?.focus();
    }
  }

  async function draft() {
    setBusy(true);
    setError("");
    try {
      const d = await api.draft(sessionId);
      setText(d.content);
      setPrivate(false);
      setDraftInfo(d.grounded ? `AI draft from ${d.sources.length} help-center passage(s): check it, then send.`
        : "AI draft without help-center support: check it carefully.");
      box.current?.focus();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Tab" && matches.length > 0 && !e.shiftKey) { e.preventDefault(); pickCanned(matches[0]!); return; }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void send(); }
  }

  return (
    <form onSubmit={send} aria-label="Reply"
      className={`border-t p-3 ${isPrivate ? "border-amber-300 bg-amber-50 dark:bg-amber-950/30" : "border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900"}`}>
      <fieldset className="mb-2 flex gap-4 text-sm">
        <legend className="sr-only">Message kind</legend>
        <label className="flex items-center gap-1"><input type="radio" name="kind" checked={!isPrivate}
          onChange={() => setPrivate(false)} /> Reply to customer</label>
        <label className="flex items-center gap-1"><input type="radio" name="kind" checked={isPrivate}
          onChange={() => { stopTyping(); setPrivate(true); }} /> Private note</label>
      </fieldset>
      <label htmlFor={`composer-${sessionId}`} className="sr-only">{isPrivate ? "Private note text" : "Reply to the customer"}</label>
      <textarea id={`composer-${sessionId}`} ref={box} rows={3} value={text} disabled={disabled || busy}
        onChange={(e) => change(e.target.value)} onKeyDown={onKey} onBlur={stopTyping}
        placeholder={isPrivate ? "Note for colleagues (the customer never sees it)" : "Reply… type / for canned replies; Ctrl+Enter sends"}
        aria-describedby={`composer-help-${sessionId}`}
        className="w-full rounded-md border border-slate-300 bg-white p-2 text-sm dark:border-slate-600 dark:bg-slate-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500" />
      <p id={`composer-help-${sessionId}`} className="sr-only">Type a slash and a short code for a canned reply; Tab inserts the first match; Control Enter sends.</p>
      {matches.length > 0 && (
        <ul aria-label="Canned replies" className="mb-2 rounded border border-slate-200 text-sm dark:border-slate-700" data-testid="canned-matches">
          {matches.map((r) => (
            <li key={r.id}><button type="button" onClick={() => pickCanned(r)}
              className="block w-full px-2 py-1 text-left hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500 dark:hover:bg-slate-800">
              <span className="font-mono text-xs">/{r.short_code}</span> — {r.content.slice(0, 80)}</button></li>
          ))}
        </ul>
      )}
      {draftInfo && <p role="status" className="mb-1 text-xs text-slate-600 dark:text-slate-300">{draftInfo}</p>}
      <ErrorLine error={error} />
      <div className="flex flex-wrap gap-2">
        <Button tone="primary" type="submit" disabled={disabled || busy || !text.trim()}>
          {isPrivate ? "Add note" : "Send reply"}</Button>
        <Button disabled={disabled || busy} onClick={draft}>Draft with AI</Button>
      </div>
    </form>
  );
}
