#!/bin/sh
# Healthy only when every CRUCIBLE_DATABASES database answers SELECT 1 over TCP as its own role.
set -u
export PGCONNECT_TIMEOUT=2
if [ -z "${CRUCIBLE_DATABASES:-}" ]; then
    exec pg_isready --quiet --host=127.0.0.1
fi
for entry in $CRUCIBLE_DATABASES; do
    name=${entry%%:*}
    result=$(PGPASSWORD=${entry#*:} psql --no-psqlrc --host=127.0.0.1 --username="$name" --dbname="$name" \
        --tuples-only --no-align --command='SELECT 1') || exit 1
    [ "$result" = 1 ] || exit 1
done
