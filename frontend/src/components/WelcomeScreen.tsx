import { useContext } from "react";
import { AppearanceContext } from "../options";

// The welcome text and suggested questions come from the console's widget settings (/web/config), so
// the buttons ask what this company's help center answers.
export function WelcomeScreen({ title, onAsk, disabled }: { title: string; onAsk: (q: string) => void;
  disabled: boolean }) {
  const { welcome_text: welcome, suggested_questions: questions } = useContext(AppearanceContext);
  return (
    <div className="flex flex-1 flex-col items-center justify-center gap-4 p-6 text-center" data-testid="welcome">
      <div aria-hidden="true" className="text-4xl">👋</div>
      <div>
        <h2 className="text-lg font-semibold">Welcome to {title}</h2>
        {welcome && <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="welcome-text">{welcome}</p>}
      </div>
      {questions.length > 0 && (
        <ul aria-label="Suggested questions" className="flex w-full max-w-sm flex-col gap-2">
          {questions.map((q) => (
            <li key={q}>
              <button type="button" disabled={disabled} onClick={() => onAsk(q)}
                className="w-full rounded-full border border-[var(--accent)] px-3 py-1.5 text-sm text-[var(--accent)] hover:bg-[var(--accent)] hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-[var(--accent)] disabled:opacity-50">
                {q}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
