// The customer's session survives reloads: its id and token live in localStorage (per API origin).
// Nothing else: the conversation, handover included, comes back from the server's history.

export interface StoredSession {
  sessionId: string;
  token: string;
}

const KEY = "support-chat:session";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked (third-party iframe in strict browsers): the session lasts the page
  }
}

export function loadSession(): StoredSession | null {
  try {
    const raw = storage()?.getItem(KEY);
    const value = raw ? (JSON.parse(raw) as Partial<StoredSession>) : null;
    return value && typeof value.sessionId === "string" && typeof value.token === "string"
      ? { sessionId: value.sessionId, token: value.token } : null; // older copies also held the escalation
  } catch {
    return null;
  }
}

export function saveSession(session: StoredSession): void {
  storage()?.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  storage()?.removeItem(KEY);
}
