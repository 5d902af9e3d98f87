"""``lotse tokens add | list | revoke | import`` through lotse.cli.main on SQLite, and lotse promises refusing the old
tokens file with what to do instead."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from lotse.cli import main
from promises.store import Promises
from promises.tokens import Tokens
from tests.conftest import EXAMPLE


def lotse(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main([*args], out, environ={})
    return code, out.getvalue()


def tokens(db: str, *args: str) -> tuple[int, str]:
    return lotse("tokens", *args, "--config", str(EXAMPLE), "--db", db)


def client_of(db: str, secret: str) -> str | None:
    store = Promises.open(f"sqlite:///{db}")
    try:
        found = Tokens(store.engine).client(secret)
        return None if found is None else f"{found.name}:{found.department}"
    finally:
        store.close()


def test_add_list_and_revoke_a_department_token_and_an_admin_token(tmp_path: Path) -> None:
    db = str(tmp_path / "lotse.db")
    code, added = tokens(db, "add", "--department", "standesamt-minden", "--name", "standesamt")
    assert code == 0 and added.startswith("token 1 'standesamt' for Standesamt Minden (standesamt-minden):\n")
    secret = added.splitlines()[1]
    assert re.fullmatch(r"lotse_[A-Za-z0-9_-]{43}", secret) and "shown only now" in added
    assert client_of(db, secret) == "standesamt:standesamt-minden"
    code, admin = tokens(db, "add", "--admin")
    assert code == 0 and admin.startswith("token 2 'admin' for every ticket (admin):\n")

    code, listed = tokens(db, "list")
    assert code == 0 and secret not in listed and admin.splitlines()[1] not in listed
    assert [line.split()[:3] for line in listed.splitlines()[1:]] == [["1", "standesamt", "Standesamt"], ["2", "admin", "admin"]]
    assert "revoked" in listed.splitlines()[0]

    assert tokens(db, "revoke", "1") == (0, "token 1 'standesamt' (Standesamt Minden) revoked: the API refuses it from now on\n")
    assert client_of(db, secret) is None
    assert tokens(db, "revoke", "1") == (1, "lotse tokens revoke: token 1 ('standesamt') was revoked before\n")
    assert tokens(db, "revoke", "7") == (1, "lotse tokens revoke: there is no token 7 (lotse tokens list shows them)\n")
    revoked = tokens(db, "list")[1].splitlines()
    assert revoked[1].split()[-1] != "-" and revoked[2].split()[-1] == "-"  # when it was revoked; the admin's is not


def test_a_token_for_an_unknown_department_or_without_a_scope_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "lotse.db")
    with pytest.raises(SystemExit):
        tokens(db, "add", "--department", "standesamt")
    assert "no department 'standesamt' in the config; it has bussgeldstelle, ordnungsamt-minden, " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tokens(db, "add")
    assert "tokens add needs --department ID or --admin" in capsys.readouterr().err


def test_the_old_tokens_file_is_imported_hashed_and_lotse_promises_says_how(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, old = str(tmp_path / "lotse.db"), tmp_path / "api-tokens"
    old.write_text("standesamt 0123456789abcdef0123456789\nbauamt abcdefghijklmnopqrstuvwxyz\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        lotse("promises", "--config", str(EXAMPLE), "--spool", str(tmp_path), "--api", "127.0.0.1:9572", "--api-tokens", str(old))
    said = capsys.readouterr().err
    assert "promises.api_tokens (--api-tokens) is no longer read" in said
    assert f"lotse tokens import {old} --name NAME --department ID" in said

    assert tokens(db, "import", str(old), "--name", "standesamt", "--department", "standesamt-minden") == (
        0,
        "token 1 'standesamt' for Standesamt Minden (standesamt-minden): imported from the file\n",
    )
    assert client_of(db, "0123456789abcdef0123456789") == "standesamt:standesamt-minden"
    assert client_of(db, "abcdefghijklmnopqrstuvwxyz") is None  # only the line named
    assert tokens(db, "import", str(old), "--name", "rathaus", "--admin") == (
        1,
        f"lotse tokens import: {old} has no line for 'rathaus'; it has standesamt, bauamt\n",
    )
