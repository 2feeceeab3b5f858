import { useId, useMemo, useState } from "react";
import { renderMarkdown } from "../markdown";
import type { Source } from "../types/api";

function title(s: Source): string {
  const meta = s.metadata as { source: string; title?: string; section?: string };
  const base = meta.title || meta.source;
  return meta.section && meta.section !== base ? `${base} — ${meta.section}` : base;
}

/** One numbered source: the title always, the quoted passage on demand, its Markdown rendered through the
 * same sanitiser as answers (passages are untrusted text: no scripts, no images, links in a new tab). */
function Citation({ n, source }: { n: number; source: Source }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const html = useMemo(() => (open ? renderMarkdown(source.content) : ""), [open, source.content]);
  return (
    <li className="rounded-md border border-slate-200 dark:border-slate-700">
      <button type="button" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}
        className="flex w-full items-start gap-2 px-2 py-1.5 text-left text-xs hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-[var(--accent)] dark:hover:bg-slate-800">
        <span className="font-semibold text-[var(--accent)]">[{n}]</span>
        <span className="flex-1 font-medium" data-testid="citation-title">{title(source)}</span>
        <span aria-hidden="true">{open ? "▾" : "▸"}</span>
      </button>
      {open && (
        <blockquote id={id} data-testid="citation-passage" dangerouslySetInnerHTML={{ __html: html }}
          className="markdown max-h-48 overflow-auto break-words border-t border-slate-200 px-2 py-1.5 text-xs text-slate-600 dark:border-slate-700 dark:text-slate-300" />
      )}
    </li>
  );
}

export function SourceCitation({ sources }: { sources: Source[] }) {
  if (!sources.length) return null;
  return (
    <section aria-label="Sources" className="mt-2">
      <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">Sources</h3>
      <ol className="space-y-1">
        {sources.map((s, i) => <Citation key={`${s.id}-${i}`} n={i + 1} source={s} />)}
      </ol>
    </section>
  );
}
