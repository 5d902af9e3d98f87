from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.lab import ROOT, lab, lab_root


@dataclass(frozen=True)
class Lab:
    root: Path  # the chroot
    startup_log: str  # Asterisk's messages.log right after it started with the rendered config


@pytest.fixture(scope="session")
def asterisk() -> Iterator[Lab]:
    """The lab Asterisk running with the example config rendered."""
    lab("provision")
    lab("prepare", str(ROOT / "config"))
    root = lab_root()
    yield Lab(root, (root / "var/log/lotse-lab/messages.log").read_text(encoding="utf-8", errors="replace"))
    lab("stop")


@pytest.fixture
def serve_log(tmp_path: Path) -> Path:
    return tmp_path / "lotse.log"
