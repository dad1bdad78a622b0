#!/usr/bin/env python3
"""Reads the output of `tests/run.sh` and writes the time of each test binary (and of
pytest) as the table in docs/tests.md#time.

Usage: tests/run.sh 2>&1 | tee run.log; python3 tests/suite-time.py run.log [--write]
"""
import pathlib
import re
import sys

START, END = "<!-- suite-time:start -->", "<!-- suite-time:end -->"


def table(log):
    rows, current = [], None
    for line in log.splitlines():
        running = re.match(r"\s*Running (.+?) \(target/[^/]+/deps/([A-Za-z0-9_]+)-[0-9a-f]+\)", line)
        if running:
            current = f"{running.group(2)} (`{running.group(1)}`)"
            continue
        result = re.match(r"test result: ok\. (\d+) passed.*finished in ([0-9.]+)s", line)
        if result and current and int(result.group(1)) > 0:
            rows.append((current, int(result.group(1)), float(result.group(2))))
            current = None
        pytest = re.match(r"(\d+) passed in ([0-9.]+)s", line.strip())
        if pytest:
            rows.append(("pytest (`prover/python/tests`)", int(pytest.group(1)), float(pytest.group(2))))
    total = sum(r[2] for r in rows)
    out = ["| binary | tests | seconds |", "|---|---|---|"]
    slow = [r for r in rows if r[2] >= 1.0]
    fast = [r for r in rows if r[2] < 1.0]
    out += [f"| {name} | {n} | {s:.1f} |" for name, n, s in sorted(slow, key=lambda r: -r[2])]
    out.append(f"| {len(fast)} more (unit tests and small binaries) | {sum(r[1] for r in fast)} | {sum(r[2] for r in fast):.1f} |")
    out.append(f"| **all** | {sum(r[1] for r in rows)} | {total:.0f} |")
    return "\n".join(out)


if __name__ == "__main__":
    text = table(pathlib.Path(sys.argv[1]).read_text())
    if "--write" in sys.argv:
        doc = pathlib.Path("docs/tests.md")
        head, rest = doc.read_text().split(START, 1)
        _, tail = rest.split(END, 1)
        doc.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    else:
        print(text)
