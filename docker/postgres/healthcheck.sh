#!/bin/sh
# Healthy only when every CRUCIBLE_DATABASES database answers SELECT 1 over TCP as its own role.
# One psql process reconnects database by database (cheap: the harness runs this every 200 ms).
set -u
export PGCONNECT_TIMEOUT=2
if [ -z "${CRUCIBLE_DATABASES:-}" ]; then
    exec pg_isready --quiet --host=127.0.0.1
fi
first="" script=""
for entry in $CRUCIBLE_DATABASES; do
    conninfo="host=127.0.0.1 dbname=${entry%%:*} user=${entry%%:*} password=${entry#*:}"
    if [ -z "$first" ]; then
        first=$conninfo
    else
        script="$script\\connect '$conninfo'
"
    fi
    script="${script}SELECT 1;
"
done
printf '%s' "$script" | psql --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 --no-password \
    "$first" >/dev/null
