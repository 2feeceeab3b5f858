// The staff login, kept in memory and in sessionStorage (this tab only, gone when it closes) so a reload
// does not log the agent out. There is no refresh token: the JWT lives STAFF_TOKEN_TTL_SECONDS (8 h);
// when `expires_in` has passed, or any call answers 401 (expired, disabled account, new SECRET_KEY),
// the console forgets the token and shows the login page again.
import type { StaffPublic, TokenResponse } from "../types";

export interface AuthSession {
  token: string;
  /** Epoch milliseconds after which the token is refused by the server. */
  expiresAt: number;
  staff: StaffPublic;
}

const KEY = "support-console:auth";
// A few seconds early, so a request sent just before the expiry does not fail half-way.
const SKEW_MS = 5_000;

export function sessionFrom(token: TokenResponse, staff: StaffPublic, now: number): AuthSession {
  return { token: token.access_token, expiresAt: now + token.expires_in * 1000, staff };
}

export function isExpired(session: AuthSession, now: number): boolean {
  return now >= session.expiresAt - SKEW_MS;
}

export function msUntilExpiry(session: AuthSession, now: number): number {
  return Math.max(0, session.expiresAt - SKEW_MS - now);
}

export function loadSession(storage: Pick<Storage, "getItem">, now: number): AuthSession | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<AuthSession>;
    if (typeof s.token !== "string" || typeof s.expiresAt !== "number" || !s.staff) return null;
    const session = s as AuthSession;
    return isExpired(session, now) ? null : session;
  } catch {
    return null;
  }
}

export function saveSession(storage: Pick<Storage, "setItem" | "removeItem">, session: AuthSession | null): void {
  try {
    if (session) storage.setItem(KEY, JSON.stringify(session));
    else storage.removeItem(KEY);
  } catch { /* storage disabled: memory only */ }
}
