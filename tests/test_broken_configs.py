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


def test_a_broken_center_gives_no_warnings_derived_from_it(tmp_path: Path) -> None:
    # the center names where the prompts are; broken, lotse cannot know, so it must not claim they are missing
    (tmp_path / "sounds" / "tenants" / "a").mkdir(parents=True)
    (tmp_path / "sounds" / "tenants" / "a" / "greeting.wav").write_bytes(b"RIFF")
    config = tmp_path / "center.yaml"
    config.write_text(
        "center: {name: Test, state: NW, timezone: Europe/Bonn, fallback_queue: q, prompts_dir: sounds}\n"
        "queues: {q: {}}\n"
        "topics: {t: {name: Thema, queue: q}}\n"
        'tenants: {a: {name: A, numbers: ["0281 1"], greeting: "Guten Tag.", start: {topic: t}}}\n',
        encoding="utf-8",
    )
    result = load(config)
    assert [p.message for p in result.errors] == ["'Europe/Bonn' is not a known time zone, e.g. Europe/Berlin"]
    assert result.warnings == ()
