"""The usermirror Python package on real data (ml-100k from ../shared) and a tiny random model:
every API call, compared with the CLI's files for the same arguments."""
import json
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest
from conftest import shared_path

import usermirror as um


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def work_py(tmp_root, ml100k):
    work = tmp_root / "work-py"
    report = um.prepare("ml-100k", ml100k, work)
    assert report["interactions"] > 90000
    return work


def test_prepare_writes_the_cli_files(work_cli, work_py):
    for kind in ("user_feature", "item_feature", "interaction"):
        name = f"raws/ml-100k_{kind}.jsonl"
        assert read_bytes(work_py / name) == read_bytes(work_cli / name), name


def test_scenes_stream_the_cli_file(work_cli, work_py):
    s = um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, progress=False)
    records = list(s)  # the first pass streams while the file is written
    assert read_bytes(s.path) == read_bytes(work_cli / "datasets/ml-100k_eval.jsonl")
    assert len(records) == len(s) == s.report["written"] == 24
    with open(s.path, encoding="utf-8") as f:
        assert records == [json.loads(line) for line in f]
    assert list(s) == records  # later passes read the file
    assert all(r["choice_cnt"] == 5 and len(r["text"]["action_list"]) == 5 for r in records)
    assert next(s) == records[0] and next(s) == records[1]
    seen = []
    again = um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, progress=lambda *a: seen.append(a))
    assert list(again) == records
    assert seen[-1] == ("scenes ml-100k eval", 24, 24)
    # Never iterated: the file is written in full; the first pass left early: the build stops, no file.
    lazy = um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, output=work_py / "lazy.jsonl", progress=False)
    assert lazy.wait()["written"] == 24 and read_bytes(work_py / "lazy.jsonl") == read_bytes(s.path)
    first = next(iter(um.scenes("ml-100k", work_py, "train", 20000, 2, 12, 3, all_users=True,
                                output=work_py / "one.jsonl", progress=False)))
    assert first["choice_cnt"] >= 2 and not (work_py / "one.jsonl").exists()
    um._core._wait_background()
    assert not any(p.name.startswith("one.jsonl") for p in work_py.iterdir())
    # Bad inputs are raised by scenes() itself.
    with pytest.raises(um.Error):
        um.scenes("ml-1m", work_py, "eval", 24)
    with pytest.raises(um.Error) as e:
        um.scenes("ml-100k", work_py, "test", 24)
    assert e.value.field == "split"


def test_scenes_stream_past_the_queue(tmp_root, ml100k):
    """More scenes than the stream queues (8192): a consumer that iterates at once gets them all in
    order while they are built; one that starts late gets the queued ones, then the rest from the file."""
    work = tmp_root / "work-stream"
    um.prepare("ml-100k", ml100k, work, progress=False)
    early = list(um.scenes("ml-100k", work, "train", 10000, 2, 4, 1, all_users=True, progress=False))
    late_scenes = um.scenes("ml-100k", work, "train", 10000, 2, 4, 1, all_users=True, output=work / "late.jsonl",
                            progress=False)
    late_scenes.wait()
    late = list(late_scenes)
    assert len(early) == len(late) > 8192 and early == late
    # len() inside the first pass: the build is waited for, the pass goes on from the file.
    mixed_scenes = um.scenes("ml-100k", work, "train", 10000, 2, 4, 1, all_users=True, output=work / "mixed.jsonl",
                             progress=False)
    mixed = []
    for r in mixed_scenes:
        if len(mixed) == 100:
            assert len(mixed_scenes) == len(early)
        mixed.append(r)
    assert mixed == early
    with open(work / "datasets/ml-100k_train.jsonl", "rb") as f:
        assert early == [json.loads(line) for line in f]


def test_progress_goes_to_a_callback_or_tqdm(work_py, monkeypatch):
    calls = []
    s = um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, output=work_py / "p.jsonl",
                  progress=lambda stage, done, total: calls.append((stage, done, total)))
    s.wait()
    assert calls and calls[-1] == ("scenes ml-100k eval", 24, 24)
    assert all(0 <= d <= t for _, d, t in calls)
    assert [d for _, d, _ in calls] == sorted(d for _, d, _ in calls)

    class FakeTqdm:  # the part of tqdm's API the package uses
        made = []

        def __init__(self, total=None, desc=None):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            FakeTqdm.made.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True
    fake = type(os)("tqdm")
    fake.tqdm = FakeTqdm
    monkeypatch.setitem(__import__("sys").modules, "tqdm", fake)
    list(um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, output=work_py / "q.jsonl", progress="tqdm"))
    (bar,) = FakeTqdm.made
    assert (bar.desc, bar.n, bar.total, bar.closed) == ("scenes ml-100k eval", 24, 24, True)
    with pytest.raises(TypeError):
        um.scenes("ml-100k", work_py, progress=42)


def test_scenes_to_pandas(work_py):
    pd = pytest.importorskip("pandas")
    df = um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, progress=False).to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 24
    assert {"text", "user_id", "item_id", "item_pos", "choice_cnt", "dataset"} <= set(df.columns)


def test_errors_carry_file_line_and_field(tmp_root, ml100k):
    raw = tmp_root / "bad-ml-100k"
    shutil.copytree(ml100k, raw)
    lines = read_bytes(raw / "u.data").split(b"\n")
    lines[2] = b"196\t242\tthree\t881250949"
    with open(raw / "u.data", "wb") as f:
        f.write(b"\n".join(lines))
    with pytest.raises(um.Error) as e:
        um.prepare("ml-100k", raw, tmp_root / "bad-work")
    assert e.value.file.endswith("u.data") and e.value.line == 3 and e.value.field
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(um.NotSupported):
        um.template_fields("no-such-dataset")


def test_scene_from_plain_values_uses_the_dataset_templates(work_py):
    rec = next(iter(um.scenes("ml-100k", work_py, "eval", 24, 5, 5, 3, progress=False)))
    users = {}
    with open(work_py / "raws/ml-100k_user_feature.jsonl", encoding="utf-8") as f:
        for line in f:
            u = json.loads(line)
            users[str(u["user_id"])] = u["user_description"]
    items = {}
    with open(work_py / "raws/ml-100k_item_feature.jsonl", encoding="utf-8") as f:
        for line in f:
            i = json.loads(line)
            items[str(i["item_id"])] = i["item_description"]
    fields = um.template_fields("ml-100k")
    assert "gender" in fields["profile"] and "new_release" in fields["items"]
    # The ground-truth item, with the derived field read off the rendered entry.
    truth = rec["text"]["action_list"][rec["item_pos"]]
    item = dict(items[str(rec["item_id"])], new_release="[New Release]" if truth.startswith("[New Release]") else "")
    other = dict(item)
    s = um.scene("ml-100k", users[str(rec["user_id"])], [], [item, other])
    assert s["text"]["profile"] == rec["text"]["profile"]
    assert s["text"]["action_list"] == [truth, truth]
    with pytest.raises(um.Error) as e:
        um.scene("ml-100k", {"gender": "M"}, [], [item, other])
    assert e.value.field == "age"


def letter_probs(choice):
    return np.array([choice[k] for k in sorted(choice)])


def test_simulator_direct_equals_evaluate(work_cli, cli, tiny_model, tmp_root):
    out = tmp_root / "eval-direct-cli"
    scenes_file = work_cli / "datasets/ml-100k_eval.jsonl"
    cli("evaluate", "--backend", tiny_model, "--work", work_cli, "--input", scenes_file, "--mode", "direct",
        "--out", out, "--seed", 1, "--bootstrap", 50)
    with open(out / "predictions.jsonl", encoding="utf-8") as f:
        expected = [letter_probs(json.loads(line)["choice"]) for line in f]
    with open(scenes_file, encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f]
    sim = um.Simulator(tiny_model, mode="direct")
    done = []
    t0 = time.monotonic()
    got = sim.choose_batch(scenes, progress=lambda stage, d, t: done.append((stage, d, t)))
    elapsed = time.monotonic() - t0
    assert len(got) == len(expected) and done[-1] == ("simulator", len(scenes), len(scenes))
    # Throttled: at most one call per 100 ms, plus the final state and the closing flush.
    assert len(done) <= elapsed / 0.1 + 3
    for g, e in zip(got, expected):
        assert isinstance(g, np.ndarray) and g.shape == (5,)
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
        assert abs(g.sum() - 1) < 1e-9
    np.testing.assert_allclose(sim.choose(scenes[0]), expected[0], rtol=1e-9, atol=1e-12)
    # evaluate() from Python writes the same report as the CLI.
    stages = set()
    report = um.evaluate(sim, work_cli, inputs=[scenes_file], mode="direct", seed=1, bootstrap=50,
                         out=tmp_root / "eval-direct-py", progress=lambda stage, d, t: stages.add(stage))
    assert stages == {"evaluate direct (score)"}
    files = report.pop("files")
    with open(out / "report.json", encoding="utf-8") as f:
        assert report == json.load(f)
    assert read_bytes(files["predictions"]) == read_bytes(out / "predictions.jsonl")


def test_simulator_reasoning_equals_evaluate(work_cli, cli, tiny_model, tmp_root):
    out = tmp_root / "eval-reasoning-cli"
    scenes_file = tmp_root / "six.jsonl"
    with open(work_cli / "datasets/ml-100k_eval.jsonl", encoding="utf-8") as f:
        scenes_file.write_text("".join(f.readlines()[:6]))
    cli("evaluate", "--backend", tiny_model, "--work", work_cli, "--input", scenes_file, "--mode", "reasoning",
        "--repeats", 2, "--max-tokens", 12, "--out", out, "--seed", 4, "--bootstrap", 10)
    with open(out / "predictions.jsonl", encoding="utf-8") as f:
        expected = [np.mean([letter_probs(c) for c in json.loads(line)["choice"]], axis=0) for line in f]
    with open(scenes_file, encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f]
    sim = um.Simulator(tiny_model, mode="reasoning", repeats=2, max_tokens=12, seed=4)
    for g, e in zip(sim.choose_batch(scenes), expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


def test_simulator_rejects_bad_input(tiny_model):
    with pytest.raises(um.Error) as e:
        um.Simulator(tiny_model, mode="telepathy")
    assert e.value.field == "mode"
    sim = um.Simulator(tiny_model)
    with pytest.raises(um.Error) as e:
        sim.choose({"text": {"profile": "", "history": "", "action_list": ["only one"]}})
    assert e.value.field == "action_list"


def test_distil_equals_cli(work_cli, cli, tiny_model, tmp_root):
    work = tmp_root / "work-distil"
    shutil.copytree(work_cli / "raws", work / "raws")
    cli("scenes", "--dataset", "ml-100k", "--work", work, "--split", "train", "--samples", 12, "--seed", 2)
    for variant in ("strong", "weak"):
        cli("decide", "--work", work, "--backend", tiny_model, "--dataset", "ml-100k", "--variant", variant, "-n", 2,
            "--max-tokens", 12, "--seed", 2)
        cli("score", "--work", work, "--backend", tiny_model, "--dataset", "ml-100k", "--variant", variant)
    cli("distil", "--work", work, "--datasets", "ml-100k", "--name", "cli", "--select", 8, "--seed", 5)
    report = um.distil(work, ["ml-100k"], "py", select=8, seed=5, progress=False)
    assert report["scenes"] == 12 and report["pairs"] > 0
    for kind in ("pref", "sft", "scene_metrics"):
        assert read_bytes(work / f"datasets/py_{kind}.jsonl") == read_bytes(work / f"datasets/cli_{kind}.jsonl"), kind
    # compat="reference" is the CLI's --compat reference
    cli("distil", "--work", work, "--datasets", "ml-100k", "--name", "cli-ref", "--select", 8, "--seed", 5,
        "--compat", "reference")
    um.distil(work, ["ml-100k"], "py-ref", select=8, seed=5, compat="reference", progress=False)
    for kind in ("pref", "sft", "scene_metrics"):
        assert read_bytes(work / f"datasets/py-ref_{kind}.jsonl") == read_bytes(work / f"datasets/cli-ref_{kind}.jsonl")


def test_prepare_compat_reference_is_the_cli_switch(cli, tmp_root):
    raw = shared_path("data/ml-1m")
    cli("prepare", "--dataset", "ml-1m", "--raw", raw, "--work", tmp_root / "ml1m-cli", "--compat", "reference")
    report = um.prepare("ml-1m", raw, tmp_root / "ml1m-py", compat="reference")
    assert report["users"] == 6040  # every users.dat line, as the reference writes them
    for kind in ("user_feature", "item_feature", "interaction"):
        name = f"raws/ml-1m_{kind}.jsonl"
        assert read_bytes(tmp_root / "ml1m-py" / name) == read_bytes(tmp_root / "ml1m-cli" / name), name
    with pytest.raises(um.Error, match="compat"):
        um.prepare("ml-1m", raw, tmp_root / "ml1m-bad", compat="authors")


class ListsFromFile:
    """A Python recommender returning the lists of a file: recommender."""

    def __init__(self, path):
        self.name = "file:" + str(path)
        self.lists = {}
        self.calls = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                self.lists[str(r["user_id"])] = r["items"]

    def recommend(self, user_id, history, k):
        self.calls += 1
        assert isinstance(history, list) and k >= 5
        return self.lists.get(user_id)


@pytest.fixture(scope="module")
def lists_file(work_cli, tmp_root):
    """Every user's list: items by a fixed per-user score (enough items left after the history)."""
    items, users = [], []
    with open(work_cli / "raws/ml-100k_item_feature.jsonl", encoding="utf-8") as f:
        items = [str(json.loads(line)["item_id"]) for line in f][:400]
    with open(work_cli / "raws/ml-100k_user_feature.jsonl", encoding="utf-8") as f:
        users = [str(json.loads(line)["user_id"]) for line in f]
    path = tmp_root / "lists.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for n, u in enumerate(users):
            ranked = sorted(items, key=lambda i: (int(i) * 7919 + n * 104729) % 1009)
            f.write(json.dumps({"user_id": u, "items": ranked}) + "\n")
    return path


def arena_files(report):
    out = report["result"]["out_dir"]
    return {n: read_bytes(os.path.join(out, n)) for n in ("report.json", "pages.jsonl")}


@pytest.mark.skipif(not um._core._have_arena, reason="the arena component is not part of this build")
def test_python_recommender_equals_the_file_recommender(work_cli, lists_file, cli):
    common = dict(protocol="interleave", users=30, page_size=5, seed=3, figures=False, progress=False)
    builtin = um.arena(work_cli, "ml-100k", ["pop", f"file:{lists_file}"], "baseline:popularity", name="builtin",
                       **common)
    py_rec = ListsFromFile(lists_file)
    python = um.arena(work_cli, "ml-100k", ["pop", py_rec], "baseline:popularity", name="python", **common)
    assert py_rec.calls >= 30
    assert arena_files(builtin) == arena_files(python)
    builtin.pop("result")
    assert builtin["recommenders"][1]["name"] == f"file:{lists_file}"
    assert {"recommenders", "pairwise", "agreement"} <= set(builtin)
    # The CLI with the same arguments writes the same report.
    cli("arena", "--work", work_cli, "--dataset", "ml-100k", "--recommenders", f"pop,file:{lists_file}",
        "--simulator", "baseline:popularity", "--protocol", "interleave", "--users", 30, "--page-size", 5,
        "--seed", 3, "--name", "cli", "--no-figures")
    assert read_bytes(work_cli / "arena/cli/report.json") == arena_files(python)["report.json"]


@pytest.mark.skipif(not um._core._have_arena, reason="the arena component is not part of this build")
def test_arena_with_a_simulator_and_a_python_recommender(work_cli, lists_file, tiny_model):
    sim = um.Simulator(tiny_model, mode="direct")
    calls = []
    report = um.arena(work_cli, "ml-100k", ["pop", "itemknn", ListsFromFile(lists_file)], sim, protocol="page",
                      users=6, seed=1, name="llm", controls=["baseline:uniform"], figures=False, history=4,
                      progress=lambda *a: calls.append(a))
    assert report["result"]["users"] == 6 and report["result"]["pages"] > 0
    assert report["history"] == 4
    final = {stage: (d, t) for stage, d, t in calls}
    assert final["arena (direct)"][0] == final["arena (direct)"][1] > 0
    assert final["itemknn"][0] == final["itemknn"][1] > 0
    assert [r["name"] for r in report["recommenders"]] == ["pop", "itemknn", f"file:{lists_file}"]

    class Broken:
        def recommend(self, user_id, history, k):
            raise ValueError("boom")
    with pytest.raises(um.Error) as e:
        um.arena(work_cli, "ml-100k", ["pop", Broken()], "baseline:uniform", users=4, name="broken",
                 figures=False, progress=False)
    assert "boom" in str(e.value) and e.value.field == "recommenders"


def run_episode(env, seed, steps):
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    train = env.train_item_ids
    for _ in range(steps):
        seen = set(obs["history"])
        page = [i for i in train if i not in seen][:5]
        obs, reward, terminated, truncated, info = env.step(page)
        trace.append((obs, reward, terminated, truncated, info["choice"], info["probs"].tolist(), info["hits"]))
        assert 0.0 <= reward <= 1.0 and not terminated
        assert abs(info["probs"].sum() - 1) < 1e-9
        assert abs(reward - sum(p for p, h in zip(info["probs"], info["hits"]) if h)) < 1e-12
        assert obs["history"][-1] == info["choice"]
    assert truncated
    return trace


@pytest.mark.skipif(not um._core._have_arena, reason="the arena component is not part of this build")
def test_env_episodes_are_reproducible(work_cli, tiny_model):
    sim = um.Simulator(tiny_model, mode="direct")
    env = um.Env(work_cli, "ml-100k", sim, users=20, horizon=3, seed=0)
    a = run_episode(env, 11, 3)
    b = run_episode(env, 11, 3)
    assert a == b
    other = um.Env(work_cli, "ml-100k", sim, users=20, horizon=3, seed=0)
    assert run_episode(other, 11, 3) == a
    users = {run_episode(env, s, 3)[0]["user_id"] for s in range(6)}
    assert len(users) > 1
    reasoning = um.Env(work_cli, "ml-100k", um.Simulator(tiny_model, mode="reasoning", repeats=1, max_tokens=8),
                       users=20, horizon=2, seed=0)
    assert run_episode(reasoning, 11, 2) == run_episode(reasoning, 11, 2)
    with pytest.raises(um.Error) as e:
        env.reset(seed=1)
        env.step(["no-such-item", "neither"])
    assert e.value.field == "page"


def interrupt_at_first_report(prefix):
    """A progress callback that, at the first report of a stage starting with ``prefix``, has another
    thread send SIGINT to this process (as Ctrl-C does): the signal arrives while the C++ call runs,
    whatever the machine's speed, because that call is at its start and takes seconds."""
    sent = threading.Event()

    def progress(stage, done, total):
        if stage.startswith(prefix) and not sent.is_set():
            sent.set()
            threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT)).start()
    return progress, sent


def test_ctrl_c_stops_a_simulator_batch(work_cli, tiny_model):
    with open(work_cli / "datasets/ml-100k_eval.jsonl", encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f]
    sim = um.Simulator(tiny_model, mode="direct")
    expected = sim.choose_batch(scenes[:4])
    before = sim.stats()["requests"]
    progress, sent = interrupt_at_first_report("simulator")
    many = scenes * 25  # 600 scenes: many seconds of work, of which the call does at most two chunks
    with pytest.raises(KeyboardInterrupt):
        sim.choose_batch(many, progress=progress)
    assert sent.is_set()
    assert sim.stats()["requests"] - before < len(many)
    # The simulator still works and gives the same answers.
    for g, e in zip(sim.choose_batch(scenes[:4]), expected):
        np.testing.assert_array_equal(g, e)


def test_ctrl_c_stops_scenes_without_leaving_a_file(tmp_root, cli):
    """Ctrl-C during scenes() on ml-1m: KeyboardInterrupt, the build stops (no output file, no
    temporary left); a rerun writes exactly the CLI's file."""
    ml1m = shared_path("data/ml-1m")
    work = tmp_root / "work-ml-1m"
    um.prepare("ml-1m", ml1m, work, progress=False)
    args = ("ml-1m", work, "train", 20000, 2, 12, 7)
    progress, sent = interrupt_at_first_report("scenes")
    with pytest.raises(KeyboardInterrupt):
        list(um.scenes(*args, all_users=True, progress=progress))
    assert sent.is_set()
    out = work / "datasets/ml-1m_train.jsonl"
    assert not out.exists()
    assert [p.name for p in (work / "datasets").iterdir()] == []
    records = list(um.scenes(*args, all_users=True, progress=False))
    cli("scenes", "--dataset", "ml-1m", "--work", work, "--split", "train", "--samples", 20000, "--min-exposure", 2,
        "--max-exposure", 12, "--seed", 7, "--all-users", "--output", work / "cli.jsonl")
    assert read_bytes(out) == read_bytes(work / "cli.jsonl")
    assert len(records) == len(read_bytes(out).splitlines())


def test_a_raising_progress_callback_cancels_the_call(work_py):
    class Stop(Exception):
        pass

    def progress(stage, done, total):
        raise Stop(stage)
    out = work_py / "datasets/cancelled.jsonl"
    with pytest.raises(Stop):
        um.scenes("ml-100k", work_py, "train", 20000, 2, 12, 1, all_users=True, output=out,
                  progress=progress).wait()
    assert not out.exists()


def test_ctrl_c_during_evaluate_then_rerun_resumes(work_cli, cli, tiny_model, tmp_root):
    """evaluate stops between request chunks (256 option prompts); the rerun resumes from the request
    store and writes exactly the files of an uninterrupted CLI run."""
    with open(work_cli / "datasets/ml-100k_eval.jsonl", encoding="utf-8") as f:
        lines = f.readlines()
    scenes_file = tmp_root / "many.jsonl"
    scenes_file.write_text("".join(lines * 12))  # 288 scenes: two chunks
    ref = tmp_root / "eval-many-cli"
    cli("evaluate", "--backend", tiny_model, "--work", work_cli, "--input", scenes_file, "--mode", "direct",
        "--out", ref, "--seed", 2, "--bootstrap", 10)
    out = tmp_root / "eval-many-py"
    kw = dict(inputs=[scenes_file], mode="direct", seed=2, bootstrap=10, out=out)
    progress, sent = interrupt_at_first_report("evaluate")
    with pytest.raises(KeyboardInterrupt):
        um.evaluate(tiny_model, work_cli, progress=progress, **kw)
    assert sent.is_set()
    um._core._wait_background()  # the interrupted work has stopped (at the end of its chunk)
    assert not (out / "report.json").exists() and not (out / "predictions.jsonl").exists()
    report = um.evaluate(tiny_model, work_cli, progress=False, **kw)
    for name in ("predictions.jsonl", "report.json"):
        assert read_bytes(out / name) == read_bytes(ref / name), name
    assert report["files"]["predictions"] == str(out / "predictions.jsonl")
