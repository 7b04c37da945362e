// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Vm} from "../harness/Vm.sol";

import {IEnvironmentRegistry} from "../../src/interfaces/IEnvironmentRegistry.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {IStaking} from "../../src/interfaces/IStaking.sol";
import {IWorldGym} from "../../src/interfaces/IWorldGym.sol";
import {IWorldGymToken} from "../../src/interfaces/IWorldGymToken.sol";

/// @notice The five contracts of a deployment.
struct System {
    IWorldGymToken token;
    IEnvironmentRegistry registry;
    IStaking staking;
    IModelRegistry models;
    IWorldGym gym;
}

/// @notice Everything a deployment is parameterised by.
struct DeployConfig {
    uint256 cap;
    uint256 initialEpochEmission;
    uint256 halvingInterval;
    address genesisRecipient;
    uint256 genesisSupply;
    uint256 registrationBond;
    uint256 bondReleaseDelay;
    uint256 minStake;
    uint256 unbondingEpochs;
    address modelAdmin;
    IWorldGym.Params params;
}

/// @title Deployer
/// @notice The production wiring, in the order the deploy scripts use:
/// token -> registry -> staking -> models -> WorldGym -> token.setMinter -> staking.setProtocol.
/// @dev Internal functions run in the caller's context, so the calling test contract is the
/// deployer of the token and the staking contract (the account allowed to wire them).
library Deployer {
    Vm private constant _VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Devnet-sized parameters: 20-block epochs, 5-block commit and reveal windows, miners
    /// bonded with 100 WGT (half slashed per FRAUD batch), the latest model or the two before it.
    function devnetParams() internal pure returns (IWorldGym.Params memory) {
        return IWorldGym.Params({
            epochLength: 20,
            commitBlocks: 5,
            revealBlocks: 5,
            maxBatchesPerEpoch: 40,
            maxBatchesPerMiner: 8,
            maxTracesPerBatch: 64,
            maxValidatorsPerEpoch: 8,
            minerBps: 6_000,
            validatorBps: 2_500,
            environmentBps: 1_500,
            slashBps: 1_000,
            minerSlashBps: 5_000,
            maxModelLag: 2,
            minerStake: 100e18
        });
    }

    /// @notice A devnet deployment whose genesis supply goes to `genesisRecipient`.
    function devnetConfig(address genesisRecipient, address modelAdmin) internal pure returns (DeployConfig memory) {
        return DeployConfig({
            cap: 21_000_000e18,
            initialEpochEmission: 1_000e18,
            halvingInterval: 100,
            genesisRecipient: genesisRecipient,
            genesisSupply: 10_000_000e18,
            registrationBond: 100e18,
            bondReleaseDelay: 50,
            minStake: 1_000e18,
            unbondingEpochs: 3,
            modelAdmin: modelAdmin,
            params: devnetParams()
        });
    }

    /// @notice Deploys and wires the whole protocol.
    function deploy(DeployConfig memory c) internal returns (System memory s) {
        s.token = newToken(c.cap, c.initialEpochEmission, c.halvingInterval, c.genesisRecipient, c.genesisSupply);
        s.registry = newRegistry(s.token, c.registrationBond, c.bondReleaseDelay);
        s.staking = newStaking(s.token, c.minStake, c.unbondingEpochs);
        s.models = newModels(c.modelAdmin);
        s.gym = newGym(s, c.params);
        s.token.setMinter(address(s.gym));
        s.staking.setProtocol(address(s.gym));
    }

    // Each contract is deployed from its compiled artifact (`vm.deployCode`) rather than with `new`,
    // and tests see it through its interface only: no test imports an implementation, so the suites
    // compile without recompiling the protocol (and may be compiled with other settings than src).
    // The typed signatures below stand in for the constructors' type checks.

    function newToken(uint256 cap, uint256 initialEmission, uint256 halving, address recipient, uint256 genesis)
        internal
        returns (IWorldGymToken)
    {
        bytes memory args = abi.encode("WorldGym", "WGT", cap, initialEmission, halving, recipient, genesis);
        return IWorldGymToken(_VM.deployCode("WorldGymToken.sol:WorldGymToken", args));
    }

    function newRegistry(IERC20 token, uint256 bond, uint256 delay) internal returns (IEnvironmentRegistry) {
        bytes memory args = abi.encode(token, bond, delay);
        return IEnvironmentRegistry(_VM.deployCode("EnvironmentRegistry.sol:EnvironmentRegistry", args));
    }

    function newStaking(IERC20 token, uint256 minStake, uint256 unbondingEpochs) internal returns (IStaking) {
        return IStaking(_VM.deployCode("Staking.sol:Staking", abi.encode(token, minStake, unbondingEpochs)));
    }

    function newModels(address admin) internal returns (IModelRegistry) {
        return IModelRegistry(_VM.deployCode("ModelRegistry.sol:ModelRegistry", abi.encode(admin)));
    }

    /// @notice A WorldGym over the token and registries of `s` (its `gym` field is ignored).
    function newGym(System memory s, IWorldGym.Params memory p) internal returns (IWorldGym) {
        bytes memory args = abi.encode(s.token, s.registry, s.staking, s.models, p);
        return IWorldGym(_VM.deployCode("WorldGym.sol:WorldGym", args));
    }
}
