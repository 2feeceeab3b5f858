import { type FormEvent, useEffect, useState } from "react";
import type { StaffApi } from "../services/api";
import type { WidgetSettings } from "../types";
import { Button, ErrorLine, Field, inputClass } from "../components/ui";

/** The widget's look and first words, stored server-side and served to every widget by /web/config. */
export function SettingsPage({ api }: { api: StaffApi }) {
  const [s, setS] = useState<WidgetSettings | null>(null);
  const [questions, setQuestions] = useState("");
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");

  useEffect(() => {
    api.widgetSettings().then((w) => { setS(w); setQuestions(w.suggested_questions.join("\n")); })
      .catch((e: Error) => setError(e.message));
  }, [api]);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!s) return;
    setError("");
    setSaved("");
    try {
      const body = { ...s, suggested_questions: questions.split("\n").map((q) => q.trim()).filter(Boolean) };
      const w = await api.saveWidgetSettings(body);
      setS(w);
      setQuestions(w.suggested_questions.join("\n"));
      setSaved("Saved. New chats use these settings.");
    } catch (err) { setError((err as Error).message); }
  }

  if (!s) return <div className="p-6"><ErrorLine error={error} />{!error && "Loading…"}</div>;
  return (
    <div className="h-full overflow-y-auto p-4">
      <form onSubmit={save} aria-labelledby="settings-title" className="mx-auto max-w-2xl space-y-4 rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
        <h2 id="settings-title" className="font-semibold">Widget settings</h2>
        <Field label="Title"><input className={inputClass} required maxLength={60} value={s.title}
          onChange={(e) => setS({ ...s, title: e.target.value })} /></Field>
        <Field label="Accent colour" hint="A hex colour such as #2563eb.">
          <div className="flex gap-2">
            <input type="color" aria-label="Pick the accent colour" value={/^#[0-9a-f]{6}$/i.test(s.color) ? s.color : "#2563eb"}
              onChange={(e) => setS({ ...s, color: e.target.value })} />
            <input className={inputClass} required pattern="#[0-9A-Fa-f]{3,8}" value={s.color}
              onChange={(e) => setS({ ...s, color: e.target.value })} />
          </div></Field>
        <Field label="Welcome text"><textarea className={inputClass} rows={3} maxLength={500} value={s.welcome_text}
          onChange={(e) => setS({ ...s, welcome_text: e.target.value })} /></Field>
        <Field label="Suggested questions" hint="One per line, at most 6; questions your help center answers.">
          <textarea className={inputClass} rows={5} value={questions} onChange={(e) => setQuestions(e.target.value)} /></Field>
        <ErrorLine error={error} />
        {saved && <p role="status" className="text-sm text-green-800 dark:text-green-300">{saved}</p>}
        <Button tone="primary" type="submit">Save settings</Button>
      </form>
    </div>
  );
}
