"""Storage settings and the factory that turns them into a store.

:class:`StoreSettings` is a self-contained pydantic model; WorldGym's
configuration embeds it as its ``[storage]`` section (environment variables
``WORLDGYM_STORAGE__BACKEND``, ``WORLDGYM_STORAGE__PATH``,
``WORLDGYM_STORAGE__KUBO_API``...)::

    [storage]
    backend = "kubo"                      # or "local" (the default)
    kubo_api = "http://127.0.0.1:5001"
    timeout_s = 30
    max_read_bytes = 268435456            # default cap of one read

:func:`open_store` builds the backend; it does no I/O (a local store creates
its directories on first write, a Kubo store connects on first call).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import httpx
import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from worldgym.storage.kubo import DEFAULT_KUBO_API, KuboStore
from worldgym.storage.local import LocalStore
from worldgym.storage.store import DEFAULT_MAX_READ_BYTES, ContentStore

__all__ = ["ENV_PREFIX", "StoreSettings", "default_store_path", "open_store", "settings_from_env"]

ENV_PREFIX = "WORLDGYM_STORAGE__"


def default_store_path() -> Path:
    """``<user data dir>/worldgym/store`` (platformdirs)."""
    return platformdirs.user_data_path("worldgym") / "store"


class StoreSettings(BaseModel):
    """Which backend stores content, and its limits."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "kubo"] = Field(
        "local", description="'local' (embedded, blocks on disk) or 'kubo' (a Kubo daemon)"
    )
    path: Path | None = Field(
        None, description="the local store's directory (default <data dir>/store)"
    )
    kubo_api: str = Field(DEFAULT_KUBO_API, description="the Kubo RPC API URL (port 5001)")
    timeout_s: float = Field(30.0, gt=0, description="seconds to wait for one Kubo RPC call")
    retries: int = Field(3, ge=0, le=10, description="extra attempts of a failed Kubo read/add")
    max_read_bytes: int = Field(
        DEFAULT_MAX_READ_BYTES, gt=0, description="default cap on the bytes one read may return"
    )
    fsync: bool = Field(
        True, description="fsync every block before it gets its name (local store durability)"
    )

    @field_validator("kubo_api")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"{value!r} is not an http:// or https:// URL (e.g. {DEFAULT_KUBO_API})"
            )
        return value.rstrip("/")

    @field_validator("path")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_path(self) -> Path:
        """``path``, or the default store directory."""
        return self.path or default_store_path()


def settings_from_env(environ: dict[str, str] | None = None) -> StoreSettings:
    """StoreSettings from ``WORLDGYM_STORAGE__*`` variables (unset ones keep defaults)."""
    env = os.environ if environ is None else environ
    values = {
        name.lower(): env[ENV_PREFIX + name.upper()]
        for name in StoreSettings.model_fields
        if ENV_PREFIX + name.upper() in env
    }
    return StoreSettings.model_validate(values)


def open_store(
    settings: StoreSettings | None = None, *, transport: httpx.BaseTransport | None = None
) -> ContentStore:
    """The store ``settings`` describe (default: the embedded local store).

    ``transport`` is handed to the Kubo backend's httpx client (tests inject
    a recorded transport); the local backend ignores it.
    """
    settings = settings or StoreSettings()
    if settings.backend == "kubo":
        return KuboStore(
            settings.kubo_api,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            max_read_bytes=settings.max_read_bytes,
            transport=transport,
        )
    return LocalStore(
        settings.resolved_path, fsync=settings.fsync, max_read_bytes=settings.max_read_bytes
    )
