#!/usr/bin/env bash
# Back up the production stack's data into backups/<UTC timestamp>/ (or BACKUP_DIR):
#   postgres.dump     pg_dump custom format of the conversations database (restore: pg_restore --clean)
#   chroma.tar.gz     the Chroma server's folder (the knowledge base; Chroma is paused for the copy)
#   attachments.tar.gz uploaded attachments (the volume shared by the replicas)
# Redis holds only sessions' hot state (the database has the full history) and is not backed up.
# Restore steps: docs/deployment.md#backups.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.prod.yml}
# Debian's docker-compose (v1) or the `docker compose` plugin; COMPOSE_ENV_FILE replaces ./.env.
compose() {
  local args=(-f "$COMPOSE_FILE")
  if [ -n "${COMPOSE_ENV_FILE:-}" ]; then args=(--env-file "$COMPOSE_ENV_FILE" "${args[@]}"); fi
  if command -v docker-compose >/dev/null; then docker-compose "${args[@]}" "$@"
  else docker compose "${args[@]}" "$@"; fi
}
dir=${BACKUP_DIR:-backups/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

compose exec -T postgres pg_dump -U support -d support --format=custom > "$dir/postgres.dump"
# A consistent copy of Chroma's SQLite and index files: stop it for the seconds the copy takes
# (retrieval fails meanwhile; the agent's tool retries and the chat keeps answering).
compose stop chroma
trap 'compose start chroma' EXIT
compose run --rm --no-deps -T -u root -v "$dir:/backup" --entrypoint tar chroma czf /backup/chroma.tar.gz -C /chroma .
compose start chroma
trap - EXIT
compose run --rm --no-deps -T -u root -v "$dir:/backup" --entrypoint tar backend-1 czf /backup/attachments.tar.gz -C /data .
ls -l "$dir"
echo "backup written to $dir"
