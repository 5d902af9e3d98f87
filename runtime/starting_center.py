"""``lotse init DIR``: the files of a starting center, planned first and then written.

A starting center is the example config (``DIR/config``, so that ``lotse validate DIR/config`` passes at once),
the settings file (``DIR/lotse.yaml``, from runtime/lotse.example.yaml: every process's settings), an empty
secrets file (``DIR/secrets.yaml``, mode 600, in the format ``lotse asterisk render --secrets`` reads) and
``DIR/README.txt``, which says what each file is and what to do next. ``plan`` lists them, so that the
command can name every file that is there already before it writes any; ``write`` writes them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from routing.problems import LotseError

CONFIG = "config"  # DIR/config: lotse-agi's default config is /etc/lotse/config (runtime.settings.CLASSIC_CONFIG)
SECRETS = "secrets.yaml"
SETTINGS = "lotse.yaml"  # /etc/lotse/lotse.yaml is the one lotse reads by default (runtime.settings_file.DEFAULT_FILE)
SETTINGS_EXAMPLE = Path(__file__).parent / "lotse.example.yaml"
README = "README.txt"
PUBLIC, PRIVATE = 0o644, 0o600
EXAMPLE_SUFFIXES = (".yaml", ".yml", ".json")  # the config, its routing cases and its schema; not prompts built beside them

SECRETS_TEXT = """\
# The secrets of this center, for: lotse asterisk render --secrets {secrets}
# Keep this file readable by its owner only (mode 600; lotse init made it so) and out of version control.
# Empty as written; uncomment and fill in:
#
# passwords:               # each agent's SIP password (12 characters or more), by the agent's id in the agents file
#   anna: a-long-random-password
# ami_secret: a-long-random-secret   # lotse's AMI users (manager_lotse.conf); LOTSE_AMI_SECRET, when set, wins over it
"""

README_TEXT = """\
A starting center for lotse, written by `lotse init {dir}`.

config/                    the routing config: lotse's example center (ServiceCenter Minden-Lübbecke),
                           to be made your center's. center.yaml holds the center (hours, queues,
                           departments, the 115), tenants/*.yaml one authority each (numbers, menus, topics).
config/routing-cases.yaml  the routing cases: calls and where each must end (lotse validate skips this file).
config/schema.json         the JSON Schema of the YAML, for editors (center.yaml names it).
lotse.yaml                 the settings of every lotse process (database, Redis, AMI, where each listens,
                           spool, journal, log format); `lotse settings` shows what is in effect (docs/settings.md).
secrets.yaml               the agents' SIP passwords and the AMI secret, read by
                           `lotse asterisk render --secrets` and, named in lotse.yaml, by every process;
                           empty, readable by its owner only (mode 600).
README.txt                 this file.

Next steps:
1. Make config/ your center's and check it:
       lotse validate {dir}/config
2. Change the routing cases with it and run them:
       lotse simulate --config {dir}/config --cases {dir}/config/routing-cases.yaml
3. Write the agents file ({dir}/agents.yaml, see lotse's docs/agents.md) and put each agent's password
   into secrets.yaml.
4. Write Asterisk's config and include it (docs/asterisk.md):
       lotse asterisk render --config {dir}/config --agents {dir}/agents.yaml --secrets {dir}/secrets.yaml \\
           --out /etc/asterisk/lotse
5. Check the settings, then start lotse's processes (systemd units: docs/operations.md):
       lotse --settings {dir}/lotse.yaml settings
"""


class StartingCenterError(LotseError):
    """The starting center cannot be planned; the message names what is missing."""


@dataclass(frozen=True)
class StartingFile:
    path: Path  # relative to DIR
    data: bytes
    mode: int = PUBLIC


def plan(example: Path, target: Path) -> tuple[StartingFile, ...]:
    """Every file of a starting center in ``target``, with the example config read from ``example``."""
    return (
        *example_files(example),
        StartingFile(Path(SECRETS), SECRETS_TEXT.format(secrets=target / SECRETS).encode(), PRIVATE),
        StartingFile(Path(SETTINGS), SETTINGS_EXAMPLE.read_bytes()),
        StartingFile(Path(README), README_TEXT.format(dir=target).encode()),
    )


def example_files(example: Path) -> list[StartingFile]:
    """The example config's files as DIR/config/...; raises StartingCenterError when there is none."""
    found = sorted(p for p in example.rglob("*") if p.suffix in EXAMPLE_SUFFIXES and p.is_file()) if example.is_dir() else []
    if not found:
        raise StartingCenterError(f"no example config in {example}: this lotse is installed without it (reinstall the wheel)")
    return [StartingFile(CONFIG / p.relative_to(example), p.read_bytes()) for p in found]


def existing(files: tuple[StartingFile, ...], target: Path) -> list[Path]:
    """The files of the plan that are in ``target`` already."""
    return [target / f.path for f in files if (target / f.path).exists()]


def write(files: tuple[StartingFile, ...], target: Path) -> list[Path]:
    """Write every file of the plan below ``target`` (replacing what is there) with its mode; returns their paths."""
    written = []
    for file in files:
        path = target / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file.mode)
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(stream.fileno(), file.mode)  # before the data: a secrets file that was there is closed first
            stream.write(file.data)
        written.append(path)
    return written
