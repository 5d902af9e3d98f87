"""Reading routing YAML with the location of every key and value.

A config is one file or a folder of files (read recursively, in name order;
files with ``cases`` in their name are routing cases, not config). Every plain
scalar stays a string (the schema converts it), so YAML 1.1 surprises such as
``08:00`` read as 480 or ``no`` read as False cannot happen. Duplicate keys,
which PyYAML silently accepts, are problems. ``${NAME}`` and
``${NAME:-default}`` are replaced from the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from routing.problems import Location, Path, Problem, Severity

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
MERGED_SECTIONS = ("tenants", "topics", "queues", "departments")
MAX_ALIASED = 10_000  # values that YAML aliases may repeat in one file; beyond, an alias bomb is refused
SINGLE_SECTIONS = ("center", "service_115")

try:  # libyaml is ten times faster; PyYAML's wheels include it
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only on source builds without libyaml
    _Loader = yaml.SafeLoader


@dataclass
class Source:
    """Plain data read from YAML plus where each part came from."""

    data: dict[str, Any] = field(default_factory=dict)
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # YAML nodes converted so far (an alias revisits one)
    aliased: int = 0  # values repeated through aliases

    def locate(self, path: Path, key: bool = False) -> Location | None:
        """Where ``path`` (or, failing that, its nearest parent) was written."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def error(self, path: Path, message: str, hint: str = "", key: bool = False) -> None:
        self.problems.append(Problem(Severity.ERROR, self.locate(path, key), path, message, hint))

    def warning(self, path: Path, message: str, hint: str = "") -> None:
        self.problems.append(Problem(Severity.WARNING, self.locate(path), path, message, hint))


def config_files(path: FsPath) -> list[FsPath]:
    """The YAML files that make up the config at ``path`` (file or folder)."""
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()]
        return sorted(p for p in found if "cases" not in p.name)
    return [path]


def read_config(path: FsPath, env: Mapping[str, str] | None = None) -> Source:
    """Read and merge every config file at ``path``; problems are collected, not raised."""
    source = Source()
    environ = os.environ if env is None else env
    if not path.exists():
        source.problems.append(Problem(Severity.ERROR, None, (), f"{path} does not exist", "give a YAML file or a folder of them"))
        return source
    files = config_files(path)
    if not files:
        source.problems.append(Problem(Severity.ERROR, None, (), f"{path} holds no .yaml or .yml files"))
    for file in files:
        _merge_file(source, file, environ)
    return source


def read_document(file: FsPath, env: Mapping[str, str] | None = None) -> Source:
    """Read one YAML file whose top level is a mapping (e.g. a routing-cases file)."""
    source = Source()
    source.files.append(str(file))
    node = _compose(source, file)
    if node is not None:
        data = _convert(source, node, (), str(file), os.environ if env is None else env)
        if isinstance(data, dict):
            source.data = data
        else:
            source.error((), "the file must be a mapping of keys at its top level")
    return source


def _compose(source: Source, file: FsPath) -> yaml.Node | None:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        source.problems.append(Problem(Severity.ERROR, Location(str(file), 1, 1), (), f"cannot read: {exc}"))
        return None
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(str(file), mark.line + 1, mark.column + 1) if mark else Location(str(file), 1, 1)
        message = f"not valid YAML: {exc.problem or exc.context}"
        lines = text.splitlines()
        if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
            message = "not valid YAML: a tab character; YAML indents with spaces only"
        source.problems.append(Problem(Severity.ERROR, where, (), message, "check indentation and quoting"))
        return None
    except yaml.YAMLError as exc:
        source.problems.append(Problem(Severity.ERROR, Location(str(file), 1, 1), (), f"not valid YAML: {exc}"))
        return None
    return node


def _merge_file(source: Source, file: FsPath, env: Mapping[str, str]) -> None:
    name = str(file)
    source.files.append(name)
    node = _compose(source, file)
    if node is None:
        return  # an empty file contributes nothing
    file_source = Source()
    data = _convert(file_source, node, (), name, env)
    source.problems.extend(file_source.problems)
    if not isinstance(data, dict):
        where = _location(name, node)
        source.problems.append(Problem(Severity.ERROR, where, (), "the top level must be a mapping such as 'tenants:' or 'center:'"))
        return
    for section, value in data.items():
        path: Path = (section,)
        if section in MERGED_SECTIONS and section in source.data and isinstance(value, dict):
            target = source.data[section]
            if not isinstance(target, dict):
                continue
            for item_id, item in value.items():
                item_path: Path = (section, item_id)
                if item_id in target:
                    first = source.keys.get(item_path)
                    source.problems.append(
                        Problem(
                            Severity.ERROR,
                            file_source.keys.get(item_path),
                            item_path,
                            f"'{item_id}' is defined twice",
                            f"first defined at {first}; ids must be unique across all files",
                        )
                    )
                    continue
                target[item_id] = item
                _copy_locations(file_source, source, item_path)
        elif section in source.data:
            first = source.keys.get(path)
            source.problems.append(
                Problem(
                    Severity.ERROR,
                    file_source.keys.get(path),
                    path,
                    f"'{section}' is given in more than one file",
                    f"first given at {first}; keep one '{section}' section",
                )
            )
        else:
            source.data[section] = value
            _copy_locations(file_source, source, path)


def _copy_locations(src: Source, dst: Source, prefix: Path) -> None:
    size = len(prefix)
    for src_table, dst_table in ((src.values, dst.values), (src.keys, dst.keys)):
        for path, location in src_table.items():
            if path[:size] == prefix:
                dst_table[path] = location
    section = prefix[:1]
    if section in src.keys and section not in dst.keys:
        dst.keys[section] = src.keys[section]
        dst.values[section] = src.values[section]


def _location(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(source: Source, node: yaml.Node, path: Path, file: str, env: Mapping[str, str]) -> Any:
    if id(node) in source.seen:  # an alias: the same node again
        source.aliased += 1
        if source.aliased > MAX_ALIASED:
            if source.aliased == MAX_ALIASED + 1:
                message = f"YAML aliases expand to more than {MAX_ALIASED} values"
                source.problems.append(Problem(Severity.ERROR, _location(file, node), path, message, "write the values out"))
            return None
    source.seen.add(id(node))
    source.values[path] = _location(file, node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                source.problems.append(
                    Problem(Severity.ERROR, _location(file, key_node), path, "a key must be a plain name, not a list or mapping")
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                source.problems.append(
                    Problem(Severity.ERROR, _location(file, key_node), path, "'<<' merge keys are not supported", "write the keys out")
                )
                continue
            key = str(key_node.value)
            child: Path = (*path, key)
            if key in result:
                source.problems.append(
                    Problem(
                        Severity.ERROR,
                        _location(file, key_node),
                        child,
                        f"key '{key}' is given twice in this mapping",
                        f"the first is at line {source.keys[child].line}; YAML would silently keep only the last",
                    )
                )
                continue
            source.keys[child] = _location(file, key_node)
            result[key] = _convert(source, value_node, child, file, env)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(source, item, (*path, index), file, env) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = str(node.value)
    if node.tag == "tag:yaml.org,2002:null":  # plain null, ~ or nothing; quoted "null" stays text
        return None
    return _substitute(source, value, path, env)


def _substitute(source: Source, value: str, path: Path, env: Mapping[str, str]) -> str:
    if "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        source.error(path, f"environment variable {name} is not set", f"set it, or write ${{{name}:-default}}")
        return match.group(0)

    return _ENV.sub(replace, value)
