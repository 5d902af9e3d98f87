"""The shipped alert rules and Grafana dashboard: promtool accepts the rules, and both use only metrics lotse exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ivr.fastagi import IvrServer, ServerSettings
from ivr.health import ServerCollector
from metrics.exporter import Exporter
from promises.exporter import PromiseCollector
from promises.store import Promises
from promises.worker import Keeper, KeeperSettings
from routing.model import Center
from runtime.endpoint import LogTally
from runtime.endpoint import registry as process_registry
from tests.conftest import EXAMPLE, ROOT

RULES = ROOT / "metrics" / "prometheus" / "lotse-alerts.yml"
DASHBOARD = ROOT / "metrics" / "grafana" / "lotse-dashboard.json"


def exported_names(center: Center, tmp_path: Path) -> set[str]:
    """What lotse metrics and lotse promises export."""
    text = generate_latest(Exporter(center).registry).decode()
    keeper = Keeper(KeeperSettings(config=EXAMPLE, db_url=f"sqlite:///{tmp_path / 'p.db'}", spool=tmp_path))
    keeper.store = Promises.open(keeper.settings.db_url)
    registry = CollectorRegistry()
    registry.register(PromiseCollector(keeper))
    text += generate_latest(registry).decode()
    server = IvrServer(ServerSettings(EXAMPLE))  # lotse serve's own figures, and what every process's endpoint adds
    text += generate_latest(process_registry(LogTally(), ServerCollector(server))).decode()
    names = set(re.findall(r"^# TYPE (\w+) ", text, re.MULTILINE))
    return names | {f"{n}_total" for n in names} | {f"{n}_bucket" for n in names}


@pytest.mark.services  # promtool comes with scripts/services
def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by scripts/services (Debian's prometheus package)"
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


@pytest.mark.services  # promtool comes with scripts/services
def test_the_process_alerts_fire_on_a_dead_and_a_stuck_process() -> None:
    """promtool's unit tests of the rules (lotse-alerts.test.yml): a process that stops answering its scrape and a
    promises worker that finishes no round raise their alerts after their hold times, not before."""
    promtool = shutil.which("promtool")
    assert promtool
    result = subprocess.run([promtool, "test", "rules", str(RULES.with_suffix(".test.yml"))], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_rules_and_dashboard_use_only_exported_metrics(example: Center, tmp_path: Path) -> None:
    names = exported_names(example, tmp_path)
    used = set(re.findall(r"\blotse_\w+", RULES.read_text(encoding="utf-8")))
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\blotse_\w+", target["expr"]))
    assert used and used <= names, used - names
