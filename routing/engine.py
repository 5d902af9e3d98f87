"""The routing engine: where a call goes, and why. Pure: no I/O, no clock.

A call is routed in steps. ``start`` looks at the dialled number, the caller
and the time and returns either an ``Ask`` (a menu waiting for a key) or the
final ``Decision``; ``press`` takes one key (or ``None`` for a timeout) and
returns the next step. ``decide`` runs a whole call from a string of keys, for
the simulator and the routing cases. Every step carries a trace of reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.model import Center, ClosedBehaviour, Emergency, Entry, Kind, Menu, MessageIntake, Outcome, Prompt, Target, Tenant
from routing.numbers import caller_key, dialled_keys, is_hidden
from routing.problems import LotseError
from routing.schedule import Schedule, Status, clock
from routing.steps import Ask, Call, Context, Decision, Live, Resume, Step, play_line

__all__ = ["Ask", "Call", "Context", "Decision", "Live", "Outcome", "Resume", "Step", "decide", "menu_again", "press", "resume", "start"]

KEYS = "0123456789*#"
TIMEOUT_KEY = "T"  # in key strings: the caller pressed nothing
MAX_STEPS = 200


class RoutingError(LotseError):
    """The engine was asked something impossible (e.g. an endless menu walk)."""


def start(center: Center, call: Call, now: datetime, live: Live = Live()) -> Step:
    """The first step of a call: tenant, entry, hours, emergencies."""
    return _Router(center.at(now), live).start(call, now)


def press(center: Center, ask: Ask, key: str | None, live: Live = Live()) -> Step:
    """The caller pressed ``key`` in the menu of ``ask`` (``None``: nothing in time)."""
    return _Router(center.at(ask.ctx.now), live).press(ask, key)


def resume(center: Center, back: Resume, now: datetime, live: Live = Live()) -> Step:
    """The next step for a call whose queue timed out or whose forward was not answered.

    Targets are looked up in the config in force now, so a reload applies.
    """
    center = center.at(now)
    tenant = center.tenants.get(back.tenant or "")
    topic = tenant.topics.get(back.topic or "") if tenant else None
    line = back.line if tenant and back.line in tenant.entries else None
    ctx = Context(now, tenant, back.entry, back.caller, topic.id if topic else None, topic.name if topic else None, line=line)
    router = _Router(center, live)
    if back.outcome is Outcome.QUEUE and back.ref in center.queues:
        target = center.queues[back.ref].overflow
        if target is not None:
            ctx = ctx.note(f"queue {back.ref}: max wait over -> overflow {_describe(target)}")
            return router.resolve(ctx, target, (), "overflow", 1)
    if back.outcome is Outcome.DEPARTMENT and back.ref in center.departments:
        target = center.departments[back.ref].unanswered
        ctx = ctx.note(f"department {back.ref} did not answer -> {_describe(target)}")
        return router.resolve(ctx, target, (), "department_unanswered", 1, back.ref)
    return router.fallback(ctx.note(f"nothing follows {back.outcome.value} {back.ref} in the config"), "unknown_resume")


def menu_again(center: Center, decision: Decision) -> Ask:
    """The menu a caller goes back to from a decision taken in it (an info's back key)."""
    if decision.menu is None:
        raise RoutingError(f"{decision.outcome.value} {decision.ref}: no menu to go back to")
    ctx = decision.ctx.note(f"back to menu {decision.menu}")
    return _ask(ctx, _Router(center, Live()).menu(ctx, decision.menu), 1, ())


def _ask(ctx: Context, menu: Menu, attempt: int, pending: tuple[Prompt, ...]) -> Ask:
    return Ask(ctx.play(menu.prompt), menu.id, attempt, (*pending, menu.prompt), menu.timeout)


def _ends(kind: Outcome, ref: str | None, ctx: Context) -> str:
    """The trace line of an outcome without live facts."""
    if kind is Outcome.CALLBACK:
        return f"callback request ({'caller number known' if ctx.caller else 'caller number hidden: the number must be asked for'})"
    if kind is Outcome.HANGUP:
        return "hang up"
    return f"{kind.value} {ref}" if ref else kind.value


def _intake_steps(ctx: Context, intake: MessageIntake) -> Context:
    """The trace of a message intake: which one, and each field it asks for before the message is recorded."""
    times = ", ".join(clock(t) for t in intake.times)
    ctx = ctx.note(f"voicemail {intake.mailbox}: message intake {intake.id} ({intake.name}), batches at {times}")
    for field in intake.fields:
        ctx = ctx.note(f"asks for {field.name} (up to {field.max_digits} digits, then #): {play_line(field.prompt)}")
    return ctx


def _describe(target: Target) -> str:
    return f"{target.kind.value} {target.ref}" if target.ref else target.kind.value


@dataclass(frozen=True, slots=True)
class _Router:
    """One routing step's view of the world: the config and the live facts."""

    center: Center
    live: Live

    def start(self, call: Call, now: datetime) -> Step:
        center = self.center
        ctx = Context(now, None, None, caller_key(call.caller, center.country_code))
        found = next((k for k in dialled_keys(call.dialled, center.country_code) if k in center.numbers), None)
        if found is None:
            return self.fallback(ctx.note(f"dialled number '{call.dialled}' is not configured"), "unknown_number")
        tenant_id = center.numbers[found]
        if tenant_id is None:
            return self.start_115(ctx, call, found)
        if found in center.emergency_numbers:
            return self.emergency_line(ctx, found, *center.emergency_numbers[found])
        tenant = center.tenants[tenant_id]
        if found in center.entry_numbers:
            entry = tenant.entries[center.entry_numbers[found][1]]
            ctx = ctx.with_tenant(tenant, Entry.OWN, entry.id).note(f"dialled {found}: entry {entry.id} ({entry.name}) of {tenant.id}")
            return self.opened(ctx, entry.schedule, entry.closed, (entry.greeting,), entry.start)
        ctx = ctx.with_tenant(tenant, Entry.OWN).note(f"dialled {found}: own number of {tenant.id} ({tenant.name})")
        return self.opened(ctx, tenant.schedule, tenant.closed, (tenant.greeting,))

    def start_115(self, ctx: Context, call: Call, found: str) -> Step:
        service = self.center.service_115
        assert service is not None
        ctx = ctx.with_tenant(None, Entry.SERVICE_115)
        greeting = (service.greeting,) if service.greeting else ()
        choice = None  # the menu of a prefix that several tenants share
        if ctx.caller is None:
            target = service.hidden_caller
            why = "caller number hidden" if is_hidden(call.caller) else "caller number unreadable"
        elif (match := service.prefixes.match(ctx.caller)) is not None:
            target, why = match[1], f"caller prefix {match[0]}"
            if beaten := service.prefixes.shorter(match[0]):
                why += f" (the longest that matches; also {', '.join(beaten)})"
            if target.kind is Kind.MENU:
                choice = service.choices[target.ref or ""]
                why += f" is shared by {', '.join(t.ref or '' for t in choice.options.values())}: the caller chooses"
        else:
            target, why = service.unknown_caller, "no prefix matches the caller"
        if target.kind is not Kind.TENANT and choice is None and (caught := self.catching()) is not None:
            tenant, emergency = caught
            ctx = ctx.note(f"dialled {found}: 115; {why}: caught by the emergency line {emergency.id} of {tenant.id}, switched on")
            return self.line_on(ctx.play(*greeting), tenant, emergency, greeting)
        ctx = ctx.note(f"dialled {found}: 115; {why} -> {_describe(target)}")
        if choice is not None:  # a shared prefix: 115's greeting, then the choice of the administration
            if not any(service.schedules[t.ref or ""].status(ctx.now, self.center.tz).open for t in choice.options.values()):
                ctx = ctx.note(f"115 is closed for all of them: no choice, the default {_describe(choice.default)}")
                return self.tenant_115(ctx.play(*greeting), choice.default.ref or "", greeting)
            return _ask(ctx.play(*greeting), choice, 1, greeting)
        if target.kind is not Kind.TENANT:
            ctx = ctx.play(*greeting)
            status = service.schedule.status(ctx.now, self.center.tz)  # 115's hours hold for these calls too
            if not status.open:
                return self.closed(ctx, status, service.closed or service.closed_unassigned, greeting)
            return self.resolve(ctx.note(f"in hours: {status.reason}"), target, greeting)
        assert target.ref is not None
        pending = (*greeting, *((target.announcement,) if target.announcement else ()))  # e.g. hidden_caller's
        return self.tenant_115(ctx.play(*pending), target.ref, pending)

    def tenant_115(self, ctx: Context, tenant_id: str, pending: tuple[Prompt, ...]) -> Step:
        """A 115 call whose tenant is known (by the caller's prefix or the caller's choice): 115's hours apply.

        ``pending``: prompts already in the trace that the IVR has still to play (115's greeting, a menu's invalid).
        """
        service = self.center.service_115
        assert service is not None
        tenant = self.center.tenants[tenant_id]
        ctx = ctx.with_tenant(tenant, Entry.SERVICE_115)
        closed = service.closed or tenant.closed
        return self.opened(ctx, service.schedules[tenant.id], closed, (tenant.greeting,), played=pending)

    def emergency_line(self, ctx: Context, found: str, tenant_id: str, emergency_id: str) -> Step:
        """A call to an emergency line's own number: its queue while switched on; otherwise when_off."""
        tenant = self.center.tenants[tenant_id]
        emergency = tenant.emergencies[emergency_id]
        line = f"dialled {found}: emergency line {emergency.id} ({emergency.name}) of {tenant.id}"
        if (tenant.id, emergency.id) in self.live.emergencies:
            return self.line_on(ctx.note(f"{line}, switched on"), tenant, emergency, ())
        if emergency.when_off is None:
            ctx = ctx.with_tenant(tenant, Entry.OWN).note(f"{line}, switched off -> as an own number of {tenant.id}")
            return self.opened(ctx, tenant.schedule, tenant.closed, (tenant.greeting,))
        ctx = ctx.with_tenant(tenant, Entry.EMERGENCY).note(f"{line}, switched off -> {_describe(emergency.when_off)}")
        return self.resolve(ctx, emergency.when_off, (), "emergency_off")

    def line_on(self, ctx: Context, tenant: Tenant, emergency: Emergency, pending: tuple[Prompt, ...]) -> Step:
        """An emergency line that is switched on answers: its announcement, then its queue (its hours, if it keeps them)."""
        assert emergency.queue is not None
        ctx = ctx.with_tenant(tenant, Entry.EMERGENCY).with_topic(emergency.id, emergency.name).play(emergency.announcement)
        pending = (*pending, emergency.announcement)
        if not emergency.ignore_hours:
            status = tenant.schedule.status(ctx.now, self.center.tz)
            if not status.open:
                return self.closed(ctx, status, tenant.closed, pending)
        return self.queue(ctx, emergency.queue, 0, pending, "emergency")

    def catching(self) -> tuple[Tenant, Emergency] | None:
        """The switched-on emergency line that takes 115 calls no tenant takes (the first by tenant and id)."""
        for tenant_id, emergency_id in sorted(self.live.emergencies):
            tenant = self.center.tenants.get(tenant_id)
            emergency = tenant.emergencies.get(emergency_id) if tenant else None
            if tenant is not None and emergency is not None and emergency.catch_115 and emergency.queue:
                return tenant, emergency
        return None

    def opened(
        self,
        ctx: Context,
        schedule: Schedule,
        closed: ClosedBehaviour,
        greeting: tuple[Prompt | None, ...],
        start: Target | None = None,
        played: tuple[Prompt, ...] = (),
    ) -> Step:
        """Greeting, emergencies and opening hours of a call whose tenant is known; then ``start`` (default: the tenant's).

        ``played``: prompts the trace shows already and the IVR has still to play, before the greeting.
        """
        tenant = ctx.tenant
        assert tenant is not None
        greeted = tuple(p for p in greeting if p is not None)
        ctx = ctx.play(*greeted)
        pending = (*played, *greeted)
        status = schedule.status(ctx.now, self.center.tz)
        for emergency_id, emergency in tenant.emergencies.items():
            if (tenant.id, emergency_id) not in self.live.emergencies or emergency.mode == "line":
                continue
            ctx = ctx.play(emergency.announcement).note(f"emergency '{emergency.name}' is switched on ({emergency.mode})")
            pending = (*pending, emergency.announcement)
            if emergency.mode == "replace" and (status.open or emergency.ignore_hours) and emergency.queue:
                ctx = ctx.with_topic(emergency_id, emergency.name)
                return self.queue(ctx, emergency.queue, 0, pending, "emergency")
            break
        if not status.open:
            return self.closed(ctx, status, closed, pending)
        ctx = ctx.note(f"in hours: {status.reason}")
        return self.resolve(ctx, start or tenant.start, pending)

    def closed(self, ctx: Context, status: Status, closed: ClosedBehaviour, pending: tuple[Prompt, ...]) -> Step:
        when = f"; opens again {status.next_open:%a %d.%m. %H:%M}" if status.next_open else ""
        ctx = ctx.note(f"closed: {status.reason}{when}")
        announcement = closed.holiday_announcement if status.holiday and closed.holiday_announcement else closed.announcement
        ctx = ctx.play(announcement)
        pending = (*pending, *((announcement,) if announcement else ()))
        return self.resolve(ctx, closed.then, pending, "holiday" if status.holiday else "closed")

    def press(self, ask: Ask, key: str | None) -> Step:
        ctx = ask.ctx
        menu = self.menu(ctx, ask.menu)
        target = menu.options.get(key) if key is not None else None
        if target is not None:
            return self.resolve(ctx.note(f"menu {menu.id}: key {key} -> {_describe(target)}"), target, (), menu=menu.id)
        what = "no key pressed" if key is None else f"key {key} is not an option"
        failure = menu.no_input if key is None else menu.invalid
        ctx = ctx.play(failure)
        pending = (failure,) if failure else ()
        attempts = menu.retries + 1
        if ask.attempt >= attempts:
            ctx = ctx.note(f"menu {menu.id}: {what}; that was attempt {ask.attempt} of {attempts} -> default {_describe(menu.default)}")
            return self.resolve(ctx, menu.default, pending, "menu_default")
        ctx = ctx.note(f"menu {menu.id}: {what}; playing it again (attempt {ask.attempt + 1} of {attempts})")
        return _ask(ctx, menu, ask.attempt + 1, pending)

    def resolve(
        self,
        ctx: Context,
        target: Target,
        pending: tuple[Prompt, ...],
        reason: str = "in_hours",
        depth: int = 0,
        department: str | None = None,
        menu: str | None = None,
    ) -> Step:
        """Where ``target`` leads; ``department``: the one that could not take the call (its ticket's); ``menu``: where it was chosen."""
        if depth > 16:
            raise RoutingError("more than 16 overflow steps; the config has a loop")
        if target.announcement is not None:
            ctx = ctx.play(target.announcement)
            pending = (*pending, target.announcement)
        kind, ref = target.kind, target.ref
        if kind is Kind.MENU:
            assert ref is not None
            return _ask(ctx, self.menu(ctx, ref), 1, pending)
        if kind is Kind.TENANT:  # chosen by a 115 caller from a shared prefix
            assert ref is not None
            return self.tenant_115(ctx, ref, pending)
        if kind is Kind.TOPIC:
            assert ctx.tenant is not None and ref is not None
            topic = ctx.tenant.topics[ref]
            ctx = ctx.with_topic(topic.id, topic.name).note(f"topic {topic.id} ({topic.name}) -> queue {topic.queue}")
            return self.queue(ctx, topic.queue, topic.priority, pending, reason, depth)
        if kind is Outcome.QUEUE:
            assert ref is not None
            return self.queue(ctx, ref, 0, pending, reason, depth)
        if kind is Outcome.DEPARTMENT:
            assert ref is not None
            return self.department(ctx, ref, pending, reason, depth)
        # Every other outcome needs no live fact: where it leads is all there is to decide (outcomes/ does the rest).
        assert isinstance(kind, Outcome)
        if kind is Outcome.VOICEMAIL and (intake := self.center.intake(ref)) is not None:
            ctx = _intake_steps(ctx, intake)
        else:
            ctx = ctx.note(_ends(kind, ref, ctx))
        return Decision(kind, ctx, reason, pending, department=department, ref=ref, menu=menu)

    def menu(self, ctx: Context, menu_id: str) -> Menu:
        """A tenant's menu; before a 115 call has a tenant, the choice menu of a shared prefix."""
        if ctx.tenant is not None:
            return ctx.tenant.menus[menu_id]
        service = self.center.service_115
        assert service is not None
        return service.choices[menu_id]

    def queue(self, ctx: Context, queue_id: str, priority: int, pending: tuple[Prompt, ...], reason: str, depth: int = 0) -> Step:
        queue = self.center.queues[queue_id]
        agents, waiting = self.live.agents, self.live.waiting.get(queue_id, 0)
        if queue.overflow is not None:
            why = None
            if agents is not None and agents.get(queue_id) == 0:  # a queue missing from the facts is unknown
                why = "no agent logged in"
            elif queue.max_callers is not None and waiting >= queue.max_callers:
                why = f"full ({waiting} waiting, max {queue.max_callers})"
            if why:
                ctx = ctx.note(f"queue {queue_id}: {why} -> overflow {_describe(queue.overflow)}")
                return self.resolve(ctx, queue.overflow, pending, "overflow", depth + 1)
        logged_in = "unknown" if agents is None or queue_id not in agents else str(agents[queue_id])
        limit = f"; after {queue.max_wait}s overflow" if queue.max_wait else ""
        ctx = ctx.note(f"queue {queue_id}: join with priority {priority} (agents logged in: {logged_in}, waiting: {waiting}{limit})")
        return Decision(
            Outcome.QUEUE, ctx, reason, pending, queue=queue_id, priority=priority, queue_timeout=queue.max_wait, overflow=queue.overflow
        )

    def department(self, ctx: Context, department_id: str, pending: tuple[Prompt, ...], reason: str, depth: int) -> Step:
        dept = self.center.departments[department_id]
        if dept.schedule is not None:
            status = dept.schedule.status(ctx.now, self.center.tz)
            if not status.open:
                ctx = ctx.note(f"department {dept.id} ({dept.name}) is closed: {status.reason} -> {_describe(dept.closed)}")
                return self.resolve(ctx, dept.closed, pending, "department_closed", depth + 1, dept.id)
        if dept.announcement is not None:
            ctx = ctx.play(dept.announcement)
            pending = (*pending, dept.announcement)
        ctx = ctx.note(
            f"forward to department {dept.id} ({dept.name}) at {dept.number}, ring {dept.ring_timeout}s, then {_describe(dept.unanswered)}"
        )
        return Decision(
            Outcome.DEPARTMENT,
            ctx,
            reason,
            pending,
            department=dept.id,
            number=dept.number,
            ring_timeout=dept.ring_timeout,
            unanswered=dept.unanswered,
        )

    def fallback(self, ctx: Context, reason: str) -> Decision:
        queue = self.center.fallback_queue
        if queue:
            return Decision(Outcome.QUEUE, ctx.note(f"-> fallback queue {queue}"), reason, queue=queue)
        return Decision(Outcome.HANGUP, ctx.note("no fallback queue configured -> hang up"), reason)


def decide(center: Center, call: Call, now: datetime, live: Live = Live(), keys: str = "") -> Decision:
    """Route a whole call; ``keys`` are pressed one per menu, ``T`` for a timeout.

    When the keys run out, the caller stays silent: menus time out to their default.
    """
    step = start(center, call, now, live)
    remaining = list(keys)
    for _ in range(MAX_STEPS):
        if isinstance(step, Decision):
            return step
        key = remaining.pop(0) if remaining else None
        step = press(center, step, None if key == TIMEOUT_KEY else key, live)
    raise RoutingError(f"no decision after {MAX_STEPS} menu steps; a menu's default leads back into itself")
