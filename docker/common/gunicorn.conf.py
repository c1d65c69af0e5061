"""Gunicorn settings: every log line is JSON on stdout; the plain-text access log is off."""
import os

from service import JsonFormatter

LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()

accesslog = None  # the app writes its own JSON access lines
loglevel = LEVEL.lower()
graceful_timeout = 5
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "root": {"level": LEVEL, "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": LEVEL, "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}
