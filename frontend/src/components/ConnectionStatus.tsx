import { useEffect, useState } from "react";
import type { ConnectionState } from "../types/chat";

const LABEL = { live: "Online", fallback: "Online", connecting: "Connecting…", offline: "Offline" } as const;
const DOT = { live: "bg-emerald-500", fallback: "bg-amber-400", connecting: "bg-slate-400", offline: "bg-red-500" };

function useSecondsUntil(at?: number): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!at) return undefined;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [at]);
  return at ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

export function ConnectionStatus({ connection }: { connection: ConnectionState }) {
  const secs = useSecondsUntil(connection.mode === "offline" ? connection.retryAt : undefined);
  const detail = connection.mode === "offline"
    ? `${connection.reason ?? "No connection"}${secs !== undefined ? `, retrying in ${secs}s` : ", retrying"}`
    : connection.mode === "fallback" ? connection.reason : undefined;
  return (
    <p role="status" data-testid="connection-status" data-mode={connection.mode}
      className="flex items-center gap-1.5 text-xs opacity-90" title={detail}>
      <span aria-hidden="true" className={`h-2 w-2 rounded-full ${DOT[connection.mode]}`} />
      <span>{LABEL[connection.mode]}</span>
      {detail && <span className="sr-only">: {detail}</span>}
    </p>
  );
}
