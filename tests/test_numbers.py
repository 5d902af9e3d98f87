from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.numbers import NumberError, PrefixTable, caller_key, dialled_keys, is_hidden, normalise, normalise_prefix


@pytest.mark.parametrize(
    "written",
    ["+49 281 2030", "0281/2030", "02812030", "0281 203-0", "(0281) 203 0", "0049 281 2030", "+49 (0)281 2030".replace("(0)", "")],
)
def test_common_notations_normalise_to_e164(written: str) -> None:
    assert normalise(written) == "+492812030"


def test_short_codes_stay_short() -> None:
    assert normalise("115") == "115"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0281 2O3-0", "contains 'O'"),
        ("", "has no digits"),
        ("2812030", "neither a full number"),
    ],
)
def test_unreadable_numbers_say_what_is_wrong(written: str, message: str) -> None:
    with pytest.raises(NumberError, match=message):
        normalise(written)


@pytest.mark.parametrize(
    ("caller", "key"),
    [
        ("02812030", "+492812030"),
        ("+492812030", "+492812030"),
        ("00492812030", "+492812030"),
        ("492812030", "+492812030"),  # trunk format without plus
        ("0031201234567", "+31201234567"),
        ("4711", "4711"),  # internal extension
    ],
)
def test_caller_ids_in_trunk_formats(caller: str, key: str) -> None:
    assert caller_key(caller) == key


@pytest.mark.parametrize("caller", [None, "", "anonymous", "Anonymous", " unknown ", "restricted", "abc"])
def test_hidden_or_unreadable_callers_have_no_key(caller: str | None) -> None:
    assert caller_key(caller) is None


def test_is_hidden() -> None:
    assert is_hidden("anonymous") and is_hidden(None) and not is_hidden("0281 1")


def test_dialled_number_candidates() -> None:
    assert dialled_keys("02812030") == ("+492812030",)
    assert dialled_keys("492812030") == ("492812030", "+492812030", "+49492812030")
    assert dialled_keys("115") == ("115",)
    assert dialled_keys("x") == ()


def test_prefixes_normalise() -> None:
    assert normalise_prefix("0281") == "+49281"
    assert normalise_prefix("+31 20") == "+3120"
    with pytest.raises(NumberError, match="must start with 0"):
        normalise_prefix("281")


def test_longest_prefix_wins() -> None:
    table = PrefixTable.build({"+4957": "kreis", "+49571": "minden", "+495702": "petershagen"})
    assert table.match("+495711234") == ("+49571", "minden")
    assert table.match("+495702999") == ("+495702", "petershagen")
    assert table.match("+495731222") == ("+4957", "kreis")
    assert table.match("+4930123") is None


separators = st.sampled_from(["", " ", "/", "-", " / "])


@given(area=st.from_regex(r"[2-9][0-9]{1,4}", fullmatch=True), subscriber=st.from_regex(r"[1-9][0-9]{2,7}", fullmatch=True), sep=separators)
def test_any_notation_of_a_number_has_one_key(area: str, subscriber: str, sep: str) -> None:
    national = normalise(f"0{area}{sep}{subscriber}")
    assert national == f"+49{area}{subscriber}"
    assert normalise(f"+49 {area}{sep}{subscriber}") == national
    assert normalise(f"0049{area}{subscriber}") == national
    assert caller_key(f"0{area}{subscriber}") == national


@given(
    prefixes=st.dictionaries(st.from_regex(r"\+49[2-9][0-9]{0,4}", fullmatch=True), st.integers(), min_size=1, max_size=40),
    number=st.from_regex(r"\+49[2-9][0-9]{3,10}", fullmatch=True),
)
def test_prefix_match_equals_brute_force(prefixes: dict[str, int], number: str) -> None:
    table = PrefixTable.build(prefixes)
    candidates = [p for p in prefixes if number.startswith(p)]
    expected = max(candidates, key=len) if candidates else None
    found = table.match(number)
    assert (found[0] if found else None) == expected
    if found:
        assert found[1] == prefixes[found[0]]
