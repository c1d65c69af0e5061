"""What a published port speaks, as the scheme of the URL shown for it: a database is not ``http://``.

Decided from what the compose file says, in this order: the container port, when it is a protocol's
well-known port (5432 is PostgreSQL, 15672 is RabbitMQ's HTTP management, whatever the image); the
image's name (``mariadb:11`` on 3307 is still MySQL's protocol); a healthcheck that fetches an
``http(s)://`` URL on that port; else ``tcp`` (a port Crucible cannot name is not assumed to be HTTP).
"""

from __future__ import annotations

import re

from crucible.stack.compose import Service

HTTP = ("http", "https")
FALLBACK = "tcp"

# Well-known container ports (IANA's, or the software's own default where it has no IANA port).
PORTS = {
    80: "http", 443: "https", 3000: "http", 5000: "http", 8000: "http", 8008: "http", 8080: "http", 8081: "http",
    8443: "https", 8888: "http", 9200: "http", 15672: "http", 5984: "http", 8500: "http", 9090: "http",
    5432: "postgresql", 3306: "mysql", 6379: "redis", 5672: "amqp", 5671: "amqps", 1883: "mqtt",
    8883: "mqtts", 4222: "nats", 27017: "mongodb", 11211: "memcached", 9092: "kafka", 1433: "sqlserver",
    9042: "cassandra", 2181: "zookeeper", 5552: "rabbitmq-stream", 389: "ldap", 636: "ldaps",
    25: "smtp", 1025: "smtp", 587: "smtp", 21: "ftp", 22: "ssh",
}

# Words in an image's name -> the scheme of its ports that are not well-known ones.
IMAGES = (
    (("postgres", "postgis", "timescale", "pgvector"), "postgresql"),
    (("mysql", "mariadb", "percona"), "mysql"),
    (("redis", "valkey", "keydb", "dragonfly"), "redis"),
    (("rabbitmq",), "amqp"),
    (("mosquitto", "emqx", "hivemq", "vernemq"), "mqtt"),
    (("nats",), "nats"),
    (("mongo",), "mongodb"),
    (("memcached",), "memcached"),
    (("kafka", "redpanda"), "kafka"),
    (("nginx", "httpd", "apache", "caddy", "traefik", "httpbin", "envoy", "wiremock", "mockserver", "mailhog",
      "mailpit", "minio", "elasticsearch", "opensearch", "kibana", "grafana", "prometheus", "keycloak"), "http"),
)


def scheme(service: Service, port: int) -> str:
    """The scheme of the URL shown for one of a service's container ports (``tcp`` when nothing names one)."""
    if port in PORTS:
        return PORTS[port]
    words = set(re.split(r"[^a-z0-9]+", image_name(service.image)))
    for names, found in IMAGES:
        if any(word.startswith(names) for word in words):
            return found
    if _health_fetches_http(service, port):
        return "http"
    return FALLBACK


def image_name(image: str) -> str:
    """An image reference without its registry, tag and digest: ``docker.io/bitnami/redis:7`` -> ``bitnami/redis``."""
    name = image.lower().split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest  # a registry host
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def _health_fetches_http(service: Service, port: int) -> bool:
    """True when the service's healthcheck fetches an http(s):// URL on that port (or on its only port)."""
    if service.healthcheck is None:
        return False
    text = " ".join(service.healthcheck.test[1:])
    urls = re.findall(r"https?://[^\s'\"/]+", text)
    if not urls:
        return False
    only = [p.container for p in service.ports if p.protocol == "tcp"] == [port]
    return only or any(re.search(rf":{port}\b", url) for url in urls)


def http_scheme(service: Service, port: int) -> str:
    """The scheme HTTP steps use on a port: ``https`` where the port is TLS's, else ``http`` (they speak HTTP)."""
    return "https" if scheme(service, port) == "https" else "http"
