// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "../harness/Test.sol";

import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {DeployConfig, Deployer, System} from "../utils/Deployer.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";

/// @notice Whole-protocol invariants under random sequences of every user action (see
/// {ProtocolHandler}). The handler only makes calls whose preconditions hold, so any revert is a
/// bug: the campaigns fail on revert. Mismatched reveals are the exception, made on purpose and
/// caught inside the handler.
/// Campaign sizes: the default profile runs 32 x 64 calls per invariant, `ci` 64 x 200 (12,800).
/// forge-config: default.invariant.fail-on-revert = true
/// forge-config: ci.invariant.fail-on-revert = true
contract ProtocolInvariantTest is Test {
    uint256 internal constant GENESIS = 1_000_000e18;

    System internal s;
    ProtocolHandler internal handler;

    function setUp() public {
        address treasury = makeAddr("treasury");
        address admin = makeAddr("admin");
        DeployConfig memory c = Deployer.devnetConfig(treasury, admin);
        c.genesisSupply = GENESIS;
        c.halvingInterval = 4;
        c.cap = GENESIS + 6_000e18; // below the schedule's total (8,000): campaigns can reach the cap
        c.params = IWorldGym.Params({
            epochLength: 10,
            commitBlocks: 3,
            revealBlocks: 3,
            maxBatchesPerEpoch: 24,
            maxBatchesPerMiner: 6,
            maxTracesPerBatch: 64,
            maxValidatorsPerEpoch: 4, // five validators compete for four seats
            minerBps: 6_000,
            validatorBps: 2_500,
            environmentBps: 1_500,
            slashBps: 1_000,
            minerSlashBps: 2_000,
            maxModelLag: 2,
            minerStake: 50e18
        });
        s = Deployer.deploy(c);

        address[] memory validators = _actors("validator", 5, 5_000e18);
        address[] memory miners = _actors("miner", 4, 300e18);
        address[] memory owners = _actors("envOwner", 2, 1_000e18);
        vm.startPrank(owners[0]);
        s.token.approve(address(s.registry), c.registrationBond);
        uint256 envId = s.registry.registerEnvironment(abi.encodePacked(hex"1220", keccak256("env")));
        vm.stopPrank();
        vm.prank(admin);
        s.models.registerModel(abi.encodePacked(hex"1220", keccak256("model")), 0, "", 0);

        for (uint256 i; i < validators.length; ++i) {
            _stakeAs(validators[i], 3_000e18);
        }
        for (uint256 i; i < miners.length; ++i) {
            _stakeAs(miners[i], 100e18); // the bond is 50: two FRAUD slashes of 20% leave it at 64
        }
        handler = new ProtocolHandler(s, treasury, admin, validators, miners, owners, envId);

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = ProtocolHandler.stake.selector;
        selectors[1] = ProtocolHandler.requestUnbond.selector;
        selectors[2] = ProtocolHandler.withdraw.selector;
        selectors[3] = ProtocolHandler.registerEnvironment.selector;
        selectors[4] = ProtocolHandler.retireEnvironment.selector;
        selectors[5] = ProtocolHandler.submitBatch.selector;
        selectors[6] = ProtocolHandler.roll.selector;
        selectors[7] = ProtocolHandler.commit.selector;
        selectors[8] = ProtocolHandler.reveal.selector;
        selectors[9] = ProtocolHandler.finalize.selector;
        selectors[10] = ProtocolHandler.claim.selector;
        selectors[11] = ProtocolHandler.rollToNextWindow.selector;
        selectors[12] = ProtocolHandler.registerModel.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function _actors(string memory role, uint256 n, uint256 funds) internal returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = makeAddr(string.concat(role, vm.toString(i)));
            if (funds > 0) {
                vm.prank(makeAddr("treasury"));
                assertTrue(s.token.transfer(list[i], funds));
            }
        }
    }

    function _stakeAs(address account, uint256 amount) internal {
        vm.startPrank(account);
        s.token.approve(address(s.staking), amount);
        s.staking.stake(amount);
        vm.stopPrank();
    }

    function _balance(address account) internal view returns (uint256) {
        return s.token.balanceOf(account);
    }

    // ─── 1. tokens ────────────────────────────────────────────────────────────

    /// Supply only grows by minted emission, and every token is held by a known account.
    function invariant_tokensAreConserved() public view {
        uint256 supply = s.token.totalSupply();
        assertEq(supply, GENESIS + handler.ghostMinted(), "supply = genesis + emissions");
        assertLe(supply, s.token.cap(), "supply <= cap");
        uint256 held = _balance(address(s.staking)) + _balance(address(s.gym)) + _balance(address(s.registry));
        for (uint256 i; i < handler.actorCount(); ++i) {
            held += _balance(handler.actors(i));
        }
        assertEq(held, supply, "balances add up to supply");
    }

    // ─── 2. the protocol's books ──────────────────────────────────────────────

    /// WorldGym holds exactly what it owes, what it carries and what it has yet to credit, and that
    /// is exactly what came in (emissions and slashes) less what went out (claims).
    function invariant_gymBalanceEqualsClaimableCarryAndUnallocated() public view {
        uint256 owed = s.gym.totalClaimable() + s.gym.carry() + s.gym.unallocated();
        assertEq(_balance(address(s.gym)), owed, "balance = claimable + carry + unallocated");
        assertEq(
            handler.ghostCreditedTotal() + s.gym.carry() + s.gym.unallocated(),
            handler.ghostMinted() + handler.ghostSlashed(),
            "credited + carry + unallocated = minted + slashed (validators and miners)"
        );
    }

    // ─── 3. claims ────────────────────────────────────────────────────────────

    /// What each account was paid is what the handler saw in RewardClaimed events, and what it was
    /// credited (RewardCredited events) is exactly what it claimed plus what it can still claim.
    function invariant_rewardsAreNeverClaimedTwice() public view {
        assertEq(handler.ghostDoubleClaims(), 0, "a claim paid with nothing owed");
        assertEq(handler.ghostClaimMismatches(), 0, "a claim paid other than claimable");
        uint256 claimable;
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            assertEq(s.gym.claimedBy(a), handler.ghostClaimed(a), "claimedBy = sum of RewardClaimed");
            assertEq(
                handler.ghostCredited(a), s.gym.claimedBy(a) + s.gym.claimable(a), "credited = claimed + claimable"
            );
            claimable += s.gym.claimable(a);
        }
        assertEq(s.gym.totalClaimable(), claimable, "totalClaimable = sum over accounts");
        assertEq(handler.ghostCreditedTotal(), claimable + handler.ghostClaimedTotal());
    }

    // ─── 4. staking ───────────────────────────────────────────────────────────

    function invariant_stakingBalanceEqualsStakesAndUnbonding() public view {
        uint256 totals = s.staking.totalStaked() + s.staking.totalUnbonding();
        assertEq(_balance(address(s.staking)), totals, "balance = staked + unbonding");
        uint256 sum;
        for (uint256 i; i < handler.stakerCount(); ++i) {
            address v = handler.stakers(i);
            (uint256 unbonding,,) = s.staking.unbondingOf(v);
            sum += s.staking.stakeOf(v) + unbonding;
        }
        assertEq(sum, totals, "totals = sum over validators and miners");
    }

    /// A validator's pending count is the number of its commitments not yet settled, so nobody
    /// can withdraw ahead of a slash.
    function invariant_pendingCommitmentsMatchUnsettledEpochs() public view {
        uint256 n = handler.validatorCount();
        uint256[] memory expected = new uint256[](n);
        uint256 current = s.gym.currentEpoch();
        for (uint256 e; e <= current; ++e) {
            address[] memory committed = s.gym.validatorsOf(e);
            (IWorldGym.Stage stage, uint256 cursor,) = s.gym.finalization(e);
            for (uint256 i; i < committed.length; ++i) {
                bool settled =
                    stage == IWorldGym.Stage.Finalized || (stage == IWorldGym.Stage.PayingValidators && i < cursor);
                if (!settled) ++expected[_indexOf(committed[i])];
            }
        }
        for (uint256 i; i < n; ++i) {
            (,, uint256 pending) = s.staking.unbondingOf(handler.validators(i));
            assertEq(pending, expected[i], "pending = unsettled commitments");
        }
    }

    // ─── 5. reveals ───────────────────────────────────────────────────────────

    /// Only reveals that match their commitment count; every mismatched reveal reverted.
    function invariant_mismatchedRevealsNeverCount() public view {
        assertEq(handler.ghostBadRevealsAccepted(), 0, "a mismatched reveal was accepted");
        uint256 current = s.gym.currentEpoch();
        for (uint256 e; e <= current; ++e) {
            (,, uint256 reveals) = s.gym.finalization(e);
            assertEq(reveals, handler.ghostReveals(e), "revealCount = matching reveals");
            address[] memory committed = s.gym.validatorsOf(e);
            for (uint256 i; i < committed.length; ++i) {
                (,, bool revealed,) = s.gym.commitmentRecord(e, committed[i]);
                assertEq(revealed, handler.ghostRevealed(e, committed[i]), "revealed flag");
            }
        }
    }

    // ─── 6. consensus ─────────────────────────────────────────────────────────

    /// Every scored batch's consensus lane lies between the lowest and highest revealed lane for it,
    /// both as each BatchScored event said and as stored for every finalized epoch; its weight is
    /// score x traces (0 for FRAUD); every environment weight lies within the revealed weights.
    function invariant_consensusLiesWithinRevealedScores() public view {
        assertEq(handler.ghostConsensusOutOfRange(), 0, "a BatchScored consensus out of range");
        assertEq(handler.ghostWrongWeights(), 0, "a BatchScored weight other than score x traces");
        assertEq(handler.ghostEnvWeightOutOfRange(), 0, "an environment weight out of range");
        for (uint256 e; e < handler.nextToFinalize(); ++e) {
            (,, uint256 reveals) = s.gym.finalization(e);
            if (reveals == 0) continue;
            address[] memory committed = s.gym.validatorsOf(e);
            for (uint256 b; b < s.gym.batchCount(e); ++b) {
                uint256 lo = type(uint256).max;
                uint256 hi;
                for (uint256 i; i < committed.length; ++i) {
                    (,, bool revealed,) = s.gym.commitmentRecord(e, committed[i]);
                    if (!revealed) continue;
                    uint256 score = s.gym.revealedLane(e, committed[i], b);
                    if (score < lo) lo = score;
                    if (score > hi) hi = score;
                }
                uint256 consensus = s.gym.consensusOf(e, b);
                assertGe(consensus, lo, "consensus >= min revealed");
                assertLe(consensus, hi, "consensus <= max revealed");
            }
        }
    }

    // ─── 7. fraud, miner bonds and pots ───────────────────────────────────────

    /// A batch whose consensus is FRAUD never pays its miner, and each one slashes its miner.
    function invariant_fraudNeverPaysAndAlwaysSlashes() public view {
        assertEq(handler.ghostFraudPaid(), 0, "a FRAUD batch paid its miner");
        assertEq(handler.ghostMinerSlashes(), handler.ghostFraudBatches(), "one miner slash per FRAUD batch");
    }

    /// In every finalized epoch the validators' credits never exceed the validator pot, and the
    /// miners' and environment owners' credits never exceed their pots.
    function invariant_creditsNeverExceedTheirPots() public view {
        for (uint256 e; e < handler.nextToFinalize(); ++e) {
            assertLe(handler.ghostValidatorCredits(e), handler.ghostValidatorPot(e), "validator credits > pot");
            assertLe(handler.ghostBatchCredits(e), handler.ghostBatchPots(e), "batch credits > pots");
            (,, uint256 minerPot, uint256 validatorPot, uint256 envPot) = s.gym.settlement(e);
            assertEq(validatorPot, handler.ghostValidatorPot(e), "validator pot as settled");
            assertEq(minerPot + envPot, handler.ghostBatchPots(e), "batch pots as settled");
        }
    }

    function _indexOf(address validator) internal view returns (uint256) {
        for (uint256 i; i < handler.validatorCount(); ++i) {
            if (handler.validators(i) == validator) return i;
        }
        revert("not a handler validator");
    }
}
