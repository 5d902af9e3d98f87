"""The agents' dialplan: the context their softphones dial into, with the feature codes.

The defaults (agents.yaml's ``codes:`` and ``pause_reasons:`` change them):

    *11  log in to the queues of one's groups       "Sie sind angemeldet."
    *12  log out of them                            "Sie sind abgemeldet."
    *21N pause with reason N (1 Pause, 2 Nachbearbeitung, 3 Schulung, 4 Backoffice)   "Pause: Schulung."
    *22  ready again (unpause)                      "Sie sind wieder bereit."
    *10  say one's state                            "Sie sind angemeldet." / "... in Pause." / "... abgemeldet."
    *3N  how the last call ended (1 gelöst, 2 weitergegeben, 3 Rückruf nötig)  "Erfasst: gelöst."

An agent is known by the caller ID number of their endpoint (rendered as their
id; a softphone cannot change it). Logging in adds the agent as a dynamic queue
member of every queue that rings one of their groups, with their penalty; with
``persistentmembers = yes`` in queues.conf Asterisk keeps members and pauses
across its restarts, and lotse keeps no agent state of its own. Other numbers
agents dial (a colleague's id) ring that colleague's phone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pbx import contract as c
from pbx.contract import DISPOSITION_EVENT as USER_EVENT
from pbx.contract import DISPOSITION_LABELS, DISPOSITIONS
from render.agents import DEFAULT_REASONS, Agent, Agents
from routing.model import Center, Prompt

CONTEXT = c.CONTEXT_AGENTS


def agent_prompts(reasons: Mapping[str, str] = DEFAULT_REASONS) -> dict[str, Prompt]:
    return {
        "logged-in": Prompt("agents/logged-in", "Sie sind angemeldet."),
        "logged-out": Prompt("agents/logged-out", "Sie sind abgemeldet."),
        "ready": Prompt("agents/ready", "Sie sind wieder bereit."),
        "paused": Prompt("agents/paused", "Sie sind angemeldet und in Pause."),
        "unknown": Prompt("agents/unknown", "Dieses Telefon gehört zu keinem Mitarbeiter."),
        **{f"pause-{n}": Prompt(f"agents/pause-{n}", f"Pause: {reason}.") for n, reason in reasons.items()},
        **{
            f"disposition-{n}": Prompt(f"agents/disposition-{n}", f"Erfasst: {DISPOSITION_LABELS[code]}.")
            for n, code in DISPOSITIONS.items()
        },
        "transfer": Prompt("agents/transfer", "Weitergabe. Bitte die Ziffer des Fachbereichs."),
        "transfer-invalid": Prompt("agents/transfer-invalid", "Diese Ziffer gehört zu keinem Fachbereich."),
        "transfer-failed": Prompt("agents/transfer-failed", "Die Weitergabe ist nicht gelungen."),
        "transfer-done": Prompt("agents/transfer-done", "Weitergegeben."),
    }


AGENT_PROMPTS = agent_prompts()


def queues_of(center: Center, agent: Agent) -> list[str]:
    """The queues that ring one of the agent's groups."""
    return [q.id for q in center.queues.values() if set(q.members) & set(agent.groups)]


def penalty(center: Center, agent: Agent, queue: str) -> int:
    """The agent's penalty in a queue: by the skill level of the best of their groups it rings."""
    return agent.penalty_in(center.queues[queue].members)


HAND_ON = c.CONTEXT_HAND_ON
TRANSFER_KEYS = {"atxfer": "*2", "blindxfer": "#1"}  # features.conf's featuremap (features_lotse.conf)


def features(agents: Agents, prompts: str) -> str:
    """features_lotse.conf: the transfer codes agents hand callers on with; include it in features.conf."""
    said = {key: f"{prompts.rstrip('/')}/{prompt.file}" for key, prompt in agent_prompts(agents.pause_reasons).items()}
    return "\n".join(
        [
            "; lotse: the agents' transfer codes (Lotsenfunktion). #include this file in features.conf.",
            "[general]",
            f"atxfernoanswertimeout = {agents.hand_on_timeout + 5}  ; after that an attended hand-on returns to the caller",
            "transferdigittimeout = 3",
            f"transferannouncesound = {said['transfer']}",  # German prompts: Asterisk's stock sounds may not be installed
            f"transferinvalidsound = {said['transfer-invalid']}",
            f"transferretrysound = {said['transfer-invalid']}",
            f"xferfailsound = {said['transfer-failed']}",
            f"xfersound = {said['transfer-done']}",
            "[featuremap]",
            *[f"{name} => {keys}" for name, keys in TRANSFER_KEYS.items()],
            "",
        ]
    )


def hand_on(center: Center, agents: Agents, folder: str, dial: str) -> list[str]:
    """The context transfers go to (TRANSFER_CONTEXT, set in the whisper on the agent's channel).

    Attended (*2 + digits): the department rings with the call's label as caller name and hears tenant and topic;
    when nobody answers, the agent is back with the caller. Blind (#1 + digits): the caller rings the department;
    when nobody answers, lotse decides as for any unanswered forward to it: the department's ``unanswered``
    (e.g. a ticket: the department calls back)."""
    lines = [
        f"[{HAND_ON}]",
        "; Hand-on (Lotsenfunktion): the agent dials *2 (attended) or #1 (blind) during a queue call, then the digits.",
    ]
    for digits, department_id in sorted(agents.hand_on.items()):
        department = center.departments[department_id]
        lines += [
            f"exten => {digits},1,NoOp(hand-on to {department.id}: {department.name})",
            f" same => n,Set({c.VAR_HAND_ON}={department.id})",
            f" same => n,Set(CALLERID(name)=${{{c.VAR_AGENT_LABEL}}})",
            f" same => n,UserEvent({c.EVENT_HAND_ON},Department: {department.id},Label: ${{{c.VAR_AGENT_LABEL}}})",
            f" same => n,Dial({dial.format(number=department.number)},{agents.hand_on_timeout},U({HAND_ON}-whisper))",
            ' same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)',
            ' same => n,GotoIf($["${BLINDTRANSFER}" != ""]?back,1)',  # the caller was transferred blind: back to the queue
            " same => n(done),Hangup()",
        ]
    lines += [
        "; a blind hand-on nobody answered: the department's 'unanswered' decides, as after lotse's own forward",
        f"exten => back,1,Set({c.VAR_OUTCOME}=department)",
        f" same => n,Set({c.VAR_QUEUE}=)",
        f" same => n,Set({c.VAR_DEPARTMENT}=${{{c.VAR_HAND_ON}}})",
        f" same => n,Goto({c.CONTEXT_DISPATCH},next,1)",
        "",
        f"[{HAND_ON}-whisper]",
        "; the department hears tenant and topic before it is connected",
        f"exten => s,1,Playback(${{{c.VAR_WHISPER}}})",
        " same => n,Return()",
        "",
    ]
    return lines


def render(center: Center, agents: Agents, prompts: str, dial: str = "PJSIP/{number}@amt") -> str:
    """The agents' dialplan: their phone codes, log-in, log-out, the state announcement and the hand-on."""
    folder = prompts.rstrip("/")
    said = agent_prompts(agents.pause_reasons)

    def say(key: str) -> str:
        return f"Playback({folder}/{said[key].file})"

    return "\n".join(
        [
            *_phone_codes(agents, folder, say),
            "",
            *_login(center, agents, say),
            "",
            *_logout(center, agents, say),
            "",
            *_state(center, agents, say),
            "",
            *hand_on(center, agents, folder, dial),
        ]
    )


def _phone_codes(agents: Agents, folder: str, say: Callable[[str], str]) -> list[str]:
    codes, reasons = agents.codes, agents.pause_reasons
    disposition = codes["disposition"]
    return [
        f"[{CONTEXT}]",
        "; The agents' softphones dial into this context (pjsip_lotse.conf). Feature codes, then colleagues by id.",
        f"exten => {codes['login']},1,Gosub({c.CONTEXT_AGENT_LOGIN},${{CALLERID(num)}},1)",
        f"exten => {codes['logout']},1,Gosub({c.CONTEXT_AGENT_LOGOUT},${{CALLERID(num)}},1)",
        f"exten => {codes['unpause']},1,UnpauseQueueMember(,PJSIP/${{CALLERID(num)}})",
        f" same => n,{say('ready')}",
        "; the reason is the name the pause shows under (wallboard, queue_log)",
        *[
            line
            for digit, reason in reasons.items()
            for line in (
                f"exten => {codes['pause']}{digit},1,PauseQueueMember(,PJSIP/${{CALLERID(num)}},,{reason})",
                f" same => n,{say(f'pause-{digit}')}",
            )
        ],
        "; how the agent's last call ended: lotse metrics records it (metrics/dispositions.py)",
        f"exten => _{disposition}[{''.join(DISPOSITIONS)}],1,"
        f"UserEvent({USER_EVENT},Agent: ${{CALLERID(num)}},Code: ${{EXTEN:{len(disposition)}}})",
        f" same => n,Playback({folder}/agents/disposition-${{EXTEN:{len(disposition)}}})",
        f"exten => {codes['state']},1,Gosub({c.CONTEXT_AGENT_STATE},${{CALLERID(num)}},1)",
        *[f"exten => {agent.id},1,Dial(PJSIP/{agent.id},30)" for agent in agents.agents],
    ]


def _login(center: Center, agents: Agents, say: Callable[[str], str]) -> list[str]:
    """Each agent joins their queues, with their penalty and their name (the wallboard's)."""
    lines = [f"[{c.CONTEXT_AGENT_LOGIN}]"]
    for agent in agents.agents:
        queues = queues_of(center, agent)
        lines.append(f"exten => {agent.id},1,NoOp({agent.name}: {', '.join(queues) or 'no queue'})")
        lines += [
            f" same => n,AddQueueMember({q},PJSIP/{agent.id},{penalty(center, agent, q)},,{agent.name},PJSIP/{agent.id})" for q in queues
        ]
        lines += [f" same => n,{say('logged-in')}", " same => n,Return()"]
    return [*lines, f"exten => _X.,1,{say('unknown')}", " same => n,Return()"]


def _logout(center: Center, agents: Agents, say: Callable[[str], str]) -> list[str]:
    lines = [f"[{c.CONTEXT_AGENT_LOGOUT}]"]
    for agent in agents.agents:
        lines.append(f"exten => {agent.id},1,NoOp({agent.name})")
        lines += [f" same => n,RemoveQueueMember({q},PJSIP/{agent.id})" for q in queues_of(center, agent)]
        lines += [f" same => n,{say('logged-out')}", " same => n,Return()"]
    return lines


def _state(center: Center, agents: Agents, say: Callable[[str], str]) -> list[str]:
    """*state: logged in means a member of the agent's first queue; paused there means in pause."""
    lines = [f"[{c.CONTEXT_AGENT_STATE}]", "; logged in: a member of the first of the agent's queues; paused there: in pause"]
    for agent in agents.agents:
        queues = queues_of(center, agent)
        if not queues:
            continue
        member = f"PJSIP/{agent.id}"
        lines += [
            f'exten => {agent.id},1,GotoIf($["${{QUEUE_MEMBER_LIST({queues[0]})}}" : ".*{member}.*"]?in)',
            f" same => n,{say('logged-out')}",
            " same => n,Return()",
            f' same => n(in),GotoIf($["${{QUEUE_MEMBER({queues[0]},paused,{member})}}" = "1"]?paused)',
            f" same => n,{say('logged-in')}",
            " same => n,Return()",
            f" same => n(paused),{say('paused')}",
            " same => n,Return()",
        ]
    return lines
