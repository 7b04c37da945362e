"""The ``[ledger]`` settings section, and where the ledger database lives by default.

::

    [ledger]
    url = "postgresql+psycopg://ledger@db.internal/worldgym"   # default: SQLite under data_dir
    confirmations = 12                                          # default: 0 on anvil, else 12
    chunk_blocks = 2000

Environment variables: ``WORLDGYM_LEDGER__URL``, ``WORLDGYM_LEDGER__CONFIRMATIONS``, ...
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEV_CHAIN_IDS",
    "LedgerSettings",
    "default_confirmations",
    "default_database_url",
]

# Chains where a reorg only happens on purpose (anvil/hardhat snapshots), which the ledger
# detects anyway: indexing the head itself is what a developer expects there.
DEV_CHAIN_IDS = frozenset({31337, 1337})
_PUBLIC_CONFIRMATIONS = 12


class LedgerSettings(BaseModel):
    """Where the ledger is stored, and how it follows the chain."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None,
        description=(
            "a SQLAlchemy database URL (default sqlite under <data_dir>/ledger/, one file per "
            "deployment), e.g. postgresql+psycopg://user@host/worldgym"
        ),
    )
    confirmations: int | None = Field(
        None,
        ge=0,
        le=100_000,
        description="blocks behind the head the ledger indexes to (default 0 on anvil, else 12)",
    )
    chunk_blocks: int = Field(
        2_000, ge=1, le=1_000_000, description="blocks per eth_getLogs request while backfilling"
    )
    refinery_dir: Path | None = Field(
        None,
        description=(
            "where the refinery writes learning_curve.png and history.json, which the dashboard "
            "shows (default <data_dir>/refinery/<chain id>-<WorldGym address>)"
        ),
    )

    def confirmations_for(self, chain_id: int) -> int:
        """The confirmation depth to use on ``chain_id``."""
        if self.confirmations is not None:
            return self.confirmations
        return default_confirmations(chain_id)

    def database_url(self, data_dir: Path, chain_id: int, worldgym: str) -> str:
        """The configured URL, or the default SQLite file of this deployment."""
        return self.url or default_database_url(data_dir, chain_id, worldgym)


def default_confirmations(chain_id: int) -> int:
    """0 on a development chain, 12 elsewhere."""
    return 0 if chain_id in DEV_CHAIN_IDS else _PUBLIC_CONFIRMATIONS


def default_database_url(data_dir: Path, chain_id: int, worldgym: str) -> str:
    """``sqlite:///<data_dir>/ledger/<chain_id>-<worldgym address>.sqlite``."""
    path = Path(data_dir).expanduser() / "ledger" / f"{chain_id}-{worldgym.lower()}.sqlite"
    return f"sqlite:///{path}"
