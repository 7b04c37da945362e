"""deploy/docker-compose.yml and deploy/Dockerfile: the services, and settings WorldGym reads.

Docker is not needed: the compose file is parsed as YAML (anchors and merge keys
resolved as compose does), its ``${VAR}`` references are filled from
compose.env.example, and the resulting WORLDGYM_* variables are loaded by the
real settings loader.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from worldgym.client.config import ENV_PREFIX, Settings, load_settings

_DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")
_ROLES = {"miner": "mine", "validator": "validate", "refinery": "refine"}


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((_DEPLOY / "docker-compose.yml").read_text())
    return doc


def _example_env() -> dict[str, str]:
    lines = (_DEPLOY / "compose.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def _interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and (env[name] or op is None or not op.startswith(":")):
            return env[name]
        if op is not None and op.endswith("-"):
            return arg
        raise AssertionError(f"${{{name}}} is required and compose.env.example does not set it")

    return _VAR.sub(one, value)


def _setting_exists(name: str) -> bool:
    """Whether WORLDGYM_A__B__C names a field of Settings (dict keys such as profile names pass)."""
    parts = name.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] | None = Settings
    i = 0
    while i < len(parts):
        if model is None:
            return False
        field = model.model_fields.get(parts[i])
        if field is None:
            return False
        annotation = field.annotation
        i += 1
        if get_origin(annotation) is dict:
            i += 1  # the key: a profile name
            annotation = get_args(annotation)[1]
        model = next(
            (a for a in (annotation, *get_args(annotation))
             if isinstance(a, type) and issubclass(a, BaseModel)),
            None,
        )  # fmt: skip
    return True


def test_the_services_and_their_roles() -> None:
    services = _compose()["services"]
    assert set(services) == {"kubo", *_ROLES}
    assert services["kubo"]["image"].startswith("ipfs/kubo:v")
    assert "127.0.0.1:5001:5001" in services["kubo"]["ports"]  # the admin API stays local
    for service, command in _ROLES.items():
        spec = services[service]
        assert spec["command"][0] == command
        assert spec["profiles"] == [service]
        assert spec["depends_on"]["kubo"]["condition"] == "service_healthy"
        assert "--password-file" in spec["command"]
        password = spec["command"][spec["command"].index("--password-file") + 1]
        assert password == "/run/secrets/wallet_password"
        assert spec["secrets"] == ["wallet_password"]
        (gpu,) = spec["deploy"]["resources"]["reservations"]["devices"]
        assert gpu["driver"] == "nvidia"
        assert gpu["capabilities"] == ["gpu"]
    miner = services["miner"]["command"]
    assert miner[miner.index("--backend") + 1] == "vllm"
    assert "--tensor-parallel" in miner
    refine = services["refinery"]["command"]
    assert refine[refine.index("--every") + 1] == "1h"


def test_images_install_extras_that_exist() -> None:
    extras = tomllib.loads((_DEPLOY.parent / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    services = _compose()["services"]
    assert services["miner"]["build"]["args"]["EXTRAS"] == "vllm"
    for name in _ROLES:
        build = services[name]["build"]
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert build["args"]["EXTRAS"] in extras
    dockerfile = (_DEPLOY / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["python:3.11-slim"] * 2
    assert 'pip install "/src[${EXTRAS}]"' in dockerfile
    assert 'ENTRYPOINT ["worldgym"]' in dockerfile


def test_every_worldgym_variable_is_a_setting() -> None:
    names = {
        name
        for service in _compose()["services"].values()
        for name in service.get("environment", {})
        if name.startswith(ENV_PREFIX)
    }
    assert names >= {"WORLDGYM_NETWORK", "WORLDGYM_STORAGE__KUBO_API", "WORLDGYM_WALLET"}
    unknown = sorted(name for name in names if not _setting_exists(name))
    assert unknown == [], f"not settings in worldgym/client/config.py: {unknown}"
    assert not _setting_exists("WORLDGYM_STORAGE__KUBO_URL")  # the check can fail


@pytest.mark.parametrize("service", sorted(_ROLES))
def test_each_roles_environment_loads_as_settings(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    env = _example_env()
    for name, value in _compose()["services"][service]["environment"].items():
        monkeypatch.setenv(name, _interpolate(str(value), env))
    settings = load_settings(tmp_path / "absent.toml")
    profile = settings.profile()
    assert settings.network == "testnet"
    assert profile.rpc_url == env["RPC_URL"]
    assert profile.chain_id == int(env["CHAIN_ID"])
    assert settings.manifest_path() == Path("/config/deployment.json")
    assert settings.storage.backend == "kubo"
    assert settings.storage.kubo_api == "http://kubo:5001"
    assert settings.keystore_dir == Path("/keystore")
    assert settings.wallet == env[f"{service.upper()}_WALLET"]
