#!/usr/bin/env python3
"""Lists the Rust files over 500 lines of code and the functions over 80 (blank and
comment-only lines not counted), as the markdown tables in docs/tests.md#code-size.

Usage: python3 tests/code-size.py [--write]   (--write replaces the tables in docs/tests.md)
"""
import pathlib
import re
import subprocess
import sys

FILE_LIMIT, FN_LIMIT = 500, 80
START, END = "<!-- code-size:start -->", "<!-- code-size:end -->"


def code_lines(lines):
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("//"))


def measure():
    listed = subprocess.run(["git", "ls-files", "*.rs"], capture_output=True, text=True, check=True).stdout.split()
    files, functions, total, crates = [], [], 0, {}
    for path in listed:
        lines = pathlib.Path(path).read_text().split("\n")
        n = code_lines(lines)
        total += n
        crate = pathlib.Path(path).parent
        while not (crate / "Cargo.toml").is_file():
            crate = crate.parent
        crates[str(crate)] = crates.get(str(crate), 0) + n
        if n > FILE_LIMIT:
            files.append((n, path))
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)(pub(\([a-z]+\))? )?(async )?(const )?fn (\w+)", line)
            if not m or line.rstrip().endswith(";"):
                continue
            for j in range(i + 1, len(lines)):
                if lines[j] == m.group(1) + "}":
                    n = code_lines(lines[i : j + 1])
                    if n > FN_LIMIT:
                        functions.append((n, path, m.group(6)))
                    break
    return total, crates, sorted(files, reverse=True), sorted(functions, reverse=True)


def render():
    total, crates, files, functions = measure()
    out = [f"{total} lines of Rust code in all (tests included), by crate:", "", "| crate | lines | share |", "|---|---|---|"]
    out += [f"| `{c}/` | {n} | {100 * n / total:.0f} % |" for c, n in sorted(crates.items(), key=lambda kv: -kv[1])]
    out += ["", f"Files over {FILE_LIMIT} lines of code:", "", "| lines | file |", "|---|---|"]
    out += [f"| {n} | `{path}` |" for n, path in files]
    out += ["", f"Functions over {FN_LIMIT} lines of code:", "", "| lines | function | file |", "|---|---|---|"]
    out += [f"| {n} | `{name}` | `{path}` |" for n, path, name in functions]
    return "\n".join(out)


if __name__ == "__main__":
    table = render()
    if "--write" in sys.argv:
        doc = pathlib.Path("docs/tests.md")
        text = doc.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        doc.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    else:
        print(table)
