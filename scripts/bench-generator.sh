#!/usr/bin/env bash
# Generator efficiency benchmark: bakeoff's load engine against wrk.
#
# A minimal hyper server (examples/bench_server.rs) is pinned to CPU 0, the
# generator to CPU 1. wrk and `bakeoff load` run with the same connections
# and duration; the script prints CPU seconds per request of each (from
# getrusage of the generator process, via GNU time), their ratio, and peak
# RSS. Target: bakeoff <= 1.25x wrk's CPU per request, peak RSS <= 64 MiB.
#
# Usage: scripts/bench-generator.sh [CONNECTIONS] [DURATION_S] [LONG_DURATION_S]
#   LONG_DURATION_S (default 0 = skip): an extra bakeoff run to show that
#   memory does not grow with duration.
set -euo pipefail

connections=${1:-64}
duration=${2:-10}
long=${3:-0}
server_cpu=0
generator_cpu=1
port=${BENCH_PORT:-18080}

cd "$(dirname "$0")/.."
for tool in wrk taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt install wrk time util-linux)" >&2; exit 2; }
done
cargo build --release --quiet --bin bakeoff --example bench_server
bakeoff=target/release/bakeoff
server=target/release/examples/bench_server

taskset -c "$server_cpu" "$server" "$port" 2>/dev/null &
server_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
url="http://127.0.0.1:$port/"
tmp=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Prints "requests cpu_s maxrss_kib" of one generator run.
measure_wrk() {
    /usr/bin/time -f "%U %S %M" -o "$tmp/time" \
        taskset -c "$generator_cpu" wrk -t1 -c"$connections" -d"${1}s" "$url" >"$tmp/out"
    local requests
    requests=$(awk '/requests in/ {print $1}' "$tmp/out")
    read -r user sys rss <"$tmp/time"
    echo "$requests $(echo "$user + $sys" | bc -l) $rss"
}
measure_bakeoff() {
    /usr/bin/time -f "%U %S %M" -o "$tmp/time" \
        "$bakeoff" load "$url" -c "$connections" -d "${1}s" --warmup 0s --cpus "$generator_cpu" \
        --format json --quiet >"$tmp/out"
    local requests
    requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$tmp/out")
    read -r user sys rss <"$tmp/time"
    echo "$requests $(echo "$user + $sys" | bc -l) $rss"
}

report() { # name requests cpu_s rss_kib
    awk -v n="$1" -v r="$2" -v c="$3" -v m="$4" 'BEGIN {
        printf "%-16s %10d requests  %7.2f CPU s  %7.2f µs CPU/request  %7.1f MiB peak RSS\n", n, r, c, c * 1e6 / r, m / 1024 }'
}

echo "server pinned to CPU $server_cpu, generator to CPU $generator_cpu; $connections connections, ${duration}s each"
read -r wrk_req wrk_cpu wrk_rss <<<"$(measure_wrk "$duration")"
read -r bo_req bo_cpu bo_rss <<<"$(measure_bakeoff "$duration")"
report wrk "$wrk_req" "$wrk_cpu" "$wrk_rss"
report "bakeoff load" "$bo_req" "$bo_cpu" "$bo_rss"
awk -v a="$bo_cpu" -v ar="$bo_req" -v b="$wrk_cpu" -v br="$wrk_req" 'BEGIN {
    ratio = (a / ar) / (b / br)
    printf "CPU per request, bakeoff / wrk: %.2fx (target <= 1.25x)\n", ratio }'
if [ "$long" -gt 0 ]; then
    read -r l_req l_cpu l_rss <<<"$(measure_bakeoff "$long")"
    report "bakeoff ${long}s" "$l_req" "$l_cpu" "$l_rss"
fi
