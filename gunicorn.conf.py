"""gunicorn settings for the web process (`gunicorn 'app:app'` reads this file from the
working directory). Threaded workers: a long request (`?wait=true` on execution creation,
the SSE `/follow` streams, live log polling) holds a thread, not a whole worker, and the
worker keeps answering its heartbeat. Override with GUNICORN_CMD_ARGS or WEB_CONCURRENCY."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:" + os.environ.get("PORT", "8080"))
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 60
graceful_timeout = 10
keepalive = 5
