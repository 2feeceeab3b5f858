// Small shared pieces of the console's look: buttons, fields, the error line.
import type { ButtonHTMLAttributes, ReactNode } from "react";

const focus = "focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500";

export function Button({ tone = "plain", className = "", ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & {
  tone?: "primary" | "plain" | "danger" }) {
  const tones = {
    primary: "bg-blue-600 text-white hover:bg-blue-700 disabled:bg-blue-300 dark:disabled:bg-blue-900",
    plain: "border border-slate-300 bg-white hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700",
    danger: "border border-red-300 bg-white text-red-700 hover:bg-red-50 dark:border-red-800 dark:bg-slate-800 dark:text-red-300",
  };
  return <button type="button" {...rest}
    className={`rounded-md px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-60 ${tones[tone]} ${focus} ${className}`} />;
}

export const inputClass = `w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-900 ${focus}`;

export function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium">{label}</span>
      {children}
      {hint && <span className="mt-0.5 block text-xs text-slate-500 dark:text-slate-400">{hint}</span>}
    </label>
  );
}

export function ErrorLine({ error }: { error: string }) {
  if (!error) return null;
  return <p role="alert" className="text-sm text-red-700 dark:text-red-300">{error}</p>;
}

export function StateBadge({ state }: { state: string }) {
  const colours: Record<string, string> = {
    waiting: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
    assigned: "bg-blue-100 text-blue-900 dark:bg-blue-900/40 dark:text-blue-200",
    resolved: "bg-green-100 text-green-900 dark:bg-green-900/40 dark:text-green-200",
    bot: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-200",
  };
  return <span data-testid="state-badge" data-state={state}
    className={`rounded-full px-2 py-0.5 text-xs font-semibold ${colours[state] ?? colours.bot}`}>{state}</span>;
}
