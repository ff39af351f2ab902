"""The timeline's safe horizon: consumers never read past an id that a still-open transaction may yet commit."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from rapport.timeline.horizon import WATERMARKS_KEY, _horizon, settled_activity_id
from rapport.timeline.services import activity_record

on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite has one writer at a time, so its ids become visible in order",
)


@pytest.fixture(autouse=True)
def _no_watermarks():
    cache.delete(WATERMARKS_KEY)
    yield
    cache.delete(WATERMARKS_KEY)


def test_with_no_transaction_open_everything_handed_out_is_settled():
    assert _horizon(1000.0, 42, None) == 42


def test_an_open_transaction_keeps_the_horizon_at_the_last_watermark_taken_before_it_began():
    _horizon(100.0, 10, None)
    _horizon(200.0, 20, None)
    _horizon(300.0, 30, None)

    # A transaction opened at 250 may hold any id handed out after the watermark of 200.
    assert _horizon(400.0, 40, 250.0) == 20


def test_with_no_watermark_older_than_the_open_transaction_nothing_is_settled():
    assert _horizon(400.0, 40, 399.0) is None
    # The reading itself becomes a watermark, so once that transaction ends the consumers move on.
    assert _horizon(401.0, 41, 400.5) == 40


@pytest.mark.django_db
def test_the_newest_activity_is_settled_when_nothing_else_is_writing():
    activity = activity_record(type="note.added")

    assert settled_activity_id() >= activity.pk


@on_postgresql
# Committed rows, seen from a second connection; emptying the tables afterwards must cascade (every app named).
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_an_id_held_by_an_uncommitted_transaction_is_never_passed():
    import psycopg

    settled_activity_id()  # a watermark from before the other transaction opens
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=False) as other:
        held = other.execute(
            "INSERT INTO timeline_activity (type, occurred_at, payload) VALUES ('note.added', now(), '{}') RETURNING id"
        ).fetchone()[0]
        committed = activity_record(type="note.added")
        assert committed.pk > held

        horizon = settled_activity_id()

        assert horizon is not None and horizon < held
        other.commit()
    assert settled_activity_id() >= committed.pk
