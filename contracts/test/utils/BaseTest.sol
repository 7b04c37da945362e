// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";

import {IEnvironmentRegistry} from "../../src/interfaces/IEnvironmentRegistry.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {IStaking} from "../../src/interfaces/IStaking.sol";
import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {IWorldGymToken} from "../../src/interfaces/IWorldGymToken.sol";
import {DeployConfig, Deployer, System} from "./Deployer.sol";
import {ScorePacking} from "./ScorePacking.sol";

/// @title BaseTest
/// @notice A wired devnet deployment with named actors, one registered environment (id 1,
/// owned by `envOwner`) and one base model (id 1), left in the first block of epoch 0 (the
/// deployment block), plus helpers for every protocol step.
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
    uint256 private _cidNonce;

    function setUp() public virtual {
        cfg = Deployer.devnetConfig(treasury, admin);
        _deploy(cfg);
        envId = _registerEnv(envOwner);
        modelId = _registerModel();
    }

    // ─── deployment ───────────────────────────────────────────────────────────

    function _deploy(DeployConfig memory c) internal {
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

    // ─── registries ───────────────────────────────────────────────────────────

    function _registerEnv(address owner) internal returns (uint256 id) {
        uint256 bond = registry.registrationBond();
        _fund(owner, bond);
        vm.startPrank(owner);
        token.approve(address(registry), bond);
        id = registry.registerEnvironment(_cid());
        vm.stopPrank();
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

    function _submitTo(address miner, uint256 env, uint256 traceCount) internal returns (uint256 index) {
        vm.prank(miner);
        (, index,) = gym.submitBatch(env, 1, _cid(), traceCount, modelId);
    }

    function _commitment(uint256 epoch, address validator, uint256[] memory packed, bytes32 salt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(epoch, validator, packed, salt));
    }

    /// @dev Commits to `scores` (one per batch, unpacked) and returns the packed words.
    function _commit(address validator, uint256 epoch, uint256[] memory scores, bytes32 salt)
        internal
        returns (uint256[] memory packed)
    {
        packed = ScorePacking.pack(scores);
        vm.prank(validator);
        gym.commit(epoch, _commitment(epoch, validator, packed, salt));
    }

    function _reveal(address validator, uint256 epoch, uint256[] memory scores, bytes32 salt) internal {
        uint256[] memory packed = ScorePacking.pack(scores);
        vm.prank(validator);
        gym.reveal(epoch, packed, salt);
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
