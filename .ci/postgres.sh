# shellcheck shell=bash
# Source me: provides a throwaway PostgreSQL for the PostgreSQL tests, stopped when the shell exits.
#
#   source .ci/postgres.sh      # exports CAREGATE_TEST_POSTGRES_URL=postgres://caregate@127.0.0.1:PORT/postgres
#
# A URL already in CAREGATE_TEST_POSTGRES_URL is kept and nothing is started. Otherwise PostgreSQL is
# installed if missing (Debian package `postgresql`; its own cluster is not used), and a fresh cluster is
# started in a temporary directory on a free local port — as the `postgres` user when run as root, since
# PostgreSQL refuses to run as root. `caregate_postgres_stop` stops it and removes the directory; it is also
# chained onto the shell's EXIT trap. Safe under `set -euo pipefail`.

caregate_postgres_start() {
    if [[ -n "${CAREGATE_TEST_POSTGRES_URL:-}" ]]; then
        echo "postgres.sh: using CAREGATE_TEST_POSTGRES_URL from the environment" >&2
        return 0
    fi

    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        echo "postgres.sh: installing PostgreSQL" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
    fi
    CAREGATE_PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

    CAREGATE_PGDIR=$(mktemp -d -t caregate-postgres.XXXXXX)
    local run_as=()
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres "$CAREGATE_PGDIR"
        run_as=(su postgres -s /bin/bash -c)
    else
        run_as=(bash -c)
    fi
    "${run_as[@]}" "'$CAREGATE_PGBIN/initdb' -D '$CAREGATE_PGDIR/data' -A trust -U caregate" >"$CAREGATE_PGDIR/initdb.log" 2>&1 || {
        echo "postgres.sh: initdb failed:" >&2; cat "$CAREGATE_PGDIR/initdb.log" >&2; return 1
    }

    # A port nobody listens on; if another process takes it first, pg_ctl fails and the next one is tried.
    local attempt port
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 30000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        if "${run_as[@]}" "'$CAREGATE_PGBIN/pg_ctl' -D '$CAREGATE_PGDIR/data' -l '$CAREGATE_PGDIR/log' -w -t 30 \
                -o '-p $port -k $CAREGATE_PGDIR -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null 2>&1; then
            export CAREGATE_TEST_POSTGRES_URL="postgres://caregate@127.0.0.1:$port/postgres"
            CAREGATE_PG_RUN_AS=("${run_as[@]}")
            echo "postgres.sh: PostgreSQL $("$CAREGATE_PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($CAREGATE_PGDIR)" >&2
            return 0
        fi
    done
    echo "postgres.sh: could not start PostgreSQL; its log:" >&2
    cat "$CAREGATE_PGDIR/log" >&2 2>/dev/null || true
    rm -rf "$CAREGATE_PGDIR"
    return 1
}

caregate_postgres_stop() {
    if [[ -n "${CAREGATE_PGDIR:-}" && -d "$CAREGATE_PGDIR" ]]; then
        "${CAREGATE_PG_RUN_AS[@]}" "'$CAREGATE_PGBIN/pg_ctl' -D '$CAREGATE_PGDIR/data' -m fast -w stop" >/dev/null 2>&1 || true
        rm -rf "$CAREGATE_PGDIR"
        unset CAREGATE_TEST_POSTGRES_URL CAREGATE_PGDIR
    fi
}

caregate_postgres_start || return 1 2>/dev/null || exit 1
# Chain onto any EXIT trap already set rather than replacing it.
_caregate_previous_exit_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "caregate_postgres_stop${_caregate_previous_exit_trap:+; $_caregate_previous_exit_trap}" EXIT
unset _caregate_previous_exit_trap
