#!/bin/sh
# The official rabbitmq image's conventions, on Debian's RabbitMQ: the default user, password and
# virtual host from RABBITMQ_DEFAULT_USER/PASS/VHOST (default guest/guest and /, guest allowed from
# other hosts), AMQP on 5672 and the management API on 15672, logs on the console.
set -eu

if [ "${1:-rabbitmq-server}" != "rabbitmq-server" ]; then
    exec "$@"
fi
shift || true

cat >/etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users.guest = false
listeners.tcp.default = 5672
management.tcp.port = 15672
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
default_vhost = ${RABBITMQ_DEFAULT_VHOST:-/}
log.console = true
log.console.level = info
log.file = false
CONF
mkdir -p /var/lib/rabbitmq
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
