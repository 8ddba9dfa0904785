#!/usr/bin/env bash
# Compose smoke test, run by .ci/run on every CI machine (never skipped):
# sets up the local engine (scripts/container-engine.sh), measures node and
# django-sync through `bakeoff run --quick --targets compose`, checks that
# results.json has measured steps for both and the versions the containers
# ran, then that nothing is left: no container or network of the compose
# project after the run, and no engine process after --stop. The engine is
# stopped on every exit, failure included.
#
#   scripts/compose-smoke.sh            # builds target/release/bakeoff if needed
#   BAKEOFF_BIN=path/to/bakeoff scripts/compose-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=bakeoff
LABEL="label=com.docker.compose.project=$PROJECT"
ENGINE_DIR=${BAKEOFF_ENGINE_DIR:-/run/bakeoff-engine}

say() { echo "compose-smoke: $*" >&2; }
fail() {
    say "FAILED: $*"
    exit 1
}

if [ -n "${BAKEOFF_BIN:-}" ]; then
    bin=$BAKEOFF_BIN
else
    nice -n 10 cargo build --release --quiet --bin bakeoff
    bin="${CARGO_TARGET_DIR:-target}/release/bakeoff"
fi
[ -x "$bin" ] || fail "no bakeoff binary at $bin"

out=$(mktemp -d /tmp/bakeoff-compose-smoke.XXXXXX)
stopped=0
cleanup() {
    if [ "$stopped" = 0 ]; then
        scripts/container-engine.sh --stop || true
    fi
}
trap cleanup EXIT

started=$(date +%s)
engine_env=$(scripts/container-engine.sh) || fail "scripts/container-engine.sh failed"
eval "$engine_env"
say "engine ready in $(($(date +%s) - started)) s; DOCKER_HOST=$DOCKER_HOST"

# The pids the engine recorded, to check they are gone after --stop.
pids=$(cat "$ENGINE_DIR"/*.pid)

run_started=$(date +%s)
if ! "$bin" run --quick --only node,django-sync --targets compose --out "$out" >"$out/run.log" 2>&1; then
    tail -n 40 "$out/run.log" >&2
    fail "bakeoff run --targets compose failed (log: $out/run.log)"
fi
say "run took $(($(date +%s) - run_started)) s; results in $out"

python3 - "$out/results.json" <<'EOF' || fail "results.json of $out is not what the smoke test expects"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["provenance"]
problems = []
if not r.get("complete"):
    problems.append("the run is not marked complete")
if p.get("targets_mode") != "compose":
    problems.append(f"targets_mode is {p.get('targets_mode')!r}")
for target in ("node", "django-sync"):
    steps = [s for s in r["steps"] if s["target"] == target]
    measured = [s for s in steps if s["summary"]["requests"] > 0]
    if not measured:
        problems.append(f"no measured step for {target}")
    elif any(s["summary"]["errors"] == s["summary"]["requests"] for s in steps):
        problems.append(f"a step of {target} has nothing but errors")
v = p.get("versions", {})
for key in ("node", "python", "django", "postgresql", "compose"):
    if key not in v:
        problems.append(f"provenance.versions has no {key}")
if not any(n.startswith("Compose:") for n in p.get("notes", [])):
    problems.append("provenance.notes has no compose note (CPU set)")
for msg in problems:
    print("compose-smoke:", msg, file=sys.stderr)
steps = len(r["steps"])
print(f"compose-smoke: {steps} steps; versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)), file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

left=$(podman ps -a -q --filter "$LABEL")
[ -z "$left" ] || fail "containers left after the run: $left"
left=$(podman network ls -q --filter "$LABEL")
[ -z "$left" ] || fail "networks left after the run: $left"

scripts/container-engine.sh --stop
stopped=1
for pid in $pids; do
    # A zombie (reaped later by whoever inherited it) runs nothing.
    if [ -r "/proc/$pid/cmdline" ] && [ -n "$(tr -d '\0' <"/proc/$pid/cmdline")" ]; then
        fail "engine process $pid still runs after --stop: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
    fi
done
[ ! -e "${DOCKER_HOST#unix://}" ] || fail "the engine's socket is still there after --stop"
# conmon processes of the project's containers (exec sessions included).
left=$(scripts/container-engine.sh --conmons)
[ -z "$left" ] || fail "conmon processes of project $PROJECT still run after --stop: $(echo $left)"
left=$(podman ps -a -q --filter "$LABEL")
[ -z "$left" ] || fail "containers left after --stop: $left"
rm -rf "$out"
say "ok in $(($(date +%s) - started)) s: node and django-sync measured through compose, nothing left"
