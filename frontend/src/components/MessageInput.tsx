import { type FormEvent, type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";

interface Props {
  disabledReason?: string;
  busy: boolean;
  maxChars: number;
  onSend: (text: string) => boolean;
  onTyping: () => void;
  picker: ReactNode;
  focusKey: unknown;
}

/** Multi-line input: Enter sends, Shift+Enter adds a line; says why it is disabled when it is. */
export function MessageInput({ disabledReason, busy, maxChars, onSend, onTyping, picker, focusKey }: Props) {
  const [text, setText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  const lastTyping = useRef(0);
  const disabled = Boolean(disabledReason);
  const tooLong = text.length > maxChars;

  useEffect(() => {
    if (!disabled) area.current?.focus();
  }, [disabled, focusKey]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (disabled || busy || tooLong || !text.trim()) return;
    if (onSend(text.trim())) setText("");
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <form onSubmit={submit} className="border-t border-slate-200 p-2 dark:border-slate-700" aria-label="Send a message">
      {disabledReason && (
        <p id="input-disabled-reason" data-testid="input-disabled-reason" className="px-1 pb-1 text-xs text-red-600 dark:text-red-400">
          {disabledReason}
        </p>
      )}
      <div className="flex items-end gap-1">
        {picker}
        <label htmlFor="chat-input" className="sr-only">Your message</label>
        <textarea id="chat-input" ref={area} rows={1} value={text} disabled={disabled}
          aria-describedby={disabledReason ? "input-disabled-reason" : "input-hint"}
          aria-invalid={tooLong || undefined}
          placeholder={disabled ? "Sending is paused" : "Type your question…"}
          onChange={(e) => {
            setText(e.target.value);
            if (Date.now() - lastTyping.current > 3000) {
              lastTyping.current = Date.now();
              onTyping();
            }
          }}
          onKeyDown={onKeyDown}
          className="max-h-40 min-h-10 flex-1 resize-none rounded-xl border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 placeholder:text-slate-400 focus:border-[var(--accent)] focus:outline-none focus:ring-2 focus:ring-[var(--accent)] disabled:bg-slate-100 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:disabled:bg-slate-800"
          style={{ fieldSizing: "content" } as React.CSSProperties} />
        <button type="submit" disabled={disabled || busy || tooLong || !text.trim()} aria-label="Send message"
          className="rounded-full bg-[var(--accent)] p-2 text-white hover:opacity-90 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-[var(--accent)] disabled:opacity-40">
          <svg aria-hidden="true" viewBox="0 0 24 24" className="h-5 w-5" fill="currentColor"><path d="M3 20l18-8L3 4v6l12 2-12 2z" /></svg>
        </button>
      </div>
      <p id="input-hint" className={`px-1 pt-1 text-[11px] ${tooLong ? "text-red-600" : "text-slate-400"}`}>
        {tooLong ? `Too long: ${text.length}/${maxChars} characters` : "Enter to send, Shift+Enter for a new line"}
      </p>
    </form>
  );
}
