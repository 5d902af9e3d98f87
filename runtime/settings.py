"""Settings: the environment read once, and every default of the lotse processes in one place.

``Environment.read(os.environ)`` is called once per process, by the entry point (``lotse`` or ``lotse-agi``);
the commands receive the object and read no environment themselves (tests/test_settings.py checks that no
other product module does). Defaults of the command-line flags are the constants below; a flag overrides
its default, and secrets come only from the environment (never a flag: it would show in ``ps``).

The one rule for the AMI secret: ``LOTSE_AMI_SECRET``. Every process that logs in to Asterisk's AMI (lotse
metrics, lotse promises, lotse web with --ami) refuses to start without it, naming the variable;
``lotse asterisk render`` writes manager_lotse.conf with it, or else with ``ami_secret`` of the secrets file.

This module imports nothing heavy: the classic per-call AGI script reads its settings here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pbx import contract as c

# Where each process listens and what it connects to, unless a flag says otherwise.
AMI_ADDRESS = f"127.0.0.1:{c.AMI_PORT}"  # Asterisk's manager interface
REDIS_URL = "redis://127.0.0.1:6379/0"  # the live state (lotse metrics writes it; serve and web read it)
DATABASE_URL = "sqlite:///lotse-calls.db"  # call records, promises and dispositions (SQLite next to the process)
METRICS_LISTEN = "127.0.0.1:9570"  # lotse metrics' Prometheus endpoint
PROMISES_LISTEN = "127.0.0.1:9571"  # lotse promises' Prometheus endpoint and ticket API
WEB_LISTEN = "127.0.0.1:8080"  # lotse web
CLASSIC_CONFIG = "/etc/lotse/config"  # lotse-agi's routing config
CLASSIC_REPLY_TIMEOUT = 120.0  # seconds lotse-agi waits for Asterisk's reply to one command

# Every environment variable lotse reads, and what it is for (docs/operations.md lists them for admins).
ENVIRONMENT = {
    "LOTSE_AMI_SECRET": "the secret of lotse's AMI users (metrics, promises, web; manager_lotse.conf)",
    "LOTSE_SETTINGS": "the settings file (default /etc/lotse/lotse.yaml when it exists); --settings overrides it",
    "LOTSE_WEB_PASSWORD": "lotse user: the new user's password (else it is asked for in a terminal)",
    "LOTSE_CONFIG": f"lotse-agi: the routing config (default {CLASSIC_CONFIG})",
    "LOTSE_PROMPTS": "lotse-agi: the prompts folder as Asterisk sees it (default: the config's prompts_dir)",
    "LOTSE_AGI_TIMEOUT": f"lotse-agi: seconds to wait for each reply of Asterisk (default {CLASSIC_REPLY_TIMEOUT:g})",
    "LOTSE_PRETEND_TIME": "lotse-agi, labs and tests only: route as if it were this local time, 'YYYY-MM-DD HH:MM'",
    "USER": "lotse tickets: who claims or closes a ticket, unless --by says it",
    "NOTIFY_SOCKET": "set by systemd (Type=notify): where a process says it is ready, alive and stopping",
    "WATCHDOG_USEC": "set by systemd (WatchdogSec=): how often a process must say it is alive",
}


class SettingsError(ValueError):
    """An environment variable has a value lotse cannot use; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Environment:
    """What lotse takes from the environment, read once."""

    ami_secret: str = ""
    settings_file: str = ""
    web_password: str = ""
    user: str = "admin"
    classic_config: str = CLASSIC_CONFIG
    classic_prompts: str = ""
    classic_reply_timeout: float = CLASSIC_REPLY_TIMEOUT
    pretend_time: str = ""
    notify_socket: str = ""
    watchdog_usec: int = 0
    values: Mapping[str, str] | None = None  # the whole environment, for ${NAME} in the routing YAML

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> Environment:
        timeout = environ.get("LOTSE_AGI_TIMEOUT", "")
        try:
            reply_timeout = float(timeout) if timeout else CLASSIC_REPLY_TIMEOUT
        except ValueError:
            raise SettingsError(f"LOTSE_AGI_TIMEOUT={timeout!r} is not a number of seconds, e.g. 120") from None
        if not reply_timeout > 0:
            raise SettingsError(f"LOTSE_AGI_TIMEOUT={timeout!r} must be more than 0 seconds")
        pretend = environ.get("LOTSE_PRETEND_TIME", "")
        if pretend:
            try:
                datetime.strptime(pretend, "%Y-%m-%d %H:%M")
            except ValueError:
                raise SettingsError(f"LOTSE_PRETEND_TIME={pretend!r} is not a local time 'YYYY-MM-DD HH:MM'") from None
        return cls(
            ami_secret=environ.get("LOTSE_AMI_SECRET", ""),
            settings_file=environ.get("LOTSE_SETTINGS", ""),
            web_password=environ.get("LOTSE_WEB_PASSWORD", ""),
            user=environ.get("USER") or "admin",
            classic_config=environ.get("LOTSE_CONFIG") or CLASSIC_CONFIG,
            classic_prompts=environ.get("LOTSE_PROMPTS", ""),
            classic_reply_timeout=reply_timeout,
            pretend_time=pretend,
            notify_socket=environ.get("NOTIFY_SOCKET", ""),
            watchdog_usec=int(environ["WATCHDOG_USEC"]) if environ.get("WATCHDOG_USEC", "").isdigit() else 0,
            values=dict(environ),
        )

    def require_ami_secret(self, process: str) -> str:
        """The AMI secret for ``process``; a SettingsError naming the variable when it is not set."""
        if not self.ami_secret:
            raise SettingsError(
                f"{process} logs in to Asterisk's AMI: set LOTSE_AMI_SECRET, or ami_secret in the secrets file"
                " that the settings file's 'secrets:' names (the secret of manager_lotse.conf)"
            )
        return self.ami_secret
