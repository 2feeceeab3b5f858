// widget.js: `<script src=".../widget.js" data-api-url="..." async></script>` on any page adds a chat
// launcher and a panel. The launcher lives in a shadow root and the chat itself in an iframe served by
// the API, so nothing in the host page's CSS or scripts reaches the chat and vice versa.
// Options (data-*): api-url, title, color, position ("right" | "left").

interface LoaderOptions {
  apiUrl: string;
  title: string;
  color: string;
  position: "left" | "right";
  explicitTitle: boolean;
  explicitColor: boolean;
}

const SAFE_COLOR = /^#[0-9a-f]{3,8}$|^[a-z]{3,20}$/i;

function readScriptOptions(): LoaderOptions {
  const script = (document.currentScript as HTMLScriptElement | null)
    ?? document.querySelector<HTMLScriptElement>("script[src*='widget.js']");
  const data = script?.dataset ?? {};
  const fromSrc = script?.src ? new URL(script.src, location.href).origin : location.origin;
  const color = data.color && SAFE_COLOR.test(data.color) ? data.color : "#2563eb";
  return {
    apiUrl: (data.apiUrl || fromSrc).replace(/\/$/, ""),
    title: (data.title || "Customer support").slice(0, 60),
    color,
    position: data.position === "left" ? "left" : "right",
    explicitTitle: Boolean(data.title),
    explicitColor: Boolean(data.color && SAFE_COLOR.test(data.color)),
  };
}

function styles(o: LoaderOptions): string {
  const side = o.position;
  return `
:host { all: initial; }
.launcher { position: fixed; ${side}: 20px; bottom: 20px; z-index: 2147483646; width: 56px; height: 56px;
  border-radius: 50%; border: 0; padding: 0; margin: 0; cursor: pointer; background: ${o.color}; color: #fff;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; }
.launcher:focus-visible { outline: 3px solid ${o.color}; outline-offset: 3px; }
.launcher svg { width: 26px; height: 26px; }
.panel { position: fixed; ${side}: 20px; bottom: 88px; z-index: 2147483647; width: 380px;
  height: min(620px, calc(100vh - 110px)); border-radius: 16px; overflow: hidden; background: #fff;
  box-shadow: 0 12px 40px rgba(0,0,0,.3); display: none; }
.panel.open { display: block; }
.panel iframe { width: 100%; height: 100%; border: 0; margin: 0; padding: 0; display: block; }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  .panel.open + .launcher, :host(.open) .launcher { display: none; }
}
@media (prefers-color-scheme: dark) { .panel { background: #0f172a; } }
`;
}

const CHAT_ICON = '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M4 4h16a2 2 0 012 2v10a2 2 0 01-2 2H8l-4 4V6a2 2 0 012-2z"/></svg>';
const CLOSE_ICON = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

function mount(): void {
  if (document.getElementById("support-widget-host")) return; // the tag was included twice
  const o = readScriptOptions();
  const host = document.createElement("div");
  host.id = "support-widget-host";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `<style>${styles(o)}</style>
<div class="panel" id="panel" role="dialog" aria-label=""></div>
<button class="launcher" type="button" aria-expanded="false" aria-controls="panel"></button>`;
  const panel = root.getElementById("panel") as HTMLDivElement;
  const launcher = root.querySelector("button") as HTMLButtonElement;
  panel.setAttribute("aria-label", o.title);
  let frame: HTMLIFrameElement | null = null;

  const render = (open: boolean) => {
    panel.classList.toggle("open", open);
    host.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? `Close ${o.title}` : `Open ${o.title}`);
    launcher.innerHTML = open ? CLOSE_ICON : CHAT_ICON;
  };
  const open = () => {
    if (!frame) {
      // Loaded on first open only: a page view that never chats costs a few KB, not the whole app.
      frame = document.createElement("iframe");
      frame.title = o.title;
      // Only what the page chose itself: otherwise the chat uses the console's widget settings.
      const q = new URLSearchParams({ embed: "1" });
      if (o.explicitTitle) q.set("title", o.title);
      if (o.explicitColor) q.set("color", o.color);
      frame.src = `${o.apiUrl}/?${q}`;
      frame.allow = "clipboard-write";
      panel.appendChild(frame);
    }
    render(true);
    frame.focus();
  };
  const close = () => {
    render(false);
    launcher.focus(); // focus returns where the customer started
  };
  launcher.addEventListener("click", () => (panel.classList.contains("open") ? close() : open()));
  window.addEventListener("message", (e: MessageEvent) => {
    if (frame && e.source === frame.contentWindow && e.data?.type === "support-widget:close") close();
  });
  render(false);
  document.body.appendChild(host);
  (window as unknown as { SupportWidget: unknown }).SupportWidget = { open, close };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
