"""Settings: TOML file, WORLDGYM_* variables with __ nesting, profiles, one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from client_helpers import (  # noqa: F401 (pytest fixtures, registered by import)
    isolated_env_fixture,
)

from worldgym.client.config import (
    NetworkProfile,
    Settings,
    default_config_path,
    load_settings,
    save_profile,
)
from worldgym.core.errors import ConfigError, UsageError

TOML = """
network = "devnet"
wallet = "alice"

[networks.devnet]
rpc_url = "http://127.0.0.1:8545"
chain_id = 31337

[networks.sepolia]
rpc_url = "https://rpc.sepolia.example"
chain_id = 11155111
manifest = "~/sepolia.json"
"""


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    path = isolated_env / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TOML)
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_reads_profiles_from_toml(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert settings.network == "devnet"
    assert settings.wallet == "alice"
    assert settings.profile() == NetworkProfile(rpc_url="http://127.0.0.1:8545", chain_id=31337)
    sepolia = settings.profile("sepolia")
    assert sepolia.chain_id == 11155111
    assert sepolia.manifest == Path.home() / "sepolia.json"
    assert settings.config_path == config_file


def test_default_file_is_worldgym_config(config_file: Path) -> None:
    assert default_config_path() == config_file
    assert load_settings().profile().chain_id == 31337


def test_env_overrides_file_with_double_underscore_nesting(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLDGYM_NETWORK", "sepolia")
    monkeypatch.setenv("WORLDGYM_NETWORKS__SEPOLIA__RPC_URL", "https://other.example")
    settings = load_settings(config_file)
    assert settings.network == "sepolia"
    profile = settings.profile()
    # rpc_url from the environment, chain_id still from the file
    assert (profile.rpc_url, profile.chain_id) == ("https://other.example", 11155111)


def test_profile_defined_only_in_env(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLDGYM_NETWORKS__LOCAL__RPC_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("WORLDGYM_NETWORKS__LOCAL__CHAIN_ID", "1337")
    settings = load_settings(config_file).select("local")
    assert settings.network == "local"
    assert settings.profile().chain_id == 1337
    assert settings.config_path == config_file


def test_defaults_without_a_file(isolated_env: Path) -> None:
    settings = load_settings(isolated_env / "absent.toml")
    assert settings.network == "devnet"
    assert settings.networks == {}
    assert settings.data_dir == isolated_env / "data"  # from WORLDGYM_DATA_DIR
    assert settings.keystore_dir == isolated_env / "data" / "keystore"


def test_keystore_dir_override_and_manifest_default(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WORLDGYM_KEYSTORE_DIR", str(tmp_path / "keys"))
    settings = load_settings(config_file)
    assert settings.keystore_dir == tmp_path / "keys"
    assert settings.manifest_path() == settings.data_dir / "deployments" / "31337.json"
    assert settings.manifest_path("sepolia") == Path.home() / "sepolia.json"


def test_missing_profile_says_what_to_set(isolated_env: Path) -> None:
    settings = load_settings(isolated_env / "absent.toml")
    with pytest.raises(ConfigError) as info:
        settings.profile()
    message = str(info.value)
    assert "worldgym devnet up" in message
    assert "[networks.devnet]" in message
    assert "WORLDGYM_NETWORKS__DEVNET__RPC_URL" in message
    with pytest.raises(ConfigError, match=r"no network profile 'mainnet'"):
        settings.select("mainnet")


def test_bad_toml_names_the_file_and_line(config_file: Path) -> None:
    config_file.write_text("network = \n")
    message = _error(config_file)
    assert str(config_file) in message
    assert "line 1" in message
    assert "not valid TOML" in message


def test_bad_value_in_file_names_file_key_and_what_to_set(config_file: Path) -> None:
    config_file.write_text(TOML.replace("chain_id = 31337", 'chain_id = "thirty"'))
    message = _error(config_file)
    assert message.startswith(f"config file {config_file}: networks.devnet.chain_id:")
    assert "set it to the chain id" in message


def test_bad_value_from_env_names_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLDGYM_NETWORKS__DEVNET__RPC_URL", "ftp://nope")
    message = _error(config_file)
    assert message.startswith("environment variable WORLDGYM_NETWORKS__DEVNET__RPC_URL:")
    assert "http://" in message


def test_missing_key_says_where_to_set_it(config_file: Path) -> None:
    config_file.write_text('[networks.x]\nrpc_url = "http://a"\n')
    message = _error(config_file)
    assert "networks.x.chain_id is missing" in message
    assert "[networks.x]" in message
    assert "WORLDGYM_NETWORKS__X__CHAIN_ID" in message


def test_unknown_key_lists_known_ones(config_file: Path) -> None:
    config_file.write_text(TOML.replace('rpc_url = "http://127', 'rpc_uri = "http://127'))
    message = _error(config_file)
    assert "unknown key 'networks.devnet.rpc_uri'" in message
    assert "rpc_url" in message


def test_save_profile_creates_and_updates(isolated_env: Path, config_file: Path) -> None:
    fresh = isolated_env / "new" / "config.toml"
    written = save_profile(
        "devnet", NetworkProfile(rpc_url="http://127.0.0.1:1234", chain_id=31337), fresh
    )
    assert written == fresh
    assert load_settings(fresh).profile("devnet").rpc_url == "http://127.0.0.1:1234"

    # Updating keeps the other keys and profiles; activate switches the network.
    save_profile(
        "devnet",
        NetworkProfile(rpc_url="http://127.0.0.1:5555", chain_id=31337),
        config_file,
        activate=True,
    )
    save_profile("local", NetworkProfile(rpc_url="http://127.0.0.1:6666", chain_id=1), config_file)
    document = tomllib.loads(config_file.read_text())
    assert document["wallet"] == "alice"
    assert document["networks"]["sepolia"]["chain_id"] == 11155111
    settings = load_settings(config_file)
    assert settings.profile().rpc_url == "http://127.0.0.1:5555"
    assert settings.profile("local").chain_id == 1


def test_save_profile_default_path_and_bad_name(isolated_env: Path) -> None:
    path = save_profile("devnet", NetworkProfile(rpc_url="http://x", chain_id=1), activate=True)
    assert path == isolated_env / "config.toml"
    assert load_settings().network == "devnet"
    with pytest.raises(UsageError):
        save_profile("a.b", NetworkProfile(rpc_url="http://x", chain_id=1))


def test_settings_alone_reads_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLDGYM_WALLET", "bob")
    assert Settings().wallet == "bob"
