// Bootstrap: the widget's limits first, then the stored session's history or a fresh session,
// retried with backoff. The conversation itself (handover included) always comes from the server.
import { useCallback, useEffect, useState, type Dispatch } from "react";
import { ApiError, type ChatApi } from "../services/api";
import { clearSession, loadSession, saveSession, type StoredSession } from "../services/storage";
import type { ChatEvent } from "../state/events";
import type { WidgetConfig } from "../types/api";
import type { LinkStatus } from "./useLinkStatus";

export interface Bootstrap {
  config: WidgetConfig | null;
  session: StoredSession | null;
  closed: boolean;
  setClosed: (closed: boolean) => void;
  /** Forget this browser's session and start a new one (the old one stays open on the server). */
  restart: () => void;
}

export function useBootstrap(api: ChatApi, dispatch: Dispatch<ChatEvent>, historyLoaded: boolean,
                             link: LinkStatus): Bootstrap {
  const [session, setSession] = useState<StoredSession | null>(() => loadSession());
  const [config, setConfig] = useState<WidgetConfig | null>(null);
  const [closed, setClosed] = useState(false);
  const [bootTick, setBootTick] = useState(0);
  const { setHttpOnline, setRetryAt } = link;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const boot = async (attempt: number): Promise<void> => {
      try {
        const cfg = config ?? await api.config();
        if (cancelled) return;
        setConfig(cfg);
        setHttpOnline(true);
        setRetryAt(undefined);
        let current = session;
        if (current) {
          try {
            const info = await api.session(current.sessionId, current.token);
            const history = await api.history(current.sessionId, current.token);
            if (cancelled) return;
            setClosed(info.status !== "active");
            dispatch({ type: "history_loaded", messages: history, handoff: info.handoff });
            return;
          } catch (e) {
            // A session the server no longer knows or accepts: start over rather than show an error.
            if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 404)) throw e;
            clearSession();
            current = null;
          }
        }
        const created = await api.createSession({ channel: "widget" });
        if (cancelled) return;
        current = { sessionId: created.session_id, token: created.session_token };
        saveSession(current);
        setClosed(false);
        setSession(current);
        dispatch({ type: "history_loaded", messages: [] });
      } catch (e) {
        if (cancelled) return;
        const delay = Math.min(15000, 1000 * 2 ** attempt);
        setHttpOnline(!(e instanceof ApiError && e.offline));
        setRetryAt(Date.now() + delay);
        timer = setTimeout(() => void boot(attempt + 1), delay);
      }
    };
    if (!historyLoaded) void boot(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, bootTick]);

  const restart = useCallback(() => {
    clearSession();
    setSession(null);
    setClosed(false);
    setBootTick((t) => t + 1);
  }, []);

  return { config, session, closed, setClosed, restart };
}
