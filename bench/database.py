"""The benchmark's own database: created, migrated and seeded once per size, then reused run after run.

A database is only ever wiped when the benchmark made it (it carries a bench_meta table) or when it has no
people; pointing --database-url at a real installation stops with an explanation instead.
"""

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{REPO / 'var' / 'bench' / 'bench.sqlite3'}"

SIZES: dict[str, dict[str, int]] = {
    "full": {
        "candidates": 1_000_000,
        "applications": 2_000_000,
        "events": 5_000_000,
        "jobs": 1_000,
        "big_job_applications": 5_000,
        "heavy_candidate_events": 2_000,
    },
    "small": {
        "candidates": 20_000,
        "applications": 40_000,
        "events": 100_000,
        "jobs": 100,
        "big_job_applications": 5_000,
        "heavy_candidate_events": 2_000,
    },
    "tiny": {
        "candidates": 2_000,
        "applications": 4_000,
        "events": 10_000,
        "jobs": 20,
        "big_job_applications": 500,
        "heavy_candidate_events": 300,
    },
}
SEED = 20_261_122


class BenchDatabaseError(SystemExit):
    pass


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def prepare_server(url: str) -> None:
    """Before Django starts: make the SQLite folder, or create the PostgreSQL database if it does not exist."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(urlsplit(url).path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if scheme not in ("postgres", "postgresql", "pgsql"):
        raise BenchDatabaseError(f"--database-url must be sqlite:/// or postgres://, not {redacted(url)}")
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise BenchDatabaseError(
            "--database-url needs a database name, e.g. postgres://postgres@127.0.0.1/rapport_bench"
        )
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"Creating PostgreSQL database {name}…")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _tables() -> set[str]:
    from django.db import connection

    return set(connection.introspection.table_names())


def read_meta() -> dict[str, Any] | None:
    from django.db import connection

    if "bench_meta" not in _tables():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM bench_meta WHERE name = 'seed'")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else {}


def _write_meta(meta: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (name varchar(50) PRIMARY KEY, value text NOT NULL)")
        cursor.execute("DELETE FROM bench_meta WHERE name = 'seed'")
        cursor.execute("INSERT INTO bench_meta (name, value) VALUES ('seed', %s)", [json.dumps(meta)])


def _has_people() -> bool:
    from django.db import connection

    if "candidates_candidate" not in _tables():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM candidates_candidate LIMIT 1")
        return cursor.fetchone() is not None


def _wipe(url: str) -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connection.close()


def ensure_seeded(url: str, size: str, *, reseed: bool) -> dict[str, Any]:
    """Migrate, and seed unless this database already holds this exact size; returns the seed's record."""
    from django.core.management import call_command

    from rapport.common.seeding import SeedOptions, seed

    spec = {**SIZES[size], "seed": SEED}
    meta = read_meta()
    if meta is not None and meta.get("spec") == spec and meta.get("complete") and not reseed:
        call_command("migrate", interactive=False, verbosity=0)
        return meta
    if meta is None and _has_people():
        raise BenchDatabaseError(
            f"{redacted(url)} already holds people that the benchmark did not create. Point --database-url at an "
            "empty database (the default is var/bench/bench.sqlite3); the benchmark never wipes data it did not make."
        )
    if meta is not None or _has_people() or reseed:
        print("Starting from an empty benchmark database…")
        _wipe(url)
    print("Migrating…")
    call_command("migrate", interactive=False, verbosity=0)
    _write_meta({"spec": spec, "complete": False})
    started, cpu_started, load_started = time.monotonic(), time.process_time(), os.getloadavg()[0]
    result = seed(
        SeedOptions(
            candidates=spec["candidates"],
            jobs=spec["jobs"],
            applications=spec["applications"],
            events=spec["events"],
            big_job_applications=spec["big_job_applications"],
            heavy_candidate_events=spec["heavy_candidate_events"],
            seed=SEED,
            progress=lambda message: print(message, flush=True),
        )
    )
    meta = {
        "spec": spec,
        "complete": True,
        "seed_seconds": round(time.monotonic() - started, 1),
        # The wall time depends on what else the machine runs; this process's CPU time does not (on SQLite it is
        # nearly all the work; on PostgreSQL the server's share is not in it).
        "seed_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "load_average": [round(load_started, 1), round(os.getloadavg()[0], 1)],
        "seeded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "result": asdict(result),
        "size_bytes": database_size(),
    }
    _write_meta(meta)
    return meta


def database_size() -> int:
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])
