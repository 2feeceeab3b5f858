// Checks files against the server's limits before anything is uploaded (the server checks again).
import type { WidgetConfig } from "./types/api";

export type AttachmentLimits = Pick<WidgetConfig, "max_attachment_bytes" | "max_attachments_per_message"
  | "allowed_attachment_types">;

export const DEFAULT_LIMITS: AttachmentLimits = {
  max_attachment_bytes: 10 * 1024 * 1024,
  max_attachments_per_message: 5,
  allowed_attachment_types: [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".html", ".json", ".png",
    ".jpg", ".jpeg", ".gif", ".webp"],
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}

/** Splits new files into those to keep and plain-language reasons for the rest. */
export function checkFiles(incoming: File[], already: File[], limits: AttachmentLimits):
  { accepted: File[]; errors: string[] } {
  const accepted: File[] = [];
  const errors: string[] = [];
  for (const f of incoming) {
    if (!limits.allowed_attachment_types.includes(extension(f.name))) {
      errors.push(`${f.name}: this file type is not accepted (allowed: ${limits.allowed_attachment_types.join(", ")})`);
    } else if (f.size > limits.max_attachment_bytes) {
      errors.push(`${f.name} is too large (${formatBytes(f.size)}; the limit is ${formatBytes(limits.max_attachment_bytes)})`);
    } else if (f.size === 0) {
      errors.push(`${f.name} is empty`);
    } else if (already.length + accepted.length >= limits.max_attachments_per_message) {
      errors.push(`${f.name}: at most ${limits.max_attachments_per_message} files per message`);
    } else {
      accepted.push(f);
    }
  }
  return { accepted, errors };
}
