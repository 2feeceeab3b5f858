// Appearance options: from the URL when embedded by widget.js (?embed=1&title=…&color=…), else what an
// admin set in the console (served by /web/config as `appearance`), else defaults.
import { createContext } from "react";
import type { components } from "./types/openapi";

export interface WidgetOptions {
  embed: boolean;
  title: string;
  color: string;
  apiBase: string;
  /** The page named its own title / colour in the URL: that wins over the console's setting. */
  explicitTitle: boolean;
  explicitColor: boolean;
}

export type Appearance = Required<components["schemas"]["WidgetSettings"]>;

export const DEFAULT_APPEARANCE: Appearance = {
  title: "Customer support",
  color: "#2563eb",
  welcome_text: "Ask a question, attach a screenshot or a document, or ask to talk to a person.",
  suggested_questions: ["How do I reset my password?", "What is your return policy?", "How long does shipping take?"],
};

const COLOR = /^#[0-9a-f]{3,8}$|^[a-z]{3,20}$/i;

export function readOptions(search: string): WidgetOptions {
  const q = new URLSearchParams(search);
  const color = q.get("color") ?? "";
  const title = (q.get("title") ?? "").slice(0, 60);
  return {
    embed: q.get("embed") === "1",
    title: title || DEFAULT_APPEARANCE.title,
    color: COLOR.test(color) ? color : DEFAULT_APPEARANCE.color,
    apiBase: (import.meta.env.VITE_API_URL as string | undefined) ?? "",
    explicitTitle: Boolean(title),
    explicitColor: COLOR.test(color),
  };
}

/** What the chat shows: the URL's explicit choices, then the server's settings, then the defaults. */
export function appearanceFor(options: WidgetOptions, server?: Partial<Appearance> | null): Appearance {
  const s = { ...DEFAULT_APPEARANCE, ...(server ?? {}) };
  return {
    title: options.explicitTitle ? options.title : s.title.slice(0, 60) || DEFAULT_APPEARANCE.title,
    color: options.explicitColor ? options.color : COLOR.test(s.color) ? s.color : DEFAULT_APPEARANCE.color,
    welcome_text: s.welcome_text,
    suggested_questions: (s.suggested_questions ?? []).slice(0, 6),
  };
}

/** The look the WelcomeScreen reads (provided by App, so ChatWindow need not pass it along). */
export const AppearanceContext = createContext<Appearance>(DEFAULT_APPEARANCE);
