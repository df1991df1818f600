#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server on a loopback port for the sweep tests.
#   .ci/postgres.sh start DIR   -> prints the URL to export as APRENDE_TEST_POSTGRES_URL
#   .ci/postgres.sh stop DIR
# Runs the server as the postgres user (initdb refuses root); no systemd needed.
set -euo pipefail
action=$1 dir=$2 port=${PGPORT_TEST:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $action in
start)
    mkdir -p "$dir" && { [ "$(id -u)" != 0 ] || chown postgres "$dir"; }
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres aprende_test
    echo "postgresql://postgres@127.0.0.1:$port/aprende_test"
    ;;
stop)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
esac
