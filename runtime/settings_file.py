"""The settings file (e.g. /etc/lotse/lotse.yaml): one file for every lotse process, flags override it.

``KEYS`` is the file's schema: every key, its kind and what it is for (docs/operations.md lists them; ``lotse
settings --schema`` prints them as JSON Schema). A command binds a flag to a key (lotse.common.setting); its value
is, in this order, the flag, the file, the command's own default. Secrets never stand in this file: the AMI secret
comes from ``LOTSE_AMI_SECRET`` or the secrets file that ``secrets:`` names (the agents' SIP passwords are in it
too). A mistake in the file is named with its file:line:column, as in the routing YAML, and nothing starts.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.fastagi import parse_allow
from metrics.tracker import Privacy
from pbx.contract import FASTAGI_PORT
from render.agents import SecretsFile, read_secrets
from routing.problems import ConfigError, Severity, did_you_mean
from routing.yamlsource import Source, read_document
from runtime import settings as defaults
from runtime.settings import SettingsError
from stores.db import StoreError, database_url

DEFAULT_FILE = Path("/etc/lotse/lotse.yaml")  # read when it exists and neither --settings nor LOTSE_SETTINGS names one
_ADDRESS = re.compile(r"^[^\s:]*:\d{1,5}$")
_NODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def _text(value: str) -> str:
    return value


def _path(value: str) -> Path:
    return Path(value)


def _whole(value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()):
        raise ValueError(f"'{value}' is not a whole number")
    return int(value)


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a number of seconds") from None
    if number < 0:
        raise ValueError(f"'{value}' is below 0 seconds")
    return number


def _yes_no(value: str) -> bool:
    if value.lower() not in ("true", "false", "yes", "no"):
        raise ValueError(f"'{value}' is neither true nor false")
    return value.lower() in ("true", "yes")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"'{value}' must be HOST:PORT, e.g. 127.0.0.1:9570")
    return value


def _node(value: str) -> str:
    if not _NODE.match(value):
        raise ValueError(f"'{value}' must be a name of letters, digits, '.', '-' or '_', e.g. a")
    return value


def _network(value: str) -> str:
    parse_allow([value])  # the ValueError names it as lotse serve --allow does
    return value


def _database(value: str) -> str:
    try:
        database_url(value)
    except StoreError as exc:
        raise ValueError(str(exc)) from None
    return value


@dataclass(frozen=True)
class Key:
    name: str  # dotted: section.key
    parse: Callable[[str], Any]  # a text of the file to the value a flag gives; ValueError says what is wrong
    help: str
    default: Any = None  # when neither flag nor file gives it and the command has no default of its own
    choices: tuple[str, ...] = ()
    many: bool = False  # a list of values (a repeatable flag)


_JSON_TYPES: dict[Callable[[str], Any], str] = {_whole: "integer", _seconds: "number", _yes_no: "boolean"}
KEYS = {
    key.name: key
    for key in (
        Key("config", _path, "the routing config: a folder of YAML files (lotse validate)"),
        Key("agents", _path, "agents.yaml: agents, groups, phone codes (lotse web, asterisk render, report)"),
        Key("secrets", _path, "the secrets file (mode 0600): ami_secret and the agents' SIP passwords"),
        Key("journal", _path, "lotse serve's journal of decisions, read by lotse metrics after an AMI gap"),
        Key("queue_log", _path, "Asterisk's queue_log (lotse metrics, report and web)"),
        Key("node", _node, "this node's name (two nodes): its entries in the live state, its hold of the leases; default: the host name"),
        Key("loop", _text, "event loop of serve, metrics and promises", "uvloop", ("uvloop", "asyncio")),
        Key("log.format", _text, "log lines of every process: text, or JSON with fixed fields", "text", ("text", "json")),
        Key("database.url", _database, "call records, promises, dispositions: a SQLite file or a SQLAlchemy URL", defaults.DATABASE_URL),
        Key("redis.url", _text, "the live state (agents, waiting callers, emergency lines)"),
        Key("ami.address", _address, "Asterisk's manager interface", defaults.AMI_ADDRESS),
        Key("serve.host", _text, "lotse serve: the address FastAGI listens on", "127.0.0.1"),
        Key("serve.port", _whole, "lotse serve: the FastAGI port", FASTAGI_PORT),
        Key("serve.allow", _network, "lotse serve: also accept FastAGI from these addresses or networks", many=True),
        Key("serve.grace", _seconds, "lotse serve: at a stop, how long running calls may finish", 30.0),
        Key("serve.prompts", _text, "lotse serve: the prompts folder as Asterisk sees it"),
        Key("serve.pid_file", _path, "lotse serve: its process id, for lotse reload"),
        Key("serve.listen", _address, "lotse serve: its /health and /metrics (none: not served)"),
        Key("metrics.listen", _address, "lotse metrics: the Prometheus endpoint", defaults.METRICS_LISTEN),
        Key("metrics.spool", _path, "lotse metrics: records on their way to the database", Path("lotse-records.spool")),
        Key("metrics.retention_days", _whole, "lotse metrics: delete records older than this many days"),
        Key("metrics.caller_numbers", _text, "lotse metrics: how callers' numbers are stored", "truncated", tuple(Privacy)),
        Key("promises.spool", _path, "lotse promises: the dialplan's spool folder"),
        Key("promises.prompts", _text, "lotse promises: the prompts folder as Asterisk sees it", ""),
        Key("promises.listen", _address, "lotse promises: the Prometheus endpoint", defaults.PROMISES_LISTEN),
        Key("promises.api", _address, "lotse promises: the tickets' JSON API"),
        Key("promises.api_tokens", _path, "no longer read: lotse promises refuses it and says how to import it (lotse tokens import)"),
        Key("promises.smtp", _address, "lotse promises: the mail server for departments' notices"),
        Key("promises.mail_from", _text, "lotse promises: the sender of its mails", "lotse@localhost"),
        Key("promises.smtp_timeout", _seconds, "lotse promises: seconds for each step of the SMTP dialogue (connect, each reply)", 10.0),
        Key("promises.callback_wait", _whole, "lotse promises: seconds a callback waits for an agent", 600),
        Key("promises.retention_days", _whole, "lotse promises: blank the numbers of promises closed this many days ago"),
        Key("web.listen", _address, "lotse web: where it serves its pages", defaults.WEB_LISTEN),
        Key("web.users", _path, "lotse web: the users file (lotse user)"),
        Key("web.ami", _address, "lotse web: Asterisk's manager interface for agents' log-in and pause"),
        Key("web.secret_file", _path, "lotse web: the key that signs sessions"),
        Key("web.https_only", _yes_no, "lotse web: the session cookie only over HTTPS (behind a TLS proxy)", False),
        Key("web.idle_minutes", _whole, "lotse web: a session not used for this many minutes ends (docs/security.md)", 60),
    )
}

SECTIONS = {name.split(".", 1)[0] for name in KEYS if "." in name}


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "flag", "file PATH:LINE", "environment NAME", "default"


@dataclass
class SettingsFile:
    """The values a settings file gives, by key, each with where it was written."""

    path: Path | None = None
    values: dict[str, Value] = field(default_factory=dict)
    secrets: SecretsFile = field(default_factory=SecretsFile)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, env: Mapping[str, str]) -> SettingsFile:
        """The file's values; a SettingsError lists every problem with its file:line:column."""
        source = read_document(path, env)
        found = cls(path)
        if not source.problems:
            for section, body in source.data.items():
                if section not in KEYS and section not in SECTIONS:
                    hint = did_you_mean(str(section), [*SECTIONS, *(k for k in KEYS if "." not in k)])
                    source.error((section,), f"unknown setting '{section}'", hint, key=True)
                elif section in SECTIONS and not isinstance(body, dict):
                    source.error((section,), f"expected a mapping of keys under '{section}:'")
                elif section in SECTIONS:
                    for name, text in body.items():
                        found._take(source, f"{section}.{name}", (section, name), text)
                else:
                    found._take(source, str(section), (section,), body)
        errors = [p for p in source.problems if p.severity is Severity.ERROR]
        if errors:
            raise SettingsError(f"{len(errors)} error(s) in the settings file:\n" + "\n".join(map(str, errors)))
        secrets = found.values.get("secrets")
        if secrets is not None:
            found.secrets, found.warnings = _secrets(secrets.value)
        return found

    def _take(self, source: Source, name: str, where: tuple[str, ...], text: Any) -> None:
        key = KEYS.get(name)
        if key is None:
            source.error(where, f"unknown setting '{name}'", did_you_mean(name, KEYS), key=True)
            return
        texts = text if key.many and isinstance(text, list) else [text]
        values = []
        for index, item in enumerate(texts):
            at: tuple[str | int, ...] = (*where, index) if key.many and isinstance(text, list) else where
            if item is None:
                source.error(at, "has no value: give one, or remove the line for the default")
                return
            if not isinstance(item, str):
                source.error(at, f"expected a single value, got a {'list' if isinstance(item, list) else 'mapping'}")
                return
            if key.choices and item not in key.choices:
                source.error(at, f"'{item}' is not one of {', '.join(key.choices)}")
                return
            try:
                value = key.parse(item)
            except ValueError as exc:
                source.error(at, str(exc))
                return
            if isinstance(value, Path) and self.path is not None:
                value = self.path.parent.resolve() / value  # relative to the settings file's folder; absolute stays
            values.append(value)
        location = source.locate(where)
        self.values[name] = Value(values if key.many else values[0], f"file {location or self.path}")


def schema() -> dict[str, Any]:
    """The settings file's JSON Schema, from KEYS."""
    top: dict[str, Any] = {}
    for name, key in KEYS.items():
        section, _, field = name.rpartition(".")
        target = (
            top.setdefault(section, {"type": "object", "additionalProperties": False, "properties": {}})["properties"] if section else top
        )
        target[field] = _property(key)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lotse settings file",
        "type": "object",
        "additionalProperties": False,
        "properties": top,
    }


def _property(key: Key) -> dict[str, Any]:
    one: dict[str, Any] = {"type": _JSON_TYPES.get(key.parse, "string"), "description": key.help}
    if key.choices:
        one["enum"] = list(key.choices)
    if key.default is not None:
        one["default"] = str(key.default) if isinstance(key.default, Path) else key.default
    return {"type": "array", "items": one, "description": key.help} if key.many else one


def _secrets(path: Path) -> tuple[SecretsFile, list[str]]:
    """The secrets file's values, and a warning when others than its owner may read it."""
    try:
        secrets = read_secrets(path)
    except ConfigError as exc:
        raise SettingsError(f"the secrets file {path}:\n" + "\n".join(map(str, exc.problems))) from None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return secrets, [f"{path}: readable by others than its owner (mode {stat.S_IMODE(mode):04o}): chmod 600 {path}"]
    return secrets, []


def settings_path(flag: Path | None, env_value: str) -> Path | None:
    """The settings file to read: --settings, else LOTSE_SETTINGS, else /etc/lotse/lotse.yaml if it exists."""
    if flag is not None:
        return flag
    if env_value:
        return Path(env_value)
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None
