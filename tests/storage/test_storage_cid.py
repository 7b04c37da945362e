"""CID strings and binary CIDs: parsing, canonical formatting, the contracts' binary form."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worldgym.storage import Cid, CidError, cid_from_bytes, cid_to_bytes, parse_cid
from worldgym.storage.cid import CODEC_DAG_PB, CODEC_RAW, SHA2_256, decode_varint, encode_varint

EMPTY_V0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
EMPTY_V1_WRAPPED = "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y"
EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_cidv0_binary_is_the_34_byte_multihash() -> None:
    raw = cid_to_bytes(EMPTY_V0)
    assert len(raw) == 34
    assert raw[:2] == b"\x12\x20"
    assert cid_from_bytes(raw) == EMPTY_V0


def test_cidv1_binary_has_version_codec_and_multihash() -> None:
    raw = cid_to_bytes(EMPTY_RAW)
    assert raw[:4] == b"\x01\x55\x12\x20"
    assert raw[4:] == hashlib.sha256(b"").digest()
    assert cid_from_bytes(raw) == EMPTY_RAW
    wrapped = cid_to_bytes(EMPTY_V1_WRAPPED)
    assert wrapped[:4] == b"\x01\x70\x12\x20"
    assert len(wrapped) == 36


def test_v0_and_v1_of_one_block_share_the_digest() -> None:
    v0, v1 = parse_cid(EMPTY_V0), parse_cid(EMPTY_V1_WRAPPED)
    assert v0.digest == v1.digest
    assert str(v0.to_v1()) == EMPTY_V1_WRAPPED
    assert v0.codec_name == "dag-pb"
    assert parse_cid(EMPTY_RAW).codec_name == "raw"


def test_other_multibases_parse_to_the_canonical_form() -> None:
    cid = parse_cid(EMPTY_RAW)
    assert str(Cid.parse(EMPTY_RAW.upper())) == EMPTY_RAW
    assert str(Cid.parse("f" + cid.to_bytes().hex())) == EMPTY_RAW
    assert parse_cid(cid) is cid
    assert repr(cid) == f"Cid('{EMPTY_RAW}')"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("Qm" + "1" * 44, "wrong multihash"),
        ("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ0", "0 is not base58"),
        ("bafkrei!!!", "not base32"),
        ("xyz", "unknown multibase"),
        ("b" + "a" * 300, "too long"),
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", "truncated digest"),
    ],
)
def test_malformed_cid_strings_are_refused(text: str, why: str) -> None:
    with pytest.raises(CidError):
        parse_cid(text)


def test_malformed_binary_cids_are_refused() -> None:
    good = cid_to_bytes(EMPTY_RAW)
    for bad in (b"", good[:-1], good + b"\x00", b"\x02" + good[1:], b"\x01\x55\x12\xff"):
        with pytest.raises(CidError):
            cid_from_bytes(bad)
    with pytest.raises(CidError, match="CIDv0"):
        Cid(0, CODEC_RAW, SHA2_256, bytes(32))
    with pytest.raises(CidError, match="string"):
        cid_to_bytes(123)  # type: ignore[arg-type]


@given(
    version=st.sampled_from([0, 1]),
    codec=st.sampled_from([CODEC_RAW, CODEC_DAG_PB, 0x71]),
    digest=st.binary(min_size=32, max_size=32),
)
def test_string_and_binary_forms_round_trip(version: int, codec: int, digest: bytes) -> None:
    if version == 0:
        codec = CODEC_DAG_PB
    cid = Cid(version, codec, SHA2_256, digest)
    text = str(cid)
    assert text.startswith("Qm" if version == 0 else "b")
    assert Cid.parse(text) == cid
    assert Cid.from_bytes(cid.to_bytes()) == cid
    assert cid_from_bytes(cid_to_bytes(text)) == text


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varints_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_varints_refuse_overlong_and_truncated_input() -> None:
    with pytest.raises(ValueError, match="minimal"):
        decode_varint(b"\x80\x00")
    with pytest.raises(ValueError, match="truncated"):
        decode_varint(b"\x80")
    with pytest.raises(ValueError, match="negative"):
        encode_varint(-1)
