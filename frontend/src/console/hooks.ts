// The console's runtime: the login, the staff socket and the queue it keeps current. Components read
// it; the conversion of events into state is in state/ (pure, tested).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createStaffApi, type StaffApi } from "./services/api";
import { connectStaffSocket, socketUrl, type StaffSocket } from "./services/socket";
import { type AuthSession, loadSession, msUntilExpiry, saveSession } from "./state/auth";
import { applyInboxEvent, badgeTitle, type Inbox, inboxFrom, markRead } from "./state/inbox";
import type { StaffEvent } from "./types";

const storage = () => window.sessionStorage;

export function useAuth() {
  const [session, setSession] = useState<AuthSession | null>(() => loadSession(storage(), Date.now()));
  const [notice, setNotice] = useState<string>("");
  const logout = useCallback((why = "") => {
    saveSession(storage(), null);
    setNotice(why);
    setSession(null);
  }, []);
  const login = useCallback((s: AuthSession) => {
    saveSession(storage(), s);
    setNotice("");
    setSession(s);
  }, []);
  // The JWT has no refresh: when it runs out the agent logs in again.
  useEffect(() => {
    if (!session) return;
    const t = setTimeout(() => logout("Your session expired. Please log in again."), msUntilExpiry(session, Date.now()));
    return () => clearTimeout(t);
  }, [session, logout]);
  return { session, login, logout, notice };
}

export type Listener = (e: StaffEvent) => void;

export interface Runtime {
  api: StaffApi;
  inbox: Inbox;
  live: boolean;
  loadError: string;
  reload: () => Promise<void>;
  subscribe: (l: Listener) => () => void;
  sendTyping: (sessionId: string, typing: boolean) => void;
  markRead: (sessionId: string) => void;
  unseen: number;
  clearUnseen: () => void;
}

export function useRuntime(session: AuthSession, onUnauthorized: () => void, badgeEnabled: boolean): Runtime {
  const api = useMemo(() => createStaffApi(session.token, onUnauthorized), [session.token, onUnauthorized]);
  const [inbox, setInbox] = useState<Inbox>({});
  const [live, setLive] = useState(false);
  const [loadError, setLoadError] = useState("");
  const [unseen, setUnseen] = useState(0);
  const listeners = useRef(new Set<Listener>());
  const socket = useRef<StaffSocket | null>(null);

  const reload = useCallback(async () => {
    try {
      const all = await api.conversations();
      setInbox(inboxFrom(all.items));
      setLoadError("");
    } catch (e) {
      setLoadError((e as Error).message);
    }
  }, [api]);

  useEffect(() => {
    const s = connectStaffSocket(socketUrl(window.location), session.token, {
      onEvent(event) {
        // Every (re)connect may have missed events: read the queue again.
        if (event.type === "connected") void reload();
        setInbox((prev) => applyInboxEvent(prev, event).inbox);
        if (event.type === "handoff.created") setUnseen((n) => n + 1);
        for (const l of listeners.current) l(event);
      },
      onStatus: setLive,
      onUnauthorized,
    });
    socket.current = s;
    return () => { s.close(); socket.current = null; };
  }, [session.token, reload, onUnauthorized]);

  useEffect(() => {
    const clear = () => { if (document.visibilityState === "visible" && document.hasFocus()) setUnseen(0); };
    window.addEventListener("focus", clear);
    return () => window.removeEventListener("focus", clear);
  }, []);
  useEffect(() => {
    document.title = badgeTitle("Support console", badgeEnabled ? unseen : 0);
  }, [unseen, badgeEnabled]);

  return {
    api, inbox, live, loadError, reload, unseen,
    clearUnseen: useCallback(() => setUnseen(0), []),
    subscribe: useCallback((l: Listener) => {
      listeners.current.add(l);
      return () => { listeners.current.delete(l); };
    }, []),
    sendTyping: useCallback((id: string, typing: boolean) => socket.current?.sendTyping(id, typing), []),
    markRead: useCallback((id: string) => setInbox((prev) => markRead(prev, id)), []),
  };
}

/** A console preference kept in localStorage (e.g. the tab-title badge). */
export function usePreference(key: string, initial: boolean): [boolean, (v: boolean) => void] {
  const full = `support-console:${key}`;
  const [value, setValue] = useState<boolean>(() => {
    try { const v = localStorage.getItem(full); return v === null ? initial : v === "1"; } catch { return initial; }
  });
  const set = useCallback((v: boolean) => {
    setValue(v);
    try { localStorage.setItem(full, v ? "1" : "0"); } catch { /* memory only */ }
  }, [full]);
  return [value, set];
}

/** Re-renders every `ms` so "waited 3 min" stays true. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
