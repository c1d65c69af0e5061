#!/bin/sh
# Write rabbitmq.conf from the environment (application user allowed from the network,
# console logging), then run the broker in the foreground as the rabbitmq user.
set -eu
: "${RABBITMQ_USER:?RABBITMQ_USER must be set}" "${RABBITMQ_PASS:?RABBITMQ_PASS must be set}"
mkdir -p /var/lib/rabbitmq
cat >/var/lib/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 5672
# The application user is created on the node's first boot; guest is not.
default_user = ${RABBITMQ_USER}
default_pass = ${RABBITMQ_PASS}
default_vhost = /
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
default_user_tags.administrator = true
loopback_users = none
log.console = true
log.console.level = ${RABBITMQ_LOG_LEVEL:-warning}
log.file = false
CONF
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
# Two schedulers and no busy-waiting: the broker shares two cores with the whole stack.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-+S 2:2 +sbwt none +sbwtdcpu none +sbwtdio none}"
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
