import { type FormEvent, useState } from "react";
import { login } from "../services/api";
import { type AuthSession, sessionFrom } from "../state/auth";
import { Button, ErrorLine, Field, inputClass } from "../components/ui";

export function LoginPage({ onLogin, notice }: { onLogin: (s: AuthSession) => void; notice: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const { token, me } = await login(email.trim(), password);
      onLogin(sessionFrom(token, me, Date.now()));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-full items-center justify-center bg-slate-100 p-4 dark:bg-slate-950">
      <form onSubmit={submit} aria-labelledby="login-title"
        className="w-full max-w-sm space-y-4 rounded-lg bg-white p-6 shadow dark:bg-slate-900">
        <h1 id="login-title" className="text-xl font-semibold">Support console</h1>
        {notice && <p role="status" className="text-sm text-amber-800 dark:text-amber-300">{notice}</p>}
        <Field label="Email">
          <input className={inputClass} type="email" autoComplete="username" required autoFocus value={email}
            onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password">
          <input className={inputClass} type="password" autoComplete="current-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorLine error={error} />
        <Button tone="primary" type="submit" disabled={busy} className="w-full">{busy ? "Logging in…" : "Log in"}</Button>
      </form>
    </main>
  );
}
