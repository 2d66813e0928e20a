#!/usr/bin/python3
"""The rule checks must fail when a rule is broken: scripts/check_layering.py and scripts/check_rules.py
run on small synthetic trees. Run by ctest (test rules_checks_fail_on_violations)."""
import contextlib
import importlib.util
import io
import pathlib
import shutil
import sys
import tempfile
import unittest

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts"


def load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


layering = load("check_layering")
rules = load("check_rules")

TABLE = """# Architecture

| component | owns | may depend on |
|---|---|---|
| util | base | — |
| data | tables | util |
| scene | scenes | data, util |
| cli | wiring | everything |
| python | package | everything but cli |
"""


TREES = []


def tearDownModule():
    for t in TREES:
        shutil.rmtree(t, ignore_errors=True)


def tree(files):
    root = pathlib.Path(tempfile.mkdtemp(prefix="um-rules-"))
    TREES.append(root)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def run(mod, argv):
    old = sys.argv
    sys.argv = [mod.__file__] + argv
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            rc = mod.main()
    finally:
        sys.argv = old
    return rc, out.getvalue()


class Layering(unittest.TestCase):
    def test_table(self):
        root = tree({"docs/architecture.md": TABLE})
        allowed = layering.read_table(root / "docs/architecture.md")
        self.assertEqual(allowed["util"], set())
        self.assertEqual(allowed["scene"], {"data", "util"})
        self.assertEqual(allowed["cli"], {"util", "data", "scene", "python"})
        self.assertEqual(allowed["python"], {"util", "data", "scene"})

    def test_allowed_include_passes_and_forbidden_include_fails(self):
        ok = tree({"docs/architecture.md": TABLE, "src/scene/a.cpp": '#include "data/data.h"\n'})
        self.assertEqual(run(layering, [str(ok)])[0], 0)
        bad = tree({"docs/architecture.md": TABLE, "src/data/a.cpp": '#include "scene/scene.h"\n'})
        rc, out = run(layering, [str(bad)])
        self.assertEqual(rc, 1)
        self.assertIn("data may not include scene/scene.h", out)

    def test_torch_outside_model_fails(self):
        bad = tree({"docs/architecture.md": TABLE, "src/scene/a.cpp": "#include <torch/torch.h>\n"})
        rc, out = run(layering, [str(bad)])
        self.assertEqual(rc, 1)
        self.assertIn("libtorch header", out)

    def test_folder_without_row_fails(self):
        bad = tree({"docs/architecture.md": TABLE, "src/extra/a.cpp": "int x;\n"})
        rc, out = run(layering, [str(bad)])
        self.assertEqual(rc, 1)
        self.assertIn("src/extra", out)

    def test_missing_or_broken_table_fails_clearly(self):
        rc, out = run(layering, [str(tree({"src/util/a.cpp": ""}))])
        self.assertEqual(rc, 2)
        self.assertIn("not found", out)
        rc, out = run(layering, [str(tree({"docs/architecture.md": "# no table\n"}))])
        self.assertEqual(rc, 2)
        self.assertIn("no markdown table", out)
        unknown = TABLE.replace("| data, util |", "| data, nowhere |")
        rc, out = run(layering, [str(tree({"docs/architecture.md": unknown}))])
        self.assertEqual(rc, 2)
        self.assertIn("nowhere", out)
        cycle = TABLE.replace("| tables | util |", "| tables | scene, util |")
        rc, out = run(layering, [str(tree({"docs/architecture.md": cycle}))])
        self.assertEqual(rc, 2)
        self.assertIn("cycle", out)


class Rules(unittest.TestCase):
    def test_unique_names(self):
        ok = tree({"src/data/reader_registry.cpp": "", "src/cli/command_registry.cpp": "",
                   "src/cli/command_registry.h": ""})
        self.assertEqual(run(rules, [str(ok)])[0], 0)
        bad = tree({"src/data/registry.cpp": "", "src/cli/registry.cpp": ""})
        rc, out = run(rules, [str(bad)])
        self.assertEqual(rc, 1)
        self.assertIn("duplicate file name registry.cpp", out)

    def test_test_headers_in_src_fail(self):
        bad = tree({"src/model/helpers.cpp": "#include <benchmark/benchmark.h>\n"})
        rc, out = run(rules, [str(bad)])
        self.assertEqual(rc, 1)
        self.assertIn("benchmark/benchmark.h", out)


if __name__ == "__main__":
    unittest.main()
