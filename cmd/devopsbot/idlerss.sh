#!/usr/bin/env bash
# Idle memory of the bot with the embedded database: builds the binary, starts
# it in demo mode on a fresh data directory, waits until /readyz answers, lets
# it sit idle, and prints its resident set from /proc (VmRSS = RssAnon, the Go
# heap and stacks, + RssFile, the binary's pages). Repeats RUNS times (default 3).
#
#   cmd/devopsbot/idlerss.sh            # as shipped
#   GOGC=50 cmd/devopsbot/idlerss.sh    # any environment is passed to the bot
#   BUILD_FLAGS='-tags ferretdb_no_postgresql' cmd/devopsbot/idlerss.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-3}
idle=${IDLE_SECONDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086 # BUILD_FLAGS is a list of flags
go build ${BUILD_FLAGS:-} -o "$work/devopsbot" ./cmd/devopsbot
printf 'binary %s MB\n' "$(( $(stat -c %s "$work/devopsbot") / 1048576 ))"
for i in $(seq "$runs"); do
	port=$(( 20000 + RANDOM % 20000 ))
	start=$(date +%s%N)
	LISTEN_ADDR=127.0.0.1:$port DATA_DIR="$work/data$i" DEMO_MODE=true LOG_LEVEL=error \
		"$work/devopsbot" >"$work/log$i" 2>&1 &
	pid=$!
	until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/log$i"; exit 1; }
		sleep 0.005
	done
	ready=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep "$idle"
	rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
	anon=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status")
	file=$(awk '/^RssFile/{print $2}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" || true
	printf 'run %d: ready after %d ms; idle VmRSS %.1f MB (anon %.1f, file %.1f)\n' "$i" "$ready" \
		"$(echo "$rss/1024" | bc -l)" "$(echo "$anon/1024" | bc -l)" "$(echo "$file/1024" | bc -l)"
done
