import { useEffect, useMemo } from "react";
import { ChatWindow } from "./components/ChatWindow";
import { useChat } from "./hooks/useChat";
import { createApi } from "./services/api";
import { AppearanceContext, appearanceFor, type WidgetOptions } from "./options";

export function App({ options }: { options: WidgetOptions }) {
  const api = useMemo(() => createApi(options.apiBase), [options.apiBase]);
  const chat = useChat(api, options.apiBase);
  const look = appearanceFor(options, chat.config?.appearance);
  useEffect(() => { if (!options.embed) document.title = look.title; }, [options.embed, look.title]);
  // Embedded: the launcher in the host page owns open/close; ask it to close (Escape or ×).
  const close = options.embed ? () => window.parent.postMessage({ type: "support-widget:close" }, "*") : undefined;
  return (
    <AppearanceContext.Provider value={look}>
      <div style={{ "--accent": look.color } as React.CSSProperties}
        className={options.embed ? "h-dvh" : "flex h-dvh items-stretch justify-center bg-slate-100 sm:p-6 dark:bg-slate-950"}>
        <div className={options.embed ? "h-full" : "h-full w-full overflow-hidden sm:max-w-2xl sm:rounded-2xl sm:shadow-xl"}>
          <ChatWindow chat={chat} title={look.title} onClose={close} />
        </div>
      </div>
    </AppearanceContext.Provider>
  );
}
