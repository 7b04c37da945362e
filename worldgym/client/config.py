"""WorldGym settings: a TOML file, overridden by ``WORLDGYM_*`` environment variables.

Where the file is: ``--config PATH``, else ``$WORLDGYM_CONFIG``, else
``config.toml`` in the user's config directory (platformdirs). A missing file
is fine (everything has a default except network profiles); a broken one is a
:class:`~worldgym.core.errors.ConfigError` naming the file, the key and what to set.

Environment variables beat the file; nested keys use ``__``::

    WORLDGYM_NETWORK=sepolia
    WORLDGYM_NETWORKS__SEPOLIA__RPC_URL=https://rpc.sepolia.org
    WORLDGYM_NETWORKS__SEPOLIA__CHAIN_ID=11155111

The file looks like::

    network = "devnet"            # the active profile
    wallet = "alice"              # default wallet: a name or an address

    [networks.devnet]
    rpc_url = "http://127.0.0.1:8545"
    chain_id = 31337

Other packages add their own typed section by subclassing :class:`Section`
and declaring one field on :class:`Settings` (``storage: StorageSettings =
StorageSettings()``); it is then read from ``[storage]`` and
``WORLDGYM_STORAGE__*`` with the same error messages, no other change needed.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import platformdirs
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from worldgym.chain.manifest import manifest_path
from worldgym.client.ledger_settings import LedgerSettings
from worldgym.core.errors import ConfigError, UsageError
from worldgym.core.files import write_durably
from worldgym.storage.settings import StoreSettings

__all__ = [
    "APP_NAME",
    "ENV_PREFIX",
    "NetworkProfile",
    "Section",
    "Settings",
    "default_config_path",
    "load_settings",
    "save_profile",
]

APP_NAME = "worldgym"
ENV_PREFIX = "WORLDGYM_"
_NESTED = "__"
_RPC_SCHEMES = ("http://", "https://")


class Section(BaseModel):
    """Base of a typed settings section (``[storage]``, ``[miner]``): unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class NetworkProfile(Section):
    """One chain to talk to: its RPC endpoint, its chain id, and optionally its manifest."""

    rpc_url: str = Field(
        description="the node's JSON-RPC URL (http:// or https://, e.g. http://127.0.0.1:8545)"
    )
    chain_id: int = Field(gt=0, description="the chain id the node serves (31337 for anvil)")
    manifest: Path | None = Field(
        None,
        description="the deployment manifest; default <data_dir>/deployments/<chain_id>.json",
    )

    @field_validator("rpc_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(_RPC_SCHEMES):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("manifest")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


class Settings(BaseSettings):
    """Every WorldGym setting. Build it with :func:`load_settings`.

    Constructor keywords are the *file* layer: environment variables override
    them (``Settings(**toml_document)``), so ``Settings()`` alone reads the
    environment and the defaults.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=_NESTED,
        extra="forbid",
        validate_default=True,
    )

    network: str = Field(
        "devnet", min_length=1, description="the name of the active network profile"
    )
    networks: dict[str, NetworkProfile] = Field(
        default_factory=dict,
        description="network profiles by name, each with rpc_url and chain_id",
    )
    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path(APP_NAME),
        description="where WorldGym keeps its state (deployments, devnet, local store)",
    )
    keystore_dir: Path = Field(
        default_factory=lambda data: data["data_dir"] / "keystore",
        description="the directory of encrypted keystore files (default <data_dir>/keystore)",
    )
    wallet: str | None = Field(
        None, description="the default wallet: a keystore name or 0x address"
    )
    storage: StoreSettings = Field(
        default_factory=StoreSettings,
        description="content-addressed storage: [storage] backend = 'local' or 'kubo', ...",
    )
    ledger: LedgerSettings = Field(
        default_factory=LedgerSettings,
        description="the contribution ledger: [ledger] url = a SQLAlchemy URL, confirmations",
    )

    _config_path: Path | None = PrivateAttr(None)

    @field_validator("data_dir", "keystore_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then the file (given as constructor keywords), then defaults."""
        return (env_settings, init_settings)

    @property
    def config_path(self) -> Path | None:
        """The file these settings were read from (None if built without one)."""
        return self._config_path

    def profile(self, name: str | None = None) -> NetworkProfile:
        """The profile ``name`` (default: the active one), or a ConfigError saying how to add it."""
        name = name or self.network
        try:
            return self.networks[name]
        except KeyError:
            known = ", ".join(sorted(self.networks)) or "none"
            where = self._config_path or default_config_path()
            hint = "run `worldgym devnet up`, or " if name == "devnet" else ""
            raise ConfigError(
                f"no network profile {name!r} (configured: {known}): {hint}add "
                f"[networks.{name}] with rpc_url and chain_id to {where}, or set "
                f"{env_var('networks', name, 'rpc_url')} and "
                f"{env_var('networks', name, 'chain_id')}"
            ) from None

    def select(self, network: str) -> Settings:
        """A copy with ``network`` active (e.g. from a ``--network`` option); it must exist."""
        self.profile(network)
        copy = self.model_copy(update={"network": network})
        copy._config_path = self._config_path
        return copy

    def manifest_path(self, name: str | None = None) -> Path:
        """The deployment manifest of profile ``name`` (default: the active one)."""
        profile = self.profile(name)
        return profile.manifest or manifest_path(self.data_dir, profile.chain_id)


def env_var(*loc: str | int) -> str:
    """The environment variable that sets the key at ``loc`` (``WORLDGYM_NETWORKS__X__RPC_URL``)."""
    return ENV_PREFIX + _NESTED.join(str(part).upper() for part in loc)


def default_config_path() -> Path:
    """``$WORLDGYM_CONFIG``, else ``config.toml`` in the user's config directory."""
    override = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def load_settings(config_path: Path | None = None) -> Settings:
    """Read the config file (default :func:`default_config_path`) and the environment."""
    path = (config_path or default_config_path()).expanduser()
    document = _read_toml(path)
    try:
        settings = Settings(**document)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from None
    settings._config_path = path
    return settings


def save_profile(
    name: str,
    profile: NetworkProfile,
    config_path: Path | None = None,
    *,
    activate: bool = False,
) -> Path:
    """Write (or replace) ``[networks.<name>]`` in the config file; return the file's path.

    With ``activate`` the profile also becomes the active ``network``. Other
    keys are kept (comments are not: the file is rewritten). The write is
    atomic, so a crash leaves the old file or the new one.
    """
    if not name or any(c in name for c in ". \t\n\"'") or _NESTED in name:
        raise UsageError(f"profile name {name!r} must be a plain word (no dots, spaces or '__')")
    path = (config_path or default_config_path()).expanduser()
    document = _read_toml(path)
    networks = document.setdefault("networks", {})
    if not isinstance(networks, dict):
        raise ConfigError(f"{path}: 'networks' must be a table ([networks.<name>]), fix the file")
    networks[name] = profile.model_dump(mode="json", exclude_none=True)
    if activate:
        document["network"] = name
    write_durably(path, tomli_w.dumps(document).encode())
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML ({exc}): fix it, or point --config or "
            f"{ENV_PREFIX}CONFIG at another file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def _explain(exc: ValidationError, path: Path) -> str:
    """One line for the first error: where the value came from, the key, and what to set."""
    # A misspelt key shows up as "unknown" and as "missing": name the typo first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = tuple(str(p) for p in error["loc"])
    key = ".".join(loc)
    hint = _hint(loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if error["type"] == "missing":
        table = f"under [{'.'.join(loc[:-1])}] " if len(loc) > 1 else ""
        return (
            f"setting {key} is missing{more}: set {loc[-1]} {table}in {path}, "
            f"or {env_var(*loc)}, to {hint.what}"
        )
    source = _env_source(loc)
    where = f"environment variable {source}" if source else f"config file {path}"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], hint.keys, n=1)
        fix = f"did you mean {close[0]!r}?" if close else "remove it or fix its spelling"
        return f"{where}: unknown key {key!r}{more}; {fix}{hint.known}"
    given = error.get("input")
    shown = (
        "" if error["type"] == "value_error" or isinstance(given, Mapping) else f" (got {given!r})"
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {key}: {message}{shown}{more}; set it to {hint.what}"


class _Hint:
    def __init__(self, what: str, known: Sequence[str]) -> None:
        self.what = what
        self.keys = list(known)
        self.known = f" (known keys: {', '.join(known)})" if known else ""


def _hint(loc: tuple[str, ...]) -> _Hint:
    """Walk the models along ``loc`` to the field's description (what to set)."""
    model: type[BaseModel] | None = Settings
    description: str | None = None
    known: list[str] = []
    i = 0
    while i < len(loc) and model is not None:
        known = sorted(model.model_fields)
        field = model.model_fields.get(loc[i])
        i += 1
        if field is None:
            break
        description = field.description
        annotation = field.annotation
        if get_origin(annotation) is dict:
            i += 1  # the dict key (a profile name) picks an entry, it is not a field
            annotation = get_args(annotation)[1]
        model = _model_in(annotation)
    return _Hint(description or "a valid value", known)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model in ``annotation`` (``Model`` or ``Model | None``), if any."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _env_source(loc: tuple[str, ...]) -> str | None:
    """The WORLDGYM_* variable that set ``loc`` or one of its parents, if any."""
    present = {name.upper() for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = env_var(*loc[:depth])
        if name in present:
            return name
    return None
