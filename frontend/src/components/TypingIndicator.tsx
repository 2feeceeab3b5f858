const TOOL_LABELS: Record<string, string> = {
  rag_search: "Searching the help center",
  attachment: "Reading your file",
  memory: "Checking what you told us",
  escalation: "Contacting a person",
};

export function TypingIndicator({ tool }: { tool?: string }) {
  return (
    <div role="status" data-testid="typing" className="flex items-center gap-2 px-1 text-xs text-slate-500 dark:text-slate-400">
      <span className="flex gap-1" aria-hidden="true">
        {[0, 150, 300].map((d) => (
          <span key={d} className="h-1.5 w-1.5 animate-bounce rounded-full bg-current" style={{ animationDelay: `${d}ms` }} />
        ))}
      </span>
      <span>{tool ? `${TOOL_LABELS[tool] ?? "Working"}…` : "Assistant is typing…"}</span>
    </div>
  );
}
