"""The agents' dialplan: the context their softphones dial into, with the feature codes.

    *11  log in to the queues of one's groups       "Sie sind angemeldet."
    *12  log out of them                            "Sie sind abgemeldet."
    *21N pause with reason N (1 Pause, 2 Nachbearbeitung, 3 Schulung, 4 Backoffice)   "Pause: Schulung."
    *22  ready again (unpause)                      "Sie sind wieder bereit."
    *10  say one's state                            "Sie sind angemeldet." / "... in Pause." / "... abgemeldet."

An agent is known by the caller ID number of their endpoint (rendered as their
id; a softphone cannot change it). Logging in adds the agent as a dynamic queue
member of every queue that rings one of their groups, with their penalty; with
``persistentmembers = yes`` in queues.conf Asterisk keeps members and pauses
across its restarts, and lotse keeps no agent state of its own. Other numbers
agents dial (a colleague's id) ring that colleague's phone.
"""

from __future__ import annotations

from ivr.agents import Agent, Agents
from routing.model import Center, Prompt

CONTEXT = "lotse-agents"
PAUSE_REASONS = {"1": "Pause", "2": "Nachbearbeitung", "3": "Schulung", "4": "Backoffice"}
CODES = {"state": "*10", "login": "*11", "logout": "*12", "pause": "*21", "unpause": "*22"}
AGENT_PROMPTS = {
    "logged-in": Prompt("agents/logged-in", "Sie sind angemeldet."),
    "logged-out": Prompt("agents/logged-out", "Sie sind abgemeldet."),
    "ready": Prompt("agents/ready", "Sie sind wieder bereit."),
    "paused": Prompt("agents/paused", "Sie sind angemeldet und in Pause."),
    "unknown": Prompt("agents/unknown", "Dieses Telefon gehört zu keinem Mitarbeiter."),
    **{f"pause-{n}": Prompt(f"agents/pause-{n}", f"Pause: {reason}.") for n, reason in PAUSE_REASONS.items()},
}


def queues_of(center: Center, agent: Agent) -> list[str]:
    """The queues that ring one of the agent's groups."""
    return [q.id for q in center.queues.values() if set(q.members) & set(agent.groups)]


def render(center: Center, agents: Agents, prompts: str) -> str:
    folder = prompts.rstrip("/")

    def say(key: str) -> str:
        return f"Playback({folder}/{AGENT_PROMPTS[key].file})"

    lines = [
        f"[{CONTEXT}]",
        "; The agents' softphones dial into this context (pjsip_lotse.conf). Feature codes, then colleagues by id.",
        f"exten => {CODES['login']},1,Gosub(lotse-agent-login,${{CALLERID(num)}},1)",
        f"exten => {CODES['logout']},1,Gosub(lotse-agent-logout,${{CALLERID(num)}},1)",
        f"exten => {CODES['unpause']},1,UnpauseQueueMember(,PJSIP/${{CALLERID(num)}})",
        f" same => n,{say('ready')}",
        f"exten => _{CODES['pause']}[1-{len(PAUSE_REASONS)}],1,Set(REASON=${{EXTEN:{len(CODES['pause'])}}})",
        " same => n,PauseQueueMember(,PJSIP/${CALLERID(num)},,${REASON})",
        f" same => n,Playback({folder}/agents/pause-${{REASON}})",
        f"exten => {CODES['state']},1,Gosub(lotse-agent-state,${{CALLERID(num)}},1)",
        *[f"exten => {agent.id},1,Dial(PJSIP/{agent.id},30)" for agent in agents.agents],
        "",
        "[lotse-agent-login]",
    ]
    for agent in agents.agents:
        queues = queues_of(center, agent)
        lines.append(f"exten => {agent.id},1,NoOp({agent.name}: {', '.join(queues) or 'no queue'})")
        lines += [f" same => n,AddQueueMember({q},PJSIP/{agent.id},{agent.penalty},,{agent.name},PJSIP/{agent.id})" for q in queues]
        lines += [f" same => n,{say('logged-in')}", " same => n,Return()"]
    lines += ["exten => _X.,1,Playback(" + f"{folder}/{AGENT_PROMPTS['unknown'].file})", " same => n,Return()", "", "[lotse-agent-logout]"]
    for agent in agents.agents:
        lines.append(f"exten => {agent.id},1,NoOp({agent.name})")
        lines += [f" same => n,RemoveQueueMember({q},PJSIP/{agent.id})" for q in queues_of(center, agent)]
        lines += [f" same => n,{say('logged-out')}", " same => n,Return()"]
    lines += ["", "[lotse-agent-state]", "; logged in: a member of the first of the agent's queues; paused there: in pause"]
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
    return "\n".join([*lines, ""])
