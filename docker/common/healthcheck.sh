#!/bin/bash
# Container health check: exit 0 only if GET /health/ready on this container answers 200.
# Plain bash (/dev/tcp), no interpreter start-up: the harness runs this every 200 ms.
exec 3<>/dev/tcp/127.0.0.1/8000 || exit 1
printf 'GET /health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 2 status <&3 || { echo "no answer from /health/ready"; exit 1; }
case "$status" in
    "HTTP/1."?" 200 "*) exit 0 ;;
esac
echo "/health/ready answered: ${status%$'\r'}"
exit 1
