"""Byte-exact dag-pb and UnixFS protobuf encoding, and a strict decoder (no dependencies).

The encodings match what Kubo writes (go-merkledag / go-codec-dagpb and
boxo's UnixFS ``FSNode``)::

    PBNode  = Links* (field 2, each a PBLink) then Data (field 1, if present)
    PBLink  = Hash (1, binary CID), Name (2, always written, "" for file chunks),
              Tsize (3, the block's size plus its children's Tsize)
    UnixFS  = Type (1), Data (2, if any), filesize (3, always written),
              blocksizes (4, one varint per child, not packed)

A UnixFS *leaf* block is wrapped data: ``PBNode{Data: UnixFS{Type: File, Data:
chunk, filesize: len(chunk)}}``. :func:`leaf_envelope` gives the bytes before
and after the chunk so that a builder can hash and write it without copying
the chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from worldgym.storage.cid import decode_varint, encode_varint

__all__ = [
    "UNIXFS_DIRECTORY",
    "UNIXFS_FILE",
    "UNIXFS_HAMT_SHARD",
    "UNIXFS_METADATA",
    "UNIXFS_RAW",
    "UNIXFS_SYMLINK",
    "PBLink",
    "PBNode",
    "UnixFSData",
    "decode_pbnode",
    "decode_unixfs",
    "encode_pbnode",
    "encode_unixfs",
    "leaf_envelope",
]

UNIXFS_RAW = 0
UNIXFS_DIRECTORY = 1
UNIXFS_FILE = 2
UNIXFS_METADATA = 3
UNIXFS_SYMLINK = 4
UNIXFS_HAMT_SHARD = 5

_VARINT = 0
_LEN = 2
# Tags: (field number << 3) | wire type.
_TAG_NODE_DATA = b"\x0a"
_TAG_NODE_LINK = b"\x12"
_TAG_LINK_HASH = b"\x0a"
_EMPTY_NAME = b"\x12\x00"
_TAG_LINK_TSIZE = b"\x18"
_TAG_FS_TYPE = b"\x08"
_TAG_FS_DATA = b"\x12"
_TAG_FS_FILESIZE = b"\x18"
_TAG_FS_BLOCKSIZE = b"\x20"
_UNIXFS_SKIPPED_FIELDS = (5, 6, 7, 8)  # hashType, fanout, mode, mtime: not used for file bytes


@dataclass(frozen=True, slots=True)
class PBLink:
    """A link of a dag-pb node: the child's binary CID, its name and its Tsize."""

    cid: bytes
    name: str = ""
    tsize: int | None = None


@dataclass(frozen=True, slots=True)
class PBNode:
    """A decoded dag-pb node."""

    links: tuple[PBLink, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """The UnixFS message in a dag-pb node's Data field."""

    type: int
    data: bytes = b""
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default_factory=tuple)


def _length_delimited(tag: bytes, payload: bytes | memoryview) -> bytes:
    return tag + encode_varint(len(payload)) + bytes(payload)


def encode_unixfs(
    type_: int, *, data: bytes | None = None, filesize: int, blocksizes: Sequence[int] = ()
) -> bytes:
    """Encode a UnixFS ``Data`` message exactly as boxo's ``FSNode.GetBytes`` does."""
    out = bytearray(_TAG_FS_TYPE + encode_varint(type_))
    if data is not None:
        out += _length_delimited(_TAG_FS_DATA, data)
    out += _TAG_FS_FILESIZE + encode_varint(filesize)
    for size in blocksizes:
        out += _TAG_FS_BLOCKSIZE + encode_varint(size)
    return bytes(out)


def encode_pbnode(links: Sequence[tuple[bytes, int]], data: bytes | None) -> bytes:
    """Encode a dag-pb node whose links are ``(binary CID, Tsize)`` with empty names."""
    out = bytearray()
    for cid, tsize in links:
        link = _length_delimited(_TAG_LINK_HASH, cid) + _EMPTY_NAME
        link += _TAG_LINK_TSIZE + encode_varint(tsize)
        out += _length_delimited(_TAG_NODE_LINK, link)
    if data is not None:
        out += _length_delimited(_TAG_NODE_DATA, data)
    return bytes(out)


def leaf_envelope(size: int) -> tuple[bytes, bytes]:
    """``(prefix, suffix)`` such that ``prefix + chunk + suffix`` is the UnixFS leaf block.

    The chunk is ``size`` bytes long (``size`` > 0; the empty file is a node
    without a Data field, see :func:`encode_unixfs`).
    """
    size_varint = encode_varint(size)
    unixfs_prefix = _TAG_FS_TYPE + bytes([UNIXFS_FILE]) + _TAG_FS_DATA + size_varint
    suffix = _TAG_FS_FILESIZE + size_varint
    unixfs_len = len(unixfs_prefix) + size + len(suffix)
    prefix = _TAG_NODE_DATA + encode_varint(unixfs_len) + unixfs_prefix
    return prefix, suffix


def _fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Protobuf fields as ``(number, wire type, value)``; only varint and bytes fields."""
    view = memoryview(buf)
    pos = 0
    while pos < len(view):
        tag, pos = decode_varint(view, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("protobuf field number 0")
        if wire == _VARINT:
            value, pos = decode_varint(view, pos)
            yield number, wire, value
        elif wire == _LEN:
            length, pos = decode_varint(view, pos)
            if pos + length > len(view):
                raise ValueError(f"field {number} runs past the end of the message")
            yield number, wire, view[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"field {number} has wire type {wire}, not used by dag-pb/UnixFS")


def _decode_link(buf: memoryview) -> PBLink:
    cid: bytes | None = None
    name = ""
    tsize: int | None = None
    last = 0
    for number, wire, value in _fields(buf):
        if number <= last:
            raise ValueError("PBLink fields out of order or repeated")
        last = number
        if number == 1 and isinstance(value, memoryview):
            cid = bytes(value)
        elif number == 2 and isinstance(value, memoryview):
            name = bytes(value).decode("utf-8")
        elif number == 3 and isinstance(value, int):
            tsize = value
        else:
            raise ValueError(f"unexpected PBLink field {number} (wire type {wire})")
    if cid is None:
        raise ValueError("PBLink without Hash")
    return PBLink(cid, name, tsize)


def decode_pbnode(block: bytes | memoryview) -> PBNode:
    """Decode a dag-pb block strictly (Links before Data, no unknown fields).

    Raises ValueError when the block is not valid dag-pb.
    """
    links: list[PBLink] = []
    data: bytes | None = None
    for number, _wire, value in _fields(block):
        if not isinstance(value, memoryview):
            raise ValueError(f"PBNode field {number} must be length-delimited")
        if number == 2:
            if data is not None:
                raise ValueError("PBNode Links after Data")
            links.append(_decode_link(value))
        elif number == 1:
            if data is not None:
                raise ValueError("PBNode with two Data fields")
            data = bytes(value)
        else:
            raise ValueError(f"unexpected PBNode field {number}")
    return PBNode(tuple(links), data)


def decode_unixfs(buf: bytes | memoryview) -> UnixFSData:
    """Decode a UnixFS ``Data`` message (blocksizes packed or not). Raises ValueError."""
    type_: int | None = None
    data = b""
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, _wire, value in _fields(buf):
        if number == 1 and isinstance(value, int):
            type_ = value
        elif number == 2 and isinstance(value, memoryview):
            data = bytes(value)
        elif number == 3 and isinstance(value, int):
            filesize = value
        elif number == 4 and isinstance(value, int):
            blocksizes.append(value)
        elif number == 4 and isinstance(value, memoryview):  # packed repeated varints
            pos = 0
            while pos < len(value):
                size, pos = decode_varint(value, pos)
                blocksizes.append(size)
        elif number in _UNIXFS_SKIPPED_FIELDS:
            continue
        else:
            raise ValueError(f"unexpected UnixFS field {number}")
    if type_ is None:
        raise ValueError("UnixFS message without Type")
    return UnixFSData(type_, data, filesize, tuple(blocksizes))
