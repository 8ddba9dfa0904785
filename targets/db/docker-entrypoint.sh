#!/bin/sh
# A small stand-in for the official postgres image's entrypoint, used only
# when targets/db/Dockerfile is built on plain Debian (see there): on first
# start, initdb as POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over
# TCP), create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sql and *.sh in
# name order on a server that listens on its socket only, then exec the
# command. Arguments after `postgres` are passed to that first server too.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec runuser -u postgres -- "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "docker-entrypoint.sh: POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    shift
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' $*" start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -q \
            -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
        *.sql)
            echo "docker-entrypoint.sh: running $f"
            psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -q -f "$f"
            ;;
        *.sh)
            echo "docker-entrypoint.sh: running $f"
            . "$f"
            ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    set -- postgres "$@"
fi
exec "$@"
