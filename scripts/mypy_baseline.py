#!/usr/bin/env python3
"""mypy on the package against a baseline that only shrinks (issue 23 step 5).

    python scripts/mypy_baseline.py            # check: fails if any file has more errors than
                                               # mypy-baseline.txt allows, or a new file has any
    python scripts/mypy_baseline.py --update   # after fixing errors: write the lower counts

mypy runs with the [tool.mypy] settings of pyproject.toml (non-strict; its cache in .mypy_cache
makes a second run take seconds). The baseline holds one line per file, ``<errors> <path>``.
When a file's count falls below its line, the check fails too and asks for ``--update``, so the
baseline always says where the code is now and a later regression cannot hide in the slack.
``--update`` refuses to write a baseline with any count higher than the one it replaces
(only when there is no baseline yet does it write whatever mypy finds).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s]+\.pyi?):\d+(?::\d+)?: error: ")
HEADER = (
    "# mypy errors per file, allowed at most (scripts/mypy_baseline.py). Only ever lower these:\n"
    "# fix errors, then run `python scripts/mypy_baseline.py --update`.\n"
)


def run_mypy() -> tuple[Counter[str], list[str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = proc.stdout.splitlines()
    errors = [ln for ln in lines if ERROR.match(ln)]
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not errors):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"mypy did not run (exit status {proc.returncode})")
    counts = Counter(ERROR.match(ln)["path"] for ln in errors)  # type: ignore[index]
    return counts, errors


def read_baseline() -> Counter[str]:
    counts: Counter[str] = Counter()
    if BASELINE.exists():
        for line in BASELINE.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                n, path = line.split(maxsplit=1)
                counts[path] = int(n)
    return counts


def write_baseline(counts: Counter[str]) -> None:
    body = "".join(f"{n} {path}\n" for path, n in sorted(counts.items()) if n)
    BASELINE.write_text(HEADER + f"# total {sum(counts.values())}\n" + body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="write the (lower) counts")
    args = ap.parse_args(argv)
    now, errors = run_mypy()
    allowed = read_baseline()
    rose = {p: (allowed.get(p, 0), n) for p, n in now.items() if n > allowed.get(p, 0)}
    fell = {p: (n, now.get(p, 0)) for p, n in allowed.items() if now.get(p, 0) < n}
    total, before = sum(now.values()), sum(allowed.values())
    if rose and not (args.update and not BASELINE.exists()):  # the very first baseline
        print(f"mypy: more errors than {BASELINE.name} allows:")
        for path, (was, n) in sorted(rose.items()):
            print(f"  {path}: {n} (baseline {was})")
            for ln in errors:
                if ln.startswith(path + ":"):
                    print(f"    {ln}")
        print("Fix them (or, for a false positive, a `# type: ignore[code]` with a reason).")
        return 1
    if args.update:
        write_baseline(now)
        print(f"mypy: baseline written, {before} -> {total} errors")
        return 0
    if fell:
        print(f"mypy: fewer errors than the baseline ({before} -> {total}), well done:")
        for path, (was, n) in sorted(fell.items()):
            print(f"  {path}: {was} -> {n}")
        print("Lower it so they stay fixed: python scripts/mypy_baseline.py --update")
        return 1
    print(f"mypy: {total} errors, as in {BASELINE.name} (none new)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
