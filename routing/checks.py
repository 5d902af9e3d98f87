"""Checks over the whole config: reachability, overflow cycles, prompt files."""

from __future__ import annotations

from pathlib import Path as FsPath

from routing import model, schema
from routing.build import PROMPT_EXTENSIONS, Builder, dated_keys, holds, valid_keys


def _walk(tenant: schema.Tenant) -> tuple[set[str], set[str], set[str]]:
    """The menus, own topics and center-wide topics that ``tenant``'s starts lead to."""
    menus_seen: set[str] = set()
    topics_seen: set[str] = set()
    reached_global: set[str] = set()
    pending = [tenant.start, *(entry.start for entry in tenant.entries.values())]
    while pending:
        target = pending.pop()
        if target.topic is not None:
            (topics_seen if target.topic in tenant.topics else reached_global).add(target.topic)
        elif target.menu is not None and target.menu not in menus_seen and target.menu in tenant.menus:
            menus_seen.add(target.menu)
            menu = tenant.menus[target.menu]
            pending.extend(menu.options.values())
            pending.append(menu.default)
    return menus_seen, topics_seen, reached_global


def check_topics_reachable(b: Builder) -> None:
    """Every topic must be reachable from some tenant's start; unreachable menus are warned about."""
    reached_global: set[str] = set()
    for tid, tenant in b.parts.tenants.items():
        menus_seen, topics_seen, reached = _walk(tenant)
        reached_global |= reached
        for mid in tenant.menus:
            if mid not in menus_seen:
                b.source.warning(
                    ("tenants", tid, "menus", mid),
                    f"menu '{mid}' cannot be reached from 'start' or any reachable menu",
                    "link it from a menu option or remove it",
                )
        for topic_id in tenant.topics:
            if topic_id not in topics_seen:
                b.source.error(
                    ("tenants", tid, "topics", topic_id),
                    f"topic '{topic_id}' is not reachable from any menu of tenant '{tid}'",
                    f"add a menu option '{{topic: {topic_id}}}' or remove the topic",
                    key=True,
                )
    if b.parts.broken["tenants"] or "tenants" not in b.source.data:
        return  # a broken tenant's menus cannot be walked: no verdict on center-wide topics
    reached_ever = {tid: _walk(t)[2] for tid, t in b.every.tenants.items()}  # over the menus of all periods
    for topic_id in b.parts.topics:
        if topic_id in reached_global:
            continue
        leading = [(tid, b.every.tenants[tid]) for tid, reached in reached_ever.items() if topic_id in reached]
        dated = leading if leading and all(tid not in b.parts.tenants for tid, _ in leading) else []
        if len(dated) == 1:  # the one tenant that leads to it does not hold in this period: date the topic too
            tid, tenant = dated[0]
            b.source.error(
                ("topics", topic_id),
                f"topic '{topic_id}' is reached only from tenant '{tid}', which holds {holds(tenant)} ({dated_keys(tenant, tid)})",
                f"date the topic as the tenant: {valid_keys(tenant)}",
                key=True,
            )
        elif dated:
            names = ", ".join(f"'{tid}' ({holds(t)})" for tid, t in dated)
            b.source.error(
                ("topics", topic_id),
                f"topic '{topic_id}' is reached only from tenants {names}, none of which holds then",
                "date the topic so that it holds while one of them does",
                key=True,
            )
        else:
            b.source.error(
                ("topics", topic_id),
                f"topic '{topic_id}' is not reachable from any tenant's menus",
                f"add a menu option '{{topic: {topic_id}}}' or remove the topic",
                key=True,
            )


def check_silent_caller_ends(b: Builder) -> None:
    """A caller who presses nothing must reach a decision: menu defaults may not form a loop."""
    for tid, tenant in b.parts.tenants.items():
        reported: set[str] = set()
        for mid in tenant.menus:
            seen = [mid]
            target = tenant.menus[mid].default
            while target.menu is not None and target.menu in tenant.menus:
                if target.menu in seen:
                    if target.menu == mid and mid not in reported:
                        reported.update(seen)
                        loop = " -> ".join([*seen, mid])
                        b.source.error(
                            ("tenants", tid, "menus", mid, "default"),
                            f"a caller who presses nothing loops forever: {loop}",
                            "let one of these defaults go to a topic, queue or hangup",
                        )
                    break
                seen.append(target.menu)
                target = tenant.menus[target.menu].default


def check_overflow_cycles(b: Builder) -> None:
    """Queue overflows and department fall-backs must not lead back to where they started."""
    edges: dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, str]]]] = {}

    def add(node: tuple[str, str], path: tuple[str, ...], target: schema.Target | None) -> None:
        if target is None:
            return
        if target.queue:
            edges.setdefault(node, []).append((path, ("queues", target.queue)))
        elif target.department:
            edges.setdefault(node, []).append((path, ("departments", target.department)))

    for qid, queue in b.parts.queues.items():
        add(("queues", qid), ("queues", qid, "overflow"), queue.overflow)
    for did, dept in b.parts.departments.items():
        add(("departments", did), ("departments", did, "closed"), dept.closed)
        add(("departments", did), ("departments", did, "unanswered"), dept.unanswered)
    reported: set[tuple[str, str]] = set()
    for start in sorted(edges):
        stack: list[tuple[tuple[str, str], tuple[tuple[str, str], ...]]] = [(start, (start,))]
        while stack:
            node, trail = stack.pop()
            for path, nxt in edges.get(node, []):
                if nxt == start and start not in reported:
                    reported.update(trail)
                    names = " -> ".join(f"{s[:-1]} {i}" for s, i in trail) + f" -> {nxt[0][:-1]} {nxt[1]}"
                    b.source.error(path, f"overflow loop: {names}", "end the chain with callback, voicemail or hangup")
                elif nxt not in trail:
                    stack.append((nxt, (*trail, nxt)))


def tenants_via_115(service: model.Service115 | None) -> set[str]:
    """The tenants a 115 call can be routed to."""
    via_115: set[str] = set()
    if service is not None:
        via_115.update(t.ref or "" for t in service.prefixes.entries.values() if t.kind is model.Kind.TENANT)
        via_115.update(t.ref or "" for menu in service.choices.values() for t in menu.options.values())
        for target in (service.unknown_caller, service.hidden_caller):
            if target.kind is model.Kind.TENANT and target.ref:
                via_115.add(target.ref)
    return via_115


def check_tenants_reachable(b: Builder, service: model.Service115 | None) -> None:
    via_115 = tenants_via_115(service)
    for tid, tenant in b.parts.tenants.items():
        if not tenant.numbers and not tenant.entries and tid not in via_115:
            b.source.warning(
                ("tenants", tid),
                f"tenant '{tid}' has no numbers and no 115 prefix",
                "callers cannot reach it; add 'numbers:' or a 115 prefix",
            )


def check_prompts(b: Builder, center: schema.Center | None) -> tuple[model.Prompt, ...]:
    """Warn about prompt files that do not exist; returns every prompt once.

    With the center section broken, where the prompts are is not known: no warning about missing files.
    """
    folder = b.base_dir / (center.prompts_dir if center else "prompts")
    recorded = recorded_prompts(folder) if center else set(b.prompts)
    synthesisable: list[str] = []
    for file, (prompt, path) in sorted(b.prompts.items()):
        unsayable = sorted({ch for ch in prompt.text or "" if not _sayable(ch)})
        if unsayable:
            shown_chars = " ".join(repr(ch) for ch in unsayable)
            b.source.warning(path, f"the text has characters speech synthesis cannot say: {shown_chars}", "write them out in words")
        if file in recorded:
            continue
        if prompt.text:
            synthesisable.append(file)
        else:
            b.source.warning(
                path, f"prompt file '{file}' is not in {folder} and has no text", "record it, or add 'text:' so it can be synthesised"
            )
    if synthesisable:
        shown = ", ".join(synthesisable[:3]) + (", ..." if len(synthesisable) > 3 else "")
        b.source.warning(
            ("center", "prompts_dir"),
            f"{len(synthesisable)} prompts have a text but no sound file in {folder} yet ({shown})",
            "record them, or synthesise them from their texts",
        )
    return tuple(prompt for prompt, _ in b.prompts.values())


_PUNCTUATION = frozenset(" .,;:!?-–—()'\"„“”‚‘’/%&+€§@*#\n")


def _sayable(ch: str) -> bool:
    """Letters of any script, digits and the punctuation espeak-ng reads or pauses on."""
    return ch.isalnum() or ch in _PUNCTUATION


def recorded_prompts(folder: FsPath) -> set[str]:
    """Every sound file below ``folder``, as named in the config: with and without extension.

    One walk of the folder instead of a stat() per prompt and extension
    (3,500 prompts took 0.35 s that way).
    """
    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in folder.rglob("*"):
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            found.add(relative)
            if path.suffix in PROMPT_EXTENSIONS:
                found.add(relative[: -len(path.suffix)])
    return found
