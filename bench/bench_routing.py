"""Routing benchmark: load+validate time of a large config and decision latency.

    python -m bench.bench_routing [--tenants 500] [--prefixes 5000] [--topics 20] [--decisions 50000]

Baselines, measured in the same run so that ratios survive a noisy machine:
- load: libyaml parsing the same files into plain Python (no validation);
- decision: the bare lookups every router must do (normalise the dialled
  number, find it in a dict, match the caller's prefix).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bench.gen_config import generate
from routing.engine import Call, decide
from routing.loader import load
from routing.model import Center
from routing.numbers import caller_key, dialled_keys
from routing.yamlsource import config_files


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse_only(folder: Path) -> None:
    for file in config_files(folder):
        yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def calls(center: Center, count: int, seed: int = 7) -> list[tuple[Call, datetime, str]]:
    rng = random.Random(seed)
    tz = ZoneInfo("Europe/Berlin")
    own = [n for n, t in center.numbers.items() if t is not None]
    prefixes = list(center.service_115.prefixes.entries) if center.service_115 else []
    base = datetime(2026, 11, 23, tzinfo=tz)
    result = []
    for _ in range(count):
        when = base + timedelta(minutes=rng.randrange(14 * 24 * 60))  # two weeks, open and closed
        if rng.random() < 0.5:
            call = Call(rng.choice(own), f"0{rng.randint(2000, 9999)}{rng.randint(10000, 99999)}")
        else:
            prefix = rng.choice(prefixes)
            call = Call("115", "0" + prefix[3:] + str(rng.randint(1000, 99999)))
        keys = "".join(rng.choice("123456789") for _ in range(rng.randint(0, 3)))
        result.append((call, when, keys))
    return result


def latencies(run: Callable[[Call, datetime, str], object], workload: list[tuple[Call, datetime, str]]) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for call, when, keys in workload:
        start = clock()
        run(call, when, keys)
        out.append((clock() - start) / 1000)
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--prefixes", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--decisions", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = generate(Path(tmp), args.tenants, args.prefixes, args.topics)
        files = config_files(folder)
        size = sum(f.stat().st_size for f in files)
        result = load(folder)
        assert result.center is not None, [str(p) for p in result.errors[:5]]
        center = result.center
        load_s = median_seconds(lambda: load(folder), args.repeat)
        parse_s = median_seconds(lambda: parse_only(folder), args.repeat)

    workload = calls(center, args.decisions)
    cc = center.country_code
    prefixes = center.service_115.prefixes if center.service_115 else None

    def bare(call: Call, when: datetime, keys: str) -> object:
        found = next((k for k in dialled_keys(call.dialled, cc) if k in center.numbers), None)
        caller = caller_key(call.caller, cc)
        return found, prefixes.match(caller) if prefixes and caller else None

    def full(call: Call, when: datetime, keys: str) -> object:
        return decide(center, call, when, keys=keys)

    latencies(full, workload[:2000])  # warm caches (holiday tables per state and year)
    base_us = latencies(bare, workload)
    full_us = latencies(full, workload)

    print(f"config: {args.tenants} tenants, {args.prefixes} prefixes, {args.topics} topics each, {len(files)} files, {size / 1e6:.1f} MB")
    print(f"load+validate: median {load_s:.3f} s over {args.repeat} runs; baseline libyaml parse only {parse_s:.3f} s", end="")
    print(f"; ratio {load_s / parse_s:.2f}")
    for name, values in (("baseline lookups", base_us), ("decide()", full_us)):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"{name}: p50 {p50:.2f} us, p99 {p99:.2f} us, max {max(values):.1f} us over {len(values)} calls")
    p50_ratio = percentile(full_us, 0.5) / percentile(base_us, 0.5)
    p99_ratio = percentile(full_us, 0.99) / percentile(base_us, 0.99)
    print(f"decide() / baseline: p50 ratio {p50_ratio:.1f}, p99 ratio {p99_ratio:.1f}")


if __name__ == "__main__":
    main()
