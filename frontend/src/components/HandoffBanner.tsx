import type { HandoffView } from "../types/chat";

/** Where the customer stands once a person is involved: in line, who joined, and the way back. */
export function HandoffBanner({ handoff, onBackToAssistant, busy }: {
  handoff: HandoffView; onBackToAssistant: () => void; busy?: boolean;
}) {
  if (handoff.state === "bot" || handoff.state === "resolved") return null;
  const text = handoff.state === "waiting"
    ? (handoff.position ? `You are number ${handoff.position} in line for a person.` : "Waiting for a person to join.")
    : `${handoff.assignee ?? "A support agent"} joined the conversation.`;
  return (
    <div role="status" data-testid="handoff-banner" data-state={handoff.state}
      className="mx-3 mb-2 flex items-center justify-between gap-2 rounded-lg border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-700 dark:bg-sky-950 dark:text-sky-100">
      <p>{text} {handoff.state === "waiting" && <span className="text-xs">They will see the whole conversation.</span>}</p>
      <button type="button" onClick={onBackToAssistant} disabled={busy}
        className="shrink-0 rounded border border-current px-2 py-0.5 text-xs font-medium hover:bg-white/40 disabled:opacity-50">
        Back to the assistant
      </button>
    </div>
  );
}
