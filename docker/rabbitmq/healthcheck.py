#!/usr/bin/python3 -SI
"""Broker health check: exit 0 only if an AMQP 0-9-1 connection as the application user opens.

Does the real handshake (Start/Start-Ok with PLAIN credentials, Tune/Tune-Ok, Open on vhost "/",
Close) over a raw socket: no client library to import, so it costs a few milliseconds, and the
harness runs it every 200 ms.
"""
import os
import socket
import struct
import sys


def shortstr(text):
    """AMQP short string."""
    data = text.encode()
    return struct.pack("B", len(data)) + data


def method(class_id, method_id, args=b""):
    """A method frame on channel 0."""
    payload = struct.pack(">HH", class_id, method_id) + args
    return struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\xce"


def read_method(sock):
    """Read one frame and return its (class_id, method_id, args)."""
    header = b""
    while len(header) < 7:
        chunk = sock.recv(7 - len(header))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        header += chunk
    kind, _, size = struct.unpack(">BHI", header)
    body = b""
    while len(body) < size + 1:
        chunk = sock.recv(size + 1 - len(body))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        body += chunk
    if kind != 1:
        raise ConnectionError(f"unexpected frame type {kind}")
    class_id, method_id = struct.unpack(">HH", body[:4])
    return class_id, method_id, body[4:-1]


def expect(sock, wanted, step):
    """Read a method and fail unless it is wanted (class, method)."""
    class_id, method_id, args = read_method(sock)
    if (class_id, method_id) == (10, 50):
        code = struct.unpack(">H", args[:2])[0]
        raise ConnectionError(f"{step}: broker closed the connection ({code} {args[3:3 + args[2]].decode()})")
    if (class_id, method_id) != wanted:
        raise ConnectionError(f"{step}: unexpected method {class_id}.{method_id}")
    return args


def main():
    """Open and close one AMQP connection as RABBITMQ_USER."""
    user, password = os.environ["RABBITMQ_USER"], os.environ["RABBITMQ_PASS"]
    with socket.create_connection(("127.0.0.1", 5672), timeout=2) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        expect(sock, (10, 10), "start")
        response = f"\x00{user}\x00{password}".encode()
        sock.sendall(method(10, 11, struct.pack(">I", 0) + shortstr("PLAIN")
                            + struct.pack(">I", len(response)) + response + shortstr("en_US")))
        channel_max, frame_max, _ = struct.unpack(">HIH", expect(sock, (10, 30), "login")[:8])
        sock.sendall(method(10, 31, struct.pack(">HIH", channel_max, frame_max, 0)))
        sock.sendall(method(10, 40, shortstr("/") + shortstr("") + b"\x00"))
        expect(sock, (10, 41), "open vhost /")
        sock.sendall(method(10, 50, struct.pack(">H", 200) + shortstr("healthcheck") + struct.pack(">HH", 0, 0)))
        expect(sock, (10, 51), "close")


try:
    main()
except (OSError, ConnectionError, struct.error, KeyError) as exc:
    print(f"{type(exc).__name__}: {exc}")
    sys.exit(1)
