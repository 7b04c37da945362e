// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "../harness/Test.sol";

import {IEnvironmentRegistry} from "../../src/interfaces/IEnvironmentRegistry.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {IStaking} from "../../src/interfaces/IStaking.sol";
import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {IWorldGymToken} from "../../src/interfaces/IWorldGymToken.sol";
import {DeployConfig, Deployer, System} from "./Deployer.sol";
import {LanePacking} from "./LanePacking.sol";

/// @title BaseTest
/// @notice A wired devnet deployment with named actors, one registered environment (id 1,
/// owned by `envOwner`), one base model (id 1) and bonded miners `miner1` and `miner2`, left in
/// the first block of epoch 0 (the deployment block), plus helpers for every protocol step.
abstract contract BaseTest is Test {
    address internal treasury = makeAddr("treasury");
    address internal admin = makeAddr("admin");
    address internal envOwner = makeAddr("envOwner");
    address internal miner1 = makeAddr("miner1");
    address internal miner2 = makeAddr("miner2");
    address internal validator1 = makeAddr("validator1");
    address internal validator2 = makeAddr("validator2");
    address internal validator3 = makeAddr("validator3");
    address internal stranger = makeAddr("stranger");

    DeployConfig internal cfg;
    IWorldGymToken internal token;
    IEnvironmentRegistry internal registry;
    IStaking internal staking;
    IModelRegistry internal models;
    IWorldGym internal gym;

    uint256 internal envId;
    uint256 internal modelId;
    /// @dev Every environment registered through `_registerEnv`, in id order.
    uint256[] internal envList;
    uint256 private _cidNonce;

    function setUp() public virtual {
        cfg = Deployer.devnetConfig(treasury, admin);
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        modelId = _registerModel();
        _bondMiner(miner1);
        _bondMiner(miner2);
    }

    // ─── deployment ───────────────────────────────────────────────────────────

    function _deploy(DeployConfig memory c) internal {
        delete envList;
        System memory s = Deployer.deploy(c);
        token = s.token;
        registry = s.registry;
        staking = s.staking;
        models = s.models;
        gym = s.gym;
    }

    // ─── CIDs ─────────────────────────────────────────────────────────────────

    /// @dev A fresh binary CIDv0 (sha2-256 multihash) on every call.
    function _cid() internal returns (bytes memory) {
        return abi.encodePacked(hex"1220", keccak256(abi.encode("cid", ++_cidNonce)));
    }

    /// @dev A binary CIDv1 with the given codec over a sha2-256 digest.
    function _cidV1(bytes1 codec) internal returns (bytes memory) {
        return abi.encodePacked(hex"01", codec, hex"1220", keccak256(abi.encode("cid", ++_cidNonce)));
    }

    // ─── tokens and stake ─────────────────────────────────────────────────────

    function _fund(address who, uint256 amount) internal {
        vm.prank(treasury);
        assertTrue(token.transfer(who, amount));
    }

    function _stake(address validator, uint256 amount) internal {
        _fund(validator, amount);
        vm.startPrank(validator);
        token.approve(address(staking), amount);
        staking.stake(amount);
        vm.stopPrank();
    }

    /// @dev Stakes the miners' bond for `miner`.
    function _bondMiner(address miner) internal {
        _stake(miner, gym.params().minerStake);
    }

    // ─── registries ───────────────────────────────────────────────────────────

    function _registerEnv(address owner) internal returns (uint256 id) {
        uint256 bond = registry.registrationBond();
        _fund(owner, bond);
        vm.startPrank(owner);
        token.approve(address(registry), bond);
        id = registry.registerEnvironment(_cid());
        vm.stopPrank();
        envList.push(id);
    }

    function _registerModel() internal returns (uint256 id) {
        vm.prank(admin);
        id = models.registerModel(_cid(), 0, "", keccak256("metrics"));
    }

    // ─── clock ────────────────────────────────────────────────────────────────

    function _opens(uint256 epoch, IWorldGym.Window window) internal view returns (uint256 opensAt) {
        (opensAt,) = gym.windowOf(epoch, window);
    }

    function _closes(uint256 epoch, IWorldGym.Window window) internal view returns (uint256 closesAt) {
        (, closesAt) = gym.windowOf(epoch, window);
    }

    /// @dev The current block. Tests read it through the cheatcode: under via-IR, `block.number`
    /// may be evaluated once per transaction and miss a `vm.roll`.
    function _now() internal view returns (uint256) {
        return vm.getBlockNumber();
    }

    function _rollToWindow(uint256 epoch, IWorldGym.Window window) internal {
        vm.roll(_opens(epoch, window));
    }

    // ─── protocol steps ───────────────────────────────────────────────────────

    function _submit(address miner, uint256 traceCount) internal returns (uint256 index) {
        return _submitTo(miner, envId, traceCount);
    }

    /// @dev Submits a batch as `miner` (bonding it first if it is not), with environment version 1.
    function _submitTo(address miner, uint256 env, uint256 traceCount) internal returns (uint256 index) {
        if (staking.stakeOf(miner) < gym.params().minerStake) _bondMiner(miner);
        vm.prank(miner);
        (, index,) = gym.submitBatch(env, 1, _cid(), traceCount, modelId);
    }

    function _commitment(uint256 epoch, address validator, uint256[] memory packed, uint256[] memory weights, bytes32 salt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(epoch, validator, packed, weights, salt));
    }

    /// @dev Every registered environment at full weight: what a validator reveals by default. Read
    /// from the test's own list, not the chain, so that it makes no call between an expectRevert and
    /// the call it is meant for.
    function _fullWeights() internal view returns (uint256[] memory) {
        uint256[] memory weights = new uint256[](envList.length);
        for (uint256 i; i < weights.length; ++i) {
            weights[i] = 10_000;
        }
        return LanePacking.packWeights(envList, weights);
    }

    /// @dev Commits to `lanes` (one per batch, unpacked) and full weights; returns the packed lanes.
    function _commit(address validator, uint256 epoch, uint256[] memory lanes, bytes32 salt)
        internal
        returns (uint256[] memory packed)
    {
        return _commitWith(validator, epoch, lanes, _fullWeights(), salt);
    }

    /// @dev Commits to `lanes` (unpacked) and packed `weights`; returns the packed lanes.
    function _commitWith(
        address validator,
        uint256 epoch,
        uint256[] memory lanes,
        uint256[] memory weights,
        bytes32 salt
    ) internal returns (uint256[] memory packed) {
        packed = LanePacking.pack(lanes);
        vm.prank(validator);
        gym.commit(epoch, _commitment(epoch, validator, packed, weights, salt));
    }

    function _reveal(address validator, uint256 epoch, uint256[] memory lanes, bytes32 salt) internal {
        _revealWith(validator, epoch, lanes, _fullWeights(), salt);
    }

    function _revealWith(
        address validator,
        uint256 epoch,
        uint256[] memory lanes,
        uint256[] memory weights,
        bytes32 salt
    ) internal {
        uint256[] memory packed = LanePacking.pack(lanes);
        vm.prank(validator);
        gym.reveal(epoch, packed, weights, salt);
    }

    /// @dev The lane of a verdict: `score << 7 | digest`.
    function _lane(uint256 score, uint256 digest) internal pure returns (uint256) {
        return LanePacking.lane(score, digest);
    }

    function _finalizeAll(uint256 epoch) internal {
        assertTrue(gym.finalize(epoch, 10_000), "finalize did not complete");
    }

    // ─── arrays ───────────────────────────────────────────────────────────────

    function _u(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _u(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _u(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }
}
