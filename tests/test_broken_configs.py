"""The corpus in tests/broken: each file names its exact errors in '# expect:' lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.loader import load

CORPUS = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("file", CORPUS, ids=lambda f: f.stem)
def test_broken_config_reports_exact_location_and_message(file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOTSE_TEST_UNSET_NUMBER", raising=False)
    expected = [line.removeprefix("# expect: ") for line in file.read_text(encoding="utf-8").splitlines() if line.startswith("# expect: ")]
    assert expected, f"{file.name} states no '# expect:' line"

    result = load(file)

    assert result.center is None
    assert [str(p).replace(f"{file}:", "") for p in result.errors] == expected
