"""The sentence for every WorldGym contract error.

Templates are ``str.format`` strings over the error's arguments (see
:mod:`worldgym.chain.revert`; ``{x:wad WGT}`` prints an 18-decimal token amount).
OpenZeppelin's own errors use :data:`worldgym.chain.revert.STANDARD_TEMPLATES`.
``Window`` arguments are the ``IWorldGym.Window`` enum: 0 submit, 1 commit,
2 reveal, 3 finalize. A test checks that every error in the shipped ABIs has
a sentence, so a new contract error cannot ship without one.
"""

from __future__ import annotations

from functools import cache

from worldgym.chain.revert import RevertDecoder

__all__ = ["TEMPLATES", "protocol_decoder"]

_WINDOW = "window {window} (0 submit, 1 commit, 2 reveal, 3 finalize)"

TEMPLATES: dict[str, str] = {
    # WorldGymToken
    "TokenNotMinter": "{caller} may not mint: only the protocol ({minter}) mints the emission",
    "TokenNotDeployer": "{caller} may not set the minter: only the deployer {deployer} can",
    "TokenMinterAlreadySet": "the minter is already set to {minter} (it can be set once)",
    "TokenZeroAddress": "the zero address is not allowed here",
    "TokenEmissionAlreadyMinted": "the emission of epoch {epoch} was already minted",
    "TokenEmissionAboveSchedule": "epoch {epoch} asked for {requested:wad WGT} but the schedule "
    "allows {scheduled:wad WGT}",
    "TokenInvalidParams": "invalid token parameters: cap {cap:wad WGT}, genesis supply "
    "{genesisSupply:wad WGT}, halving interval {halvingInterval} epochs "
    "(needs >= 1, supply <= cap)",
    # EnvironmentRegistry
    "RegistryInvalidCid": "{cid} is not a binary CIDv0/CIDv1 (raw or dag-pb, sha2-256)",
    "RegistryUnknownEnvironment": "there is no environment {envId} (ids are 1..{count}): "
    "see `worldgym env list`",
    "RegistryUnknownVersion": "environment {envId} has no version {version} "
    "(versions 1..{versionCount})",
    "RegistryNotOwner": "{caller} is not the owner of environment {envId} (the owner is {owner})",
    "RegistryInactive": "environment {envId} was deactivated at block {deactivatedAt}",
    "RegistryStillActive": "environment {envId} is still active: deactivate it before "
    "withdrawing its bond",
    "RegistryBondLocked": "the bond of environment {envId} unlocks at block {unlocksAt}; "
    "it is block {blockNumber}",
    "RegistryBondAlreadyWithdrawn": "the bond of environment {envId} was already withdrawn",
    "RegistryZeroAddress": "an environment cannot be given to the zero address",
    # Staking
    "StakingNotProtocol": "{caller} may not do this: only the protocol ({protocol}) can",
    "StakingNotDeployer": "{caller} may not set the protocol: only the deployer {deployer} can",
    "StakingProtocolAlreadySet": "the protocol is already set to {protocol}",
    "StakingProtocolNotSet": "the staking contract is not wired to the protocol yet",
    "StakingZeroAmount": "the amount must be more than zero",
    "StakingInsufficientStake": "{validator} has {staked:wad WGT} staked and cannot unbond "
    "{requested:wad WGT}",
    "StakingNothingToWithdraw": "{validator} has nothing unbonding: `worldgym unstake` first",
    "StakingStillUnbonding": "the unbonding stake of {validator} is released at epoch "
    "{releaseEpoch}; it is epoch {epoch}",
    "StakingPendingCommitments": "{validator} has {pending} committed epoch(s) not finalized yet: "
    "finalize them (`worldgym validate`) before withdrawing",
    "StakingInvalidSlash": "a slash of {bps} basis points is more than 100%",
    # ModelRegistry
    "ModelsInvalidCid": "{cid} is not a binary CIDv0/CIDv1 (raw or dag-pb, sha2-256)",
    "ModelsUnknownModel": "there is no model {modelId} (ids are 1..{count}): "
    "see `worldgym model list`",
    "ModelsMissingDataset": "a model trained from model {parentId} must name its dataset "
    "manifest CID",
    # AccessControl (only the ModelRegistry uses roles)
    "AccessControlUnauthorizedAccount": "{account} lacks the role {neededRole:role}, which "
    "registering a model needs: ask the registry's admin to grant it (on a devnet: `worldgym "
    "devnet fund WALLET --refinery`)",
    # WorldGym
    "WorldGymOutsideWindow": "epoch {epoch}: this call belongs to " + _WINDOW + ", blocks "
    "{opensAt} to {closesAt} (exclusive); the chain is at block {blockNumber}",
    "WorldGymSeedNotYetAvailable": "the seed of epoch {epoch} comes from block {sourceBlock}, "
    "which is not mined yet",
    "WorldGymSeedExpired": "nobody fixed the seed of epoch {epoch} while the hash of block "
    "{sourceBlock} was available (256 blocks), so epoch {epoch} takes no batches: wait for the "
    "next epoch",
    "WorldGymInvalidBatchCid": "{cid} is not a binary CIDv0/CIDv1 (raw or dag-pb, sha2-256)",
    "WorldGymTraceCountOutOfRange": "a batch must have 1 to {max} traces, not {traceCount}",
    "WorldGymEpochFull": "epoch {epoch} already holds its cap of {cap} batches: wait for the "
    "next epoch",
    "WorldGymMinerCapReached": "{miner} already submitted its cap of {cap} batches in epoch "
    "{epoch}",
    "WorldGymUnknownModel": "model {modelId} is not in the model registry (the latest is "
    "{latestModelId}): see `worldgym model list`",
    "WorldGymStaleModel": "model {modelId} is too old: batches must come from the latest model "
    "({latestModelId}) or one of the {maxModelLag} before it",
    "WorldGymMinerNotBonded": "{miner} has {stake:wad WGT} staked but miners need a bond of "
    "{required:wad WGT} to submit batches: `worldgym stake AMOUNT` first",
    "WorldGymInsufficientStake": "{validator} has {stake:wad WGT} staked but {required:wad WGT} "
    "is needed to commit: stake more with `worldgym stake`",
    "WorldGymAlreadyCommitted": "{validator} already committed for epoch {epoch}",
    "WorldGymValidatorCapReached": "epoch {epoch} already holds its cap of {cap} commitments",
    "WorldGymNotCommitted": "{validator} did not commit for epoch {epoch}, so it cannot reveal",
    "WorldGymAlreadyRevealed": "{validator} already revealed for epoch {epoch}",
    "WorldGymRevealMismatch": "the lanes, environment weights and salt revealed by {validator} "
    "for epoch {epoch} hash to {revealed}, not to its commitment {committed}: reveal exactly "
    "what was committed",
    "WorldGymLaneCountMismatch": "epoch {epoch} has {batchCount} batches, so a reveal needs "
    "{expectedWords} words of lanes (12 per word), not {words}",
    "WorldGymInvalidLane": "the lane of batch {index} has score {score} (digest {digest}): a "
    "score is 0..10000 or FRAUD (16383)",
    "WorldGymNonZeroPadding": "word {word} of the lanes has bits set outside the lanes of real "
    "batches ({bits}): the low 4 bits and lanes past the last batch must be zero",
    "WorldGymTooManyEnvWeights": "{words} words of environment weights is more than the "
    "{maxWords} allowed (5 environments per word)",
    "WorldGymInvalidEnvWeight": "environment weight entry {position} (environment {envId}, "
    "weight {weight}, after environment {previousEnvId}) is malformed: ids must increase from 1, "
    "weights must be at most 10000, and zero entries may only end the last word",
    "WorldGymAlreadyFinalized": "epoch {epoch} is already finalized",
    "WorldGymZeroSteps": "finalize needs at least one step",
    "WorldGymZeroCommitment": "a commitment of zero is not allowed",
    "WorldGymEpochOutOfRange": "epoch {epoch} is past the last epoch the clock counts ({maxEpoch})",
    "WorldGymNothingToClaim": "{account} has no rewards to claim",
    "WorldGymUnknownBatch": "epoch {epoch} has {count} batches; there is no batch {index}",
    "WorldGymInvalidSplit": "the shares {minerBps} + {validatorBps} + {environmentBps} basis "
    "points must sum to 10000, and the slashes {slashBps} (validators) and {minerSlashBps} "
    "(miners) must be at most 10000",
    "WorldGymUnbondingTooShort": "miners are bonded but stake unbonds in {unbondingEpochs} "
    "epochs: at least {minEpochs} are needed so that a miner cannot leave before its batches "
    "are finalized",
    "WorldGymInvalidWindows": "an epoch of {epochLength} blocks cannot hold a {commitBlocks}-block "
    "commit window and a {revealBlocks}-block reveal window (both non-empty)",
    "WorldGymInvalidCaps": "invalid caps: batches per epoch {maxBatchesPerEpoch}, per miner "
    "{maxBatchesPerMiner}, traces per batch {maxTracesPerBatch}, validators per epoch "
    "{maxValidatorsPerEpoch} (each >= 1, validators <= 256)",
    "WeightedMedianBadLength": "internal: median of {n} entries of an array of {length}",
}


@cache
def protocol_decoder() -> RevertDecoder:
    """A decoder for every shipped contract, with these sentences."""
    return RevertDecoder.from_artifacts(TEMPLATES)
