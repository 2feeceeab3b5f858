import { memo, useMemo } from "react";
import { formatBytes } from "../attachments";
import { renderMarkdown } from "../markdown";
import type { ChatMessage } from "../types/chat";
import { SourceCitation } from "./SourceCitation";

function Attachments({ message }: { message: ChatMessage }) {
  if (!message.attachments.length) return null;
  return (
    <ul aria-label="Attachments" className="mt-1 flex flex-wrap gap-1">
      {message.attachments.map((a, i) => (
        <li key={`${a.filename}-${i}`} className="rounded bg-black/10 px-1.5 py-0.5 text-xs dark:bg-white/10">
          <svg aria-hidden="true" viewBox="0 0 24 24" className="mr-0.5 inline h-3 w-3" fill="none" stroke="currentColor" strokeWidth="2.5"><path d="M21 12.5l-8.5 8.5a5 5 0 01-7-7L14 5.5a3.5 3.5 0 015 5L10.5 19a2 2 0 01-3-3L15 8.5" /></svg>
          {a.filename} <span className="opacity-70">({formatBytes(a.size_bytes)})</span>
        </li>
      ))}
    </ul>
  );
}

export const Message = memo(function Message({ message }: { message: ChatMessage }) {
  if (message.role === "system") {
    // A notice of the conversation itself ("Sam joined"): centred, not a bubble.
    return (
      <p data-testid="message-system" role="note"
        className="mx-auto max-w-[90%] text-center text-xs text-slate-500 dark:text-slate-400">{message.content}</p>
    );
  }
  if (message.role === "agent") return <AgentMessage message={message} />;
  const mine = message.role === "user";
  // Sanitised HTML (see markdown.ts); the user's own words are shown as plain text.
  const html = useMemo(() => (mine ? "" : renderMarkdown(message.content)), [mine, message.content]);
  return (
    <article data-testid={`message-${message.role}`} data-status={message.status}
      data-message-key={message.clientId ?? message.id}
      aria-label={mine ? "You said" : "Assistant said"}
      className={`flex ${mine ? "justify-end" : "justify-start"}`}>
      <div className={`max-w-[85%] rounded-2xl px-3 py-2 text-sm shadow-sm ${mine
        ? "rounded-br-sm bg-[var(--accent)] text-white"
        : "rounded-bl-sm bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100"}`}>
        {mine
          ? <p className="whitespace-pre-wrap break-words">{message.content}</p>
          : <div className="markdown break-words" dangerouslySetInnerHTML={{ __html: html }} />}
        <Attachments message={message} />
        {message.degraded && <p className="mt-1 text-xs opacity-70">Answered by the backup responder.</p>}
        {message.status === "sending" && <p className="mt-1 text-xs opacity-80">Sending…</p>}
        {message.status === "failed" && (
          <p role="alert" className="mt-1 text-xs font-medium text-red-100">Not sent: {message.error}</p>
        )}
        {!mine && <SourceCitation sources={message.sources} />}
      </div>
    </article>
  );
});

/** A person from the support team: their name above, a bubble styled apart from the assistant's. */
function AgentMessage({ message }: { message: ChatMessage }) {
  const html = useMemo(() => renderMarkdown(message.content), [message.content]);
  const name = message.author ?? "Support team";
  return (
    <article data-testid="message-agent" aria-label={`${name} from the support team said`} className="flex justify-start">
      <div className="max-w-[85%]">
        <p className="mb-0.5 text-xs font-medium text-emerald-800 dark:text-emerald-300">{name} · support team</p>
        <div className="rounded-2xl rounded-bl-sm border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-slate-900 shadow-sm dark:border-emerald-700 dark:bg-emerald-950 dark:text-slate-100">
          <div className="markdown break-words" dangerouslySetInnerHTML={{ __html: html }} />
        </div>
      </div>
    </article>
  );
}
