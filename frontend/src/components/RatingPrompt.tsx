import { useState } from "react";

/** CSAT after a person resolved the conversation: 1-5 and an optional comment, asked once. */
export function RatingPrompt({ onRate, rated }: { onRate: (score: number, comment: string) => Promise<void>; rated: boolean }) {
  const [score, setScore] = useState<number | null>(null);
  const [comment, setComment] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (rated) {
    return <p role="status" data-testid="rating-thanks" className="mx-3 mb-2 text-center text-sm">Thanks for your rating!</p>;
  }
  const submit = async () => {
    if (score === null) return;
    setSending(true);
    setError(null);
    try {
      await onRate(score, comment.trim());
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not send the rating");
    } finally {
      setSending(false);
    }
  };
  return (
    <form data-testid="rating-prompt" aria-label="Rate this conversation"
      onSubmit={(e) => { e.preventDefault(); void submit(); }}
      className="mx-3 mb-2 rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-600 dark:bg-slate-900">
      <fieldset>
        <legend className="font-medium">How did we do?</legend>
        <div className="mt-1 flex gap-1" role="radiogroup" aria-label="Score from 1 to 5">
          {[1, 2, 3, 4, 5].map((n) => (
            <button key={n} type="button" role="radio" aria-checked={score === n} aria-label={`${n} of 5`}
              onClick={() => setScore(n)}
              className={`h-8 w-8 rounded-full border ${score === n ? "bg-[var(--accent)] text-white" : "border-slate-300"}`}>
              {n}
            </button>
          ))}
        </div>
      </fieldset>
      <label className="mt-2 block text-xs">Comment (optional)
        <input value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000}
          className="mt-0.5 w-full rounded border border-slate-300 px-2 py-1 text-sm text-slate-900" />
      </label>
      {error && <p role="alert" className="mt-1 text-xs text-red-700">{error}</p>}
      <button type="submit" disabled={score === null || sending}
        className="mt-2 rounded bg-[var(--accent)] px-3 py-1 text-xs font-medium text-white disabled:opacity-50">
        Send rating
      </button>
    </form>
  );
}
