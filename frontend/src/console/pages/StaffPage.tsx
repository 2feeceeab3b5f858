import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { StaffApi } from "../services/api";
import type { StaffPublic, StaffRole } from "../types";
import { Button, ErrorLine, Field, inputClass } from "../components/ui";

export function StaffPage({ api, me }: { api: StaffApi; me: string }) {
  const [users, setUsers] = useState<StaffPublic[]>([]);
  const [error, setError] = useState("");
  const [form, setForm] = useState({ email: "", name: "", role: "agent" as StaffRole, password: "" });
  const [created, setCreated] = useState("");

  const load = useCallback(async () => {
    try { setUsers((await api.users()).items); } catch (e) { setError((e as Error).message); }
  }, [api]);
  useEffect(() => { void load(); }, [load]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError("");
    try {
      const u = await api.createUser(form);
      setCreated(`${u.name} can now log in at ${window.location.origin}/console with ${u.email} and the password you chose.`);
      setForm({ email: "", name: "", role: "agent", password: "" });
      await load();
    } catch (err) { setError((err as Error).message); }
  }

  async function update(u: StaffPublic, body: { role?: StaffRole; active?: boolean }) {
    setError("");
    try { await api.updateUser(u.id, body); await load(); } catch (err) { setError((err as Error).message); }
  }

  return (
    <div className="h-full overflow-y-auto p-4">
      <div className="mx-auto max-w-4xl space-y-6">
        <section aria-labelledby="staff-new" className="rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
          <h2 id="staff-new" className="mb-2 font-semibold">Invite a colleague</h2>
          <form onSubmit={create} className="grid gap-3 sm:grid-cols-2">
            <Field label="Email"><input className={inputClass} type="email" required value={form.email}
              onChange={(e) => setForm({ ...form, email: e.target.value })} /></Field>
            <Field label="Name"><input className={inputClass} required maxLength={100} value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })} /></Field>
            <Field label="Role"><select className={inputClass} value={form.role}
              onChange={(e) => setForm({ ...form, role: e.target.value as StaffRole })}>
              <option value="agent">agent</option><option value="admin">admin</option></select></Field>
            <Field label="First password" hint="Share it privately; they can be given a new one here later.">
              <input className={inputClass} type="password" autoComplete="new-password" required value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })} /></Field>
            <div className="sm:col-span-2"><Button tone="primary" type="submit">Create account</Button></div>
          </form>
          {created && <p role="status" className="mt-2 text-sm text-green-800 dark:text-green-300">{created}</p>}
          <ErrorLine error={error} />
        </section>
        <section aria-labelledby="staff-list" className="rounded-lg bg-white p-4 shadow-sm dark:bg-slate-900">
          <h2 id="staff-list" className="mb-2 font-semibold">Staff ({users.length})</h2>
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="staff-table">
              <thead><tr className="border-b border-slate-200 dark:border-slate-700"><th className="py-1">Name</th><th>Email</th>
                <th>Role</th><th>Status</th><th><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.id} className="border-b border-slate-100 dark:border-slate-800">
                    <td className="py-1">{u.name}</td><td>{u.email}</td>
                    <td><label className="sr-only" htmlFor={`role-${u.id}`}>Role of {u.name}</label>
                      <select id={`role-${u.id}`} className={inputClass} value={u.role} disabled={u.id === me}
                        onChange={(e) => update(u, { role: e.target.value as StaffRole })}>
                        <option value="agent">agent</option><option value="admin">admin</option></select></td>
                    <td>{u.active ? "active" : "disabled"}</td>
                    <td className="text-right">{u.id !== me && (
                      <Button tone={u.active ? "danger" : "plain"} onClick={() => update(u, { active: !u.active })}>
                        {u.active ? `Disable ${u.name}` : `Enable ${u.name}`}</Button>)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
    </div>
  );
}
