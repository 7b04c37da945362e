// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Test} from "./harness/Test.sol";

import {IWorldGymToken} from "../src/interfaces/IWorldGymToken.sol";
import {Deployer} from "./utils/Deployer.sol";

contract WorldGymTokenTest is Test {
    uint256 internal constant CAP = 21_000_000e18;
    uint256 internal constant GENESIS = 10_000_000e18;
    uint256 internal constant EMISSION = 1_000e18;
    uint256 internal constant HALVING = 100;

    address internal treasury = makeAddr("treasury");
    address internal minter = makeAddr("minter");
    address internal stranger = makeAddr("stranger");
    IWorldGymToken internal token;

    function setUp() public {
        token = _newToken(CAP, GENESIS);
    }

    function _newToken(uint256 cap, uint256 genesis) internal returns (IWorldGymToken) {
        return Deployer.newToken(cap, EMISSION, HALVING, treasury, genesis);
    }

    function _setMinter() internal {
        token.setMinter(minter);
    }

    // ─── constructor ──────────────────────────────────────────────────────────

    function test_constructor_setsParamsAndMintsGenesis() public view {
        IERC20Metadata metadata = IERC20Metadata(address(token));
        assertEq(metadata.name(), "WorldGym");
        assertEq(metadata.symbol(), "WGT");
        assertEq(metadata.decimals(), 18);
        assertEq(token.cap(), CAP);
        assertEq(token.initialEpochEmission(), EMISSION);
        assertEq(token.halvingInterval(), HALVING);
        assertEq(token.totalSupply(), GENESIS);
        assertEq(token.balanceOf(treasury), GENESIS);
        assertEq(token.minter(), address(0));
    }

    function test_constructor_failsIfHalvingIntervalZero() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenInvalidParams.selector, CAP, GENESIS, 0));
        Deployer.newToken(CAP, EMISSION, 0, treasury, GENESIS);
    }

    function test_constructor_failsIfGenesisAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenInvalidParams.selector, CAP, CAP + 1, HALVING));
        _newToken(CAP, CAP + 1);
    }

    function test_constructor_failsIfGenesisRecipientIsZero() public {
        vm.expectRevert(IWorldGymToken.TokenZeroAddress.selector);
        Deployer.newToken(CAP, EMISSION, HALVING, address(0), GENESIS);
    }

    function test_constructor_allowsNoGenesisSupply() public {
        IWorldGymToken t = Deployer.newToken(CAP, EMISSION, HALVING, address(0), 0);
        assertEq(t.totalSupply(), 0);
    }

    // ─── setMinter ────────────────────────────────────────────────────────────

    function test_setMinter_setsMinterAndEmits() public {
        vm.expectEmit(address(token));
        emit IWorldGymToken.MinterSet(minter);
        token.setMinter(minter);
        assertEq(token.minter(), minter);
    }

    function test_setMinter_failsIfNotDeployer() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenNotDeployer.selector, stranger, address(this)));
        vm.prank(stranger);
        token.setMinter(minter);
    }

    function test_setMinter_failsIfCalledTwice() public {
        _setMinter();
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenMinterAlreadySet.selector, minter));
        token.setMinter(stranger);
    }

    function test_setMinter_failsIfZeroAddress() public {
        vm.expectRevert(IWorldGymToken.TokenZeroAddress.selector);
        token.setMinter(address(0));
    }

    // ─── mintEmission ─────────────────────────────────────────────────────────

    function test_mintEmission_mintsScheduledAmountAndEmits() public {
        _setMinter();
        vm.expectEmit(address(token));
        emit IWorldGymToken.EmissionMinted(7, treasury, EMISSION, EMISSION);
        vm.prank(minter);
        uint256 minted = token.mintEmission(7, treasury, EMISSION);
        assertEq(minted, EMISSION);
        assertEq(token.totalSupply(), GENESIS + EMISSION);
        assertEq(token.balanceOf(treasury), GENESIS + EMISSION);
        assertTrue(token.emissionMinted(7));
        assertFalse(token.emissionMinted(8));
    }

    function test_mintEmission_mintsLessThanScheduled() public {
        _setMinter();
        vm.prank(minter);
        assertEq(token.mintEmission(0, minter, EMISSION / 4), EMISSION / 4);
        assertEq(token.balanceOf(minter), EMISSION / 4);
    }

    function test_mintEmission_failsIfMinterNotSet() public {
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenNotMinter.selector, stranger, address(0)));
        vm.prank(stranger);
        token.mintEmission(0, stranger, 1);
    }

    function test_mintEmission_failsIfNotMinter() public {
        _setMinter();
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenNotMinter.selector, address(this), minter));
        token.mintEmission(0, stranger, 1);
    }

    function test_mintEmission_failsIfEpochAlreadyMinted() public {
        _setMinter();
        vm.startPrank(minter);
        token.mintEmission(3, minter, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorldGymToken.TokenEmissionAlreadyMinted.selector, 3));
        token.mintEmission(3, minter, 1);
        vm.stopPrank();
    }

    function test_mintEmission_failsIfAboveSchedule() public {
        _setMinter();
        uint256 scheduled = EMISSION >> 2; // epoch 250 is after two halvings
        vm.expectRevert(
            abi.encodeWithSelector(IWorldGymToken.TokenEmissionAboveSchedule.selector, 250, scheduled + 1, scheduled)
        );
        vm.prank(minter);
        token.mintEmission(250, minter, scheduled + 1);
    }

    function test_mintEmission_clampsAtCap() public {
        token = _newToken(CAP, CAP - 300e18);
        _setMinter();
        vm.expectEmit(address(token));
        emit IWorldGymToken.EmissionMinted(0, minter, EMISSION, 300e18);
        vm.prank(minter);
        assertEq(token.mintEmission(0, minter, EMISSION), 300e18);
        assertEq(token.totalSupply(), CAP);

        // Once at the cap, an epoch's mint succeeds with nothing minted and is still marked done.
        vm.expectEmit(address(token));
        emit IWorldGymToken.EmissionMinted(1, minter, EMISSION, 0);
        vm.prank(minter);
        assertEq(token.mintEmission(1, minter, EMISSION), 0);
        assertTrue(token.emissionMinted(1));
        assertEq(token.totalSupply(), CAP);
    }

    // ─── emission schedule ────────────────────────────────────────────────────

    function test_emissionOf_halvesEveryInterval() public view {
        assertEq(token.emissionOf(0), EMISSION);
        assertEq(token.emissionOf(HALVING - 1), EMISSION);
        assertEq(token.emissionOf(HALVING), EMISSION / 2);
        assertEq(token.emissionOf(2 * HALVING - 1), EMISSION / 2);
        assertEq(token.emissionOf(2 * HALVING), EMISSION / 4);
        assertEq(token.emissionOf(10 * HALVING), EMISSION / 1024);
        assertEq(token.emissionOf(256 * HALVING - 1), EMISSION >> 255);
        assertEq(token.emissionOf(256 * HALVING), 0);
        assertEq(token.emissionOf(type(uint256).max), 0);
    }

    function testFuzz_emissionOf_followsHalvingSchedule(uint256 epoch) public view {
        epoch = bound(epoch, 0, 300 * HALVING);
        uint256 halvings = epoch / HALVING;
        uint256 expected = halvings >= 256 ? 0 : EMISSION / (2 ** halvings);
        assertEq(token.emissionOf(epoch), expected);
        assertLe(token.emissionOf(epoch + 1), token.emissionOf(epoch), "emission must never grow");
    }

    function testFuzz_mintEmission_mintsMinOfRequestAndRoom(uint256 genesis, uint256 epoch, uint256 amount) public {
        genesis = bound(genesis, 0, CAP);
        epoch = bound(epoch, 0, 40 * HALVING);
        amount = bound(amount, 0, token.emissionOf(epoch));
        token = _newToken(CAP, genesis);
        _setMinter();

        vm.prank(minter);
        uint256 minted = token.mintEmission(epoch, minter, amount);

        uint256 room = CAP - genesis;
        assertEq(minted, amount < room ? amount : room);
        assertEq(token.totalSupply(), genesis + minted);
        assertLe(token.totalSupply(), token.cap());
    }

    function testFuzz_mintEmission_supplyTracksScheduleUntilCap(uint256 cap, uint256 epochs) public {
        cap = bound(cap, GENESIS, GENESIS + 500 * EMISSION);
        epochs = bound(epochs, 1, 600);
        token = _newToken(cap, GENESIS);
        _setMinter();

        uint256 scheduled;
        vm.startPrank(minter);
        for (uint256 e; e < epochs; ++e) {
            uint256 amount = token.emissionOf(e);
            scheduled += amount;
            token.mintEmission(e, minter, amount);
        }
        vm.stopPrank();
        uint256 uncapped = GENESIS + scheduled;
        assertEq(token.totalSupply(), uncapped < cap ? uncapped : cap);
    }

    // ─── permit ───────────────────────────────────────────────────────────────

    function test_permit_setsAllowanceFromSignature() public {
        (address owner, uint256 key) = makeAddrAndKey("owner");
        bytes32 typehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        bytes32 structHash = keccak256(abi.encode(typehash, owner, stranger, 5e18, 0, block.timestamp));
        bytes32 digest =
            keccak256(abi.encodePacked(hex"1901", IERC20Permit(address(token)).DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);

        IERC20Permit(address(token)).permit(owner, stranger, 5e18, block.timestamp, v, r, s);
        assertEq(token.allowance(owner, stranger), 5e18);
        assertEq(IERC20Permit(address(token)).nonces(owner), 1);
    }
}
