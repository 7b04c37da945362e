"""CIDs: parse and format the string and binary forms (no dependencies).

A CID names content by its hash. This module handles the forms Kubo uses:

* CIDv0: the bare sha2-256 multihash ``0x12 0x20 <32 bytes>`` (34 bytes),
  written in base58btc (``Qm...``, 46 characters); codec dag-pb implied.
* CIDv1: ``<version 0x01> <codec varint> <multihash>``, written in multibase
  base32 lower case (``b...``): ``bafy...`` for dag-pb (0x70), ``bafk...`` for
  raw (0x55) with sha2-256.

Parsing also accepts base32 upper case (``B``), base58btc (``z``) and base16
(``f``) multibase CIDv1 strings; formatting always gives the canonical form
above. The smart contracts store and emit the binary form
(:func:`cid_to_bytes` / :func:`cid_from_bytes`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from worldgym.storage.errors import CidError

__all__ = [
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "SHA2_256",
    "Cid",
    "cid_from_bytes",
    "cid_to_bytes",
    "decode_varint",
    "encode_varint",
    "parse_cid",
]

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
SHA2_256 = 0x12
_SHA2_256_LEN = 32
_MAX_CID_TEXT = 256  # a sha2-256 CID is 46-59 characters; refuse absurd input early
_MAX_VARINT_BYTES = 9
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_CODEC_NAMES = {CODEC_RAW: "raw", CODEC_DAG_PB: "dag-pb", 0x71: "dag-cbor", 0x0129: "dag-json"}


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 (the multiformats and protobuf varint)."""
    if value < 0:
        raise ValueError(f"varint of a negative number: {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode the varint at ``buf[pos:]``; return ``(value, position after it)``.

    Raises ValueError when it is truncated, longer than 9 bytes, or not minimal.
    """
    value = 0
    shift = 0
    for i in range(_MAX_VARINT_BYTES + 1):
        if pos + i >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise ValueError("varint is not minimally encoded")
            return value, pos + i + 1
        shift += 7
    raise ValueError("varint longer than 9 bytes")


def _b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    chars = []
    while num:
        num, rem = divmod(num, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def _b58decode(text: str) -> bytes:
    num = 0
    for char in text:
        try:
            num = num * 58 + _B58_INDEX[char]
        except KeyError:
            raise ValueError(f"{char!r} is not a base58btc character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32decode(text: str) -> bytes:
    upper = text.upper()
    return base64.b32decode(upper + "=" * (-len(upper) % 8))


@dataclass(frozen=True, slots=True)
class Cid:
    """A parsed CID. ``str(cid)`` is its canonical text; :meth:`to_bytes` its binary form."""

    version: int
    codec: int
    hash_code: int
    digest: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise CidError(f"unknown CID version {self.version} (only 0 and 1 exist)")
        if self.version == 0 and (
            self.codec != CODEC_DAG_PB
            or self.hash_code != SHA2_256
            or len(self.digest) != _SHA2_256_LEN
        ):
            raise CidError("a CIDv0 is always dag-pb with a 32-byte sha2-256 digest")

    @classmethod
    def from_block(cls, block: bytes | memoryview, *, codec: int, version: int = 1) -> Cid:
        """The sha2-256 CID of a block's bytes."""
        return cls(version, codec, SHA2_256, hashlib.sha256(block).digest())

    @property
    def multihash(self) -> bytes:
        """``<hash code varint> <length varint> <digest>``."""
        return encode_varint(self.hash_code) + encode_varint(len(self.digest)) + self.digest

    @property
    def codec_name(self) -> str:
        """``raw``, ``dag-pb``... or the codec number in hex."""
        return _CODEC_NAMES.get(self.codec, hex(self.codec))

    def to_bytes(self) -> bytes:
        """The binary CID (34 bytes for CIDv0, 36 for a sha2-256 CIDv1)."""
        if self.version == 0:
            return self.multihash
        return b"\x01" + encode_varint(self.codec) + self.multihash

    def to_v1(self) -> Cid:
        """The same content as a CIDv1 (identity for a CIDv1)."""
        return Cid(1, self.codec, self.hash_code, self.digest)

    def __repr__(self) -> str:
        return f"Cid({str(self)!r})"

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return "b" + _b32encode(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> Cid:
        """Parse a binary CID (exactly one, nothing after it)."""
        data = bytes(data)
        try:
            if len(data) == 34 and data[0] == SHA2_256 and data[1] == _SHA2_256_LEN:
                return cls(0, CODEC_DAG_PB, SHA2_256, data[2:])
            version, pos = decode_varint(data)
            if version != 1:
                raise CidError(f"unknown CID version {version} in a binary CID")
            codec, pos = decode_varint(data, pos)
            hash_code, pos = decode_varint(data, pos)
            length, pos = decode_varint(data, pos)
        except ValueError as exc:
            raise CidError(f"malformed binary CID 0x{data.hex()}: {exc}") from None
        digest = data[pos:]
        if len(digest) != length:
            raise CidError(
                f"malformed binary CID 0x{data.hex()}: the multihash says {length} digest "
                f"bytes but {len(digest)} follow"
            )
        return cls(1, codec, hash_code, digest)

    @classmethod
    def parse(cls, text: str) -> Cid:
        """Parse a CID string (``Qm...`` or a multibase CIDv1 such as ``bafy...``)."""
        if not isinstance(text, str):
            raise CidError(f"a CID string is expected, got {type(text).__name__}")
        text = text.strip()
        if not text or len(text) > _MAX_CID_TEXT:
            raise CidError(f"{text[:80]!r} is not a CID (empty or too long)")
        try:
            if len(text) == 46 and text.startswith("Qm"):
                raw = _b58decode(text)
            elif text[0] in "bB":
                raw = _b32decode(text[1:])
            elif text[0] == "z":
                raw = _b58decode(text[1:])
            elif text[0] == "f":
                raw = bytes.fromhex(text[1:])
            else:
                raise ValueError("unknown multibase prefix (expected Qm..., b..., z... or f...)")
        except ValueError as exc:
            raise CidError(f"{text!r} is not a CID: {exc}") from None
        cid = cls.from_bytes(raw)
        if text.startswith("Qm") != (cid.version == 0):
            raise CidError(f"{text!r} is not a CID: a CIDv0 is written as base58 Qm...")
        return cid


def parse_cid(cid: str | Cid) -> Cid:
    """A :class:`Cid` from a CID string (a Cid passes through)."""
    return cid if isinstance(cid, Cid) else Cid.parse(cid)


def cid_to_bytes(cid: str) -> bytes:
    """The binary form of a CID string, as the contracts store it.

    CIDv0 gives the 34-byte multihash ``0x1220...``; CIDv1 gives
    ``0x01 <codec varint> 0x12 0x20 <digest>`` (codec 0x55 raw, 0x70 dag-pb).
    """
    return parse_cid(cid).to_bytes()


def cid_from_bytes(data: bytes) -> str:
    """The canonical CID string of a binary CID (``Qm...`` for v0, base32 ``b...`` for v1)."""
    return str(Cid.from_bytes(data))
