#!/usr/bin/env bash
# Generator benchmark: bakeoff's load engine against wrk, its memory, its
# open-model schedule and its scaling with generator cores.
#
# A minimal hyper server (examples/bench_server.rs) is pinned to CPU 0, the
# generator to CPU 1. The script builds what it needs, prints figures and
# their targets, and never fails on a figure (a noisy machine gives noisy
# figures; read them, rerun on a quiet machine before quoting them):
#
#  1. CPU per request, median of PAIRS wrk/bakeoff pairs: each pair runs wrk
#     and `bakeoff load` with the same connections and duration, in
#     alternating order (wrk first in odd pairs, bakeoff first in even ones)
#     so drift affects both alike; CPU seconds come from getrusage of the
#     generator process (GNU time). Prints each pair's ratio and the median.
#     Target: bakeoff <= 1.25x wrk.
#  2. Peak RSS of wrk and bakeoff, and of a LONG_DURATION_S bakeoff run.
#     Target: <= 64 MiB and independent of duration.
#  3. Open model: `bakeoff load --rate RATE`; achieved rate vs asked (target
#     within 1%), send-lag p99 (target < 1 ms) and wake-lag p99 (the
#     generator's own delay) from `--format json`.
#  4. Generator cores: `bakeoff load --cpus 1` vs `--cpus 0,1` against the
#     server in its multi-threaded mode, rps for 1 and 2 generator cores and
#     their ratio.
#  5. Many connections against nginx (a config this script writes, one
#     worker pinned to the server CPU, `worker_connections` above the
#     load; started and stopped here): wrk and `bakeoff load` at 4 000 and
#     10 000 connections for MANY_SECONDS: throughput, peak RSS and
#     bakeoff's errors by kind. Targets: at 4 000, throughput >= 0.95x
#     wrk's and RSS <= 2x wrk's; at 10 000, RSS <= 64 MiB.
#  6. Large bodies: wrk and `bakeoff load` at CONNECTIONS against nginx
#     serving a 1 MiB file: throughput, CPU per response, peak RSS (target
#     <= 64 MiB).
#
# Usage: scripts/bench-generator.sh [CONNECTIONS] [DURATION_S] [LONG_DURATION_S]
#   CONNECTIONS      default 64
#   DURATION_S       default 10: each wrk/bakeoff run, the open-model run and
#                    each scaling run
#   LONG_DURATION_S  default 20: the bakeoff run of the RSS comparison
#                    (0 skips it)
# Environment: PAIRS (default 5), RATE (default 10000), BENCH_PORT (18080),
#   MANY_SECONDS (default 4), NGINX (default /usr/sbin/nginx; sections 5-6
#   say they are skipped when it is missing), CLIENT (bakeoff's --client,
#   default lean).
set -euo pipefail

connections=${1:-64}
duration=${2:-10}
long=${3:-20}
pairs=${PAIRS:-5}
rate=${RATE:-10000}
server_cpu=0
generator_cpu=1
port=${BENCH_PORT:-18080}
many_seconds=${MANY_SECONDS:-4}
nginx=${NGINX:-/usr/sbin/nginx}
client=${CLIENT:-lean}

cd "$(dirname "$0")/.."
for tool in wrk taskset /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt install wrk time util-linux python3)" >&2; exit 2; }
done
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || { echo "error: PAIRS must be a whole number >= 1, not \"$pairs\"" >&2; exit 2; }
cargo build --release --quiet --bin bakeoff --example bench_server
target_dir=${CARGO_TARGET_DIR:-target}
bakeoff=$target_dir/release/bakeoff
server=$target_dir/release/examples/bench_server
url="http://127.0.0.1:$port/"
tmp=$(mktemp -d)
server_pid=""

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
nginx_pid=""
stop_nginx() {
    if [ -n "$nginx_pid" ]; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
    fi
}
trap 'stop_server; stop_nginx; rm -rf "$tmp"' EXIT

# start_server CPUS [--threads N]
start_server() {
    local cpus=$1
    shift
    taskset -c "$cpus" "$server" "$port" "$@" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "error: bench_server did not start on port $port" >&2
    exit 2
}

# One JSON field of a `bakeoff load --format json` summary, by dotted path
# ("generator.send_lag_us.p99"); "-" when absent or null.
field() { # file path
    python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("summary", d)
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("-" if d is None else d)
EOF
}

# Prints "requests cpu_s maxrss_kib" of one generator run.
measure_wrk() { # seconds
    /usr/bin/time -f "%U %S %M" -o "$tmp/time" \
        taskset -c "$generator_cpu" wrk -t1 -c"$connections" -d"${1}s" "$url" >"$tmp/out"
    local requests user sys rss
    requests=$(awk '/requests in/ {print $1}' "$tmp/out")
    # wrk counts any answer; say when some were not 2xx/3xx.
    grep -q "Non-2xx" "$tmp/out" && echo "note: wrk: $(grep Non-2xx "$tmp/out" | xargs)" >&2
    read -r user sys rss <"$tmp/time"
    echo "$requests $(echo "$user + $sys" | bc -l) $rss"
}
measure_bakeoff() { # seconds [extra bakeoff args...]
    local seconds=$1
    shift
    /usr/bin/time -f "%U %S %M" -o "$tmp/time" \
        "$bakeoff" load "$url" -c "$connections" -d "${seconds}s" --warmup 0s \
        --client "$client" --format json --quiet "$@" >"$tmp/bakeoff.json"
    local user sys rss
    read -r user sys rss <"$tmp/time"
    echo "$(field "$tmp/bakeoff.json" requests) $(echo "$user + $sys" | bc -l) $rss"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
us_per_request() { awk -v c="$1" -v r="$2" 'BEGIN { printf "%.2f", c * 1e6 / r }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== 1. CPU per request: median of $pairs wrk/bakeoff pairs"
echo "server pinned to CPU $server_cpu (1 thread), generator to CPU $generator_cpu; $connections connections, ${duration}s per run"
start_server "$server_cpu"
ratios=()
wrk_rss_max=0
bo_rss_max=0
for pair in $(seq "$pairs"); do
    if [ $((pair % 2)) -eq 1 ]; then
        read -r w_req w_cpu w_rss <<<"$(measure_wrk "$duration")"
        read -r b_req b_cpu b_rss <<<"$(measure_bakeoff "$duration" --cpus "$generator_cpu")"
        order="wrk first"
    else
        read -r b_req b_cpu b_rss <<<"$(measure_bakeoff "$duration" --cpus "$generator_cpu")"
        read -r w_req w_cpu w_rss <<<"$(measure_wrk "$duration")"
        order="bakeoff first"
    fi
    w_us=$(us_per_request "$w_cpu" "$w_req")
    b_us=$(us_per_request "$b_cpu" "$b_req")
    ratio=$(awk -v a="$b_us" -v b="$w_us" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    [ "$w_rss" -gt "$wrk_rss_max" ] && wrk_rss_max=$w_rss
    [ "$b_rss" -gt "$bo_rss_max" ] && bo_rss_max=$b_rss
    printf "pair %d (%s): wrk %9d requests %6s µs CPU/request | bakeoff %9d requests %6s µs CPU/request | ratio %.2fx\n" \
        "$pair" "$order" "$w_req" "$w_us" "$b_req" "$b_us" "$ratio"
done
printf "CPU per request, bakeoff / wrk: median %.2fx of %d pairs (target <= 1.00x)\n" "$(median "${ratios[@]}")" "$pairs"

echo
echo "== 2. Peak RSS"
echo "wrk ${duration}s:          $(mib "$wrk_rss_max") (highest of $pairs runs)"
echo "bakeoff load ${duration}s: $(mib "$bo_rss_max") (highest of $pairs runs)"
if [ "$long" -gt 0 ]; then
    read -r l_req _ l_rss <<<"$(measure_bakeoff "$long" --cpus "$generator_cpu")"
    echo "bakeoff load ${long}s: $(mib "$l_rss") ($l_req requests; target <= 64 MiB and independent of duration)"
fi

echo
echo "== 3. Open model: bakeoff load --rate $rate"
measure_bakeoff "$duration" --cpus "$generator_cpu" --rate "$rate" >/dev/null
python3 - "$tmp/bakeoff.json" "$rate" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("summary", d)
asked = float(sys.argv[2])
g = d.get("generator", {})
achieved = d["requests"] / d["duration_s"] if d.get("duration_s") else 0.0
print(f"asked {asked:.0f} req/s, achieved {achieved:.1f} req/s completed "
      f"({(achieved / asked - 1) * 100:+.2f}%; target within ±1%), {d['rps']:.1f} req/s successful, "
      f"{d['errors']} errors")
def p99(name):
    v = g.get(name)
    return "n/a" if not v else f"{v['p99']} µs"
print(f"send lag p99 {p99('send_lag_us')} (target < 1000 µs); wake lag p99 {p99('wake_lag_us')} "
      f"(the generator's own delay); late sends {g.get('late_sends', 0)}, unsent {g.get('unsent', 0)}")
if g.get("saturated"):
    print(f"generator saturated: {g['saturated']}")
EOF
stop_server

echo
echo "== 4. Generator cores: bakeoff load --cpus $generator_cpu vs --cpus 0,1"
echo "server: 2 threads (SO_REUSEPORT), not pinned; ${duration}s per run, $connections connections."
echo "note: this machine has $(nproc) cores; the server shares the generator's cores, so the ratio"
echo "      understates what a second generator core gives when the server has cores of its own."
start_server "0-$(($(nproc) - 1))" --threads 2
measure_bakeoff "$duration" --cpus "$generator_cpu" >/dev/null
one=$(field "$tmp/bakeoff.json" rps)
one_sat=$(field "$tmp/bakeoff.json" generator.saturated)
measure_bakeoff "$duration" --cpus 0,1 >/dev/null
two=$(field "$tmp/bakeoff.json" rps)
two_sat=$(field "$tmp/bakeoff.json" generator.saturated)
awk -v a="$one" -v b="$two" 'BEGIN {
    printf "1 generator core:  %10.0f req/s\n2 generator cores: %10.0f req/s\nratio 2 / 1 cores: %.2fx\n", a, b, b / a }'
[ "$one_sat" != "-" ] && echo "1 core: generator saturated: $one_sat"
[ "$two_sat" != "-" ] && echo "2 cores: generator saturated: $two_sat"
stop_server

echo
echo "== 5. Many connections against nginx, ${many_seconds}s per run"
if [ ! -x "$nginx" ]; then
    echo "skipped: $nginx not found (apt install nginx-light)"
    exit 0
fi
# nginx: one worker pinned to the server CPU, no access log, keep-alive
# connections kept for the whole run, and a 1 MiB file for section 6.
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/www"
head -c 1048576 /dev/zero | tr '\0' x >"$tmp/nginx/www/1m"
# nginx's worker runs as nobody: it must be able to read the file.
chmod a+rx "$tmp" "$tmp/nginx" "$tmp/nginx/www"
chmod a+r "$tmp/nginx/www/1m"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile 24000;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
daemon off;
events { worker_connections 11000; multi_accept on; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path $tmp/nginx/tmp-body;
    proxy_temp_path $tmp/nginx/tmp-proxy;
    fastcgi_temp_path $tmp/nginx/tmp-fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp-uwsgi;
    scgi_temp_path $tmp/nginx/tmp-scgi;
    server {
        listen 127.0.0.1:$port backlog=16384;
        location = / { return 200 "ok\n"; }
        location / { root $tmp/nginx/www; }
    }
}
NGINX
taskset -c "$server_cpu" "$nginx" -p "$tmp/nginx" -e "$tmp/nginx/logs/error.log" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
# bakeoff's errors by kind from its JSON summary, e.g. "connect 3" or "none".
kind_list() { # file
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("summary", d)
kinds = d.get("errors_by_kind") or {}
print(", ".join(f"{k} {v}" for k, v in sorted(kinds.items()) if v) or "none")
' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
saved_connections=$connections
for many in 4000 10000; do
    connections=$many
    read -r w_req _ w_rss <<<"$(measure_wrk "$many_seconds")"
    read -r _ _ b_rss <<<"$(measure_bakeoff "$many_seconds" --cpus "$generator_cpu" --max-connections "$many")"
    w_rps=$(awk -v r="$w_req" -v s="$many_seconds" 'BEGIN { printf "%.0f", r / s }')
    b_rps=$(field "$tmp/bakeoff.json" rps)
    printf "%5d connections: wrk %8.0f req/s, peak RSS %s | bakeoff %8.0f req/s (%sx wrk), peak RSS %s (%sx wrk), errors: %s\n" \
        "$many" "$w_rps" "$(mib "$w_rss")" "$b_rps" "$(ratio "$b_rps" "$w_rps")" \
        "$(mib "$b_rss")" "$(ratio "$b_rss" "$w_rss")" "$(kind_list "$tmp/bakeoff.json")"
done
connections=$saved_connections
echo "targets: at 4000, throughput >= 0.95x and RSS <= 2x wrk's; at 10000, RSS <= 64 MiB"

echo
echo "== 6. 1 MiB bodies, $connections connections, ${duration}s per run"
url="http://127.0.0.1:$port/1m"
read -r w_req w_cpu w_rss <<<"$(measure_wrk "$duration")"
read -r b_req b_cpu b_rss <<<"$(measure_bakeoff "$duration" --cpus "$generator_cpu")"
printf "wrk:     %6d responses, %7.1f MiB/s, %7s µs CPU/response, peak RSS %s\n" \
    "$w_req" "$(awk -v r="$w_req" -v s="$duration" 'BEGIN { print r / s }')" "$(us_per_request "$w_cpu" "$w_req")" "$(mib "$w_rss")"
printf "bakeoff: %6d responses, %7.1f MiB/s, %7s µs CPU/response, peak RSS %s (target <= 64 MiB), errors: %s\n" \
    "$b_req" "$(awk -v r="$b_req" -v s="$duration" 'BEGIN { print r / s }')" "$(us_per_request "$b_cpu" "$b_req")" "$(mib "$b_rss")" "$(kind_list "$tmp/bakeoff.json")"
stop_nginx
exit 0
