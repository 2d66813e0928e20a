#pragma once
// python — the `usermirror` Python package (docs/python.md): a pybind11 extension `_usermirror` over
// the same components as the CLI (no second implementation), wrapped by the pure-Python layer in
// src/python/usermirror/.
//
//   import usermirror
//   usermirror.prepare("ml-100k", "/data/ml-100k", "work")
//   sim = usermirror.Simulator("local:work/models/tiny", mode="direct")
//   probs = sim.choose(next(iter(usermirror.scenes("ml-100k", "work", samples=8))))
//
// Conventions shared by the binding files:
// - Every long C++ call runs through run_interruptible(): the GIL is released, the call runs on a
//   worker thread with a util::CallControl bound to it (util/progress.h), and the calling thread
//   wakes every 50 ms with the GIL to check for signals and forward the bars' progress to the
//   Python callback (throttled to 10 calls a second plus each bar's final state). Ctrl-C (or an
//   exception raised by the callback) cancels the control: the C++ work throws util::Cancelled at
//   its next bar tick or check_cancelled() and unwinds (outputs are written atomically or
//   append-only, so nothing half-written looks complete); the call raises KeyboardInterrupt as soon
//   as the worker has stopped, or after 2 s, leaving a worker without a cancellation point (e.g.
//   prepare's parsing) to finish in the background; the interpreter waits for such workers at exit
//   (join_background()).
// - util::Error becomes usermirror.Error (util::NotSupported usermirror.NotSupported) with the
//   attributes message, file, line, field and record; util::Cancelled becomes KeyboardInterrupt.
// Thread safety: as the wrapped components; Simulator and Env objects are used by one thread at a time.
#include <pybind11/pybind11.h>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "text/prompt.h"
#include "util/progress.h"

namespace um::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_stages(py::module_& m);
void bind_simulator(py::module_& m);
void bind_arena(py::module_& m);
void bind_env(py::module_& m);

// Python values (dict, list, tuple, str, int, float, bool, None, numpy scalars) as JSON.
nlohmann::json to_json(py::handle h);

// Keeps a worker thread that outlived an interrupted call (`stopped` becomes ready when its work has
// ended), for wait_for_background() and join_background().
void adopt_background(std::thread t, std::shared_future<void> stopped);
// Joins every adopted worker (called at interpreter exit by the Python layer, GIL released).
void join_background();
// GIL held: waits (GIL released, Ctrl-C raising KeyboardInterrupt) until the workers of interrupted
// calls have stopped, so that a new call never runs beside one of them (e.g. appending to the same
// request store). Every long call starts with it.
void wait_for_background();

// Forwards the bars of a util::CallControl to a Python callable progress(stage, done, total).
// poll() runs with the GIL held: at most every 100 ms it calls `progress` once per bar updated since
// the previous call (latest state), and a bar's final state always; flush() forwards everything left.
// Exceptions of the callable propagate (they cancel the call).
class ProgressForwarder {
 public:
  ProgressForwarder(std::shared_ptr<util::CallControl> control, py::object progress);
  void poll() { forward(false); }
  void flush() { forward(true); }
  // Collects the reports without calling `progress` (they are forwarded by the next poll); true
  // once any bar has reported.
  bool absorb();

 private:
  void forward(bool all);
  std::shared_ptr<util::CallControl> control_;
  py::object progress_;
  std::map<uint64_t, util::CallControl::Report> held_;
  std::chrono::steady_clock::time_point last_;
  bool seen_ = false;
};

// Where a call's progress goes: `progress` a callable(stage, done, total) or None; `terminal`
// whether the C++ bars still draw on stderr.
struct CallProgress {
  py::object progress = py::none();
  bool terminal = true;
};

// Waits for `done` with the GIL released, up to `limit`, returning early on a signal; GIL held on
// entry and exit.
bool wait_stopped(const std::shared_future<void>& done, std::chrono::milliseconds limit);

// Runs fn() on a worker thread with the GIL released (see the conventions above). Must be called
// with the GIL held; fn must not touch Python objects except under py::gil_scoped_acquire.
template <class F>
auto run_interruptible(F fn, const CallProgress& where = {}) -> decltype(fn()) {
  using R = decltype(fn());
  wait_for_background();
  auto control = std::make_shared<util::CallControl>(where.terminal);
  auto task = std::make_shared<std::packaged_task<R()>>([fn = std::move(fn), control]() mutable {
    util::CallControl::Bind bind(control);
    return fn();
  });
  std::future<R> done = task->get_future();
  std::promise<void> stopped;
  std::shared_future<void> stopped_f = stopped.get_future().share();
  std::thread worker([task, stopped = std::move(stopped)]() mutable {
    (*task)();
    stopped.set_value();
  });
  ProgressForwarder forward(control, where.progress);
  std::exception_ptr raised;
  {
    py::gil_scoped_release release;
    while (stopped_f.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      py::gil_scoped_acquire acquire;
      try {
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        forward.poll();
      } catch (...) {
        raised = std::current_exception();
        break;
      }
    }
  }
  if (raised) {
    control->cancel();
    if (wait_stopped(stopped_f, std::chrono::milliseconds(2000)))
      worker.join();
    else
      adopt_background(std::move(worker), stopped_f);
    std::rethrow_exception(raised);
  }
  worker.join();
  forward.flush();
  return done.get();
}

// The simulated user behind Simulator and Env: a backend asked with the requests of
// backend/simulation_requests.h (the same requests evaluate, serve and the arena send).
struct SimulatorConfig {
  std::string spec;
  std::string mode = "direct";  // direct | reasoning
  std::string system_prompt;    // prompt text (resolved from a name or a file)
  int repeats = 3;              // reasoning mode: rationales per scene
  int max_tokens = 1024;
  double temperature = 1.0;
  double top_p = 0.8;
  uint64_t seed = 0;
};

class SimulatorCore {
 public:
  explicit SimulatorCore(SimulatorConfig config);
  const SimulatorConfig& config() const { return cfg_; }
  backend::Backend& backend() { return *be_; }
  // One distribution per scene, aligned; each sums to 1 over the scene's options. In reasoning mode
  // the mean over `repeats` rationales; scene i samples from stream (seed, "evaluate/reasoning", i)
  // exactly as `usermirror evaluate` does for its i-th scene. `done(n)` reports finished scenes
  // (from backend threads). Throws util::Error for a failed request. No GIL needed.
  // `first_record` shifts the streams (scene i uses first_record + i; the Env varies it per step).
  // Requests go to the backend in chunks (two in flight); between chunks util::check_cancelled()
  // lets a cancelled call stop (the results do not depend on the chunking).
  std::vector<std::vector<double>> choose(const std::vector<text::SceneText>& scenes,
                                          const std::function<void(size_t)>& done = {},
                                          uint64_t first_record = 0);

 private:
  SimulatorConfig cfg_;
  std::unique_ptr<backend::Backend> be_;
};

// A scene's text from a Python value: a dict with "text": {"profile", "action_list", "history"}
// (the scene files' schema, what usermirror.scenes() yields) or those three keys at the top level.
text::SceneText scene_text(py::handle scene);

}  // namespace um::python
