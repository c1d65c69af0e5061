#!/usr/bin/python3
"""Container health check: exit 0 only if GET /health/ready on this container answers 200."""
import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:8000/health/ready", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(exc)
    sys.exit(1)
