"""StoreSettings and open_store: defaults, the environment, validation, no I/O on open."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from worldgym.storage import KuboStore, LocalStore, StoreSettings, open_store, settings_from_env
from worldgym.storage.store import DEFAULT_MAX_READ_BYTES


def test_the_default_is_the_embedded_store_under_the_data_dir() -> None:
    settings = StoreSettings()
    assert settings.backend == "local"
    assert settings.resolved_path.parts[-2:] == ("worldgym", "store")
    store = open_store(settings)
    assert isinstance(store, LocalStore)
    assert store.max_read_bytes == DEFAULT_MAX_READ_BYTES


def test_open_store_does_no_io(tmp_path: Path) -> None:
    root = tmp_path / "not-yet"
    with open_store(StoreSettings(path=root)) as store:
        assert isinstance(store, LocalStore)
    assert not root.exists()
    kubo = open_store(StoreSettings(backend="kubo", kubo_api="http://127.0.0.1:1/"))
    assert isinstance(kubo, KuboStore)
    assert kubo.api_url == "http://127.0.0.1:1"
    kubo.close()


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "WORLDGYM_STORAGE__BACKEND": "kubo",
        "WORLDGYM_STORAGE__KUBO_API": "http://127.0.0.1:5002",
        "WORLDGYM_STORAGE__TIMEOUT_S": "5",
        "WORLDGYM_STORAGE__MAX_READ_BYTES": "1024",
        "WORLDGYM_STORAGE__PATH": str(tmp_path),
        "UNRELATED": "x",
    }
    settings = settings_from_env(env)
    assert (settings.backend, settings.kubo_api, settings.timeout_s) == (
        "kubo",
        "http://127.0.0.1:5002",
        5.0,
    )
    assert settings.max_read_bytes == 1024
    assert settings.path == tmp_path
    assert settings_from_env({}) == StoreSettings()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backend", "s3"),
        ("kubo_api", "localhost:5001"),
        ("timeout_s", 0),
        ("max_read_bytes", 0),
        ("retries", -1),
        ("surprise", 1),
    ],
)
def test_bad_settings_say_what_is_wrong(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        StoreSettings.model_validate({field: value})
