#!/usr/bin/python3
"""Per-call overhead of usermirror.Simulator.choose_batch over the C++ call it wraps, on the tiny model.

    PYTHONPATH=build/python bench/python_simulator.py BUILD_DIR SHARED_DIR [SCENES] [ROUNDS]

Makes the demo's tiny model (`usermirror model init`), prepares ml-100k, builds SCENES eval scenes
(default 64, 5 options), then alternates ROUNDS times (default 7): choose_batch(scenes) from Python
(dict -> scene text conversion, GIL release, worker thread, numpy arrays) and the same batch through
SimulatorCore._time_cpp (already converted scenes, the C++ call alone). Prints the medians and the
overhead in percent, in wall time and in the process's CPU time (all threads; far less disturbed by
other processes on a loaded machine than wall time), and the median of the paired per-round ratios.
Then the fixed cost per call, on 1-scene batches (40 paired rounds), and the time of the
dict -> scene conversion alone (the part of the overhead that grows with the batch).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import usermirror as um

build, shared = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 64
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 7
with tempfile.TemporaryDirectory(prefix="um-bench-py-") as tmp:
    model = os.path.join(tmp, "tiny")
    subprocess.run([os.path.join(build, "usermirror"), "model", "init", "--arch", "qwen3", "--layers", "2",
                    "--hidden", "64", "--heads", "4", "--kv-heads", "2", "--tie-embeddings", "--dtype", "f32",
                    "--tokenizer", os.path.join(shared, "tokenizers/qwen3"), "--out", model], check=True,
                   capture_output=True)
    work = os.path.join(tmp, "work")
    um.prepare("ml-100k", os.path.join(shared, "data/ml-100k"), work)
    scenes = list(um.scenes("ml-100k", work, "eval", n, 5, 5, 0, progress=False))
    sim = um.Simulator("local:" + model, mode="direct")
    sim.choose_batch(scenes)  # warm up (allocations, caches)
    py, cpp, py_cpu, cpp_cpu = [], [], [], []

    def timed(fn):
        w, c = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - w, time.process_time() - c

    for _ in range(rounds):
        w, c = timed(lambda: sim.choose_batch(scenes))
        py.append(w)
        py_cpu.append(c)
        w, c = timed(lambda: sim._core._time_cpp(scenes, 1))
        cpp.append(w)
        cpp_cpu.append(c)
    # Fixed cost of a call: 1-scene batches.
    one = scenes[:1]
    py1, cpp1 = [], []
    for _ in range(40):
        py1.append(timed(lambda: sim.choose_batch(one))[0])
        cpp1.append(timed(lambda: sim._core._time_cpp(one, 1))[0])
    # The Python-side work alone: dict -> scene text conversion of the batch, 100 times.
    t0 = time.perf_counter()
    for _ in range(100):
        for sc in scenes:
            um._core.scene_text(sc)
    convert = (time.perf_counter() - t0) / 100
    med = statistics.median
    mp, mc = med(py), med(cpp)
    print(f"scenes per call: {n}, rounds: {rounds}, load: {os.getloadavg()[0]:.2f}")
    print(f"choose_batch (Python): wall median {mp * 1000:.1f} ms (min {min(py) * 1000:.1f}), "
          f"CPU median {med(py_cpu) * 1000:.1f} ms")
    print(f"C++ call alone:        wall median {mc * 1000:.1f} ms (min {min(cpp) * 1000:.1f}), "
          f"CPU median {med(cpp_cpu) * 1000:.1f} ms")
    print(f"overhead, wall: {100 * (mp - mc) / mc:+.2f} % (medians), {100 * (min(py) - min(cpp)) / min(cpp):+.2f} % "
          f"(minima), {100 * (med([a / b for a, b in zip(py, cpp)]) - 1):+.2f} % (median of paired ratios)")
    print(f"overhead, CPU:  {100 * (med(py_cpu) - med(cpp_cpu)) / med(cpp_cpu):+.2f} % (medians), "
          f"{100 * (med([a / b for a, b in zip(py_cpu, cpp_cpu)]) - 1):+.2f} % (median of paired ratios)")
    d1 = med([a - b for a, b in zip(py1, cpp1)])
    print(f"fixed cost per call (1-scene batches, 40 pairs): Python {med(py1) * 1000:.2f} ms, C++ {med(cpp1) * 1000:.2f} ms, "
          f"median paired difference {d1 * 1000:+.2f} ms = {100 * d1 / mc:+.2f} % of the {n}-scene C++ call")
    print(f"dict -> scene conversion of the batch alone: {convert * 1000:.3f} ms ({100 * convert / mc:.3f} % of the C++ call)")
