"""Fixtures of the Python package's tests: ../shared (real data, tokenizers), the CLI of the same
build tree, a tiny random model made with `usermirror model init`, and ml-100k prepared once by the
CLI. Tests needing ../shared skip with the reason when it is absent, except under CI=true, where
its absence is a failure (tests/common/shared_data.h)."""
import os
import pathlib
import subprocess
import tempfile

import pytest

SOURCE = pathlib.Path(os.environ.get("UM_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BINARY = pathlib.Path(os.environ.get("UM_BINARY_DIR", SOURCE / "build"))


def shared_path(relative):
    env = os.environ.get("UM_SHARED_DIR")
    root = pathlib.Path(env) if env else SOURCE.parent / "shared"
    p = root / relative
    if p.exists():
        return p
    if os.environ.get("CI") == "true":
        pytest.fail(f"../shared/{relative} is missing, and CI=true requires it")
    pytest.skip(f"../shared/{relative} not found beside the source tree")


@pytest.fixture(scope="session")
def tmp_root():
    with tempfile.TemporaryDirectory(prefix="um-python-") as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="session")
def cli():
    exe = pathlib.Path(os.environ.get("UM_CLI") or BINARY / "usermirror")  # UM_CLI: another build's binary
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build the usermirror target of this tree")

    def run(*args, **kw):
        return subprocess.run([str(exe), *map(str, args)], check=True, capture_output=True, text=True, **kw)
    return run


@pytest.fixture(scope="session")
def ml100k():
    return shared_path("data/ml-100k")


@pytest.fixture(scope="session")
def tiny_model(tmp_root, cli):
    """The demo's tiny model (src/cli/cmd_run.cpp make_tiny_model) made with `usermirror model init`."""
    import usermirror
    if not usermirror._core._have_local:
        pytest.skip("the embedded engine (local:) is not part of this build (libtorch missing or skipped)")
    tok = shared_path("tokenizers/qwen3")
    out = tmp_root / "tiny"
    cli("model", "init", "--arch", "qwen3", "--layers", 2, "--hidden", 64, "--heads", 4, "--kv-heads", 2,
        "--tie-embeddings", "--tokenizer", tok, "--out", out, "--seed", 0, "--dtype", "f32")
    return "local:" + str(out)


@pytest.fixture(scope="session")
def work_cli(tmp_root, cli, ml100k):
    """ml-100k prepared by the CLI, with CLI eval scenes (24 scenes, 5 options, seed 3)."""
    work = tmp_root / "work-cli"
    cli("prepare", "--dataset", "ml-100k", "--raw", ml100k, "--work", work)
    cli("scenes", "--dataset", "ml-100k", "--work", work, "--split", "eval", "--samples", 24, "--min-exposure", 5,
        "--max-exposure", 5, "--seed", 3)
    return work
