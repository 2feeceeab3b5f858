import { useRef } from "react";
import { formatBytes } from "../attachments";

interface Props {
  files: File[];
  errors: string[];
  accept: string[];
  progress: number | null;
  disabled: boolean;
  onAdd: (files: File[]) => void;
  onRemove: (index: number) => void;
}

/** The file picker button, the chosen files, refusals and upload progress. Drops are handled by ChatWindow. */
export function AttachmentPicker({ accept, disabled, onAdd }: Pick<Props, "accept" | "disabled" | "onAdd">) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input ref={input} type="file" multiple hidden accept={accept.join(",")} data-testid="file-input"
        onChange={(e) => {
          onAdd([...(e.target.files ?? [])]);
          e.target.value = ""; // picking the same file again must fire change
        }} />
      <button type="button" disabled={disabled} aria-label="Attach files" title="Attach files"
        onClick={() => input.current?.click()}
        className="rounded-full p-2 text-slate-500 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-[var(--accent)] disabled:opacity-40 dark:text-slate-300 dark:hover:bg-slate-800">
        <svg aria-hidden="true" viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="2">
          <path d="M21 12.5l-8.5 8.5a5 5 0 01-7-7L14 5.5a3.5 3.5 0 015 5L10.5 19a2 2 0 01-3-3L15 8.5" />
        </svg>
      </button>
    </>
  );
}

export function AttachmentUpload({ files, errors, progress, onRemove }: Props) {
  if (!files.length && !errors.length && progress === null) return null;
  return (
    <div className="space-y-1 px-3 pt-2">
      {files.length > 0 && (
        <ul aria-label="Files to send" className="flex flex-wrap gap-1">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`} className="flex items-center gap-1 rounded-full bg-slate-100 py-0.5 pl-2 pr-1 text-xs dark:bg-slate-800">
              <span>{f.name} ({formatBytes(f.size)})</span>
              <button type="button" aria-label={`Remove ${f.name}`} onClick={() => onRemove(i)}
                className="rounded-full px-1 hover:bg-slate-200 dark:hover:bg-slate-700">×</button>
            </li>
          ))}
        </ul>
      )}
      {errors.length > 0 && (
        <ul role="alert" data-testid="attachment-errors" className="text-xs text-red-600 dark:text-red-400">
          {errors.map((e) => <li key={e}>{e}</li>)}
        </ul>
      )}
      {progress !== null && (
        <label className="flex items-center gap-2 text-xs">
          Uploading
          <progress max={1} value={progress} className="h-1.5 flex-1 accent-[var(--accent)]" />
          {Math.round(progress * 100)}%
        </label>
      )}
    </div>
  );
}
