// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TestBase} from "../harness/Test.sol";
import {Vm} from "../harness/Vm.sol";

import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {IWorldGymEvents} from "../../src/interfaces/IWorldGymEvents.sol";
import {IWorldGymToken} from "../../src/interfaces/IWorldGymToken.sol";
import {System} from "../utils/Deployer.sol";
import {LanePacking} from "../utils/LanePacking.sol";

/// @title ProtocolHandler
/// @notice Drives random but meaningful sequences through the whole protocol for the invariant
/// suite: staking (validators and bonded miners), unbonding, withdrawing, environments, models,
/// batches, time, commits, reveals (some of them deliberately mismatched), chunked finalization and
/// claims. Each action picks its actor from the fuzzer's input, skips itself when its preconditions
/// cannot hold (so that the campaign spends its calls on calls that can succeed), and records what it
/// saw in ghost variables that the invariants compare with the contracts' own books.
/// Validators see each batch's true verdict (one in eight is FRAUD) and reveal it, except that a
/// lazy one (one seed in eight) reveals at random and an honest one errs on one batch in eight.
contract ProtocolHandler is TestBase {
    bytes32 private immutable _EMISSION_MINTED = IWorldGymToken.EmissionMinted.selector;
    bytes32 private immutable _REWARD_CREDITED = IWorldGymEvents.RewardCredited.selector;
    bytes32 private immutable _REWARD_CLAIMED = IWorldGymEvents.RewardClaimed.selector;
    bytes32 private immutable _BATCH_SCORED = IWorldGymEvents.BatchScored.selector;
    bytes32 private immutable _VALIDATOR_SLASHED = IWorldGymEvents.ValidatorSlashed.selector;
    bytes32 private immutable _MINER_SLASHED = IWorldGymEvents.MinerSlashed.selector;
    bytes32 private immutable _ENV_WEIGHTED = IWorldGymEvents.EnvironmentWeighted.selector;
    bytes32 private immutable _EPOCH_SETTLED = IWorldGymEvents.EpochSettled.selector;
    uint256 private constant _FRAUD = 0x3FFF;

    System internal s;
    IWorldGym.Params internal p;
    uint256 internal _minStake;
    uint256 internal _bond;
    address internal _admin;

    address[] public validators;
    address[] public miners;
    address[] public envOwners;
    /// @notice Every account that can stake: validators, then miners.
    address[] public stakers;
    /// @notice Every account that can hold tokens outside the protocol's contracts (incl. the treasury).
    address[] public actors;
    uint256[] public envIds;
    /// @notice The oldest epoch not yet finalized (the handler finalizes in order).
    uint256 public nextToFinalize;

    // ─── ghosts ───────────────────────────────────────────────────────────────

    uint256 public ghostMinted;
    uint256 public ghostSlashed;
    uint256 public ghostMinerSlashed;
    uint256 public ghostCreditedTotal;
    uint256 public ghostClaimedTotal;
    mapping(address account => uint256) public ghostCredited;
    mapping(address account => uint256) public ghostClaimed;
    /// @notice Claims that paid something when nothing was owed (e.g. a second claim right after one).
    uint256 public ghostDoubleClaims;
    /// @notice Claims whose payout differed from what `claimable` reported just before.
    uint256 public ghostClaimMismatches;

    mapping(uint256 epoch => uint256) public ghostReveals;
    mapping(uint256 epoch => mapping(address validator => bool)) public ghostRevealed;
    uint256 public ghostBadRevealAttempts;
    /// @notice Mismatched reveals the protocol accepted (must stay 0).
    uint256 public ghostBadRevealsAccepted;

    uint256 public ghostScoredBatches;
    /// @notice BatchScored lanes outside [min, max] of that batch's revealed lanes.
    uint256 public ghostConsensusOutOfRange;
    /// @notice BatchScored weights other than score * traceCount (0 for FRAUD).
    uint256 public ghostWrongWeights;
    /// @notice EnvironmentWeighted weights outside [min, max] of the revealed weights for it.
    uint256 public ghostEnvWeightOutOfRange;
    uint256 public ghostFraudBatches;
    /// @notice Miner credits for a batch whose consensus was FRAUD (must stay 0).
    uint256 public ghostFraudPaid;
    /// @notice Miner slashes (one per FRAUD consensus while minerSlashBps > 0).
    uint256 public ghostMinerSlashes;
    uint256 public ghostSubmissionsSkippedForExpiredSeed;

    /// @notice Per epoch: the pots settled and what was credited from each.
    mapping(uint256 epoch => uint256) public ghostValidatorPot;
    mapping(uint256 epoch => uint256) public ghostBatchPots;
    mapping(uint256 epoch => uint256) public ghostValidatorCredits;
    mapping(uint256 epoch => uint256) public ghostBatchCredits;

    /// @notice How often each action did something, to inspect a campaign (e.g. from `afterInvariant`).
    mapping(bytes32 action => uint256) public calls;

    mapping(uint256 epoch => mapping(uint256 index => bool)) internal _fraud;
    mapping(uint256 epoch => mapping(address validator => uint256[])) internal _packed;
    mapping(uint256 epoch => mapping(address validator => uint256[])) internal _weights;
    mapping(uint256 epoch => mapping(address validator => bytes32)) internal _salt;

    constructor(
        System memory system,
        address treasury,
        address admin,
        address[] memory validators_,
        address[] memory miners_,
        address[] memory envOwners_,
        uint256 envId
    ) {
        s = system;
        p = system.gym.params();
        _minStake = system.staking.minStake();
        _bond = system.registry.registrationBond();
        _admin = admin;
        validators = validators_;
        miners = miners_;
        envOwners = envOwners_;
        envIds.push(envId);
        actors.push(treasury);
        for (uint256 i; i < validators_.length; ++i) {
            actors.push(validators_[i]);
            stakers.push(validators_[i]);
        }
        for (uint256 i; i < miners_.length; ++i) {
            actors.push(miners_[i]);
            stakers.push(miners_[i]);
        }
        for (uint256 i; i < envOwners_.length; ++i) {
            actors.push(envOwners_[i]);
        }
    }

    // ─── staking ──────────────────────────────────────────────────────────────

    function stake(uint256 who, uint256 amount) external {
        address v = _pick(stakers, who);
        uint256 balance = s.token.balanceOf(v);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.startPrank(v);
        s.token.approve(address(s.staking), amount);
        s.staking.stake(amount);
        vm.stopPrank();
        ++calls["stake"];
    }

    function requestUnbond(uint256 who, uint256 amount) external {
        address v = _pick(stakers, who);
        uint256 staked = s.staking.stakeOf(v);
        if (staked == 0) return;
        amount = bound(amount, 1, staked);
        vm.prank(v);
        s.staking.requestUnbond(amount);
        ++calls["requestUnbond"];
    }

    function withdraw(uint256 who) external {
        address v = _pick(stakers, who);
        (uint256 amount, uint256 release, uint256 pending) = s.staking.unbondingOf(v);
        if (amount == 0 || pending != 0 || s.gym.currentEpoch() < release) return;
        vm.prank(v);
        s.staking.withdraw();
        ++calls["withdraw"];
    }

    // ─── environments and models ──────────────────────────────────────────────

    function registerEnvironment(uint256 who) external {
        if (envIds.length >= 4) return;
        address owner = _pick(envOwners, who);
        if (s.token.balanceOf(owner) < _bond) return;
        vm.startPrank(owner);
        s.token.approve(address(s.registry), _bond);
        envIds.push(s.registry.registerEnvironment(abi.encodePacked(hex"1220", keccak256(abi.encode(envIds.length)))));
        vm.stopPrank();
        ++calls["registerEnvironment"];
    }

    /// @dev Deactivates an environment (keeping one active so that mining goes on), or withdraws
    /// the bond of one already deactivated once its delay has passed.
    function retireEnvironment(uint256 which) external {
        uint256 envId = envIds[bound(which, 0, envIds.length - 1)];
        (address owner,, bool active, uint256 deactivatedAt, uint256 bond) = s.registry.environment(envId);
        if (active) {
            if (_activeEnvironments() < 2) return;
            vm.prank(owner);
            s.registry.deactivate(envId);
            ++calls["deactivate"];
        } else if (bond > 0 && vm.getBlockNumber() >= deactivatedAt + s.registry.bondReleaseDelay()) {
            vm.prank(owner);
            s.registry.withdrawBond(envId);
            ++calls["withdrawBond"];
        }
    }

    /// @dev The refinery registers a new model (up to eight), which makes older ones stale.
    function registerModel(uint256 salt) external {
        uint256 latest = s.models.latestModelId();
        if (latest >= 8) return;
        vm.prank(_admin);
        bytes memory checkpoint = abi.encodePacked(hex"1220", keccak256(abi.encode("model", latest, salt)));
        s.models.registerModel(checkpoint, latest, abi.encodePacked(hex"1220", keccak256("dataset")), 0);
        ++calls["registerModel"];
    }

    // ─── mining ───────────────────────────────────────────────────────────────

    /// @dev One to four bonded miners from `who` on each submit a batch in the current epoch, with the
    /// latest model or one of the `maxModelLag` before it.
    function submitBatch(uint256 who, uint256 which, uint256 traces) external {
        uint256 epoch = s.gym.currentEpoch();
        if (s.gym.seedOf(epoch) == 0 && vm.getBlockNumber() > s.gym.epochStart(epoch) - 1 + 256) {
            ++ghostSubmissionsSkippedForExpiredSeed; // a void epoch: nobody poked its seed in time
            return;
        }
        uint256 latest = s.models.latestModelId();
        uint256 count = 1 + _draw(who, 0, 4);
        for (uint256 i; i < count; ++i) {
            address miner = miners[(who % miners.length + i) % miners.length];
            if (s.gym.batchCount(epoch) >= p.maxBatchesPerEpoch) return;
            if (s.gym.minerBatchCount(epoch, miner) >= p.maxBatchesPerMiner) continue;
            if (s.staking.stakeOf(miner) < p.minerStake) continue;
            uint256 envId = _activeEnvironment(_draw(which, i, envIds.length));
            uint256 n = 1 + _draw(traces, i, p.maxTracesPerBatch);
            uint256 lag = _draw(traces, i + 7, (latest - 1 < p.maxModelLag ? latest - 1 : p.maxModelLag) + 1);
            bytes memory cid = abi.encodePacked(hex"1220", keccak256(abi.encode(epoch, who, i, n)));
            vm.prank(miner);
            s.gym.submitBatch(envId, 1, cid, n, latest - lag);
            ++calls["submitBatch"];
        }
    }

    // ─── time ─────────────────────────────────────────────────────────────────

    /// @dev A few blocks on.
    function roll(uint256 blocks) external {
        vm.roll(vm.getBlockNumber() + bound(blocks, 1, 3));
        ++calls["roll"];
    }

    /// @dev To the next block at which a window opens or closes (reveal, finalize, next epoch), so
    /// that campaigns live through many epochs and spend their calls inside the short windows.
    function rollToNextWindow() external {
        uint256 now_ = vm.getBlockNumber();
        uint256 epoch = s.gym.currentEpoch();
        uint256 start = s.gym.epochStart(epoch);
        uint256 next = start + p.commitBlocks;
        if (now_ >= next) next = start + p.commitBlocks + p.revealBlocks;
        if (now_ >= next) next = s.gym.epochStart(epoch + 1);
        vm.roll(next);
        ++calls["rollToNextWindow"];
    }

    // ─── validating ───────────────────────────────────────────────────────────

    /// @dev Each validator that can commit for the previous epoch does, with probability 3/4,
    /// up to the protocol's cap on validators.
    function commit(uint256 who, uint256 scoreSeed) external {
        (bool open, uint256 epoch) = _waitFor(IWorldGym.Window.Commit);
        if (!open) return;
        for (uint256 i; i < validators.length; ++i) {
            address v = validators[i];
            if (_draw(who, i, 4) == 0 || _salt[epoch][v] != 0 || s.staking.stakeOf(v) < _minStake) continue;
            if (s.gym.validatorsOf(epoch).length >= p.maxValidatorsPerEpoch) return;
            uint256 seed = uint256(keccak256(abi.encode(scoreSeed, i)));
            uint256[] memory packed = LanePacking.pack(_lanes(epoch, seed));
            uint256[] memory weights = _envWeights(seed);
            bytes32 salt = keccak256(abi.encode("salt", epoch, v, seed));
            _packed[epoch][v] = packed;
            _weights[epoch][v] = weights;
            _salt[epoch][v] = salt;
            vm.prank(v);
            s.gym.commit(epoch, keccak256(abi.encode(epoch, v, packed, weights, salt)));
            ++calls["commit"];
        }
    }

    /// @dev Each validator that committed for the previous epoch and has not revealed acts on a
    /// draw from `mode`: 0 stays silent (and will be slashed if it never reveals), 1 reveals
    /// altered lanes, 2 reveals with a wrong salt (both must revert and never count), 3-7 reveal
    /// what it committed to.
    function reveal(uint256 mode) external {
        (bool open, uint256 epoch) = _waitFor(IWorldGym.Window.Reveal);
        if (!open) return;
        for (uint256 i; i < validators.length; ++i) {
            address v = validators[i];
            bytes32 salt = _salt[epoch][v];
            if (salt == 0 || ghostRevealed[epoch][v]) continue;
            uint256[] memory packed = _packed[epoch][v];
            uint256[] memory weights = _weights[epoch][v];
            uint256 draw = _draw(mode, i, 8);
            if (draw == 0) continue;
            if (draw < 3) {
                if (draw == 1) {
                    if (packed.length == 0) continue; // nothing to alter in an epoch without batches
                    packed[0] ^= 1 << 4; // the digest of the last lane of word 0 moves by one
                } else {
                    salt = ~salt;
                }
                ++ghostBadRevealAttempts;
                vm.prank(v);
                try s.gym.reveal(epoch, packed, weights, salt) {
                    ++ghostBadRevealsAccepted;
                } catch {}
                ++calls["reveal (mismatched)"];
                continue;
            }
            vm.prank(v);
            s.gym.reveal(epoch, packed, weights, salt);
            ++ghostReveals[epoch];
            ghostRevealed[epoch][v] = true;
            ++calls["reveal"];
        }
    }

    // ─── finalizing and claiming ──────────────────────────────────────────────

    /// @dev Advances finalization of the oldest unfinalized epochs: up to three finalize calls of
    /// `steps` units each, moving on to the next epoch whenever one completes.
    function finalize(uint256 steps) external {
        steps = bound(steps, 1, 12);
        for (uint256 i; i < 3; ++i) {
            uint256 epoch = nextToFinalize;
            (uint256 opensAt,) = s.gym.windowOf(epoch, IWorldGym.Window.Finalize);
            if (vm.getBlockNumber() < opensAt) return;
            vm.recordLogs();
            bool done = s.gym.finalize(epoch, steps);
            _absorb(vm.getRecordedLogs());
            if (done) ++nextToFinalize;
            ++calls["finalize"];
        }
    }

    function claim(uint256 who) external {
        address account = _pick(actors, who);
        if (s.gym.claimable(account) == 0) {
            ++calls["claim (nothing owed)"];
            vm.prank(account);
            try s.gym.claim() {
                ++ghostDoubleClaims; // nothing was owed, yet something was paid
            } catch {}
            return;
        }
        uint256 owed = s.gym.claimable(account);
        vm.recordLogs();
        vm.prank(account);
        uint256 paid = s.gym.claim();
        _absorb(vm.getRecordedLogs());
        if (paid != owed) ++ghostClaimMismatches;
        // A second claim right away has nothing left to pay.
        vm.prank(account);
        try s.gym.claim() {
            ++ghostDoubleClaims;
        } catch {}
        ++calls["claim"];
    }

    // ─── views for the invariants ─────────────────────────────────────────────

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function validatorCount() external view returns (uint256) {
        return validators.length;
    }

    function stakerCount() external view returns (uint256) {
        return stakers.length;
    }

    // ─── internal: events ─────────────────────────────────────────────────────

    /// @dev Folds the events of a finalize or claim into the ghosts.
    function _absorb(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            bytes32 topic = log.topics[0];
            if (log.emitter == address(s.token) && topic == _EMISSION_MINTED) {
                (, uint256 minted) = abi.decode(log.data, (uint256, uint256));
                ghostMinted += minted;
            } else if (log.emitter != address(s.gym)) {
                continue;
            } else if (topic == _REWARD_CREDITED) {
                _absorbCredit(log);
            } else if (topic == _REWARD_CLAIMED) {
                address account = address(uint160(uint256(log.topics[1])));
                uint256 amount = abi.decode(log.data, (uint256));
                ghostClaimed[account] += amount;
                ghostClaimedTotal += amount;
            } else if (topic == _VALIDATOR_SLASHED) {
                ghostSlashed += abi.decode(log.data, (uint256));
            } else if (topic == _MINER_SLASHED) {
                uint256 amount = abi.decode(log.data, (uint256));
                ghostSlashed += amount;
                ghostMinerSlashed += amount;
                ++ghostMinerSlashes;
            } else if (topic == _BATCH_SCORED) {
                (uint256 score, uint256 digest, uint256 weight) = abi.decode(log.data, (uint256, uint256, uint256));
                _checkScored(uint256(log.topics[1]), uint256(log.topics[2]), score, digest, weight);
            } else if (topic == _ENV_WEIGHTED) {
                _checkEnvWeight(uint256(log.topics[1]), uint256(log.topics[2]), abi.decode(log.data, (uint256)));
            } else if (topic == _EPOCH_SETTLED) {
                (,, uint256 minerPot, uint256 validatorPot, uint256 envPot) =
                    abi.decode(log.data, (uint256, uint256, uint256, uint256, uint256));
                uint256 epoch = uint256(log.topics[1]);
                ghostValidatorPot[epoch] = validatorPot;
                ghostBatchPots[epoch] = minerPot + envPot;
            }
        }
    }

    function _absorbCredit(Vm.Log memory log) internal {
        (uint256 subject, uint256 amount) = abi.decode(log.data, (uint256, uint256));
        uint256 epoch = uint256(log.topics[1]);
        address account = address(uint160(uint256(log.topics[2])));
        IWorldGymEvents.Role role = IWorldGymEvents.Role(uint256(log.topics[3]));
        ghostCredited[account] += amount;
        ghostCreditedTotal += amount;
        if (role == IWorldGymEvents.Role.Validator) {
            ghostValidatorCredits[epoch] += amount;
        } else {
            ghostBatchCredits[epoch] += amount;
            if (role == IWorldGymEvents.Role.Miner && _fraud[epoch][subject]) ++ghostFraudPaid;
        }
    }

    function _checkScored(uint256 epoch, uint256 index, uint256 score, uint256 digest, uint256 weight) internal {
        ++ghostScoredBatches;
        uint256 consensus = (score << 7) | digest;
        address[] memory committed = s.gym.validatorsOf(epoch);
        uint256 lo = type(uint256).max;
        uint256 hi;
        for (uint256 i; i < committed.length; ++i) {
            if (!ghostRevealed[epoch][committed[i]]) continue;
            uint256 lane = s.gym.revealedLane(epoch, committed[i], index);
            if (lane < lo) lo = lane;
            if (lane > hi) hi = lane;
        }
        if (consensus < lo || consensus > hi) ++ghostConsensusOutOfRange;
        (,,, uint256 traces) = s.gym.batch(epoch, index);
        if (score == _FRAUD) {
            _fraud[epoch][index] = true;
            ++ghostFraudBatches;
            if (weight != 0) ++ghostWrongWeights;
        } else if (weight != score * traces || score > 10_000) {
            ++ghostWrongWeights;
        }
    }

    function _checkEnvWeight(uint256 epoch, uint256 envId, uint256 weight) internal {
        address[] memory committed = s.gym.validatorsOf(epoch);
        uint256 lo = type(uint256).max;
        uint256 hi;
        for (uint256 i; i < committed.length; ++i) {
            if (!ghostRevealed[epoch][committed[i]]) continue;
            uint256 w = s.gym.revealedEnvWeight(epoch, committed[i], envId);
            if (w < lo) lo = w;
            if (w > hi) hi = w;
        }
        if (weight < lo || weight > hi) ++ghostEnvWeightOutOfRange;
    }

    // ─── internal: verdicts ───────────────────────────────────────────────────

    /// @dev Lanes for every batch of `epoch`. Each batch has a true verdict (one in eight FRAUD, the
    /// rest a score with a digest); an honest validator reveals it but errs on one batch in eight (a
    /// different digest); a lazy one (one seed in eight) reveals random lanes.
    function _lanes(uint256 epoch, uint256 seed) internal view returns (uint256[] memory lanes) {
        lanes = new uint256[](s.gym.batchCount(epoch));
        bool lazy = seed % 8 == 0;
        for (uint256 b; b < lanes.length; ++b) {
            uint256 truth = uint256(keccak256(abi.encode("verdict", epoch, b)));
            uint256 r = uint256(keccak256(abi.encode(seed, b)));
            if (lazy) {
                lanes[b] = LanePacking.lane(r % 10_001, (r >> 128) % 128);
            } else {
                uint256 score = truth % 8 == 0 ? _FRAUD : (truth >> 8) % 10_001;
                uint256 digest = (truth >> 128) % 128;
                if (r % 8 == 0) digest = (digest + 1) % 128;
                lanes[b] = LanePacking.lane(score, digest);
            }
        }
    }

    /// @dev Weights for a random subset of the registered environments (ids increasing).
    function _envWeights(uint256 seed) internal view returns (uint256[] memory) {
        uint256 n = envIds.length;
        uint256[] memory ids = new uint256[](n);
        uint256[] memory weights = new uint256[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, "weights", i)));
            if (r % 4 == 0) continue; // unlisted: weight 0 from this validator
            ids[count] = envIds[i]; // registered in increasing id order
            weights[count] = r % 3 == 0 ? 0 : (r >> 8) % 10_001;
            ++count;
        }
        assembly ("memory-safe") {
            mstore(ids, count)
            mstore(weights, count)
        }
        return LanePacking.packWeights(ids, weights);
    }

    // ─── internal: windows and picks ──────────────────────────────────────────

    /// @dev A validator waits for its window: if `window` (Commit or Reveal) of the previous epoch is
    /// open, that epoch; otherwise the chain rolls to the next such window if it opens before the
    /// current epoch's next commit-reveal cycle would be skipped, and returns its epoch then.
    /// Commit waits from the submit-only part of an epoch (for that epoch's commit window); Reveal
    /// waits from the commit window. Elsewhere nothing happens (open is false).
    function _waitFor(IWorldGym.Window window) internal returns (bool open, uint256 epoch) {
        uint256 now_ = vm.getBlockNumber();
        uint256 current = s.gym.currentEpoch();
        if (current > 0) {
            (uint256 opensAt, uint256 closesAt) = s.gym.windowOf(current - 1, window);
            if (now_ >= opensAt && now_ < closesAt) return (true, current - 1);
            if (window == IWorldGym.Window.Reveal && now_ < opensAt) {
                vm.roll(opensAt);
                return (true, current - 1);
            }
        }
        if (window == IWorldGym.Window.Commit) {
            (, uint256 lastClose) = s.gym.windowOf(current == 0 ? 0 : current - 1, IWorldGym.Window.Reveal);
            if (current == 0 || now_ >= lastClose) {
                vm.roll(s.gym.epochStart(current + 1));
                return (true, current);
            }
        }
        return (false, 0);
    }

    function _activeEnvironments() internal view returns (uint256 count) {
        for (uint256 i; i < envIds.length; ++i) {
            (,, bool active,,) = s.registry.environment(envIds[i]);
            if (active) ++count;
        }
    }

    function _activeEnvironment(uint256 which) internal view returns (uint256) {
        uint256 n = envIds.length;
        uint256 start = bound(which, 0, n - 1);
        for (uint256 i; i < n; ++i) {
            uint256 envId = envIds[(start + i) % n];
            (,, bool active,,) = s.registry.environment(envId);
            if (active) return envId;
        }
        revert("ProtocolHandler: no active environment");
    }

    /// @dev A per-validator draw in [0, n) from one fuzzed word (hashed: fuzzers favour small and
    /// extreme words, whose raw bits would make every validator draw the same).
    function _draw(uint256 seed, uint256 i, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i))) % n;
    }

    function _pick(address[] storage list, uint256 seed) internal view returns (address) {
        return list[bound(seed, 0, list.length - 1)];
    }
}
