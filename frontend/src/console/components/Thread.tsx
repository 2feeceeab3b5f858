import { useEffect, useRef } from "react";
import { renderMarkdown } from "../../markdown";
import type { ThreadEntry } from "../types";

type Source = { id?: string; content?: string; metadata?: { source?: string; title?: string; section?: string } };

function Citations({ sources }: { sources: Source[] }) {
  if (!sources.length) return null;
  return (
    <ol className="mt-2 space-y-1" aria-label="Sources">
      {sources.map((s, i) => (
        <li key={`${s.id ?? i}`}>
          <details className="rounded border border-slate-200 text-xs dark:border-slate-700">
            <summary className="cursor-pointer px-2 py-1 focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500">
              [{i + 1}] {s.metadata?.title || s.metadata?.source}{s.metadata?.section ? ` — ${s.metadata.section}` : ""}
            </summary>
            <blockquote className="max-h-48 overflow-auto whitespace-pre-wrap border-t border-slate-200 px-2 py-1 dark:border-slate-700">
              {s.content}</blockquote>
          </details>
        </li>
      ))}
    </ol>
  );
}

const STYLE: Record<string, string> = {
  user: "self-start bg-white dark:bg-slate-800",
  assistant: "self-start border border-slate-200 bg-slate-50 dark:border-slate-700 dark:bg-slate-900",
  agent: "self-end bg-blue-600 text-white",
  note: "self-end border-2 border-dashed border-amber-400 bg-amber-50 text-amber-950 dark:bg-amber-950/40 dark:text-amber-100",
};

function label(e: ThreadEntry): string {
  if (e.kind === "note") return `Private note · ${e.author?.name ?? "staff"}`;
  if (e.role === "user") return "Customer";
  if (e.role === "assistant") return "Assistant";
  if (e.role === "agent") return e.author?.name ?? "Agent";
  return e.role;
}

export function Thread({ entries, customerTyping }: { entries: ThreadEntry[]; customerTyping: boolean }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => { end.current?.scrollIntoView?.({ block: "end" }); }, [entries.length, customerTyping]);
  return (
    <div className="min-h-0 flex-1 overflow-y-auto p-4">
      <ol aria-label="Thread" aria-live="polite" aria-relevant="additions" className="flex flex-col gap-2">
        {entries.map((e) => e.role === "system" ? (
          <li key={e.id} data-testid="entry-system" className="self-center text-center text-xs italic text-slate-500">{e.content}</li>
        ) : (
          <li key={e.id} data-testid={`entry-${e.kind === "note" ? "note" : e.role}`}
            className={`max-w-[85%] rounded-lg px-3 py-2 text-sm shadow-sm ${STYLE[e.kind === "note" ? "note" : e.role] ?? STYLE.user}`}>
            <div className="mb-0.5 text-xs font-semibold opacity-80">{label(e)}
              <time className="ml-2 font-normal" dateTime={e.created_at}>{new Date(e.created_at).toLocaleTimeString()}</time></div>
            {e.role === "assistant"
              ? <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(e.content) }} />
              : <div className="whitespace-pre-wrap">{e.content}</div>}
            {e.attachments.length > 0 && (
              <ul className="mt-1 text-xs" aria-label="Attachments">
                {e.attachments.map((a, i) => <li key={i}>📎 {String(a.filename ?? "file")} {a.status ? `(${String(a.status)})` : ""}</li>)}
              </ul>
            )}
            <Citations sources={e.sources as Source[]} />
          </li>
        ))}
      </ol>
      {customerTyping && <p data-testid="customer-typing" role="status" className="mt-2 text-xs italic text-slate-500">Customer is typing…</p>}
      <div ref={end} />
    </div>
  );
}
