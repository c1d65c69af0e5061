#!/bin/sh
# Initialise a throwaway PostgreSQL 15 cluster, create one role + database per
# "name:password" entry in CRUCIBLE_DATABASES, then run postgres in the foreground.
# Extra arguments are passed to postgres (e.g. "-c log_statement=all").
set -eu

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    as_postgres initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<'CONF'
listen_addresses = '*'
unix_socket_directories = '/var/run/postgresql'
# Test stack: durability is worthless, start-up and write speed are not.
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_connections = 200
CONF
    echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"

    # Socket-only temporary server, so nothing can connect over TCP before the roles exist.
    as_postgres pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --silent --wait start
    for entry in ${CRUCIBLE_DATABASES:-}; do
        case "$entry" in
            *:*) ;;
            *) echo "CRUCIBLE_DATABASES entry '$entry' is not name:password" >&2; exit 1 ;;
        esac
        psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --host=/var/run/postgresql --username=postgres \
            --dbname=postgres --set=name="${entry%%:*}" --set=password="${entry#*:}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
SQL
        echo "created database and role ${entry%%:*}"
    done
    as_postgres pg_ctl --pgdata="$PGDATA" --mode=fast --silent --wait stop
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
