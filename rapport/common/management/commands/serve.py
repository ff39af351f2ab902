"""Serve Rapport with gunicorn (a production WSGI server), with the embedded worker beside it unless REDIS_URL is set."""

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve Rapport with gunicorn on 127.0.0.1:PORT, with the embedded background worker "
        "(with REDIS_URL set, run `rapport worker` and `rapport scheduler` instead)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--no-worker", action="store_true", help="Do not start the embedded worker.")

    def handle(self, *args: Any, host: str, port: int, workers: int, no_worker: bool, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from rapport.config.wsgi import application

        call_command("collectstatic", interactive=False, verbosity=0)
        # With a broker, background work runs on Celery (`rapport worker`, `rapport scheduler`), which can run on other
        # machines; the embedded worker is for installations without one.
        start_worker = not no_worker and not settings.REDIS_URL

        class RapportServer(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", 4)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 120)
                if start_worker:
                    # In each web worker, after the fork: a thread in the master would hold an SQLite connection
                    # across fork(), and a child closing its copy checkpoints and deletes the shared WAL, so the
                    # workers stop seeing each other's writes. Several embedded workers are safe: each job is claimed.
                    self.cfg.set("post_worker_init", lambda worker: _start_embedded_worker())

            def load(self) -> Any:
                return application

        if settings.REDIS_URL:
            self.stdout.write(
                "REDIS_URL is set, so background work runs on Celery, not in this server: "
                "run `rapport worker` and `rapport scheduler` beside it."
            )
        self.stdout.write(
            f"Rapport is running at http://{host}:{port}/ (database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
        )
        RapportServer().run()


def _start_embedded_worker() -> None:
    from rapport.common.embedded_worker import start_in_background

    start_in_background()
