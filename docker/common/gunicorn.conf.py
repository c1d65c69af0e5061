"""Gunicorn settings: every log line is JSON on stdout; background threads start in each worker."""
import os

from service import JsonFormatter

LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
preload_app = True  # import the app once in the master, fork workers from it: faster start
accesslog = None  # the app writes its own JSON access lines
loglevel = LEVEL.lower()
graceful_timeout = 5
timeout = 60
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


def post_worker_init(worker):
    """Start the app's background threads (outbox relay, consumers, sweepers) in this worker."""
    import service

    service.start_background()


def on_starting(server):
    """Forget broker link states left by the workers of a previous run of this container."""
    import shutil

    from events import STATE_DIR

    shutil.rmtree(STATE_DIR, ignore_errors=True)
