#!/usr/bin/env bash
# Imports and wiring that ran back up a layer (issue 11). Every list should be empty but the one Redis module.
# Usage: scripts/check_structure.sh [repo root]
cd "${1:-.}/backend"
echo "chat -> realtime:"; grep -rnE "^\s*from app\.realtime" app/chat
echo "observability -> router:"; grep -rnE "^\s*from app\.[a-z_.]*router" app/observability
echo "attributes assigned from outside:"; grep -rnE "^\s*(services|chat|app\.state\.services)\.[a-z_]+ = " app
echo "Redis clients built:"; grep -rnE "connect\(settings\.redis_url|Redis\.from_(url|pool)" app
echo "bare session-status strings:"; grep -rnoE "[=!]= \"(active|closed)\"|status=\"(active|closed)\"" app | wc -l
