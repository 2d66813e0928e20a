#!/usr/bin/python3
"""usermirror.scenes() streaming 10k ml-1m scenes into Python dicts vs the CLI writing the same file.

    PYTHONPATH=build/python bench/python_scenes.py BUILD_DIR SHARED_DIR [SAMPLES] [ROUNDS]

Prepares ml-1m once, then alternates ROUNDS times (default 3): `usermirror scenes --split train
--samples SAMPLES` (default 10000) as a process, and list(usermirror.scenes(...)) with the same
arguments (the same file is written while every record is streamed into Python as a dict). Prints
the medians, the ratio (wall time, and CPU time of all threads, which the machine's load disturbs
far less), and when the first dict reached Python (the build's load and setup come
first; then records arrive chunk by chunk while later chunks are built).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import usermirror as um

build, shared = sys.argv[1], sys.argv[2]
samples = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
with tempfile.TemporaryDirectory(prefix="um-bench-scenes-") as tmp:
    um.prepare("ml-1m", os.path.join(shared, "data/ml-1m"), tmp)
    cli_s, py_s, first, cli_cpu, py_cpu = [], [], [], [], []

    def children_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    env = dict(os.environ, UM_NO_PROGRESS="1")
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), children_cpu()
        subprocess.run([os.path.join(build, "usermirror"), "scenes", "--dataset", "ml-1m", "--work", tmp, "--split",
                        "train", "--samples", str(samples), "--seed", "0", "--all-users"], check=True,
                       capture_output=True, env=env)
        cli_s.append(time.perf_counter() - t0)
        cli_cpu.append(children_cpu() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        records = []
        for r in um.scenes("ml-1m", tmp, "train", samples, seed=0, all_users=True, progress=False):
            if not records:
                first.append(time.perf_counter() - t0)
            records.append(r)
        py_s.append(time.perf_counter() - t0)
        py_cpu.append(time.process_time() - c0)
        assert len(records) > 0.9 * samples
    mc, mp = statistics.median(cli_s), statistics.median(py_s)
    print(f"scenes: {len(records)}, rounds: {rounds}, load: {os.getloadavg()[0]:.2f}")
    print(f"CLI writing the file:        median {mc:.2f} s  {sorted(round(x, 2) for x in cli_s)}")
    print(f"Python streaming the dicts:  median {mp:.2f} s  {sorted(round(x, 2) for x in py_s)}")
    print(f"first dict in Python after:  median {statistics.median(first):.2f} s  {sorted(round(x, 2) for x in first)}")
    print(f"ratio Python / CLI: {mp / mc:.2f} (wall), "
          f"{statistics.median(py_cpu) / statistics.median(cli_cpu):.2f} (CPU time, all threads: "
          f"{statistics.median(py_cpu):.2f} s vs {statistics.median(cli_cpu):.2f} s)")
