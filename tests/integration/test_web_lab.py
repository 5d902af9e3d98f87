"""lotse web on the real Asterisk, in Debian's chromium: a real caller's queue join is on the wallboard within 2 s
(AMI -> lotse metrics -> Redis -> lotse web -> browser), and the supervisor's switch changes how the next call is routed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis
from selenium.webdriver.common.by import By

from stores.live import LiveState
from tests.browser import chromium, log_in, until
from tests.integration.conftest import Lab
from tests.integration.lab import LOTSE, ROOT, Ami, lotse_serve, new_caller, of, running
from tests.webapp import PASSWORD, free_port
from web.users import Role, set_user

EXAMPLE = ROOT / "config"
REDIS = "redis://127.0.0.1:6379/0"
LAB_AGENTS = ("Local/anna@lotse-lab-agents/n", "Local/ben@lotse-lab-agents/n")


def test_a_real_queue_join_is_on_the_wallboard_within_2_s_and_the_switch_routes_the_next_call(
    asterisk: Lab, serve_log: Path, tmp_path: Path
) -> None:
    users = tmp_path / "users.yaml"
    set_user(users, "wand", Role.VIEWER, PASSWORD)
    set_user(users, "sabine", Role.SUPERVISOR, PASSWORD)
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    metrics_port, web_port = free_port(), free_port()
    metrics = [str(LOTSE), "metrics", "--config", str(EXAMPLE), "--db", db, "--spool", str(tmp_path / "spool"), "--redis", REDIS]
    web = [str(LOTSE), "web", "--config", str(EXAMPLE), "--agents", str(ROOT / "asterisk/agents.example.yaml"), "--users", str(users)]
    web += ["--db", db, "--ami", "127.0.0.1:5038", "--listen", f"127.0.0.1:{web_port}"]  # fmt: skip
    caller, next_caller = new_caller("0571"), new_caller("0571")
    live = LiveState(redis.Redis.from_url(REDIS))
    browser = chromium()
    url = f"http://127.0.0.1:{web_port}"

    async def scenario() -> None:
        async with Ami() as ami:
            for agent in LAB_AGENTS:  # nobody answers: the caller waits in the queue
                await ami.manager.send_action({"Action": "QueuePause", "Queue": "buergerservice", "Interface": agent, "Paused": "true"})
            try:
                log_in(browser, url, "wand", PASSWORD)
                until(lambda: browser.find_element(By.CSS_SELECTOR, 'tr[data-queue="buergerservice"] td.waiting').text == "0", 10)
                await ami.call("0571890", caller, "1")
                await ami.wait_for("the caller's queue join", of(caller, "QueueCallerJoin", Queue="buergerservice"), 90)
                joined = time.monotonic()
                until(lambda: browser.find_element(By.CSS_SELECTOR, 'tr[data-queue="buergerservice"] td.waiting').text == "1", 2.0)
                assert time.monotonic() - joined < 2.0
                assert caller not in browser.page_source
                await ami.manager.send_action({"Action": "Hangup", "Channel": f"/^Local/{caller}.*/"})
                # the supervisor switches the Bürgertelefon on; the next call to the city hears it
                browser.delete_all_cookies()
                log_in(browser, url, "sabine", PASSWORD, "/supervisor")
                browser.find_element(By.ID, "switch-minden-bombe").click()
                until(lambda: "ist eingeschaltet." in browser.find_element(By.CSS_SELECTOR, ".flash").text)
                await ami.call("0571890", next_caller)
                decision = await ami.decision(next_caller)
                assert (decision["LOTSE_REASON"], decision["LOTSE_TOPIC"], decision["LOTSE_QUEUE"]) == (
                    "emergency",
                    "bombe",
                    "buergertelefon",
                )
                await ami.manager.send_action({"Action": "Hangup", "Channel": f"/^Local/{next_caller}.*/"})
            finally:
                for agent in LAB_AGENTS:
                    await ami.manager.send_action(
                        {"Action": "QueuePause", "Queue": "buergerservice", "Interface": agent, "Paused": "false"}
                    )

    try:
        with (
            running([*metrics, "--listen", f"127.0.0.1:{metrics_port}"], tmp_path / "metrics.log", metrics_port),
            running(web, tmp_path / "web.log", web_port),
            lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log, REDIS),
        ):
            asyncio.run(scenario())
    finally:
        browser.quit()
        live.switch("minden", "bombe", False)
