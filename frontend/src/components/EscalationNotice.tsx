import type { EscalationInfo } from "../types/api";

const REASONS: Record<string, string> = {
  customer_request: "you asked for a person",
  frustration: "this needs a person's attention",
  account_security: "this concerns your account's security",
  legal_or_safety: "this needs a specialist",
  repeated_failure: "we could not answer your questions here",
};

export function EscalationNotice({ escalation }: { escalation: EscalationInfo }) {
  const why = REASONS[escalation.reason];
  return (
    <div role="status" data-testid="escalation-notice"
      className="mx-3 mb-2 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
      <p className="font-semibold">A member of our team will take over{why ? ` because ${why}` : ""}.</p>
      <p className="text-xs">Ticket <span className="font-mono">{escalation.ticket_id}</span>. You can keep writing
        here; they will see the whole conversation.</p>
    </div>
  );
}
