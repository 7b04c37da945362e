"""Talking to the contracts: RPC, transactions, revert decoding, the deployment manifest.

:class:`~worldgym.chain.contracts.Protocol` wraps the deployed contracts;
:mod:`~worldgym.chain.protocol_math` mirrors their arithmetic off chain.
"""
