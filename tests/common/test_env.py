"""Settings come from the environment through strict helpers: a bad value stops start-up with a clear message."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.common.env import env, envbool, envint, envlist


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("RAPPORT_X", "RAPPORT_X_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_env_reads_the_variable_or_the_default(monkeypatch):
    assert env("RAPPORT_X") is None
    assert env("RAPPORT_X", "fallback") == "fallback"

    monkeypatch.setenv("RAPPORT_X", "value")

    assert env("RAPPORT_X", "fallback") == "value"


def test_a_secret_can_come_from_a_file_named_by_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("RAPPORT_X", "from-the-environment")
    monkeypatch.setenv("RAPPORT_X_FILE", str(secret))

    assert env("RAPPORT_X") == "s3cret"


def test_an_unreadable_file_fails_loudly_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("RAPPORT_X_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperlyConfigured, match="RAPPORT_X_FILE"):
        env("RAPPORT_X")


def test_the_typed_helpers_read_files_too(monkeypatch, tmp_path):
    (tmp_path / "n").write_text("42")
    monkeypatch.setenv("RAPPORT_X_FILE", str(tmp_path / "n"))

    assert envint("RAPPORT_X", 1) == 42


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_envbool_true_values(monkeypatch, raw):
    monkeypatch.setenv("RAPPORT_X", raw)

    assert envbool("RAPPORT_X") is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_envbool_false_values(monkeypatch, raw):
    monkeypatch.setenv("RAPPORT_X", raw)

    assert envbool("RAPPORT_X", default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_envbool_unset_or_empty_means_the_default(monkeypatch, default):
    assert envbool("RAPPORT_X", default) is default

    monkeypatch.setenv("RAPPORT_X", "")

    assert envbool("RAPPORT_X", default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "yes please"])
def test_envbool_bad_values_fail_loudly_naming_the_variable_and_value(monkeypatch, raw):
    monkeypatch.setenv("RAPPORT_X", raw)

    with pytest.raises(ImproperlyConfigured) as caught:
        envbool("RAPPORT_X")

    assert "RAPPORT_X" in str(caught.value) and raw in str(caught.value)


def test_envint_reads_whole_numbers_and_falls_back_when_unset_or_empty(monkeypatch):
    assert envint("RAPPORT_X", 7) == 7
    monkeypatch.setenv("RAPPORT_X", "")
    assert envint("RAPPORT_X", 7) == 7
    monkeypatch.setenv("RAPPORT_X", " 12 ")
    assert envint("RAPPORT_X", 7) == 12
    monkeypatch.setenv("RAPPORT_X", "-3")
    assert envint("RAPPORT_X", 7) == -3


@pytest.mark.parametrize("raw", ["ten", "1.5", "10MB", "0x10"])
def test_envint_bad_values_fail_loudly_naming_the_variable_and_value(monkeypatch, raw):
    monkeypatch.setenv("RAPPORT_X", raw)

    with pytest.raises(ImproperlyConfigured) as caught:
        envint("RAPPORT_X", 1)

    assert "RAPPORT_X" in str(caught.value) and raw in str(caught.value)


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    assert envlist("RAPPORT_X", ["a"]) == ["a"]
    assert envlist("RAPPORT_X") == []

    monkeypatch.setenv("RAPPORT_X", " example.org, ,www.example.org ,")

    assert envlist("RAPPORT_X", ["a"]) == ["example.org", "www.example.org"]


def test_envlist_empty_means_the_default(monkeypatch):
    monkeypatch.setenv("RAPPORT_X", "  ")

    assert envlist("RAPPORT_X", ["127.0.0.1"]) == ["127.0.0.1"]


def test_the_default_list_is_a_copy(monkeypatch):
    default = ["a"]

    envlist("RAPPORT_X", default).append("b")

    assert default == ["a"]
