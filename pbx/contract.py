"""The contract between lotse and the dialplan: names both sides use.

The generated dialplan (render.dialplan) and the AGI adapters import these
constants; nothing else spells them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

FASTAGI_PORT: Final = 4573
AMI_PORT: Final = 5038  # Asterisk's manager interface (manager.conf: port)
AGI_ROUTE: Final = "lotse"  # agi://HOST:PORT/lotse runs the IVR for a new call
AGI_ROUTE_NEXT: Final = "lotse-next"  # agi://HOST:PORT/lotse-next: after a queue timeout or an unanswered forward
AGI_ROUTE_CALLBACK: Final = "lotse-callback"  # agi://HOST:PORT/lotse-callback: a waiting caller pressed the callback key
CLASSIC_SCRIPT: Final = "lotse-agi"  # agi_scripts/lotse-agi, the same flow per process

# Contexts of the generated dialplan.
CONTEXT_INCOMING: Final = "lotse-incoming"  # include this where calls arrive
CONTEXT_ROUTE: Final = "lotse-route"  # runs the AGI, then dispatches on LOTSE_OUTCOME
CONTEXT_DISPATCH: Final = "lotse-dispatch"  # one extension per outcome
CONTEXT_FALLBACK: Final = "lotse-fallback"  # the failure target: AGI failed or lotse is down
CONTEXT_WHISPER: Final = "lotse-whisper"  # run on the agent's channel before bridging
CONTEXT_UNPACK: Final = "lotse-unpack"  # Gosub after each AGI: sets the variables from LOTSE_DECISION
CONTEXT_QUEUE_EXIT: Final = "lotse-queue-exit"  # app_queue's 'context': a waiting caller's callback key leads here
CONTEXT_CALLBACK_QUEUE: Final = "lotse-callback-queue"  # Originate's Local channel: waits in the queue for an agent
CONTEXT_CALLBACK_DIAL: Final = "lotse-callback-dial"  # then, the agent reserved, dials the caller back
CONTEXT_AGENTS: Final = "lotse-agents"  # the agents' softphones dial into it: feature codes, then colleagues by id
CONTEXT_HAND_ON: Final = "lotse-handon"  # TRANSFER_CONTEXT of a queue call: the agent's hand-on digits lead here
CONTEXT_AGENT_LOGIN: Final = "lotse-agent-login"  # Gosub'd by the log-in code with the agent's id
CONTEXT_AGENT_LOGOUT: Final = "lotse-agent-logout"
CONTEXT_AGENT_STATE: Final = "lotse-agent-state"

# UserEvents the dialplan sends; lotse metrics and lotse promises listen for them.
EVENT_CALLBACK: Final = "LotseCallback"  # a call's decision is a callback (the record counts it)
EVENT_PROMISE: Final = "LotsePromise"  # a request file was written (lotse promises takes it at once)
EVENT_CALLBACK_RESULT: Final = "LotseCallbackResult"  # a callback attempt's result file was written
EVENT_WHISPER: Final = "LotseWhisper"  # the agent heard the whisper
EVENT_HAND_ON: Final = "LotseHandOn"  # an agent handed a caller on to a department

# Asterisk's AMI users for lotse's processes (rendered into manager_lotse.conf by render/agents.py).
AMI_USER_METRICS: Final = "lotse"  # read: call, agent, user; QueueStatus, CoreShowChannels
AMI_USER_PROMISES: Final = "lotse-promises"  # QueueStatus and Originate of callbacks
AMI_USER_WEB: Final = "lotse-web"  # QueueAdd, QueueRemove, QueuePause from the agents' and supervisor's pages

# The dialplan's durable inbox for lotse promises: files below the spool folder (RenderOptions.spool), one per
# request or result, each one line; lotse promises takes them and deletes them (kept across restarts of both).
SPOOL_REQUESTS: Final = "requests"  # <uniqueid>: a callback or ticket request (pbx.spool.REQUEST_FIELDS joined by |)
SPOOL_RESULTS: Final = "results"  # <attempt id>: DIALSTATUS|epoch of a callback attempt
SPOOL_MESSAGES: Final = "messages"  # <uniqueid>.msg (intake|epoch|caller|fields|end), .wav, .done: a message intake's
SPOOL_END: Final = "|end"  # the last characters of a complete file (FILE() writes no newline; a file without it is half written)

# Channel variables set by lotse. Those starting with __ are inherited by the
# channels a call creates (the agent's leg), so the whisper and CDRs see them.
VARIABLE_PREFIX: Final = "LOTSE_"  # every channel variable of lotse starts with it
VAR_DIALLED: Final = "LOTSE_DIALLED"  # set by the dialplan: the number as dialled
VAR_OUTCOME: Final = "LOTSE_OUTCOME"  # a routing.model.Outcome: the dispatch extension that carries the call on
VAR_REASON: Final = "LOTSE_REASON"
VAR_TENANT: Final = "LOTSE_TENANT"
VAR_TENANT_NAME: Final = "LOTSE_TENANT_NAME"
VAR_ENTRY: Final = "LOTSE_ENTRY"  # own, 115, emergency, or the id of a tenant's further entry
VAR_TOPIC: Final = "LOTSE_TOPIC"
VAR_TOPIC_NAME: Final = "LOTSE_TOPIC_NAME"
VAR_QUEUE: Final = "LOTSE_QUEUE"
VAR_PRIORITY: Final = "LOTSE_PRIORITY"
VAR_QUEUE_TIMEOUT: Final = "LOTSE_QUEUE_TIMEOUT"
VAR_NUMBER: Final = "LOTSE_NUMBER"  # what to dial for a department
VAR_RING_TIMEOUT: Final = "LOTSE_RING_TIMEOUT"
VAR_MAILBOX: Final = "LOTSE_MAILBOX"
VAR_DEPARTMENT: Final = "LOTSE_DEPARTMENT"
VAR_CALLER: Final = "LOTSE_CALLER"  # the caller's number in key form; empty when hidden
VAR_AGENT_LABEL: Final = "LOTSE_AGENT_LABEL"  # "[Stadt Minden] Abfallberatung"
VAR_WHISPER: Final = "LOTSE_WHISPER"  # prompt files the agent hears, joined by &
VAR_CALLBACK_NUMBER: Final = "LOTSE_CALLBACK_NUMBER"  # the number the caller confirmed or keyed in (key form); empty: none
VAR_PROMISE: Final = "LOTSE_PROMISE"  # with a callback outcome: 'callback' (an agent calls back) or 'ticket' (a Rückmeldung)
VAR_JOINED: Final = "LOTSE_JOINED"  # set by the dialplan before Queue(): when the caller joined (${EPOCH}), the place a callback keeps
VAR_MESSAGE_FIELDS: Final = "LOTSE_MESSAGE_FIELDS"  # a message intake's keyed-in fields, 'Schulnummer=123456; ...'
VAR_MESSAGE_INTAKE: Final = "LOTSE_MESSAGE_INTAKE"  # with a voicemail outcome: the intake that records it (not app_voicemail)
VAR_ATTEMPT: Final = "LOTSE_ATTEMPT"  # on a callback's channels: the attempt's id (the name of its result file)
VAR_CALLBACK_WAIT: Final = "LOTSE_CALLBACK_WAIT"  # on a callback's queue channel: how long it waits for an agent
VAR_MESSAGE_FILE: Final = "LOTSE_MESSAGE_FILE"  # a message intake's spool file, without extension (the h extension ends it)
VAR_FALLBACK_HOLDS: Final = "LOTSE_FALLBACK_HOLDS"  # how often the fallback queue had no room for the caller
VAR_HAND_ON: Final = "LOTSE_HANDON"  # on a blind hand-on's channel: the department the agent chose
VAR_HOPS: Final = "LOTSE_HOPS"  # set by the dialplan on the caller's channel only (not inherited): how often lotse was asked

# manager.conf's channelvars: AMI events carry these, so lotse metrics can adopt calls it did not see begin.
AMI_CHANNEL_VARIABLES: Final = (
    VAR_DIALLED,
    VAR_HOPS,
    VAR_TENANT,
    VAR_ENTRY,
    VAR_TOPIC,
    VAR_OUTCOME,
    VAR_REASON,
    VAR_QUEUE,
    VAR_DEPARTMENT,
    VAR_CALLER,
    VAR_AGENT_LABEL,
)

INHERITED: Final = frozenset({VAR_TENANT, VAR_TENANT_NAME, VAR_ENTRY, VAR_TOPIC, VAR_TOPIC_NAME, VAR_AGENT_LABEL, VAR_WHISPER})

# The decision reaches the dialplan in one command: SET VARIABLE LOTSE_DECISION "v1|v2|...", the values of
# DECISION_FIELDS in this order; the rendered CONTEXT_UNPACK sets each variable with ${CUT(LOTSE_DECISION,|,n)}.
# One AGI round trip instead of one per variable (res_agi answers one command at a time).
VAR_DECISION: Final = "LOTSE_DECISION"
DECISION_SEPARATOR: Final = "|"
DECISION_FIELDS: Final = (
    VAR_OUTCOME,
    VAR_REASON,
    VAR_TENANT,
    VAR_TENANT_NAME,
    VAR_ENTRY,
    VAR_TOPIC,
    VAR_TOPIC_NAME,
    VAR_QUEUE,
    VAR_PRIORITY,
    VAR_QUEUE_TIMEOUT,
    VAR_DEPARTMENT,
    VAR_NUMBER,
    VAR_RING_TIMEOUT,
    VAR_MAILBOX,
    VAR_CALLER,
    VAR_AGENT_LABEL,
    VAR_WHISPER,
    VAR_CALLBACK_NUMBER,
    VAR_PROMISE,
    VAR_MESSAGE_FIELDS,
    VAR_MESSAGE_INTAKE,
)


def pack(values: Mapping[str, str]) -> str:
    """The value of LOTSE_DECISION for the variables (a separator inside a value becomes '/')."""
    return DECISION_SEPARATOR.join(values.get(name, "").replace(DECISION_SEPARATOR, "/") for name in DECISION_FIELDS)


def unpack(packed: str) -> dict[str, str]:
    """What CONTEXT_UNPACK sets from LOTSE_DECISION (for tests and fakes; the dialplan does it with CUT)."""
    parts = packed.split(DECISION_SEPARATOR)
    return {name: parts[n] if n < len(parts) else "" for n, name in enumerate(DECISION_FIELDS)}


# How a call ended, given by the agent with the disposition code (the digit after it): metrics/dispositions.py
DISPOSITION_EVENT: Final = "LotseDisposition"  # UserEvent(LotseDisposition,Agent: <agent id>,Code: <digit>)
DISPOSITIONS = {"1": "solved", "2": "handed_on", "3": "callback"}
DISPOSITION_LABELS = {"solved": "gelöst", "handed_on": "weitergegeben", "callback": "Rückruf nötig"}
