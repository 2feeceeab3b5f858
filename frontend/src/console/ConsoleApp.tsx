// The support console: login, then a shell with the inbox and (for admins) the help center, staff,
// canned replies and widget settings. Routes live in the URL hash.
import { useCallback, useEffect, useState } from "react";
import { useAuth, usePreference, useRuntime } from "./hooks";
import { type AuthSession } from "./state/auth";
import { ADMIN_PAGES, type Page, parseRoute, type Route, routeHash } from "./state/route";
import { LoginPage } from "./pages/LoginPage";
import { InboxPage } from "./pages/InboxPage";
import { KnowledgePage } from "./pages/KnowledgePage";
import { StaffPage } from "./pages/StaffPage";
import { CannedPage } from "./pages/CannedPage";
import { SettingsPage } from "./pages/SettingsPage";

export function ConsoleApp() {
  const { session, login, logout, notice } = useAuth();
  if (!session) return <LoginPage onLogin={login} notice={notice} />;
  return <Shell session={session} logout={logout} />;
}

const LABELS: Record<Page, string> = { inbox: "Inbox", knowledge: "Knowledge base", staff: "Staff",
  canned: "Canned replies", settings: "Widget settings" };

function useRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return [route, useCallback((r: Route) => { window.location.hash = routeHash(r); }, [])];
}

function Shell({ session, logout }: { session: AuthSession; logout: (why?: string) => void }) {
  const expired = useCallback(() => logout("Your session ended. Please log in again."), [logout]);
  const [badge, setBadge] = usePreference("tab-badge", true);
  const runtime = useRuntime(session, expired, badge);
  const [route, go] = useRoute();
  const isAdmin = session.staff.role === "admin";
  const pages = (Object.keys(LABELS) as Page[]).filter((p) => isAdmin || !ADMIN_PAGES.includes(p));
  const page = pages.includes(route.page) ? route.page : "inbox";

  return (
    <div className="flex h-full flex-col bg-slate-100 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
      <header className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
        <h1 className="text-base font-semibold">Support console</h1>
        <nav aria-label="Console sections" className="flex flex-wrap gap-1">
          {pages.map((p) => (
            <a key={p} href={routeHash({ page: p })} aria-current={page === p ? "page" : undefined}
              className={`rounded-md px-2 py-1 text-sm focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500 ${page === p
                ? "bg-blue-600 text-white" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`}>{LABELS[p]}</a>
          ))}
        </nav>
        <div className="ml-auto flex items-center gap-3 text-sm">
          <span data-testid="socket-status" data-live={runtime.live ? "1" : "0"}
            className={runtime.live ? "text-green-700 dark:text-green-400" : "text-amber-700 dark:text-amber-300"}>
            {runtime.live ? "● Live" : "○ Reconnecting…"}
          </span>
          <label className="flex items-center gap-1">
            <input type="checkbox" checked={badge} onChange={(e) => setBadge(e.target.checked)} />
            Tab badge on new handoffs
          </label>
          <span>{session.staff.name} <span className="text-slate-500">({session.staff.role})</span></span>
          <button type="button" onClick={() => logout()} className="rounded-md px-2 py-1 underline focus-visible:outline focus-visible:outline-2 focus-visible:outline-blue-500">
            Log out
          </button>
        </div>
      </header>
      <main className="min-h-0 flex-1">
        {page === "inbox" && <InboxPage runtime={runtime} session={session} open={route.conversation}
          onOpen={(id) => { runtime.clearUnseen(); go({ page: "inbox", conversation: id }); }} />}
        {page === "knowledge" && <KnowledgePage api={runtime.api} />}
        {page === "staff" && <StaffPage api={runtime.api} me={session.staff.id} />}
        {page === "canned" && <CannedPage api={runtime.api} />}
        {page === "settings" && <SettingsPage api={runtime.api} />}
      </main>
    </div>
  );
}
