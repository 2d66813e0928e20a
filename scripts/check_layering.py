#!/usr/bin/python3
"""Fails when an #include crosses the dependency table of docs/architecture.md, or when a libtorch
header is included outside model/, train/ and backend/embedded/. Run by ctest (label: layering).

The table is the one markdown table of docs/architecture.md whose header has the columns
"component" and "may depend on"; a row's dependencies are "—" (none), a comma-separated list of
components, "everything" or "everything but a, b". The script fails (exit 2) when it cannot find
or parse that table, so the document and the check cannot drift apart.

usage: check_layering.py [ROOT] [--doc FILE]"""
import argparse
import pathlib
import re
import sys

TORCH_OK = ("src/model/", "src/train/", "src/backend/embedded/")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')
NONE = {"—", "-", "–", "none", ""}


class TableError(Exception):
    pass


def cells(line: str) -> list:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def read_table(doc: pathlib.Path) -> dict:
    """component -> set of components it may include, from the dependency table of `doc`."""
    if not doc.is_file():
        raise TableError(f"{doc}: not found (the dependency table lives in docs/architecture.md)")
    lines = doc.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        header = [c.lower() for c in cells(line)]
        if "component" not in header or "may depend on" not in header:
            continue
        comp_col, dep_col = header.index("component"), header.index("may depend on")
        raw = {}
        for j in range(i + 2, len(lines)):
            row = lines[j]
            if not row.lstrip().startswith("|"):
                break
            c = cells(row)
            if len(c) != len(header):
                raise TableError(f"{doc}:{j + 1}: {len(c)} cells, the header has {len(header)}")
            name = c[comp_col].strip("`* ")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise TableError(f"{doc}:{j + 1}: '{c[comp_col]}' is not a component name")
            if name in raw:
                raise TableError(f"{doc}:{j + 1}: component {name} listed twice")
            raw[name] = (j + 1, c[dep_col].strip("`* "))
        if not raw:
            raise TableError(f"{doc}:{i + 1}: the dependency table has no rows")
        return resolve(doc, raw)
    raise TableError(f"{doc}: no markdown table with the columns 'component' and 'may depend on'")


def resolve(doc: pathlib.Path, raw: dict) -> dict:
    names = set(raw)
    allowed = {}
    for name, (lineno, deps) in raw.items():
        text = deps.strip().lower()
        if text in NONE:
            allowed[name] = set()
            continue
        m = re.fullmatch(r"everything(?:\s+but\s+(.+))?", text)
        if m:
            excluded = {d.strip(" `") for d in (m.group(1) or "").replace(" and ", ",").split(",") if d.strip()}
            unknown = excluded - names
            if unknown:
                raise TableError(f"{doc}:{lineno}: {name}: unknown component(s) {', '.join(sorted(unknown))}")
            allowed[name] = names - excluded - {name}
            continue
        listed = {d.strip(" `") for d in text.split(",")}
        unknown = listed - names
        if unknown:
            raise TableError(f"{doc}:{lineno}: {name}: unknown component(s) {', '.join(sorted(unknown))}")
        if name in listed:
            raise TableError(f"{doc}:{lineno}: {name} lists itself")
        allowed[name] = listed
    # Explicit lists must form a DAG ("everything" rows sit on top by definition).
    state = {}

    def visit(n, path):
        if state.get(n) == 1:
            raise TableError(f"{doc}: dependency cycle {' -> '.join(path + [n])}")
        if state.get(n) == 2:
            return
        state[n] = 1
        if not raw[n][1].lower().startswith("everything"):
            for d in sorted(allowed[n]):
                visit(d, path + [n])
        state[n] = 2

    for n in sorted(names):
        visit(n, [])
    return allowed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default=".")
    ap.add_argument("--doc", help="the document holding the table (default ROOT/docs/architecture.md)")
    args = ap.parse_args()
    root = pathlib.Path(args.root).resolve()
    doc = pathlib.Path(args.doc).resolve() if args.doc else root / "docs" / "architecture.md"
    try:
        allowed = read_table(doc)
    except TableError as e:
        print(f"layering: cannot read the dependency table: {e}")
        return 2
    errors = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".hpp", ".cpp", ".cc"):
            continue
        rel = path.relative_to(root).as_posix()
        comp = rel.split("/")[1]
        if comp not in allowed:
            errors.append(f"{rel}: folder src/{comp} is not a component of {doc.name}'s dependency table")
            continue
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            head = inc.split("/")[0]
            if head in ("torch", "ATen", "c10", "caffe2") and not rel.startswith(TORCH_OK):
                errors.append(f"{rel}:{lineno}: libtorch header <{inc}> outside model/, train/, backend/embedded/")
            if head in allowed and head != comp and head not in allowed[comp]:
                errors.append(f"{rel}:{lineno}: {comp} may not include {inc} ({comp} may use: "
                              f"{', '.join(sorted(allowed[comp])) or 'nothing'})")
    for e in errors:
        print(e)
    print(f"layering: {len(allowed)} components in {doc.relative_to(root) if doc.is_relative_to(root) else doc}, "
          f"{len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
