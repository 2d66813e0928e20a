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
//   worker thread and the calling thread polls PyErr_CheckSignals every 50 ms, so Ctrl-C raises
//   KeyboardInterrupt at once. The C++ work cannot be cancelled in the middle: the worker finishes in
//   the background (every output is written atomically and the stages resume from their stores), and
//   the interpreter waits for such workers at exit (join_background()).
// - util::Error becomes usermirror.Error (util::NotSupported usermirror.NotSupported) with the
//   attributes message, file, line, field and record.
// Thread safety: as the wrapped components; Simulator and Env objects are used by one thread at a time.
#include <pybind11/pybind11.h>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "text/prompt.h"

namespace um::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_stages(py::module_& m);
void bind_simulator(py::module_& m);
void bind_arena(py::module_& m);
void bind_env(py::module_& m);

// Python values (dict, list, tuple, str, int, float, bool, None, numpy scalars) as JSON.
nlohmann::json to_json(py::handle h);

// Keeps a worker thread that outlived an interrupted call, for join_background().
void adopt_background(std::thread t);
// Joins every adopted worker (called at interpreter exit by the Python layer, GIL released).
void join_background();

// Runs fn() on a worker thread with the GIL released, polling for Ctrl-C every 50 ms; `poll`, when
// given, runs with the GIL held at every poll and once at the end (progress reports; it may raise).
// Must be called with the GIL held; fn must not touch Python objects except under
// py::gil_scoped_acquire.
template <class F>
auto run_interruptible(F fn, const std::function<void()>& poll = {}) -> decltype(fn()) {
  using R = decltype(fn());
  auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
  std::future<R> done = task->get_future();
  std::thread worker([task] { (*task)(); });
  std::exception_ptr raised;
  {
    py::gil_scoped_release release;
    while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      py::gil_scoped_acquire acquire;
      try {
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (poll) poll();
      } catch (...) {
        raised = std::current_exception();
        break;
      }
    }
  }
  if (raised) {
    adopt_background(std::move(worker));
    std::rethrow_exception(raised);
  }
  worker.join();
  if (poll) poll();
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
