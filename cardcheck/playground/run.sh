#!/bin/sh
# run.sh real|demo: builds the bot from this checkout, starts it with a fresh
# temporary database, starts the Agents Playground in front of it, drives the
# Playground's web UI (drive.mjs) and stops what it started. The bot's JSON log
# is kept in $LOGS (default /tmp/sally-playground-logs) for bug reports.
#
# Ports (override if taken): BOT_PORT (3991), PLAYGROUND_PORT (56161).
set -eu
mode=${1:?usage: run.sh real|demo}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bot_port=${BOT_PORT:-3991}
pg_port=${PLAYGROUND_PORT:-56161}
logs=${LOGS:-/tmp/sally-playground-logs}
mkdir -p "$logs"
data=$(mktemp -d /tmp/sally-playground-data.XXXXXX)
stamp=$(date +%Y%m%d-%H%M%S)

# A bot or Playground left on these ports would be driven instead of ours.
for port in "$bot_port" "$pg_port"; do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    echo "port $port is already in use; set BOT_PORT / PLAYGROUND_PORT" >&2; exit 2
  fi
done

[ -d "$here/node_modules/playwright-core" ] || (cd "$here" && npm ci --no-audit --no-fund)
(cd "$repo" && go build -o "$data/devopsbot" ./cmd/devopsbot)

bot_pid= pg_pid=
stop() {
  [ -n "$pg_pid" ] && kill "$pg_pid" 2>/dev/null || true
  [ -n "$bot_pid" ] && kill "$bot_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap stop EXIT HUP INT PIPE TERM

case $mode in
real)
  # Outside demo mode with OAuth settings present. The values are fake: the
  # check stops at the sign-in request. A fixed tenant spares the lookup of
  # the organization's tenant on dev.azure.com.
  env PORT="$bot_port" DATA_DIR="$data/db" LOG_FORMAT=json LOG_LEVEL=debug \
    DEVOPS_CLIENT_ID=00000000-0000-0000-0000-000000000000 DEVOPS_CLIENT_SECRET=x \
    DEVOPS_TENANT_ID=11111111-2222-3333-4444-555555555555 PUBLIC_URL=https://bot.example \
    "$data/devopsbot" >"$logs/bot-$mode-$stamp.stdout" 2>"$logs/bot-$mode-$stamp.log" &
  bot_pid=$! ;;
demo)
  env PORT="$bot_port" DATA_DIR="$data/db" LOG_FORMAT=json LOG_LEVEL=debug DEMO_MODE=true \
    "$data/devopsbot" >"$logs/bot-$mode-$stamp.stdout" 2>"$logs/bot-$mode-$stamp.log" &
  bot_pid=$! ;;
*) echo "usage: run.sh real|demo" >&2; exit 2 ;;
esac

# The Playground writes devTools/ into its working directory: keep it with the logs.
(cd "$logs" && TEAMSAPPTESTER_BROWSER=none exec node "$here/node_modules/@microsoft/m365agentsplayground/cli.js" \
  -e "http://127.0.0.1:$bot_port/api/messages" -c msteams -p "$pg_port" --disable-telemetry \
  >"$logs/playground-$mode-$stamp.log" 2>&1) &
pg_pid=$!

# Wait for both to listen (the embedded database's first start takes a while).
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$bot_port/readyz" 2>/dev/null && curl -fsS -o /dev/null "http://127.0.0.1:$pg_port/" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 60 ] && { echo "bot or Playground did not start; see $logs" >&2; exit 2; }
  sleep 1
done

status=0
PLAYGROUND_URL="http://127.0.0.1:$pg_port" node "$here/drive.mjs" "$mode" || status=$?
echo "bot log: $logs/bot-$mode-$stamp.log"
exit $status
