"""``worldgym dashboard``: the ledger in a browser, served on 127.0.0.1, no internet needed."""

from worldgym.ledger.dashboard.server import DashboardServer

__all__ = ["DashboardServer"]
