"""lotse web in a real headless browser (Debian's chromium): live wallboard, supervisor switch, 403, accessibility.

Set LOTSE_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from metrics.records import CallRecord
from outcomes.results import Result
from routing.model import Center
from tests.browser import axe_violations, chromium, log_in, until
from tests.webapp import PASSWORD, WebLab, web_lab

SHOTS = os.environ.get("LOTSE_SCREENSHOTS", "")


@pytest.fixture
def lab(example: Center, tmp_path: Path) -> Iterator[WebLab]:
    with web_lab(example, tmp_path) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: webdriver.Chrome, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def waiting_in(driver: webdriver.Chrome, queue: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f'tr[data-queue="{queue}"] td.waiting').text)


def test_the_wallboard_shows_a_new_waiting_caller_within_2_seconds(lab: WebLab, browser: webdriver.Chrome) -> None:
    now = time.time()
    lab.store.write([
        CallRecord("w1", "minden", "own", "057189", "", "kfz", ("kfz",), "", "in_hours", Result.ANSWERED,
                   now - 400, now - 390, now - 370, now - 300, 20.0, 70.0, "Anna Schmidt"),
    ])  # fmt: skip
    lab.live.apply({"Event": "QueueMemberAdded", "Queue": "kfz", "Interface": "PJSIP/anna", "MemberName": "Anna Schmidt",
                    "Status": "1", "Paused": "0"}, now)  # fmt: skip
    log_in(browser, lab.url, "vera", PASSWORD)
    until(lambda: waiting_in(browser, "kfz") == "0")
    joined = time.time()
    lab.live.apply({"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "1700.7", "CallerIDNum": "057112345"}, joined)
    until(lambda: waiting_in(browser, "kfz") == "1", timeout=2.0)
    shown_after = time.time() - joined
    assert shown_after < 2.0
    assert "057112345" not in browser.page_source
    until(lambda: "Kfz" in browser.find_element(By.ID, "announce").text and "1 wartend" in browser.find_element(By.ID, "announce").text)
    until(lambda: "Anna Schmidt: frei" in browser.find_element(By.ID, "agents").text)
    until(lambda: "1 von 1" in browser.find_element(By.ID, "tenants").text)
    shot(browser, "wallboard")
    assert axe_violations(browser) == []


def test_a_supervisor_switches_an_emergency_on_and_the_wallboard_shows_it(lab: WebLab, browser: webdriver.Chrome) -> None:
    log_in(browser, lab.url, "sabine", PASSWORD, "/supervisor")
    assert axe_violations(browser) == []
    browser.find_element(By.ID, "switch-minden-bombe").click()
    until(lambda: "ist eingeschaltet." in browser.find_element(By.CSS_SELECTOR, ".flash").text)
    assert lab.live.emergencies() == {"minden/bombe"}
    shot(browser, "supervisor")
    browser.get(f"{lab.url}/wallboard")
    until(lambda: "EINGESCHALTET" in browser.find_element(By.ID, "emergencies").text)
    until(lambda: "Bürgertelefon Bombenentschärfung eingeschaltet" in browser.find_element(By.ID, "announce").text)


def test_a_viewer_gets_403_for_the_supervisor_page(lab: WebLab, browser: webdriver.Chrome) -> None:
    log_in(browser, lab.url, "vera", PASSWORD)
    browser.get(f"{lab.url}/supervisor")
    assert "Keine Berechtigung (403)" in browser.find_element(By.TAG_NAME, "h1").text
    assert "braucht die Rolle Supervisor" in browser.page_source
    assert axe_violations(browser) == []


def test_agent_login_and_report_pages_are_accessible_and_work_by_keyboard(lab: WebLab, browser: webdriver.Chrome) -> None:
    browser.get(f"{lab.url}/login")
    assert axe_violations(browser) == []
    log_in(browser, lab.url, "anna", PASSWORD, "/agent")
    assert axe_violations(browser) == []
    # keyboard only: Tab to the "Anmelden" button of the state form and press Enter
    login_button = browser.find_element(By.CSS_SELECTOR, 'button[value="login"]')
    browser.execute_script("arguments[0].focus()", login_button)
    login_button.send_keys("\n")
    until(lambda: "Sie sind angemeldet." in browser.find_element(By.CSS_SELECTOR, ".flash").text)
    assert [a["Queue"] for a in lab.ami.actions if a.get("Action") == "QueueAdd"]
    # Asterisk's QueueMemberAdded reaches the page through the live state: the state line follows without a reload
    lab.live.apply({"Event": "QueueMemberAdded", "Queue": "kfz", "Interface": "PJSIP/anna", "MemberName": "Anna Schmidt",
                    "Status": "1", "Paused": "0"}, time.time())  # fmt: skip
    until(lambda: browser.find_element(By.ID, "state-now").text == "frei")
    shot(browser, "agent")
    browser.get(f"{lab.url}/reports")
    assert "bis" in browser.find_element(By.TAG_NAME, "main").text
    assert axe_violations(browser) == []
    shot(browser, "reports")
