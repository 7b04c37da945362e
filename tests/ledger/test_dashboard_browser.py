"""The dashboard in a real headless Chromium (selenium): the leaderboard and an address search.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make sysdeps`` installs them
as root); skipped, with the reason, where they are missing. Screenshots are saved
under ``$WORLDGYM_ARTIFACTS`` (default ``tests/artifacts/``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import History

from worldgym.core.amounts import wgt_cell
from worldgym.ledger.dashboard.server import DashboardServer
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.queries import Ledger

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_ARTIFACTS = Path(os.environ.get("WORLDGYM_ARTIFACTS") or Path(__file__).parents[1] / "artifacts")


def _chromium() -> tuple[str, str]:
    browser = next((p for p in map(shutil.which, _BROWSERS) if p), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(
            "no headless Chromium here (need chromium and chromedriver on PATH: "
            "`apt-get install chromium chromium-driver`, or `make sysdeps` as root)"
        )
    return browser, driver


@pytest.fixture
def browser() -> Iterator[Any]:
    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1100", "--no-first-run"):  # fmt: skip
        options.add_argument(arg)
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver))
    try:
        yield session
    finally:
        session.quit()


def _wait(browser: Any, condition: Any) -> Any:
    return WebDriverWait(browser, 30).until(condition)


def test_the_leaderboard_shows_the_right_numbers_and_search_finds_an_address(
    history: History, indexer: Indexer, browser: Any
) -> None:
    h = history
    indexer.sync()
    _ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with DashboardServer(Ledger(indexer.store), balance=h.chain.balance) as server:
        browser.get(server.url)
        rows = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr"))
        shown = [(r.get_attribute("data-subject"), r.find_element(By.CLASS_NAME, "reward").text)
                 for r in rows]  # fmt: skip
        expected = sorted(((m, h.credited(m)) for m in (h.miner_a, h.miner_b)), key=lambda x: -x[1])
        assert shown == [(m, wgt_cell(amount)) for m, amount in expected]
        _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "img.plot"))
        browser.save_screenshot(str(_ARTIFACTS / "dashboard-home.png"))

        browser.find_element(By.CSS_SELECTOR, "button[data-role=validator]").click()
        _wait(
            browser, lambda b: b.find_elements(By.CSS_SELECTOR, f"tr[data-subject='{h.val_lazy}']")
        )
        ranked = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
        assert [r.get_attribute("data-subject") for r in ranked] == [h.val_a, h.val_lazy, h.val_b]

        search = browser.find_element(By.ID, "search-input")
        search.send_keys(h.miner_b)
        search.submit()
        _wait(browser, lambda b: b.execute_script("return document.body.dataset.view") == "address")
        assert browser.find_element(By.ID, "address-title").text == h.miner_b
        claimable = browser.find_element(By.ID, "address-claimable").text
        assert claimable == wgt_cell(h.credited(h.miner_b))
        epochs = browser.find_elements(By.CSS_SELECTOR, "#as-miner tbody tr")
        assert [r.find_element(By.TAG_NAME, "td").text for r in epochs] == [
            str(e) for e in h.epochs
        ]
        browser.save_screenshot(str(_ARTIFACTS / "dashboard-address.png"))

        # The epoch with a FRAUD batch: its row is flagged, the environment weights are shown.
        browser.get(server.url + f"#/epoch/{h.epochs[0]}")
        rows = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#env-weights tbody tr"))
        assert [r.text for r in rows] == ["env 1 100.00%", "env 2 40.00%"]
        flagged = browser.find_elements(By.CSS_SELECTOR, "#batches tr.fraud-row")
        assert len(flagged) == 1
        assert "FRAUD" in flagged[0].text
    assert (_ARTIFACTS / "dashboard-address.png").stat().st_size > 10_000
