import { type DragEvent, type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import type { StaffApi } from "../services/api";
import type { KnowledgeDocument, SearchAnswer, UploadResult } from "../types";
import { Button, ErrorLine, inputClass } from "../components/ui";

export function KnowledgePage({ api }: { api: StaffApi }) {
  const [docs, setDocs] = useState<KnowledgeDocument[]>([]);
  const [error, setError] = useState("");
  const [progress, setProgress] = useState<number | null>(null);
  const [results, setResults] = useState<UploadResult[]>([]);
  const [dragging, setDragging] = useState(false);
  const [confirm, setConfirm] = useState<KnowledgeDocument | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try { setDocs((await api.documents()).documents); setError(""); } catch (e) { setError((e as Error).message); }
  }, [api]);
  useEffect(() => { void load(); }, [load]);

  async function upload(files: File[]) {
    if (!files.length) return;
    setProgress(0);
    setResults([]);
    setError("");
    try {
      setResults(await api.upload(files, setProgress));
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setProgress(null);
      if (input.current) input.current.value = "";
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    void upload(Array.from(e.dataTransfer.files));
  }

  async function remove(doc: KnowledgeDocument) {
    setConfirm(null);
    try { await api.deleteDocument(doc.doc_id); await load(); } catch (e) { setError((e as Error).message); }
  }

  return (
    <div className="h-full overflow-y-auto p-4">
      <div className="mx-auto max-w-5xl space-y-6">
        <section aria-labelledby="kb-upload" className="rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
          <h2 id="kb-upload" className="mb-2 font-semibold">Upload documents</h2>
          <div onDragOver={(e) => { e.preventDefault(); setDragging(true); }} onDragLeave={() => setDragging(false)}
            onDrop={onDrop} data-testid="dropzone"
            className={`rounded-lg border-2 border-dashed p-6 text-center text-sm ${dragging ? "border-blue-500 bg-blue-50 dark:bg-blue-950/30" : "border-slate-300 dark:border-slate-600"}`}>
            <p>Drop files here (Markdown, text, HTML, PDF, Word …) or</p>
            <label className="mt-2 inline-block cursor-pointer rounded-md border border-slate-300 px-3 py-1.5 focus-within:outline focus-within:outline-2 focus-within:outline-blue-500 dark:border-slate-600">
              Choose files
              <input ref={input} type="file" multiple className="sr-only" aria-label="Choose files to upload"
                onChange={(e) => void upload(Array.from(e.target.files ?? []))} />
            </label>
          </div>
          {progress !== null && (
            <div className="mt-2"><label className="text-xs">Uploading <progress max={1} value={progress} className="w-full" /></label>
              {progress >= 1 && <p className="text-xs" role="status">Processing…</p>}</div>
          )}
          {results.length > 0 && (
            <ul aria-label="Upload results" aria-live="polite" className="mt-3 space-y-1 text-sm" data-testid="upload-results">
              {results.map((r, i) => (
                <li key={i} data-status={r.status} className={r.status === "failed" ? "text-red-700 dark:text-red-300" : ""}>
                  <span className="font-medium">{r.filename}</span>: {r.status}
                  {r.chunks !== undefined && ` (${r.chunks} chunks)`}{r.reason && ` — ${r.reason}`}
                </li>
              ))}
            </ul>
          )}
          <ErrorLine error={error} />
        </section>

        <section aria-labelledby="kb-docs" className="rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
          <h2 id="kb-docs" className="mb-2 font-semibold">Documents ({docs.length})</h2>
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="documents">
              <thead><tr className="border-b border-slate-200 dark:border-slate-700">
                <th className="py-1 pr-2">Title</th><th className="pr-2">Source</th><th className="pr-2">Status</th>
                <th className="pr-2">Chunks</th><th className="pr-2">Updated</th><th><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {docs.map((d) => (
                  <tr key={d.doc_id} className="border-b border-slate-100 dark:border-slate-800">
                    <td className="py-1 pr-2">{d.title}</td><td className="pr-2 text-xs">{d.source}</td>
                    <td className="pr-2">{d.status}</td><td className="pr-2">{d.chunks}</td>
                    <td className="pr-2 text-xs">{d.updated_at ? new Date(d.updated_at).toLocaleString() : ""}</td>
                    <td className="py-1 text-right">
                      {confirm?.doc_id === d.doc_id ? (
                        <span role="group" aria-label={`Confirm deleting ${d.title}`} className="inline-flex gap-1">
                          <Button tone="danger" onClick={() => remove(d)} autoFocus>Delete for good</Button>
                          <Button onClick={() => setConfirm(null)}>Cancel</Button>
                        </span>
                      ) : <Button tone="danger" onClick={() => setConfirm(d)} aria-label={`Delete ${d.title}`}>Delete</Button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <SearchBox api={api} />
      </div>
    </div>
  );
}

function SearchBox({ api }: { api: StaffApi }) {
  const [query, setQuery] = useState("");
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [error, setError] = useState("");

  async function search(e: FormEvent) {
    e.preventDefault();
    if (!query.trim()) return;
    try { setAnswer(await api.search(query.trim(), 5)); setError(""); } catch (err) { setError((err as Error).message); }
  }

  return (
    <section aria-labelledby="kb-search" className="rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
      <h2 id="kb-search" className="mb-2 font-semibold">Try a search</h2>
      <form onSubmit={search} className="flex gap-2" role="search">
        <label htmlFor="kb-query" className="sr-only">Search the knowledge base</label>
        <input id="kb-query" className={inputClass} value={query} onChange={(e) => setQuery(e.target.value)}
          placeholder="A customer's question" maxLength={2000} />
        <Button tone="primary" type="submit">Search</Button>
      </form>
      <ErrorLine error={error} />
      {answer && (
        <div className="mt-3 text-sm" aria-live="polite" data-testid="search-answer">
          <p>Confidence <strong>{answer.confidence.toFixed(3)}</strong> (threshold {answer.threshold.toFixed(3)}):
            the assistant would <strong>{answer.answerable ? "answer" : "decline and offer a person"}</strong>.</p>
          <ol className="mt-2 space-y-2">
            {answer.results.map((h, i) => (
              <li key={h.id} className="rounded border border-slate-200 p-2 dark:border-slate-700">
                <div className="font-medium">{i + 1}. {h.metadata.title || h.metadata.source}
                  {h.metadata.section ? ` — ${h.metadata.section}` : ""} <span className="text-xs text-slate-500">score {h.score.toFixed(3)}</span></div>
                <p className="mt-1 line-clamp-3 whitespace-pre-wrap text-xs">{h.content}</p>
                <p className="mt-1 text-xs text-slate-500">{Object.entries(h.signals).map(([k, v]) => `${k} ${v}`).join(" · ")}</p>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
