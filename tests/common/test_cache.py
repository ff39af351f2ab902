"""The cache holds counters (API rate limits, sign-in throttling) that every web worker process must share."""

import os
import subprocess
import sys
import uuid

from django.core.cache import cache

_INCREMENT = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'rapport.config.settings'); "
    "django.setup(); from django.core.cache import cache; cache.incr(sys.argv[1])"
)


def test_a_counter_raised_by_another_process_is_seen_here():
    key = f"test-shared-counter:{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=60)

    subprocess.run([sys.executable, "-c", _INCREMENT, key], check=True, env=os.environ.copy(), timeout=60)

    assert cache.get(key) == 2
    cache.delete(key)


def test_a_bad_redis_url_stops_the_start_naming_the_variable():
    env = {**os.environ, "REDIS_URL": "http://127.0.0.1:6379"}
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'rapport.config.settings'); django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert "REDIS_URL must start with redis://" in started.stderr
