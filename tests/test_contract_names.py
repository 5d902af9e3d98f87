"""The dialplan contract's names live in pbx/contract.py only; AMI actions are built in pbx/actions.py only.

A channel variable (LOTSE_*), a UserEvent (Lotse...), a context or an AMI user spelled anywhere else would drift
from the dialplan that lotse renders; this scan of every product module's string constants names the place.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from pbx import contract
from runtime.settings import ENVIRONMENT
from tests.conftest import ROOT

PRODUCT = ("lotse", "agi_scripts", "runtime", "web", "promises", "metrics", "ivr", "render", "outcomes", "pbx", "stores", "routing")
NAMED = re.compile(r"\bLOTSE_[A-Z_]+\b|\bLotse[A-Z][A-Za-z]+\b|\blotse-[a-z][a-z-]*\b")
NOT_CONTRACT = {"lotse-agi", "lotse-records", "lotse-calls"}  # the command, and default file names
SPOOL_AND_ROUTES = ("AGI_ROUTE", "SPOOL_", "CLASSIC_SCRIPT")  # plain words ('lotse', 'requests'): found by their use


def contract_names() -> set[str]:
    """Every name the contract defines: variables, contexts, events, AMI users."""
    return {
        value
        for name, value in vars(contract).items()
        if name.isupper() and isinstance(value, str) and not name.startswith(SPOOL_AND_ROUTES) and NAMED.fullmatch(value)
    }


def product_files() -> Iterator[Path]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if name.split("/")[0] in PRODUCT and name != "pbx/contract.py" and "/migrations/" not in name:
            yield ROOT / name


def _docstrings(tree: ast.AST) -> set[int]:
    owners = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }


def spelled(path: Path) -> list[str]:
    """'file:line: NAME' for each contract-like name in a string constant (docstrings are prose: left out)."""
    tree = ast.parse(path.read_text(), str(path))
    prose = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            for name in sorted(set(NAMED.findall(node.value)) - NOT_CONTRACT - set(ENVIRONMENT)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_the_contract_names_what_the_scan_looks_for() -> None:
    names = contract_names()
    assert {"LOTSE_OUTCOME", "lotse-route", "LotseCallback", "LotseDisposition", "lotse-web"} <= names


def test_contract_names_are_spelled_in_pbx_contract_only() -> None:
    found = [line for path in product_files() for line in spelled(path)]
    assert not found, "use the constant of pbx/contract.py (add one if it is missing):\n" + "\n".join(found)


def test_ami_actions_are_built_in_pbx_actions_only() -> None:
    built = []
    for path in product_files():
        if path.name == "actions.py" and path.parent.name == "pbx":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "Action" for k in node.keys):
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not built, "build AMI actions with a function of pbx/actions.py:\n" + "\n".join(built)
