"""The web app's users: a YAML file of names, roles and scrypt password hashes.

    users:
      sabine: {name: Sabine Berg, role: supervisor, password: "scrypt$16384$8$1$<salt>$<hash>"}
      anna:   {name: Anna Schmidt, role: agent, agent: anna, password: "scrypt$..."}

Roles, each including the ones before: viewer (wallboard, reports), agent (own
state, worklist, disposition; needs ``agent:``, the id in agents.yaml),
supervisor (emergency lines, other agents, tickets), admin. ``lotse web user``
writes an entry with a hashed password; the file never holds a plain one. lotse web reads the file again
when it changed (``UsersFile``): a removed user or a new password ends that user's sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("lotse.web")
SCRYPT = (16384, 8, 1)  # n, r, p: about 16 MiB and 50 ms per check on this kind of machine
MIN_PASSWORD = 10


class Role(IntEnum):
    VIEWER = 1
    AGENT = 2
    SUPERVISOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return {1: "Betrachter", 2: "Agent", 3: "Supervisor", 4: "Administrator"}[self.value]


class UsersError(ValueError):
    """The users file cannot be used; the message names the file, the user and what is wrong."""


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role
    password: str  # the scrypt hash
    agent: str = ""  # the agent id (agents.yaml) of an agent's login

    def may(self, role: Role) -> bool:
        return self.role >= role


def hash_password(password: str, salt: bytes | None = None) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"the password has {len(password)} characters; use at least {MIN_PASSWORD}")
    salt = salt or os.urandom(16)
    n, r, p = SCRYPT
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def check_password(stored: str, given: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(given.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def _user(path: Path, user_id: str, entry: Any, agents: set[str] | None) -> User:
    where = f"{path}: user '{user_id}'"
    if not isinstance(entry, dict):
        raise UsersError(f"{where}: expected a mapping with name, role and password")
    unknown = set(entry) - {"name", "role", "password", "agent"}
    if unknown:
        raise UsersError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: name, role, password, agent)")
    role_name = str(entry.get("role", ""))
    try:
        role = Role[role_name.upper()]
    except KeyError:
        raise UsersError(f"{where}: role '{role_name}' is not one of viewer, agent, supervisor, admin") from None
    password = str(entry.get("password", ""))
    if not password.startswith("scrypt$") or password.count("$") != 5:
        raise UsersError(f"{where}: password is not a scrypt hash; set it with: lotse user {user_id} --users {path} --role ROLE")
    agent = str(entry.get("agent", "") or "")
    if role is Role.AGENT and not agent:
        raise UsersError(f"{where}: an agent's login needs 'agent:', their id in agents.yaml")
    if agent and agents is not None and agent not in agents:
        raise UsersError(f"{where}: agent '{agent}' is not in agents.yaml (known: {', '.join(sorted(agents))})")
    return User(user_id, str(entry.get("name") or user_id), role, password, agent)


def load_users(path: Path, agents: set[str] | None = None) -> dict[str, User]:
    """The users of a file; raises UsersError naming the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_users(path, text, agents)


def parse_users(path: Path, text: str, agents: set[str] | None = None) -> dict[str, User]:
    """The users of the text of a users file (``path`` for the messages); raises UsersError naming the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsersError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("users"), dict) or not data["users"]:
        raise UsersError(f"{path}: expected 'users:' with at least one user")
    return {str(uid): _user(path, str(uid), entry, agents) for uid, entry in data["users"].items()}


def set_user(path: Path, user_id: str, role: Role, password: str, name: str = "", agent: str = "") -> None:
    """Add or change one user (the file is created when missing, mode 600)."""
    data: dict[str, Any] = {"users": {}}
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data = loaded if isinstance(loaded, dict) else data
        data.setdefault("users", {})
    entry: dict[str, Any] = {"name": name or user_id, "role": role.name.lower(), "password": hash_password(password)}
    if agent:
        entry["agent"] = agent
    data["users"][user_id] = entry
    _write(path, data)


def remove_user(path: Path, user_id: str) -> None:
    """Remove one user from the file (``lotse user ID --remove``); raises UsersError naming the file when it is not there."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    except yaml.YAMLError as exc:
        raise UsersError(f"{path}: not valid YAML: {exc}") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(users, dict) or user_id not in users:
        known = ", ".join(sorted(str(u) for u in users)) if isinstance(users, dict) else "none"
        raise UsersError(f"{path}: no user '{user_id}' (known: {known})")
    if len(users) == 1:  # a file without users is refused by lotse web, which would keep the users read before
        raise UsersError(f"{path}: '{user_id}' is the only user; add another first (the file needs at least one)")
    del users[user_id]
    _write(path, data)


def _write(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    temp.chmod(0o600)
    temp.replace(path)


class UsersFile(Mapping[str, User]):
    """The users of a file as it is now: read again when it changed (a user added, removed or with a new password
    takes effect at the next request, without a restart). A changed file with a problem is not taken: the users
    read before stay, and the problem is logged once.

    A change is seen by the file's time, size and inode; while the file's time is within ``RACY`` seconds of the
    last look, its content is compared too, since a file's clock ticks in milliseconds and an edit of the same
    size in the same tick keeps all three.
    """

    RACY = 2.0

    def __init__(self, path: Path, agents: set[str] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.path, self.agents, self.clock = path, agents, clock
        self._stamp, self._looked = self._stat(), clock()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsersError(f"{path}: cannot be read: {exc.strerror}") from None
        self._users, self._digest = parse_users(path, text, agents), hashlib.sha256(text.encode()).digest()

    def _stat(self) -> tuple[int, int, int]:
        try:
            found = self.path.stat()
        except OSError:
            return (0, 0, 0)
        return (found.st_mtime_ns, found.st_size, found.st_ino)

    def current(self) -> dict[str, User]:
        stamp = self._stat()
        if stamp == self._stamp and stamp[0] / 1e9 < self._looked - self.RACY:
            return self._users
        self._stamp, self._looked = stamp, self.clock()
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            log.error("web: the users file cannot be read, the users read before stay: %s: %s", self.path, exc.strerror)
            return self._users
        digest = hashlib.sha256(text.encode()).digest()
        if digest != self._digest:
            self._digest = digest
            try:
                self._users = parse_users(self.path, text, self.agents)
                log.info("web: users file read again: %d users", len(self._users))
            except UsersError as exc:
                log.error("web: the changed users file is not used, the users read before stay: %s", exc)
        return self._users

    def __getitem__(self, user_id: str) -> User:
        return self.current()[user_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())
