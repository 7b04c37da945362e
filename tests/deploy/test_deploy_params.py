"""Protocol parameter files: presets, TOML and JSON, token amounts, errors that say what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worldgym.chain.manifest import ProtocolParams
from worldgym.core.amounts import WAD
from worldgym.deploy.errors import ParamsFileError
from worldgym.deploy.params_file import load_params, params_summary

_RECOMMENDED = Path(__file__).resolve().parents[2] / "deploy" / "params" / "public-testnet.toml"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_no_file_gives_the_preset() -> None:
    assert load_params() == ProtocolParams.public()
    assert load_params(preset="devnet") == ProtocolParams()


def test_toml_overrides_its_preset_and_reads_token_amounts(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "p.toml",
        'preset = "devnet"\nepoch_length = 100\nmin_stake = "2_500.5 WGT"\n'
        'registration_bond = "12 wei"\ncap = 10000000000000000000000000000\n',
    )  # fmt: skip
    params = load_params(path)
    assert params.epoch_length == 100
    assert params.min_stake == 2_500 * WAD + WAD // 2
    assert params.registration_bond == 12
    assert params.cap == 10**28
    assert params.commit_blocks == ProtocolParams().commit_blocks  # the rest is the preset


def test_json_is_read_by_its_suffix(tmp_path: Path) -> None:
    doc = {"miner_bps": 6000, "validator_bps": 3000, "environment_bps": 1000}
    params = load_params(_write(tmp_path, "p.json", json.dumps(doc)), preset="devnet")
    assert (params.miner_bps, params.validator_bps) == (6000, 3000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epoch_lenght = 10\n", "unknown key 'epoch_lenght'; did you mean 'epoch_length'?"),
        ("miner_bps = 9000\n", "miner_bps + validator_bps + environment_bps must be 10000"),
        ("commit_blocks = 2000\n", "must fit in epoch_length (1800)"),
        ("min_stake = 0\n", "min_stake (stake needed to commit): Input should be greater than 0"),
        ("unbonding_epochs = 2\n", "unbonding_epochs 2 is too short while miners are bonded"),
        ("miner_slash_bps = 10001\n", "miner_slash_bps (of a miner's stake, per batch judged"),
        ('miner_stake = "-1 WGT"\n', "miner_stake = '-1 WGT' is not an amount"),
        ('min_stake = "ten WGT"\n', "is not an amount"),
        ("min_stake = 1.5e21\n", "floats lose precision"),
        ('min_stake = "0.5 wei"\n', "is not a whole number of wei"),
        ('preset = "mainnet"\n', "unknown preset 'mainnet'"),
        ("epoch_length = \n", "is not valid TOML"),
        ("[[a]]\n", "unknown key 'a'"),
    ],
)
def test_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, "p.toml", text)
    with pytest.raises(ParamsFileError) as caught:
        load_params(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value) or "preset" in message


def test_a_json_list_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParamsFileError, match="must hold one object"):
        load_params(_write(tmp_path, "p.json", "[1, 2]"))
    with pytest.raises(ParamsFileError, match="cannot read params file"):
        load_params(tmp_path / "absent.toml")


def test_the_cli_preset_and_the_files_preset_must_agree(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.toml", 'preset = "devnet"\n')
    assert load_params(path, preset="devnet") == ProtocolParams()
    with pytest.raises(ParamsFileError, match="--preset public disagrees"):
        load_params(path, preset="public")


def test_the_recommended_public_testnet_file_is_valid_and_bounded() -> None:
    params = load_params(_RECOMMENDED)
    assert params.epoch_length == 1800  # one hour at 2 s blocks
    assert params.commit_blocks + params.reveal_blocks == params.epoch_length
    assert params.min_stake == 10_000 * WAD
    # A validator's worst case per commit window stays at 65,536 traces.
    assert params.max_batches_per_epoch * params.max_traces_per_batch == 65_536
    assert (params.miner_stake, params.miner_slash_bps, params.max_model_lag) == (
        1_000 * WAD, 5_000, 2,
    )  # fmt: skip
    summary = "\n".join(params_summary(params, block_time_s=2.0))
    assert "epoch 1,800 blocks (~1 h at 2 s)" in summary
    assert "unbonding 168 epochs (~7 d)" in summary
    assert "miner bond 1,000 WGT, 50% slashed per FRAUD batch" in summary


def test_a_short_unbonding_delay_is_fine_without_a_miner_bond(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.toml", 'preset = "devnet"\nunbonding_epochs = 1\nminer_stake = 0\n')
    params = load_params(path)
    assert (params.unbonding_epochs, params.miner_stake) == (1, 0)
    assert params.constructor_tuple()[-3:] == (params.miner_slash_bps, params.max_model_lag, 0)
