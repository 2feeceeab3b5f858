#!/usr/bin/env bash
# Deploy the production stack (docker-compose.prod.yml); docs/deployment.md explains each step.
#
#   ./scripts/deploy.sh [VERSION]    build (or pull, PULL=1) image VERSION, migrate, then roll the backend
#                                    replicas one at a time behind the proxy, each waited for until ready;
#                                    a replica that does not get ready is put back on the previous version
#   ./scripts/deploy.sh health       every service's state and health check, and the API through the proxy
#   ./scripts/deploy.sh check        only the preflight: the secrets are set and the compose file renders
#   ./scripts/deploy.sh reload-proxy re-read deploy/nginx (after enabling TLS or adding a replica)
#
# VERSION defaults to the git commit. Each deploy is recorded in deploy/.state/history with its schema
# revision; scripts/rollback.sh goes back to the previous entry.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.prod.yml}
STATE_DIR=${DEPLOY_STATE_DIR:-deploy/.state}
READY_TIMEOUT=${READY_TIMEOUT:-300}
DEV_SECRET_KEY=dev-insecure-change-me

# Debian's docker-compose (v1) or the `docker compose` plugin; COMPOSE_ENV_FILE replaces ./.env.
compose() {
  local args=(-f "$COMPOSE_FILE")
  if [ -n "${COMPOSE_ENV_FILE:-}" ]; then args=(--env-file "$COMPOSE_ENV_FILE" "${args[@]}"); fi
  if command -v docker-compose >/dev/null; then docker-compose "${args[@]}" "$@"
  else docker compose "${args[@]}" "$@"; fi
}
say() { printf '%s deploy: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

preflight() {
  # Renders only with every secret set (the file uses ${NAME:?}); the message names the missing one.
  local rendered
  if ! rendered=$(compose config 2>&1); then
    say "refusing: $(printf '%s\n' "$rendered" | tail -n 1 | sed 's/.*: //')"
    say "copy .env.example to .env and set the secrets of its deployment section"
    return 1
  fi
  if grep -q "SECRET_KEY: $DEV_SECRET_KEY" <<<"$rendered"; then
    say "refusing: SECRET_KEY is the development placeholder; set a random value of 32+ characters"
    return 1
  fi
}

replicas() { compose config --services | grep '^backend-' | sort; }

container_health() {  # healthy | unhealthy | starting | exited | missing
  local id
  id=$(compose ps -q "$1" 2>/dev/null || true)
  [ -n "$id" ] || { echo missing; return; }
  docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id"
}

wait_ready() {
  local service=$1 deadline=$((SECONDS + READY_TIMEOUT)) state
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(container_health "$service")
    case "$state" in
      healthy) return 0 ;;
      unhealthy|exited|dead|missing) say "$service is $state"; return 1 ;;
    esac
    sleep 2
  done
  say "$service not ready after ${READY_TIMEOUT}s"
  return 1
}

reload_proxy() {
  # nginx resolves backend-N once; a recreated replica has a new address.
  if [ -n "$(compose ps -q proxy 2>/dev/null)" ]; then compose exec -T proxy nginx -s reload; fi
}

schema_head() {  # the newest migration the image knows (rollback.sh compares them)
  compose run --rm --no-deps -T migrate python -c \
    "from app.db.migrate import head_revision; print(head_revision())" | tail -n 1 | tr -d '\r'
}

current_version() { if [ -f "$STATE_DIR/current" ]; then cut -d' ' -f1 "$STATE_DIR/current"; fi; }

deploy() {
  VERSION=${1:-$(git rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)}
  export VERSION
  local previous
  previous=$(current_version)
  preflight
  say "version $VERSION (running: ${previous:-none})"
  if [ "${PULL:-0}" = 1 ]; then compose pull backend-1 migrate chroma; else compose build backend-1; fi

  # Stateful services are never recreated by a deploy (PostgreSQL, Redis, Chroma keep running).
  compose up -d --no-recreate postgres redis chroma
  if [ "${SKIP_MIGRATE:-0}" = 1 ]; then say "migrations skipped"; else compose run --rm migrate; fi

  local service
  for service in $(replicas); do
    say "rolling $service"
    compose up -d --no-deps "$service"
    if ! wait_ready "$service"; then
      compose logs --tail=50 "$service" >&2 || true
      if [ -n "$previous" ]; then
        say "putting $service back on $previous"
        VERSION=$previous compose up -d --no-deps "$service"
        VERSION=$previous wait_ready "$service" || true
      fi
      reload_proxy || true
      say "deploy of $VERSION failed at $service; the other replicas were not touched"
      return 1
    fi
    reload_proxy || true
  done
  compose up -d  # proxy and monitoring: created if missing, recreated only if their config changed
  reload_proxy

  mkdir -p "$STATE_DIR"
  local head
  head=$(schema_head)
  echo "$VERSION $head" > "$STATE_DIR/current"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $VERSION $head" >> "$STATE_DIR/history"
  say "deployed $VERSION (schema $head)"
  health
}

health() {
  local status=0 service state
  printf '%-14s %s\n' SERVICE HEALTH
  for service in $(compose config --services); do
    [ "$service" = migrate ] && continue  # a one-shot job, not a service
    state=$(container_health "$service")
    printf '%-14s %s\n' "$service" "$state"
    [ "$state" = healthy ] || status=1
  done
  local port=${HTTP_PORT:-80}
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/readiness"; then
    printf '%-14s %s\n' "api (proxy)" ready
  else
    printf '%-14s %s\n' "api (proxy)" "NOT READY"; status=1
  fi
  return "$status"
}

case "${1:-}" in
  health) health ;;
  check) preflight && say "ok: the stack would start" ;;
  reload-proxy) reload_proxy ;;
  -h|--help) sed -n '2,13p' "$0" ;;
  *) deploy "${1:-}" ;;
esac
