#!/usr/bin/python3
"""Fails when an #include crosses ARCHITECTURE.md's dependency table, or when a libtorch header is
included outside model/, train/ and backend/embedded/. Run by ctest (label: layering)."""
import pathlib
import re
import sys

# component -> components it may include (ARCHITECTURE.md "Components").
ALLOWED = {
    "util": set(),
    "data": {"util"},
    "text": {"util"},
    "scene": {"data", "text", "util"},
    "model": {"text", "util"},
    "train": {"model", "text", "util"},
    "backend": {"model", "text", "util"},
    "serve": {"backend", "text", "util"},
    "pipeline": {"scene", "backend", "data", "text", "util"},
    "cli": {"util", "data", "text", "scene", "model", "train", "backend", "serve", "pipeline"},
}
TORCH_OK = ("src/model/", "src/train/", "src/backend/embedded/")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    errors = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".hpp", ".cpp", ".cc"):
            continue
        rel = path.relative_to(root).as_posix()
        comp = rel.split("/")[1]
        if comp not in ALLOWED:
            errors.append(f"{rel}: folder src/{comp} is not a component of ARCHITECTURE.md")
            continue
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            head = inc.split("/")[0]
            if head in ("torch", "ATen", "c10", "caffe2") and not rel.startswith(TORCH_OK):
                errors.append(f"{rel}:{lineno}: libtorch header <{inc}> outside model/, train/, backend/embedded/")
            if head in ALLOWED and head != comp and head not in ALLOWED[comp]:
                errors.append(f"{rel}:{lineno}: {comp} may not include {inc} ({comp} may use: "
                              f"{', '.join(sorted(ALLOWED[comp])) or 'nothing'})")
    for e in errors:
        print(e)
    print(f"layering: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
