"""WorldGym: an open RL gym for language models, run as a protocol on an EVM chain.

Everything installs under this one name. The packages form layers, each importing only
the ones below it (``make lint`` checks this with import-linter)::

    worldgym.cli                       the ``worldgym`` command line
    worldgym.deploy                    devnets, deployments, the demo
    worldgym.ledger                    the contribution ledger and dashboard
    worldgym.refinery                  trains the shared model on verified traces
    worldgym.miner | worldgym.validator
    worldgym.gym | worldgym.policy     environments; models that sample and score
    worldgym.client                    profiles, wallets, the session an actor runs in
    worldgym.chain | worldgym.storage  the contracts; content-addressed storage
    worldgym.core                      errors, amounts, durable files, canonical JSON
"""

__version__ = "0.1.0"
