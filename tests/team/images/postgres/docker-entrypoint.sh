#!/bin/sh
# The official postgres image's conventions, on Debian's PostgreSQL: a cluster made on first start
# with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), the database POSTGRES_DB (default: the user's name), the
# scripts of /docker-entrypoint-initdb.d, then `postgres` in the foreground as the postgres user.
set -eu

if [ "${1:-postgres}" != "postgres" ]; then
    exec "$@"
fi
shift || true

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
AUTH="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$AUTH" != "trust" ]; then
        echo "Error: Database is uninitialized and superuser password is not specified." >&2
        echo "       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser." >&2
        exit 1
    fi
    pwfile=$(mktemp) && chown postgres "$pwfile"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS holds several words, as in the official image
    as_postgres initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    printf "listen_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "$AUTH" >>"$PGDATA/pg_hba.conf"

    # A socket-only server while the database and the init scripts are made (nothing reaches it over TCP).
    as_postgres pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --silent --wait start
    if [ "$POSTGRES_DB" != "postgres" ]; then
        echo 'CREATE DATABASE :"db";' | as_postgres psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
            --username="$POSTGRES_USER" --dbname=postgres --set=db="$POSTGRES_DB"
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) echo "running $script"; . "$script" ;;
            *.sql) echo "running $script"; as_postgres psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
                       --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --file="$script" ;;
            *) [ -e "$script" ] && echo "ignoring $script" ;;
        esac
    done
    as_postgres pg_ctl --pgdata="$PGDATA" --mode=fast --silent --wait stop
    echo "PostgreSQL init process complete; ready for start up."
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
