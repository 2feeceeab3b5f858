import { type DragEvent, useEffect, useRef, useState } from "react";
import { checkFiles, DEFAULT_LIMITS } from "../attachments";
import type { useChat } from "../hooks/useChat";
import { AttachmentPicker, AttachmentUpload } from "./AttachmentUpload";
import { ConnectionStatus } from "./ConnectionStatus";
import { EscalationNotice } from "./EscalationNotice";
import { HandoffBanner } from "./HandoffBanner";
import { RatingPrompt } from "./RatingPrompt";
import { Message } from "./Message";
import { MessageInput } from "./MessageInput";
import { TypingIndicator } from "./TypingIndicator";
import { WelcomeScreen } from "./WelcomeScreen";

type Chat = ReturnType<typeof useChat>;

export function ChatWindow({ chat, title, onClose }: { chat: Chat; title: string; onClose?: () => void }) {
  const { state, config, closed, uploadProgress } = chat;
  const [files, setFiles] = useState<File[]>([]);
  const [fileErrors, setFileErrors] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  const end = useRef<HTMLDivElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const pinned = useRef<string | null>(null);
  const limits = config ?? DEFAULT_LIMITS;
  const last = state.messages[state.messages.length - 1];

  useEffect(() => {
    // A reply longer than the view is shown from its first line, once, so the reader starts reading at
    // its beginning; shorter ones (and everything else) keep the newest line in view.
    const key = last && last.role !== "user" ? last.clientId ?? last.id : null;
    const answer = key ? log.current?.querySelector<HTMLElement>(`[data-message-key="${CSS.escape(key)}"]`) : null;
    if (answer && log.current && answer.offsetHeight > log.current.clientHeight - 24) {
      if (pinned.current !== key) {
        pinned.current = key;
        answer.scrollIntoView({ block: "start" });
      }
      return;
    }
    end.current?.scrollIntoView({ block: "end" });
  }, [state.messages.length, last?.content, state.assistantBusy, state.escalation, state.agentTyping]);

  const disabledReason = !state.historyLoaded ? (state.connection.mode === "offline"
    ? "Can't reach the support service. Retrying…" : "Connecting…")
    : closed ? "This conversation is closed. Start a new conversation to continue."
      : state.connection.mode === "offline" ? "You're offline: messages can't be sent until the connection is back."
        : undefined;

  const addFiles = (incoming: File[]) => {
    const { accepted, errors } = checkFiles(incoming, files, limits);
    setFiles([...files, ...accepted]);
    setFileErrors(errors);
  };
  const send = (text: string) => {
    void chat.send(text, files);
    setFiles([]);
    setFileErrors([]);
    return true;
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!disabledReason) addFiles([...e.dataTransfer.files]);
  };

  return (
    <div className="relative flex h-full flex-col bg-white text-slate-900 dark:bg-slate-900 dark:text-slate-100"
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={(e) => { if (e.currentTarget === e.target) setDragging(false); }}
      onDrop={onDrop}
      onKeyDown={(e) => { if (e.key === "Escape" && onClose) onClose(); }}>
      <header className="flex items-center gap-2 bg-[var(--accent)] px-4 py-3 text-white">
        <div className="flex-1">
          <h1 className="text-base font-semibold leading-tight">{title}</h1>
          <ConnectionStatus connection={state.connection} />
        </div>
        <button type="button" onClick={chat.newConversation} disabled={!state.historyLoaded}
          className="rounded-md px-2 py-1 text-xs font-medium ring-1 ring-white/60 hover:bg-white/15 focus-visible:outline-2 focus-visible:outline-white">
          New conversation
        </button>
        {onClose && (
          <button type="button" onClick={onClose} aria-label="Close chat"
            className="rounded-md px-2 py-1 text-lg leading-none hover:bg-white/15 focus-visible:outline-2 focus-visible:outline-white">×</button>
        )}
      </header>

      <div ref={log} role="log" aria-live="polite" aria-relevant="additions text" aria-label="Conversation"
        className="flex flex-1 flex-col gap-3 overflow-y-auto px-3 py-4" tabIndex={0}>
        {state.historyLoaded && state.messages.length === 0
          ? <WelcomeScreen title={title} onAsk={(q) => send(q)} disabled={Boolean(disabledReason)} />
          : state.messages.map((m) => <Message key={m.clientId ?? m.id} message={m} />)}
        {state.assistantBusy && (last?.status !== "streaming" || !last.content) && <TypingIndicator tool={state.activeTool} />}
        {state.agentTyping && (
          <p role="status" data-testid="agent-typing" className="text-xs italic text-slate-500">{state.agentTyping} is typing…</p>
        )}
        <div ref={end} />
      </div>

      {state.escalation && state.handoff.state !== "assigned" && state.handoff.state !== "resolved"
        && <EscalationNotice escalation={state.escalation} />}
      <HandoffBanner handoff={state.handoff} onBackToAssistant={() => void chat.backToAssistant()} />
      {state.handoff.state === "resolved" && (state.handoff.canRate || state.handoff.rated)
        && <RatingPrompt rated={Boolean(state.handoff.rated)} onRate={chat.rate} />}
      {state.error && (
        <div role="alert" data-testid="chat-error" className="mx-3 mb-2 flex items-start gap-2 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          <p className="flex-1">{state.error.detail}</p>
          <button type="button" onClick={chat.dismissError} aria-label="Dismiss error" className="px-1">×</button>
        </div>
      )}
      <AttachmentUpload files={files} errors={fileErrors} accept={limits.allowed_attachment_types}
        progress={uploadProgress} disabled={Boolean(disabledReason)} onAdd={addFiles}
        onRemove={(i) => setFiles(files.filter((_, j) => j !== i))} />
      <MessageInput disabledReason={disabledReason} busy={state.assistantBusy}
        maxChars={config?.max_message_chars ?? 8000} onSend={send} onTyping={chat.typing}
        focusKey={state.messages.length}
        picker={<AttachmentPicker accept={limits.allowed_attachment_types} disabled={Boolean(disabledReason)} onAdd={addFiles} />} />

      {dragging && (
        <div aria-hidden="true" className="pointer-events-none absolute inset-0 flex items-center justify-center border-4 border-dashed border-[var(--accent)] bg-white/80 text-lg font-semibold dark:bg-slate-900/80">
          Drop files to attach
        </div>
      )}
    </div>
  );
}
