"""WorldGym's contribution ledger: who contributed what, and who earned what.

The indexer follows the contracts' events into SQL (SQLite by default,
PostgreSQL by URL); the queries answer for an address, an epoch, an
environment, the leaderboards and the model lineage; ``check`` proves the
ledger equal to the contracts to the wei; the dashboard serves it all on
127.0.0.1. See ``worldgym/ledger/README.md``.
"""
