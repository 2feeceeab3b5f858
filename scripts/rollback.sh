#!/usr/bin/env bash
# Go back to the version deployed before the current one (deploy/.state/history, written by deploy.sh),
# rolling the replicas one at a time like a deploy.
#
#   ./scripts/rollback.sh                    previous version; refuses if its schema is older
#   ./scripts/rollback.sh --downgrade-schema also downgrade the database to that version's schema first,
#                                            with the current image (which knows the way down). Columns
#                                            and tables added since are dropped: take a backup first.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${DEPLOY_STATE_DIR:-deploy/.state}
COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.prod.yml}
# Debian's docker-compose (v1) or the `docker compose` plugin; COMPOSE_ENV_FILE replaces ./.env.
compose() {
  local args=(-f "$COMPOSE_FILE")
  if [ -n "${COMPOSE_ENV_FILE:-}" ]; then args=(--env-file "$COMPOSE_ENV_FILE" "${args[@]}"); fi
  if command -v docker-compose >/dev/null; then docker-compose "${args[@]}" "$@"
  else docker compose "${args[@]}" "$@"; fi
}
say() { printf '%s rollback: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

[ -f "$STATE_DIR/current" ] || { say "nothing deployed yet ($STATE_DIR/current missing)"; exit 1; }
read -r current current_head < "$STATE_DIR/current"
# The newest history entry with another version than the current one.
previous_line=$(awk -v cur="$current" '$2 != cur {line=$0} END {print line}' "$STATE_DIR/history")
[ -n "$previous_line" ] || { say "no earlier version than $current in $STATE_DIR/history"; exit 1; }
read -r _ previous previous_head <<<"$previous_line"

if [ "$previous_head" != "$current_head" ]; then
  if [ "${1:-}" != --downgrade-schema ]; then
    say "$previous expects schema $previous_head, the database is at $current_head."
    say "rerun with --downgrade-schema (after ./scripts/backup.sh) to downgrade it, or deploy a fixed version."
    exit 1
  fi
  say "downgrading the schema $current_head -> $previous_head with $current"
  VERSION=$current compose run --rm migrate python -c \
    "import sys; from app.config import Settings; from app.db import migrate; migrate.downgrade(Settings().resolved_database_url, sys.argv[1])" \
    "$previous_head"
fi
say "$current -> $previous"
SKIP_MIGRATE=1 PULL="${PULL:-0}" exec ./scripts/deploy.sh "$previous"
