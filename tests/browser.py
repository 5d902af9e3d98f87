"""Debian's chromium, headless, driven by Selenium through Debian's chromedriver; axe-core from npm.

``scripts/browser`` installs what is missing (the fixture runs it). Nothing downloads a browser.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import ROOT

AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def chromium() -> webdriver.Chrome:
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists() and AXE.exists()):
        subprocess.run(["bash", str(ROOT / "scripts" / "browser")], check=True)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for a browser of its own
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=de-DE"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))


def log_in(driver: webdriver.Chrome, url: str, user: str, password: str, page: str = "/wallboard") -> None:
    driver.get(f"{url}/login?next={page}")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    # the login page's own address ends with ?next=<page>: wait for the page's path itself
    until(lambda: urlsplit(driver.current_url).path == page)


def until(condition: Callable[[], Any], timeout: float = 5.0, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = condition()
            if found:
                return found
        except Exception as exc:  # the element may not be there yet
            last = exc
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s (last error: {last})")


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations of the page shown."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n.get("target") for n in v["nodes"]][:3]}
        for v in found
        if v.get("impact") in SERIOUS
    ]
