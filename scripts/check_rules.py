#!/usr/bin/python3
"""Checks the written rules of CONTRIBUTING.md that a script can check. Run by ctest (label: rules).

- Unique file names under src/: two source files with the same name in different folders (two
  `registry.cpp`) are a violation; `foo.h` beside `foo.cpp` is one unit and fine.
- Test and benchmark code stays out of the production libraries: no file under src/ includes
  GoogleTest or Google Benchmark headers.

usage: check_rules.py [ROOT]"""
import collections
import pathlib
import re
import sys

SOURCES = (".h", ".hpp", ".cpp", ".cc")
TEST_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]((?:gtest|gmock|benchmark)/[^">]+)[">]')


def duplicate_names(root: pathlib.Path) -> list:
    by_name = collections.defaultdict(list)
    for path in (root / "src").rglob("*"):
        if path.is_file() and path.suffix in SOURCES:
            by_name[path.name].append(path.relative_to(root).as_posix())
    return [f"duplicate file name {name}: {', '.join(sorted(paths))} (name files for what they hold, "
            f"e.g. <component>_{name})"
            for name, paths in sorted(by_name.items()) if len(paths) > 1]


def test_code_in_src(root: pathlib.Path) -> list:
    errors = []
    for path in sorted((root / "src").rglob("*")):
        if not (path.is_file() and path.suffix in SOURCES):
            continue
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = TEST_INCLUDE.match(line)
            if m:
                errors.append(f"{path.relative_to(root).as_posix()}:{lineno}: test/benchmark header <{m.group(1)}> "
                              "in a production library (test helpers belong in tests/, bench helpers in bench/)")
    return errors


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    if not (root / "src").is_dir():
        print(f"rules: {root}/src is not a folder")
        return 2
    errors = duplicate_names(root) + test_code_in_src(root)
    for e in errors:
        print(e)
    print(f"rules: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
