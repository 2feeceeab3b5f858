// Appearance options: from the URL when embedded by widget.js (?embed=1&title=…&color=…), else defaults.
export interface WidgetOptions {
  embed: boolean;
  title: string;
  color: string;
  apiBase: string;
}

const COLOR = /^#[0-9a-f]{3,8}$|^[a-z]{3,20}$/i;

export function readOptions(search: string): WidgetOptions {
  const q = new URLSearchParams(search);
  const color = q.get("color") ?? "";
  return {
    embed: q.get("embed") === "1",
    title: (q.get("title") ?? "").slice(0, 60) || "Customer support",
    color: COLOR.test(color) ? color : "#2563eb",
    apiBase: (import.meta.env.VITE_API_URL as string | undefined) ?? "",
  };
}
