"""usermirror: LLM user simulators for recommender research, from Python.

The same C++ code as the ``usermirror`` command line (a pybind11 extension, ``_usermirror``), with
Python names: prepare a dataset, build scenes, ask a simulator for choice distributions, distil,
evaluate, put recommenders (built-in ones and your own Python objects) in the arena, or train a
policy in a Gymnasium-style environment.  See docs/python.md.

    import usermirror as um
    um.prepare("ml-100k", "/data/ml-100k", "work")
    scenes = um.scenes("ml-100k", "work", split="eval", samples=16)
    sim = um.Simulator("local:work/models/tiny", mode="direct")
    probs = sim.choose_batch(list(scenes))          # one numpy array per scene

Long calls release the GIL and run on a worker thread; Ctrl-C stops the C++ work at its next
progress tick and raises KeyboardInterrupt (outputs are written atomically or append-only, so nothing
half-written looks complete, and the LLM stages resume from their stores). ``progress=`` takes a
callable ``progress(stage, done, total)``, ``"tqdm"`` (tqdm bars when tqdm is installed), ``True``
(the CLI's bars on stderr) or ``False``. Errors of the C++ code are ``usermirror.Error`` with
``file``, ``line``, ``field`` and ``record``.
"""

import atexit as _atexit
import json as _json
import os as _os
import warnings as _warnings

from . import _usermirror as _core
from ._usermirror import Error, NotSupported  # noqa: F401

__all__ = [
    "Error", "NotSupported", "prepare", "scenes", "Scenes", "scene", "template_fields", "Simulator",
    "distil", "evaluate", "arena", "Env", "load_prompt",
]

# An installed package carries the system prompts (cmake --install --component python).
_prompts = _os.path.join(_os.path.dirname(__file__), "prompts")
if _os.path.isdir(_prompts) and not _os.environ.get("UM_PROMPTS_DIR"):
    _os.environ["UM_PROMPTS_DIR"] = _prompts

# Workers of interrupted calls finish before the interpreter goes away.
_atexit.register(_core._join_background)


def _path(p):
    return "" if p is None else _os.fspath(p)


class _TqdmProgress:
    """progress(stage, done, total) drawing one tqdm bar per stage; close() ends them."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bars = {}

    def __call__(self, stage, done, total):
        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = self._tqdm(total=total or None, desc=stage)
        if total and bar.total != total:
            bar.total = total
        if done > bar.n:
            bar.update(done - bar.n)

    def close(self):
        for bar in self._bars.values():
            bar.close()
        self._bars = {}


def _progress_target(progress, default_terminal=True):
    """(callable or None, terminal) for the C++ layer from a ``progress=`` argument.

    callable: progress(stage, done, total), throttled to ~10 calls a second plus each stage's final
    state; "tqdm": tqdm bars (the C++ bars on stderr when tqdm is not installed, with a warning);
    True: the CLI's bars on stderr (``default_terminal=False``: tqdm when installed, else nothing);
    False or None: nothing (None: the default of the call). UM_NO_PROGRESS=1 silences the stderr bars.
    """
    if progress is None:
        progress = default_terminal
    if progress is False:
        return None, False
    if progress == "tqdm" or (progress is True and not default_terminal):
        try:
            from tqdm import tqdm
        except ImportError:
            if progress == "tqdm":
                _warnings.warn("progress='tqdm' but tqdm is not installed: the bars go to stderr", stacklevel=3)
            return None, progress == "tqdm"
        return _TqdmProgress(tqdm), False
    if progress is True:
        return None, True
    if callable(progress):
        return progress, False
    raise TypeError(f"progress must be a callable(stage, done, total), 'tqdm', True or False, not {progress!r}")


def _close(target):
    if hasattr(target, "close"):
        target.close()


def load_prompt(name, prompts_dir=None):
    """The text of a system prompt by name (prompts/<name>.txt), as the CLI finds it."""
    return _core.load_prompt(name, _path(prompts_dir))


def prepare(dataset, raw, work, *, skip_bad=False, min_user_interactions=None, max_user_interactions=None,
            min_item_interactions=None, kcore=False, keep_latest_fraction=None, min_rating_number=None,
            max_rows=None, compat="usermirror", progress=None):
    """``usermirror prepare``: raw public dataset -> ``work/raws/<dataset>_*.jsonl``.

    Returns the counts as a dict (users, items, interactions, skipped, stats, output). ``progress``:
    see the module's docstring (stage "prepare <dataset>", 0/1 then 1/1). ``compat="reference"``: the
    reference's behaviour where usermirror deliberately differs (docs/reference-differences.md), as
    ``--compat reference``.
    """
    target, terminal = _progress_target(progress)
    try:
        return _core.prepare(dataset, _path(raw), _path(work), skip_bad, min_user_interactions,
                             max_user_interactions, min_item_interactions, kcore, keep_latest_fraction,
                             min_rating_number, max_rows, compat, target, terminal)
    finally:
        _close(target)


class Scenes:
    """The scenes of one ``usermirror.scenes`` call, streamed: the build runs in the background from
    the call on and writes the CLI's file; the first pass over the object yields each scene (a dict,
    the file's record) as soon as it is built, later passes read the finished file (``iter()``
    starts a fresh pass). ``len()``, ``report`` and ``to_pandas()`` wait for the build; ``path`` is
    the file, complete once the build has ended (``wait()`` waits and returns the report).
    Leaving the first pass before its end (``break``, ``next(iter(s))``, an exception, Ctrl-C) stops
    the build if it still runs: no file is written (call ``wait()`` first to have the whole file). Never iterating
    lets the build finish in the background."""

    def __init__(self, stream, path, target):
        self._stream = stream
        self._target = target
        self._report = None
        self._streamed = False
        self.path = path

    def wait(self):
        """Waits for the build (Ctrl-C cancels it) and returns the report (counts, output)."""
        if self._report is None:
            try:
                self._report = self._stream.wait()
            finally:
                _close(self._target)
        return self._report

    @property
    def report(self):
        return self.wait()

    def __len__(self):
        return self.wait()["written"]

    def __iter__(self):
        if self._streamed or self._report is not None:
            return self._read(0)
        self._streamed = True
        return self._stream_pass()

    def _stream_pass(self):
        loads = _json.loads
        st = self._stream
        st.attach()
        try:
            while True:
                got = st.next_lines()
                if got is None:
                    break
                if isinstance(got, int):  # the lines from this offset on were only written to the file
                    yield from self._read(got)
                    break
                for line in got:
                    yield loads(line)
        except BaseException:
            # Left early (break, next(iter(...)), an exception, Ctrl-C): the build is stopped.
            st.cancel()
            raise
        finally:
            st.detach()
        self.wait()

    def _read(self, offset):
        self.wait()
        loads = _json.loads
        with open(self.path, "rb") as f:
            f.seek(offset)
            for line in f:
                yield loads(line)

    def __next__(self):
        """next(scenes) walks one shared pass (iter() starts a fresh one each time)."""
        if getattr(self, "_pass", None) is None:
            self._pass = iter(self)
        return next(self._pass)

    def to_list(self):
        return list(self)

    def to_pandas(self):
        """A DataFrame with one row per scene (needs pandas); ``text`` stays a dict per row."""
        import pandas as pd
        return pd.DataFrame.from_records(list(self))

    def __repr__(self):
        state = f"{len(self)} scenes" if self._stream.finished else "building"
        return f"Scenes({state} in {self.path!r})"


def scenes(dataset, work, split="eval", samples=None, min_exposure=None, max_exposure=None, seed=0, *,
           threads=0, scorers=None, output=None, all_users=False, with_impressions=False, impressions="auto",
           compat="usermirror", progress=True):
    """``usermirror scenes``: builds the scenes and writes the CLI's file
    (``work/datasets/<dataset>_<split>.jsonl`` unless ``output``); returns a ``Scenes`` that streams
    the records as dicts while they are built.

    Defaults are the CLI's: eval 256 scenes of 5 options, train 1024 scenes of 2-12 options. Returns
    once the dataset is loaded (errors of the inputs are raised here). ``progress``: see the module's
    docstring (stage "scenes <dataset> <split>", in scenes).
    """
    target, terminal = _progress_target(progress)
    path = _path(output) or _os.path.join(_path(work), "datasets", f"{dataset}_{split}.jsonl")
    stream = _core.SceneStream(dataset, _path(work), split, samples, min_exposure, max_exposure, seed, threads,
                               list(scorers or []), _path(output), all_users, with_impressions, impressions, compat,
                               target, terminal)
    stream.wait_started()  # errors of the inputs are raised here
    return Scenes(stream, path, target)


def scene(dataset, profile, history, items):
    """A scene from plain Python values rendered with ``dataset``'s templates (scene/strategy.h).

    ``profile``: dict of profile fields; ``history``: list of dicts (one per past interaction, oldest
    first); ``items``: list of dicts (the exposure, in display order). Each dict must hold every field
    its template names (``template_fields(dataset)``), derived ones included (e.g. MovieLens
    ``new_release``, ``time_diff``, ``rating``); a missing one raises ``usermirror.Error`` naming it.
    """
    return _core.render_scene(dataset, profile, list(history), list(items))


def template_fields(dataset):
    """The fields each of ``dataset``'s templates names: {"profile": [...], "history": [...], "items": [...]}."""
    return _core.template_fields(dataset)


class Simulator:
    """A simulated user: a backend (``local:DIR``, ``openai:URL?model=...``) asked for the choice
    distribution over a scene's options.

    mode="direct": the distribution of the option letter after "Behavior: [";
    mode="reasoning": ``repeats`` rationales continued from "Thought:\\nStimulus:", each re-closed with
    "Behavior: [" and scored, the distributions averaged. These are the requests ``usermirror evaluate``,
    ``serve`` and ``arena`` send; scene i of a batch samples its rationales from the stream
    ``usermirror evaluate --seed`` uses for its i-th scene.
    """

    def __init__(self, backend_spec, mode="direct", *, prompt=None, prompts_dir=None, repeats=3, max_tokens=1024,
                 temperature=1.0, top_p=0.8, seed=0):
        self.prompt = prompt or ""
        self.prompts_dir = _path(prompts_dir)
        self.repeats, self.max_tokens, self.temperature, self.top_p, self.seed = (
            repeats, max_tokens, temperature, top_p, seed)
        self._core = _core.SimulatorCore(backend_spec, mode, self.prompt, self.prompts_dir, repeats, max_tokens,
                                         temperature, top_p, seed)

    spec = property(lambda self: self._core.spec)
    mode = property(lambda self: self._core.mode)
    system_prompt = property(lambda self: self._core.system_prompt)

    def choose(self, scene):
        """The choice distribution of one scene (numpy array over its options, sums to 1)."""
        return self.choose_batch([scene])[0]

    def choose_batch(self, scenes, progress=None):
        """One numpy array per scene. Scenes are dicts with ``text`` {profile, action_list, history}
        (what ``scenes()`` yields, or ``scene()`` builds) or those keys at the top level; a DataFrame
        row works too. ``progress``: callable(stage, done, total) (stage "simulator", finished
        scenes), "tqdm" or True for a tqdm bar when tqdm is installed, None/False for nothing."""
        if hasattr(scenes, "to_dict") and hasattr(scenes, "iterrows"):  # a DataFrame
            scenes = scenes.to_dict("records")
        if not isinstance(scenes, list):
            scenes = list(scenes)
        target, _ = _progress_target(progress, default_terminal=False)
        try:
            return self._core.choose_batch(scenes, target)
        finally:
            _close(target)

    def stats(self):
        return self._core.stats()

    def __repr__(self):
        return f"Simulator({self.spec!r}, mode={self.mode!r})"


def distil(work, datasets, name="UserMirrorer", *, select=10000, filter_column="diff_model_uncertainty",
           sampling_column="entropy", ascending=False, seed=0, allocation=None, system_prompt=None,
           prompts_dir=None, threads=0, compat="usermirror", progress=True):
    """``usermirror distil``: preference pairs and an SFT file from train scenes and the teacher/student
    probs files. Returns the report as a dict (counts, groups, output files). ``allocation``:
    "proportional" or "reference"; None = the compat default (proportional, or reference with
    ``compat="reference"``)."""
    if isinstance(datasets, str):
        datasets = datasets.split(",")
    target, terminal = _progress_target(progress)
    try:
        return _core.distil(_path(work), list(datasets), name, select, filter_column, sampling_column, ascending,
                            seed, allocation, _path(system_prompt), _path(prompts_dir), threads, compat, target,
                            terminal)
    finally:
        _close(target)


def evaluate(backend, work, *, datasets=None, inputs=None, mode="reasoning", prompt=None, prompts_dir=None,
             repeats=3, max_tokens=1024, seed=0, bootstrap=1000, out=None, max_failures=0, compat="usermirror",
             progress=True):
    """``usermirror evaluate``: the simulator's accuracy and calibration on eval scenes. ``backend`` is a
    spec or a ``Simulator`` (its spec is used). Returns report.json as a dict, with the written files
    under ``"files"``."""
    if isinstance(backend, Simulator):
        backend = backend.spec
    if isinstance(datasets, str):
        datasets = datasets.split(",")
    files = [_path(p) for p in (inputs or [])]
    files += [_os.path.join(_path(work), "datasets", f"{d}_eval.jsonl") for d in (datasets or [])]
    target, terminal = _progress_target(progress)
    try:
        r = _core.evaluate(backend, _path(work), files, mode, prompt or "", _path(prompts_dir), repeats, max_tokens,
                           seed, bootstrap, _path(out), max_failures, compat, target, terminal)
    finally:
        _close(target)
    with open(r["report_json"], encoding="utf-8") as f:
        report = _json.load(f)
    report["files"] = {k: str(r[k]) for k in ("predictions", "report_json", "report_md")}
    return report


def _recommender_name(obj):
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name:
        return name
    return type(obj).__name__


def arena(work, dataset, recommenders, simulator, *, mode="direct", protocol="interleave", users=200, page_size=5,
          history=0, rounds=3, offline_k=10, split="global-time:0.9", name=None, seed=0, threads=0, prompt=None,
          prompts_dir=None, repeats=3, max_tokens=1024, temperature=1.0, top_p=0.8, max_failures=0, controls=None,
          order="grouped", bootstrap=1000, figures=True, progress=True, summary=None):
    """``usermirror arena``: recommenders judged by simulated users. Returns report.json as a dict, with
    the run's files and numbers under ``"result"``.

    ``recommenders``: spec strings (``"pop"``, ``"ease?lambda=500"``, ``"file:PATH"``, ...) and/or Python
    objects with ``recommend(user_id, history, k) -> list of item ids`` (history: the user's item ids,
    oldest first; return None to skip the user). An object's name in the report is its ``name``
    attribute, else its class name. Its lists are filtered as a ``file:`` recommender's (unknown ids,
    history items and duplicates dropped and counted, cut to k).
    ``simulator``: a backend spec, ``baseline:uniform|position|popularity|collaborative``, or a
    ``Simulator`` (its backend, mode and prompt are used; nothing is loaded again).
    """
    names, objects = [], {}
    for r in recommenders:
        if isinstance(r, str):
            names.append(r)
        else:
            if not callable(getattr(r, "recommend", None)):
                raise TypeError(f"recommender {r!r} has no recommend(user_id, history, k) method")
            n = _recommender_name(r)
            names.append(n)
            objects[n] = r
    core_sim = None
    if isinstance(simulator, Simulator):
        core_sim = simulator._core
        mode, prompt = simulator.mode, prompt or simulator.prompt
        prompts_dir = prompts_dir or simulator.prompts_dir
        repeats, max_tokens = simulator.repeats, simulator.max_tokens
        temperature, top_p = simulator.temperature, simulator.top_p
        simulator = simulator.spec
    target, terminal = _progress_target(progress)
    options = dict(work=_path(work), dataset=dataset, recommenders=names, simulator=simulator, mode=mode,
                   protocol=protocol, users=users, page_size=page_size, history=history, rounds=rounds,
                   offline_k=offline_k, split=split, name=name or "", seed=seed, threads=threads, prompt=prompt or "",
                   prompts_dir=_path(prompts_dir), repeats=repeats, max_tokens=max_tokens, temperature=temperature,
                   top_p=top_p, max_failures=max_failures, controls=None if controls is None else list(controls),
                   order=order, bootstrap=bootstrap, figures=figures,
                   progress=True)  # the bars exist for the call's control (progress, Ctrl-C); it decides if they draw
    if summary is None:
        summary = progress is True and _os.environ.get("UM_NO_PROGRESS", "0") != "1"
    try:
        r = _core.run_arena(options, objects, core_sim, bool(summary), target, terminal)
    finally:
        _close(target)
    with open(r["report_json"], encoding="utf-8") as f:
        report = _json.load(f)
    report["result"] = {k: (str(v) if isinstance(v, _os.PathLike) else v) for k, v in r.items()}
    return report


class Env:
    """A Gymnasium-style environment (``reset``/``step``, Gymnasium's return shapes; Gymnasium itself is
    not needed) in which a policy shows pages of item ids to the simulated test users of a prepared
    dataset.

    Users, histories and "now" come from the arena's split (``split``, ``users`` sampled test users);
    pages are rendered with the dataset's templates as the arena renders them, and ``simulator``
    answers. ``reset(seed)`` picks a user; ``step(page)`` asks the simulator for its choice
    distribution q over the page, samples the choice (seeded), appends it to the user's history and
    returns ``(obs, reward, terminated, truncated, info)``:

    - reward="probability" (default): sum of q over the page's items that are among the user's held-out
      (test) items, the page's expected hit; reward="choice": 1.0 if the sampled choice is held out.
    - terminated is always False; truncated is True after ``horizon`` steps.
    - obs: {"user_id", "history" (item ids, oldest first, the session's choices last), "step", "time_us"};
      info: {"probs", "choice", "choice_index", "hits", "hit_probability", "scene"}.

    Same seed and same policy -> identical episodes (in reasoning mode a step's rationales are sampled
    from a stream keyed by the user, the step and the page).
    """

    metadata = {"render_modes": []}

    def __init__(self, work, dataset, simulator, *, split="global-time:0.9", users=0, horizon=10,
                 reward="probability", seed=0):
        if not isinstance(simulator, Simulator):
            simulator = Simulator(simulator)
        self.simulator = simulator
        self.horizon = horizon
        self._core = _core.EnvCore(_path(work), dataset, simulator._core, split, users, horizon, reward, seed)

    def reset(self, seed=None, options=None):
        """Starts an episode; returns (obs, info)."""
        obs = self._core.reset(seed)
        return obs, {}

    def step(self, page):
        return self._core.step(list(page))

    @property
    def item_ids(self):
        """Every item id of the dataset."""
        return self._core.item_ids

    @property
    def train_item_ids(self):
        """Items with a train interaction (what the arena's recommenders rank)."""
        return self._core.train_item_ids

    @property
    def user_ids(self):
        """The test users episodes are drawn from."""
        return self._core.user_ids

    def close(self):
        pass
