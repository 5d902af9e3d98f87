"""The systemd units (systemd/): each process from the settings file, as user lotse, hardened, writing only its own
folders; systemd-analyze verifies them and rates their exposure."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "systemd"
PROCESSES = ("serve", "metrics", "promises", "web")
WRITES = {  # what each process writes: its state, and for promises the dialplan's spool; for serve its pid file
    "serve": {"/var/lib/lotse", "/run/lotse"},
    "metrics": {"/var/lib/lotse"},
    "promises": {"/var/lib/lotse", "/var/spool/asterisk/lotse"},
    "web": {"/var/lib/lotse"},
}
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallFilter": "@system-service",
}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("process", PROCESSES)
def test_each_service_runs_its_process_from_the_settings_file_hardened(process: str) -> None:
    service = unit(f"lotse-{process}.service")
    run = service["Service"]
    assert run["ExecStart"] == f"/opt/lotse/bin/lotse --settings /etc/lotse/lotse.yaml {process}"
    assert (run["User"], run["Group"], run["Type"], run["NotifyAccess"]) == ("lotse", "lotse", "notify", "main")
    assert run["Restart"] == "on-failure" and int(run["WatchdogSec"]) == 30
    assert {key: run.get(key) for key in HARDENING} == HARDENING
    assert set(run["ReadWritePaths"].split()) == WRITES[process]
    assert ("ExecReload" in run) == (process == "serve")  # SIGHUP: lotse serve reads its routing YAML again
    assert service["Unit"]["PartOf"] == "lotse.target" and service["Install"]["WantedBy"] == "lotse.target"


def test_the_target_starts_all_four() -> None:
    target = unit("lotse.target")
    assert set(target["Unit"]["Wants"].split()) == {f"lotse-{p}.service" for p in PROCESSES}
    assert target["Install"]["WantedBy"] == "multi-user.target"


def test_the_user_and_the_folders_are_made_by_systemd() -> None:
    users = (UNITS / "lotse.sysusers").read_text(encoding="utf-8")
    assert re.search(r"^u lotse - ", users, re.MULTILINE) and re.search(r"^m lotse asterisk$", users, re.MULTILINE)
    folders = (UNITS / "lotse.tmpfiles").read_text(encoding="utf-8")
    assert "d /var/lib/lotse 0750 lotse lotse -" in folders and "d /var/spool/asterisk/lotse 2770 asterisk asterisk -" in folders


@pytest.mark.services  # systemd-analyze comes with Debian's systemd (scripts/services installs it where it is missing)
def test_systemd_analyze_verifies_the_units_and_rates_them_well(tmp_path: Path) -> None:
    """verify checks that ExecStart's program exists: the copies run this checkout's lotse instead of /opt/lotse's."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze comes with Debian's systemd"
    lotse = Path(sys.executable).parent / "lotse"
    names = [*(f"lotse-{p}.service" for p in PROCESSES), "lotse.target"]
    for name in names:
        (tmp_path / name).write_text(
            (UNITS / name).read_text(encoding="utf-8").replace("/opt/lotse/bin/lotse", str(lotse)), encoding="utf-8"
        )
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    for process in PROCESSES:
        rated = subprocess.run(
            [analyze, "security", "--offline=yes", f"lotse-{process}.service"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", rated.stdout)
        assert exposure and float(exposure.group(1)) <= 2.5, rated.stdout[-400:]  # 1.9 "OK" as written; 10 is unprotected
