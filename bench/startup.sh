#!/usr/bin/env bash
# B5: wall time of a cached `./jbang health-check.java TARGET` (one check against a live server) against `java`
# running a hello-world class; medians of N runs (default 7). Usage: bench/startup.sh [--smoke]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=7; [ "${1:-}" = --smoke ] && runs=1

work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
./jbang ping-server.java 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
until grep -q '^listening on tcp ' "$work/server.out"; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.1
done
target=$(sed 's/^listening on tcp //' "$work/server.out")
printf 'class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/Hello.java"
javac -d "$work" "$work/Hello.java"
# three runs first: JBang builds the script and its class-data archive; ./jbang keeps its command line and lists
# the classes it loads; ./jbang makes a static archive of them (see the README's launcher section)
for _ in 1 2 3; do ./jbang health-check.java "$target" >/dev/null; done

median_seconds() {  # median wall time of running "$@" $runs times
  for _ in $(seq "$runs"); do
    start=$(date +%s%N); "$@" >/dev/null; echo $(( $(date +%s%N) - start ))
  done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1e9 }'
}
script=$(median_seconds ./jbang health-check.java "$target")
hello=$(median_seconds java -cp "$work" Hello)
report=$(printf '### %s, start-up (bench/startup.sh%s)\n| benchmark | measured | goal |\n|---|---|---|\n| B5 cached ./jbang health-check.java TARGET | %s s | <= 0.7 s |\n| B5 java hello-world, for scale | %s s | |\n' \
  "$(date +%F)" "$([ "$runs" = 1 ] && echo ', smoke')" "$script" "$hello")
echo "$report"
[ "$runs" = 1 ] || { [ -f bench/RESULTS.md ] && echo >>bench/RESULTS.md; echo "$report" >>bench/RESULTS.md; }
