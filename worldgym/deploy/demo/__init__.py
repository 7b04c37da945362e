"""``make demo``: the whole WorldGym network on one laptop, honestly.

Starts anvil on a free loopback port and deploys the contracts; creates
encrypted-keystore wallets for an environment creator, two miners, three
validators (different stakes) and the refinery; registers two example
environments; pre-trains a tiny byte-level model briefly and registers it;
then runs rounds of: miners mine with the latest model, validators score
(re-deriving every task, re-running the verifiers, checking sampled rollouts
against the model), commit and reveal, anyone finalizes, everyone claims, and
the refinery trains on the top verified traces, evaluates, and registers the
new model if it is not worse. It ends with the ledger (who earned what, per
role), the model lineage with pass@1 per round, the learning-curve plot and
the dashboard address; every process it started is stopped unless ``--keep``.
"""

from __future__ import annotations

from worldgym.deploy.demo.main import DemoOptions, DemoResult, play, run

__all__ = ["DemoOptions", "DemoResult", "play", "run"]
