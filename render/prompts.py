"""``lotse prompts build``: synthesise missing prompts from their texts.

German speech from espeak-ng, converted by sox to 8 kHz mono 16-bit WAV,
which Asterisk plays without transcoding. A recorded file (any extension
Asterisk plays) always wins: only missing prompts are made. Besides the
config's prompts, the agent whisper needs one file per tenant name and one
per topic name (whisper/tenant/<id>, whisper/topic/<id>).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from outcomes.callback import CALLBACK_PROMPTS, CALLBACK_WHISPER, DIGIT_PROMPTS, promise_prompt
from render.agent_codes import AGENT_PROMPTS
from routing.checks import recorded_prompts
from routing.model import Center, Prompt
from routing.problems import LotseError


class PromptError(LotseError):
    """A prompt could not be synthesised (tool missing or failing)."""


@dataclass(frozen=True)
class BuildReport:
    made: tuple[str, ...]
    kept: tuple[str, ...]  # recorded or built before
    without_text: tuple[str, ...]


def _promise_hours(center: Center) -> set[int]:
    hours = {center.promises.due_hours}
    hours.update(d.due_hours for d in center.departments.values() if d.due_hours)
    for tenant in center.tenants.values():
        hours.update(t.due_hours for t in tenant.topics.values() if t.due_hours)
        if tenant.due_hours:
            hours.add(tenant.due_hours)
    if center.service_115 is not None:
        hours.add(center.service_115.due_hours)
    return hours


def wanted(center: Center) -> list[Prompt]:
    """Every prompt the config plays, plus the whisper prompts; with dated changes, those of every period."""
    prompts: list[Prompt] = []
    for version in center.versions:  # with dated changes: those of every period
        prompts += version.prompts
        for tenant in version.tenants.values():
            prompts.append(Prompt(f"whisper/tenant/{tenant.id}", tenant.name))
            prompts += [Prompt(f"whisper/topic/{t.id}", t.name) for t in tenant.topics.values()]
            prompts += [Prompt(f"whisper/topic/{e.id}", e.name) for e in tenant.emergencies.values()]
    prompts.append(Prompt("whisper/tenant/115", "Behördennummer 115"))
    prompts += [*CALLBACK_PROMPTS.values(), *DIGIT_PROMPTS, CALLBACK_WHISPER, *AGENT_PROMPTS.values()]
    prompts += [promise_prompt("ticket", hours) for version in center.versions for hours in _promise_hours(version)]
    unique = {p.file: p for p in prompts}
    return sorted(unique.values(), key=lambda p: p.file)


def build(center: Center, folder: Path, voice: str = "de") -> BuildReport:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptError(f"{tool} is not installed; on Debian: apt-get install espeak-ng sox")
    made, kept, without_text = [], [], []
    recorded = recorded_prompts(folder)
    for prompt in wanted(center):
        if prompt.file in recorded:
            kept.append(prompt.file)
        elif not prompt.text:
            without_text.append(prompt.file)
        else:
            synthesise(prompt.text, folder / f"{prompt.file}.wav", voice)
            made.append(prompt.file)
    return BuildReport(tuple(made), tuple(kept), tuple(without_text))


def synthesise(text: str, target: Path, voice: str = "de") -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        _run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text])
        _run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)])


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PromptError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()[:300]}")
