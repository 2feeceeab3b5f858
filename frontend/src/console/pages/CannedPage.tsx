import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { StaffApi } from "../services/api";
import type { CannedReply } from "../types";
import { Button, ErrorLine, Field, inputClass } from "../components/ui";

export function CannedPage({ api }: { api: StaffApi }) {
  const [replies, setReplies] = useState<CannedReply[]>([]);
  const [editing, setEditing] = useState<CannedReply | null>(null);
  const [code, setCode] = useState("");
  const [content, setContent] = useState("");
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try { setReplies((await api.cannedReplies()).items); } catch (e) { setError((e as Error).message); }
  }, [api]);
  useEffect(() => { void load(); }, [load]);

  function edit(r: CannedReply | null) {
    setEditing(r);
    setCode(r?.short_code ?? "");
    setContent(r?.content ?? "");
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    setError("");
    try {
      if (editing) await api.updateCanned(editing.id, code, content);
      else await api.createCanned(code, content);
      edit(null);
      await load();
    } catch (err) { setError((err as Error).message); }
  }

  async function remove(r: CannedReply) {
    if (!window.confirm(`Delete /${r.short_code}?`)) return;
    try { await api.deleteCanned(r.id); await load(); } catch (err) { setError((err as Error).message); }
  }

  return (
    <div className="h-full overflow-y-auto p-4">
      <div className="mx-auto max-w-3xl space-y-6">
        <form onSubmit={save} aria-labelledby="canned-form" className="space-y-3 rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
          <h2 id="canned-form" className="font-semibold">{editing ? `Edit /${editing.short_code}` : "New canned reply"}</h2>
          <Field label="Short code" hint="Letters, digits, - and _; agents type /code in the composer.">
            <input className={inputClass} required maxLength={64} pattern="[A-Za-z0-9_-]+" value={code}
              onChange={(e) => setCode(e.target.value)} /></Field>
          <Field label="Reply text"><textarea className={inputClass} required maxLength={4000} rows={4} value={content}
            onChange={(e) => setContent(e.target.value)} /></Field>
          <ErrorLine error={error} />
          <div className="flex gap-2"><Button tone="primary" type="submit">{editing ? "Save" : "Create"}</Button>
            {editing && <Button onClick={() => edit(null)}>Cancel</Button>}</div>
        </form>
        <ul aria-label="Canned replies" className="space-y-2" data-testid="canned-list">
          {replies.map((r) => (
            <li key={r.id} className="flex items-start gap-2 rounded-lg bg-white p-3 text-sm shadow-sm dark:bg-slate-900">
              <span className="font-mono">/{r.short_code}</span>
              <span className="flex-1 whitespace-pre-wrap">{r.content}</span>
              <Button onClick={() => edit(r)} aria-label={`Edit /${r.short_code}`}>Edit</Button>
              <Button tone="danger" onClick={() => remove(r)} aria-label={`Delete /${r.short_code}`}>Delete</Button>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
