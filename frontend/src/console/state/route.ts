// The console routes inside its one page (#/inbox/<id>, #/knowledge ...), so the server serves one
// file at /console and a reload keeps the view.
export type Page = "inbox" | "knowledge" | "staff" | "canned" | "settings";
export interface Route { page: Page; conversation?: string }

const PAGES: Page[] = ["inbox", "knowledge", "staff", "canned", "settings"];
export const ADMIN_PAGES: Page[] = ["knowledge", "staff", "canned", "settings"];

export function parseRoute(hash: string): Route {
  const [page, id] = hash.replace(/^#\/?/, "").split("/");
  const p = PAGES.find((x) => x === page) ?? "inbox";
  return p === "inbox" && id && /^[0-9a-f-]{32,36}$/i.test(id) ? { page: p, conversation: id } : { page: p };
}

export function routeHash(route: Route): string {
  return `#/${route.page}${route.conversation ? `/${route.conversation}` : ""}`;
}
