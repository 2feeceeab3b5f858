// Canned replies by short code: typing "/thanks" offers the reply whose code starts with "thanks".
import type { CannedReply } from "../types";

const CODE = /^\/([A-Za-z0-9_-]*)$/;

/** Replies matching the composer's text when it is a single "/code" token; none otherwise. */
export function cannedMatches(text: string, replies: CannedReply[]): CannedReply[] {
  const m = CODE.exec(text.trim());
  if (!m) return [];
  const prefix = (m[1] ?? "").toLowerCase();
  return replies.filter((r) => r.short_code.toLowerCase().startsWith(prefix)).slice(0, 8);
}

/** The composer's text with an exact "/code" replaced by that reply's content (else unchanged). */
export function expandCanned(text: string, replies: CannedReply[]): string {
  const m = CODE.exec(text.trim());
  if (!m) return text;
  const hit = replies.find((r) => r.short_code.toLowerCase() === (m[1] ?? "").toLowerCase());
  return hit ? hit.content : text;
}
