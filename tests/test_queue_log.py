from __future__ import annotations

from metrics.queue_log import parse

LINES = """\
1795317268|1795317264.1|buergerservice|NONE|LOTSE|minden|own|ausweis
1795317268|1795317264.1|buergerservice|NONE|ENTERQUEUE||057100100069|1
1795317273|1795317264.1|buergerservice|Anna|CONNECT|5|1795317268.2|2
1795317278|1795317264.1|buergerservice|Anna|COMPLETEAGENT|5|5|1
1795317283|1795317279.5|buergerservice|NONE|LOTSE|minden|own|ausweis
1795317283|1795317279.5|buergerservice|NONE|ENTERQUEUE||057100100169|1
1795317284|1795317279.5|buergerservice|Ben|RINGCANCELED|1246
1795317284|1795317279.5|buergerservice|NONE|ABANDON|1|1|1
1795317200|NONE|NONE|NONE|QUEUESTART|
garbage line
1795317284|1795317279.9|buergerservice|NONE|ABANDON|1
"""


def test_answered_and_abandoned_calls_with_lotse_lines() -> None:
    log = parse(LINES.splitlines())
    answered, abandoned = log.calls["1795317264.1"], log.calls["1795317279.5"]
    assert (answered.tenant, answered.entry, answered.topic, answered.queue) == ("minden", "own", "ausweis", "buergerservice")
    assert (answered.holdtime, answered.talk, answered.agent, answered.abandoned) == (5, 5, "Anna", False)
    assert (abandoned.abandoned, abandoned.waittime, abandoned.holdtime) == (True, 1, None)
    assert log.unreadable == 2  # the garbage line and the ABANDON without its fields
