"""lotse web in-process without Redis for the tests of its sessions and log-ins: the real app in starlette's
TestClient, a SQLite database, a users file in tmp_path and a clock the test moves.

The users' hashes are scrypt with a small cost (the stored hash names its own cost, check_password reads it),
so that a test of ten log-ins takes milliseconds, not two seconds; the database is migrated once per module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import itsdangerous
import redis
import yaml
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from metrics.store import Store
from promises.store import Promises
from render.agents import load_agents
from routing.model import Center
from stores.live import LiveState
from tests.conftest import ROOT
from tests.webapp import PASSWORD, USERS, csrf_of
from web.app import create_app
from web.context import Services
from web.feed import Feed
from web.reports import today_figures
from web.users import UsersFile

__all__ = ["IDLE", "PASSWORD", "Site", "csrf_of", "log_in", "migrated_db", "session_of"]
NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: these pages do without the live state
IDLE = 1800.0
SECRET = "test-secret"  # signs the session cookie


@dataclass
class Site:
    app: Starlette
    engine: Engine  # the database's: the sessions and log-in failures
    users_file: Path
    now: list[float]  # the app's clock: the test moves now[0]

    @classmethod
    def make(cls, center: Center, tmp: Path, migrated: Path) -> Site:
        """The app on a copy of ``migrated`` (a SQLite file at the newest revision: see migrated_db)."""
        shutil.copy(migrated, tmp / "calls.db")
        return cls.on(center, tmp, f"sqlite:///{tmp / 'calls.db'}")

    @classmethod
    def on(cls, center: Center, tmp: Path, url: str) -> Site:
        """The app on the database at ``url``, with the users file tmp/users.yaml (made when missing: two nodes share it)."""
        users_file = tmp / "users.yaml"
        site_users = {
            u: {"name": u.capitalize(), "role": r.name.lower(), "password": cheap_hash(PASSWORD), "agent": a} for u, (r, a) in USERS.items()
        }
        if not users_file.exists():
            users_file.write_text(yaml.safe_dump({"users": site_users}), encoding="utf-8")
        agents = load_agents(ROOT / "asterisk" / "agents.example.yaml", ROOT / "asterisk" / "secrets.example.yaml", center)
        store = Store.open(url, center.tz)
        live = LiveState(redis.Redis.from_url(NO_REDIS, socket_connect_timeout=0.2), "lotse-test")
        feed = Feed(lambda: center, live, today_figures(store.engine), NO_REDIS)
        users = UsersFile(users_file, {a.id for a in agents.agents})
        services = Services(lambda: center, agents, users, live, feed, None, store.engine, Promises(store.engine))
        now = [1_780_000_000.0]
        return cls(create_app(services, SECRET, idle=IDLE, clock=lambda: now[0]), store.engine, users_file, now)

    def client(self, address: str = "198.51.100.7", cookies: dict[str, str] | None = None) -> TestClient:
        return TestClient(self.app, client=(address, 50000), cookies=cookies)

    def remove_user(self, user_id: str) -> None:
        data: dict[str, Any] = yaml.safe_load(self.users_file.read_text(encoding="utf-8"))
        del data["users"][user_id]
        self.users_file.write_text(yaml.safe_dump(data), encoding="utf-8")

    def set_password(self, user_id: str, password: str) -> None:
        data: dict[str, Any] = yaml.safe_load(self.users_file.read_text(encoding="utf-8"))
        data["users"][user_id]["password"] = cheap_hash(password)
        self.users_file.write_text(yaml.safe_dump(data), encoding="utf-8")


def cheap_hash(password: str, salt: bytes = b"test-salt-16byte") -> str:
    """A scrypt hash as web.users writes them, at a cost of microseconds."""
    digest = hashlib.scrypt(password.encode(), salt=salt, n=16, r=1, p=1, dklen=32)
    return "$".join(["scrypt", "16", "1", "1", base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def migrated_db(tmp: Path) -> Path:
    """A SQLite file at the newest revision (for a module-scoped fixture: the migrations run once)."""
    Store.open(f"sqlite:///{tmp / 'migrated.db'}").close()
    return tmp / "migrated.db"


def log_in(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    data = {"csrf": csrf_of(page.text), "user": user, "password": password, "next": "/wallboard"}
    return client.post("/login", data=data, follow_redirects=False)


def session_of(client: TestClient) -> dict[str, Any]:
    """What the client's session cookie holds (signed by SECRET, as Starlette's SessionMiddleware writes it)."""
    signed = itsdangerous.TimestampSigner(SECRET).unsign(client.cookies["lotse_session"])
    data: dict[str, Any] = json.loads(base64.b64decode(signed))
    return data
