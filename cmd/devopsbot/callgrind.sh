#!/usr/bin/env bash
# Instructions per form open, counted by valgrind's callgrind: machine
# independent, unlike opens/s. Each 1-client line of BenchmarkFormOpen runs
# under callgrind for N opens; callgrind dumps its counts where the benchmark
# calls callgrindMark (the start and the end of the measured loop), so the
# set-up (keys, database start, the cold first open) is not counted. The whole
# process is: the load generator (the same on every line), the bot, and
# FerretDB when embedded; db=process leaves FerretDB in its own, untraced,
# process, so that line is the bot's own cost. Needs valgrind (apt-get install
# valgrind). Each line runs REPEAT times (a background GC cycle or timer can
# land in one run) and the median is kept. Takes about ten minutes.
#
#   cmd/devopsbot/callgrind.sh           # N=200 REPEAT=3
set -euo pipefail
cd "$(dirname "$0")"
n=${N:-200}
repeat=${REPEAT:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Without cgo and asynchronous preemption (SIGURG): callgrind trips over both.
CGO_ENABLED=0 go test -c -o "$work/bench.test" .
export GODEBUG=asyncpreemptoff=1
declare -A per
for line in 'server=sally/db=embedded/clients=1' 'server=sally/db=process/clients=1' 'server=baseline/clients=1'; do
	runs=()
	for _ in $(seq "$repeat"); do
		rm -f "$work"/cg.out*
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" '--dump-before=*callgrindMark' \
			"$work/bench.test" -test.run '^$' -test.bench "^BenchmarkFormOpen/$line\$" -test.benchtime "${n}x" >"$work/log" 2>&1 ||
			{ cat "$work/log"; exit 1; }
		# Dump 1 ends at the loop's start, dump 2 at its end.
		runs+=("$(( $(awk '/^summary:/{print $2}' "$work/cg.out.2") / n ))")
	done
	sorted=$(printf '%s\n' "${runs[@]}" | sort -n)
	per[$line]=$(echo "$sorted" | sed -n "$(( (repeat + 1) / 2 ))p")
	printf '%-40s %12d instructions/open (median; runs: %s)\n' "$line" "${per[$line]}" "$(echo $sorted)"
done
base=${per['server=baseline/clients=1']}
for line in 'server=sally/db=embedded/clients=1' 'server=sally/db=process/clients=1'; do
	printf '%-40s %6.2f × baseline\n' "$line" "$(echo "${per[$line]} / $base" | bc -l)"
done
