"""Generate a large routing config: N tenants, one file each, 20 topics each, many 115 prefixes.

python -m bench.gen_config OUT_DIR [--tenants 500] [--prefixes 5000] [--topics 20]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

STATES = ("NW", "NI", "BY", "BW", "HE", "SN", "TH", "RP")


def tenant_yaml(index: int, topics: int, rng: random.Random) -> str:
    tid = f"t{index:04d}"
    state = rng.choice(STATES)
    lines = [
        "tenants:",
        f"  {tid}:",
        f"    name: Gemeinde {index}",
        f'    numbers: ["0{2000 + index} 100-0", "0{2000 + index} 100-1"]',
        f"    state: {state}",
        "    hours:",
        '      mon-thu: ["07:30-12:30", "13:30-17:00"]',
        '      fri: "07:30-13:00"',
        "    closures:",
        f"      - {{date: 2026-12-{rng.randint(1, 23):02d}, reason: Betriebsausflug}}",
        f'    greeting: "Willkommen bei der Gemeinde {index}."',
        "    start: {menu: main}",
        "    topics:",
    ]
    lines += [f"      {tid}-k{k:02d}: {{name: Anliegen {k}, queue: q{k % 10}, priority: {k % 3}}}" for k in range(topics)]
    lines.append("    menus:")
    per_menu = 8  # keys 1-8 choose a topic, 9 goes to the next menu
    menus = (topics + per_menu - 1) // per_menu
    for m in range(menus):
        lines += [f"      m{m}:", f'        prompt: "Menü {m} der Gemeinde {index}."', "        options:"]
        chunk = range(m * per_menu, min(topics, (m + 1) * per_menu))
        lines += [f'          "{key + 1}": {{topic: {tid}-k{k:02d}}}' for key, k in enumerate(chunk)]
        if m + 1 < menus:
            lines.append(f'          "9": {{menu: m{m + 1}}}')
        lines += ['        invalid: "Ungültige Eingabe."', f"        default: {{topic: {tid}-k00}}"]
    text = "\n".join(lines) + "\n"
    return text.replace("{menu: main}", "{menu: m0}")


def center_yaml(tenants: int, prefixes: int, rng: random.Random) -> str:
    lines = [
        "center: {name: Großes Servicecenter, state: NW, fallback_queue: q0}",
        "queues:",
    ]
    lines += [f"  q{k}: {{max_wait: 300, overflow: callback}}" for k in range(10)]
    lines += ["service_115:", "  unknown_caller: {queue: q0}", "  prefixes:"]
    seen: set[str] = set()
    while len(seen) < prefixes:
        prefix = f"0{rng.randint(2000, 9999)}{rng.choice(['', str(rng.randint(0, 9))])}"
        if prefix not in seen:
            seen.add(prefix)
            lines.append(f'    "{prefix}": t{rng.randrange(tenants):04d}')
    return "\n".join(lines) + "\n"


def generate(out: Path, tenants: int = 500, prefixes: int = 5000, topics: int = 20, seed: int = 115) -> Path:
    rng = random.Random(seed)
    (out / "tenants").mkdir(parents=True, exist_ok=True)
    (out / "center.yaml").write_text(center_yaml(tenants, prefixes, rng), encoding="utf-8")
    for index in range(tenants):
        (out / "tenants" / f"t{index:04d}.yaml").write_text(tenant_yaml(index, topics, rng), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--prefixes", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=20)
    args = parser.parse_args()
    generate(args.out, args.tenants, args.prefixes, args.topics)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
