#!/usr/bin/env bash
# A local container engine for docker-compose.yml, on a Debian machine with
# no Docker daemon and no image registry (as `minikube docker-env` does):
#
#   eval "$(scripts/container-engine.sh)"    # set up (idempotent), then
#   docker-compose -f docker-compose.yml up --build -d   # or bakeoff run --targets compose
#   scripts/container-engine.sh --stop       # end what it started
#
# Set-up, each step skipped when already done:
#   1. apt-get install podman, aardvark-dns (service names on compose
#      networks) and debootstrap, when missing;
#   2. /etc/containers/containers.conf: default_ulimits nofile=16384 and
#      nproc=32768, or this machine's hard limits if lower (podman's defaults
#      ask for more than they allow, and runc then fails "setting rlimit
#      type 7", or type 6 for containers made through the API service),
#      and [engine] exit_command_delay = 2 (an exec session's conmon would
#      otherwise outlive its command, and --stop, by five minutes);
#   3. `podman system service --time=0` serving the Docker API on
#      $BAKEOFF_ENGINE_DIR/docker.sock, started in the background, its PID
#      in $BAKEOFF_ENGINE_DIR/service.pid;
#   4. a health ticker (PID in health.pid): podman runs healthchecks from
#      systemd timers, and there is no systemd here, so every 2 s it runs
#      `podman healthcheck run` on each running container of the compose
#      project that has one (docker-compose's `service_healthy` waits on it);
#   5. the base image localhost/bakeoff-debian:bookworm, made from Debian's
#      own packages (debootstrap --variant=minbase from the apt mirror this
#      machine is configured with, with ca-certificates and the CAs added
#      to /usr/local/share/ca-certificates here, then `podman import`), which the
#      Dockerfiles get as their base through build args instead of
#      node:20-slim, python:3.11-slim and postgres:15.
#
# Standard output is only what to eval, its last line
#   export DOCKER_HOST=unix://$BAKEOFF_ENGINE_DIR/docker.sock
# Everything else goes to standard error.
#
# --stop removes the containers and networks of the compose project
# (label com.docker.compose.project=$BAKEOFF_COMPOSE_PROJECT, default
# bakeoff, the project bakeoff runs), then ends the two recorded processes,
# by PID, and waits up to 10 s for the conmon processes of the project's
# containers to end. The images stay (they take a minute to rebuild).
# --conmons prints the PIDs of those conmon processes (for compose-smoke.sh).
set -euo pipefail

ENGINE_DIR=${BAKEOFF_ENGINE_DIR:-/run/bakeoff-engine}
SOCK="$ENGINE_DIR/docker.sock"
SERVICE_PID="$ENGINE_DIR/service.pid"
HEALTH_PID="$ENGINE_DIR/health.pid"
PROJECT=${BAKEOFF_COMPOSE_PROJECT:-bakeoff}
BASE_IMAGE=localhost/bakeoff-debian:bookworm
SUITE=bookworm
CONF=/etc/containers/containers.conf
MARK='# set by bakeoff scripts/container-engine.sh'

log() { echo "container-engine: $*" >&2; }
die() {
    log "$*"
    exit 2
}

usage() {
    sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//' >&2
}

# A recorded PID that still runs the command we started (not a reused PID).
recorded_alive() { # FILE WORD
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# PID runs (not yet reaped zombies do not), whatever its command line says:
# just after the fork it is still this shell's.
pid_running() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

stop_recorded() { # FILE WORD NAME
    local pid i
    if recorded_alive "$1" "$2"; then
        pid=$(cat "$1")
        log "stopping $3 (PID $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            recorded_alive "$1" "$2" || break
            sleep 0.1
        done
        if recorded_alive "$1" "$2"; then
            log "$3 (PID $pid) did not stop within 5 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$1"
}

project_containers() {
    podman ps -a -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null || true
}

project_networks() {
    podman network ls -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null || true
}

stop_engine() {
    if command -v podman >/dev/null; then
        local ids nets
        ids=$(project_containers)
        if [ -n "$ids" ]; then
            log "removing the containers of compose project $PROJECT: $(echo $ids)"
            # shellcheck disable=SC2086 # one ID per word
            podman rm -f -t 5 $ids >/dev/null
        fi
        nets=$(project_networks)
        if [ -n "$nets" ]; then
            log "removing the networks of compose project $PROJECT: $(echo $nets)"
            # shellcheck disable=SC2086
            podman network rm -f $nets >/dev/null
        fi
    fi
    stop_recorded "$HEALTH_PID" health-ticker "the health ticker"
    stop_recorded "$SERVICE_PID" "system service" "the API service"
    rm -f "$SOCK"
    # Exec sessions end exit_command_delay after their command did.
    local left i
    for i in $(seq 50); do
        left=$(project_conmons)
        [ -z "$left" ] && break
        sleep 0.2
    done
    if [ -n "$left" ]; then
        log "warning: conmon processes of project $PROJECT still run after 10 s: $(echo $left) (exit_command_delay in $CONF?)"
    fi
    log "stopped"
}

# The URI of the configured Debian mirror: the first deb line (or deb822
# URIs:) whose suite is bookworm, from sources.list and sources.list.d.
debian_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v s="$SUITE" '$1 == "deb" { u = ""; for (i = 2; i <= NF; i++) { if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue } if (u == "") { u = $i; continue } if ($i == s) { print u; exit } break } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # One stanza per blank-line-separated paragraph.
        awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" } {
            uri = ""; ok = 0; deb = 0
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
                if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
                if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
            }
            if (uri != "" && ok && deb) { print uri; exit }
        }' "$f"
    done | grep -v -- '-security' | head -n 1
}

install_missing() {
    local need=()
    command -v podman >/dev/null || need+=(podman)
    [ -x /usr/lib/podman/aardvark-dns ] || command -v aardvark-dns >/dev/null || need+=(aardvark-dns)
    command -v debootstrap >/dev/null || need+=(debootstrap)
    if [ "${#need[@]}" -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "needs root to install ${need[*]} (apt-get)"
        log "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq "${need[@]}" >&2
    fi
}

# nofile 16384 and nproc 32768 (what podman lowers its own to), at most this
# shell's hard limits: podman asks for
# more by default, which runc cannot set ("setting rlimit type 7", type 6
# through the API service).
ulimit_line() {
    local nofile nproc
    nofile=$(ulimit -Hn)
    [ "$nofile" = unlimited ] || [ "$nofile" -gt 16384 ] && nofile=16384
    nproc=$(ulimit -Hu)
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
}

# Sets LINE ("KEY = ...") in [SECTION] of $CONF, after our mark: our own
# earlier KEY line is replaced; one set by someone else is left as it is,
# with a warning.
set_conf() {
    local section=$1 key=$2 line=$3 ours=0 tmp
    if [ -f "$CONF" ] && grep -qxF "$line" "$CONF"; then
        return
    fi
    mkdir -p "$(dirname "$CONF")"
    if [ -f "$CONF" ] && awk -v mark="$MARK" -v key="$key" \
        'prev == mark && index($0, key) == 1 { found = 1 } { prev = $0 } END { exit !found }' "$CONF"; then
        ours=1
    elif [ -f "$CONF" ] && grep -q "^[[:space:]]*$key" "$CONF"; then
        log "warning: $CONF sets $key already; left as it is (this script would set $line)"
        return
    fi
    log "writing $line to $CONF"
    tmp=$(mktemp "$CONF.XXXXXX")
    if [ "$ours" = 1 ]; then
        awk -v mark="$MARK" -v key="$key" -v line="$line" \
            'prev == mark && index($0, key) == 1 { $0 = line } { print; prev = $0 }' "$CONF" >"$tmp"
    elif [ -f "$CONF" ] && grep -qxF "[$section]" "$CONF"; then
        awk -v mark="$MARK" -v line="$line" -v s="[$section]" '{ print } $0 == s { print mark; print line }' "$CONF" >"$tmp"
    else
        { [ -f "$CONF" ] && cat "$CONF"; printf '[%s]\n%s\n%s\n' "$section" "$MARK" "$line"; } >"$tmp"
    fi
    chmod 644 "$tmp"
    mv "$tmp" "$CONF"
    CONF_CHANGED=1
}

configure() {
    set_conf containers default_ulimits "$(ulimit_line)"
    # The API service keeps an exec session's conmon for exit_command_delay
    # seconds after the command ended (300 by default, "mimicking Docker"), so
    # every psql bakeoff runs in the database service through the API would
    # leave a conmon behind for five minutes: 2 s is ample for docker-compose,
    # which reads an exec's exit code as soon as its output ends.
    set_conf engine exit_command_delay 'exit_command_delay = 2'
}

# PIDs of the conmon processes of the project's containers (their -n is
# PROJECT_SERVICE_N), exec sessions included: found to wait for, never
# signalled.
project_conmons() {
    local d cmd
    for d in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
        case "$cmd" in
        */conmon\ *"-n ${PROJECT}_"*) echo "${d#/proc/}" ;;
        esac
    done
}

start_service() {
    mkdir -p "$ENGINE_DIR"
    if [ "${CONF_CHANGED:-0}" = 1 ] && recorded_alive "$SERVICE_PID" "system service"; then
        log "$CONF changed: restarting the API service"
        stop_recorded "$HEALTH_PID" health-ticker "the health ticker"
        stop_recorded "$SERVICE_PID" "system service" "the API service"
    fi
    if recorded_alive "$SERVICE_PID" "system service" && [ -S "$SOCK" ]; then
        log "API service already running (PID $(cat "$SERVICE_PID"))"
    else
        rm -f "$SOCK"
        log "starting podman system service on $SOCK (log: $ENGINE_DIR/service.log)"
        setsid podman system service --time=0 "unix://$SOCK" \
            </dev/null >"$ENGINE_DIR/service.log" 2>&1 &
        echo $! >"$SERVICE_PID"
        local i
        for i in $(seq 1 100); do
            [ -S "$SOCK" ] && break
            pid_running "$(cat "$SERVICE_PID")" ||
                die "podman system service exited: $(tail -n 5 "$ENGINE_DIR/service.log")"
            sleep 0.1
        done
        [ -S "$SOCK" ] || die "no socket at $SOCK after 10 s (see $ENGINE_DIR/service.log)"
    fi
    if recorded_alive "$HEALTH_PID" health-ticker; then
        log "health ticker already running (PID $(cat "$HEALTH_PID"))"
    else
        # Bounded: it ends when the API service does.
        setsid bash -c '
            exec -a health-ticker bash -c "
                while kill -0 $1 2>/dev/null; do
                    for c in \$(podman ps -q --filter label=com.docker.compose.project=$2 2>/dev/null); do
                        podman healthcheck run \$c >/dev/null 2>&1 || true
                    done
                    sleep 2
                done"
        ' health-ticker "$(cat "$SERVICE_PID")" "$PROJECT" </dev/null >"$ENGINE_DIR/health.log" 2>&1 &
        echo $! >"$HEALTH_PID"
        log "health ticker started (PID $(cat "$HEALTH_PID"))"
    fi
}

build_base() {
    if podman image exists "$BASE_IMAGE"; then
        log "base image $BASE_IMAGE exists"
        return
    fi
    local mirror root
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || die "no Debian $SUITE mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/"
    root=$(mktemp -d /var/tmp/bakeoff-debootstrap.XXXXXX)
    log "debootstrap --variant=minbase $SUITE from $mirror (about a minute)"
    if ! nice -n 10 debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" >"$ENGINE_DIR/debootstrap.log" 2>&1; then
        rm -rf "$root"
        die "debootstrap failed: $(tail -n 5 "$ENGINE_DIR/debootstrap.log")"
    fi
    # The image's apt uses the same mirror; no caches or lists inside.
    echo "deb $mirror $SUITE main" >"$root/etc/apt/sources.list"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    # Certificate authorities this machine added locally (a TLS-inspecting
    # proxy's, say) are trusted inside too, or npm ci and pip install fail
    # there; pip and node are pointed at the system bundle, which they do
    # not read by default.
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        log "adding this machine's local CAs: $(echo /usr/local/share/ca-certificates/*.crt)"
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
        chroot "$root" update-ca-certificates >/dev/null
    fi
    log "importing it as $BASE_IMAGE"
    tar -C "$root" -c . | podman import \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null 2>&1
    rm -rf "$root"
}

case "${1:-}" in
--stop)
    stop_engine
    exit 0
    ;;
--conmons)
    project_conmons
    exit 0
    ;;
--help | -h)
    usage
    exit 0
    ;;
"") ;;
*)
    log "unknown argument: $1"
    usage
    exit 2
    ;;
esac

install_missing
configure
mkdir -p "$ENGINE_DIR"
start_service
build_base
log "ready; the Dockerfiles build on $BASE_IMAGE (Debian $SUITE: Node 18, Python 3.11, PostgreSQL 15)"
echo "export BAKEOFF_NODE_BASE=$BASE_IMAGE BAKEOFF_PYTHON_BASE=$BASE_IMAGE BAKEOFF_POSTGRES_BASE=$BASE_IMAGE"
echo "export DOCKER_HOST=unix://$SOCK"
