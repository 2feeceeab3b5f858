"""The staff side: staff accounts and login, the handoff state machine, queue, notes, drafts, CSAT, webhooks."""
