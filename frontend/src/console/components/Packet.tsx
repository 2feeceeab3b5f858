import type { ConversationDetail } from "../types";

type PacketShape = { reason?: string; priority?: string; summary?: string; customer_asked?: string[];
  facts?: Record<string, unknown>; uploads?: { filename?: string; status?: string; content_type?: string }[] };

/** The handoff packet: why the assistant handed over, what it knew, the customer's files. */
export function Packet({ detail }: { detail: ConversationDetail }) {
  const p = detail.packet as PacketShape;
  const facts = Object.entries(p.facts ?? {});
  return (
    <aside aria-label="Handoff packet" data-testid="packet"
      className="max-h-64 overflow-y-auto border-t border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900 lg:max-h-none lg:w-72 lg:border-l lg:border-t-0">
      <h3 className="mb-2 font-semibold">Handoff</h3>
      <dl className="space-y-2">
        <div><dt className="text-xs text-slate-500">Reason</dt><dd>{(p.reason ?? detail.reason ?? "—").replace(/_/g, " ")}</dd></div>
        <div><dt className="text-xs text-slate-500">Priority</dt><dd>{p.priority ?? detail.priority ?? "—"}</dd></div>
        <div><dt className="text-xs text-slate-500">Summary</dt><dd className="whitespace-pre-wrap">{p.summary || detail.summary || "—"}</dd></div>
        {p.customer_asked && p.customer_asked.length > 0 && (
          <div><dt className="text-xs text-slate-500">Customer asked</dt>
            <dd><ul className="list-disc pl-4">{p.customer_asked.map((q, i) => <li key={i}>{q}</li>)}</ul></dd></div>
        )}
        <div><dt className="text-xs text-slate-500">Remembered facts</dt>
          <dd>{facts.length ? <ul>{facts.map(([k, v]) => <li key={k}><span className="font-medium">{k}</span>: {String(v)}</li>)}</ul> : "—"}</dd></div>
        <div><dt className="text-xs text-slate-500">Uploads</dt>
          <dd>{p.uploads?.length ? <ul>{p.uploads.map((u, i) => <li key={i}>📎 {u.filename} ({u.status})</li>)}</ul> : "—"}</dd></div>
        {detail.rating && <div><dt className="text-xs text-slate-500">Rating</dt><dd>{String(detail.rating.score)} / 5</dd></div>}
      </dl>
    </aside>
  );
}
