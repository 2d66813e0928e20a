// prepare, scenes, distil, evaluate and scene rendering from plain Python values: the same
// functions the CLI commands call (cli/cmd_prepare.cpp, cmd_scenes.cpp, cmd_distil.cpp,
// cmd_stages.cpp), with the same defaults.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "data/data.h"
#include "distil/distil.h"
#include "pipeline/evaluate_stage.h"
#include "python/python.h"
#include "scene/scene.h"
#include "text/prompt_store.h"
#include "util/error.h"
#include "util/progress.h"

namespace um::python {

namespace fs = std::filesystem;

namespace {

py::dict counts(const std::map<std::string, uint64_t>& m) {
  py::dict d;
  for (const auto& [k, v] : m) d[py::str(k)] = v;
  return d;
}

py::dict prepare(const std::string& dataset, const fs::path& raw, const fs::path& work, bool skip_bad,
                 std::optional<int64_t> min_user, std::optional<int64_t> max_user,
                 std::optional<int64_t> min_item, bool kcore, std::optional<double> keep_latest,
                 std::optional<int64_t> min_rating_number, std::optional<int64_t> max_rows,
                 const std::string& compat, py::object progress, bool terminal) {
  data::PrepareOptions o;
  o.compat = data::parse_compat(compat);
  o.dataset = dataset;
  o.raw_dir = raw;
  o.work_dir = work;
  o.skip_bad = skip_bad;
  o.filters.min_user_interactions = min_user;
  o.filters.max_user_interactions = max_user;
  o.filters.min_item_interactions = min_item;
  o.filters.kcore = kcore;
  o.filters.keep_latest_fraction = keep_latest;
  o.filters.min_rating_number = min_rating_number;
  o.filters.max_rows = max_rows;
  // data::prepare has no bar: its start and end are reported as one step of stage "prepare <DS>".
  data::PrepareResult r = run_interruptible(
      [o] {
        const auto& control = util::CallControl::current();
        const std::string label = "prepare " + o.dataset;
        const uint64_t bar = control ? control->new_bar() : 0;
        if (control) control->update(bar, label, 0, 1, false);
        data::PrepareResult res = data::prepare(o);
        if (control) control->update(bar, label, 1, 1, true);
        return res;
      },
      {.progress = progress, .terminal = terminal});
  py::dict d;
  d["users"] = r.users;
  d["items"] = r.items;
  d["interactions"] = r.interactions;
  d["skipped"] = counts(r.skipped);
  d["stats"] = counts(r.stats);
  d["output"] = (work / "raws").string() + "/" + dataset + "_*.jsonl";
  return d;
}

scene::ScenesOptions scenes_options(const std::string& dataset, const fs::path& work,
                                    const std::string& split, std::optional<int64_t> samples,
                                    std::optional<int> min_exposure, std::optional<int> max_exposure,
                                    uint64_t seed, unsigned threads, const std::vector<std::string>& scorers,
                                    const fs::path& output, bool all_users, bool with_impressions,
                                    const std::string& impressions, const std::string& compat) {
  scene::ScenesOptions o;
  o.compat = data::parse_compat(compat);
  o.dataset = dataset;
  o.work = work;
  o.split = split;
  const bool eval = split == "eval";
  o.samples = static_cast<size_t>(samples.value_or(eval ? 256 : 1024));
  o.shape.min_options = min_exposure.value_or(eval ? 5 : 2);
  o.shape.max_options = max_exposure.value_or(eval ? 5 : 12);
  o.seed = seed;
  o.threads = threads;
  o.scorers = scorers;
  o.output = output;
  o.use_eval_users = !all_users;
  o.with_impressions = with_impressions;
  if (impressions == "real")
    o.impressions = scene::ImpressionMode::Real;
  else if (impressions == "sampled")
    o.impressions = scene::ImpressionMode::Sampled;
  else if (impressions == "auto")
    o.impressions = scene::ImpressionMode::Auto;
  else
    throw util::Error("impressions must be auto, real or sampled, got '" + impressions + "'",
                      {.field = "impressions"});
  o.progress = true;  // the bar exists for the CallControl; whether it draws is the control's choice
  return o;
}

py::dict scenes_report(const scene::ScenesReport& r) {
  py::dict d;
  d["output"] = r.output;
  d["interactions"] = r.interactions;
  d["candidates"] = r.candidates;
  d["sampled"] = r.sampled;
  d["written"] = r.written;
  d["eval_users"] = r.eval_users;
  d["skips"] = counts(r.skips);
  d["scorers"] = r.scorers;
  d["real_impressions"] = r.real_impressions;
  d["seconds"] = r.load_seconds + r.setup_seconds + r.build_seconds;
  return d;
}

// One `usermirror scenes` run streamed to Python (usermirror.Scenes). The build starts at once on a
// worker thread (GIL released) and writes the CLI's file as the CLI does (scene::run_scenes); every
// line written is also queued for the consumer:
// - while a consumer iterates (attach()), the queue holds at most kQueueLines lines and the build
//   waits for the consumer when it is full (bounded memory, scenes reach Python as they are built);
// - otherwise the first kQueueLines lines are kept and the rest are only written; the consumer
//   then gets the kept lines and the byte offset of the first line not kept, to read the rest from
//   the finished file. So never iterating never blocks the build.
// wait_started(), next_lines() and wait() release the GIL, forward progress and turn Ctrl-C into a
// cancellation: the build stops at its next line (util::Cancelled), the temporary file is removed,
// and KeyboardInterrupt is raised; cancel() does the same for a consumer that stops early.
class SceneStream {
 public:
  static constexpr size_t kQueueLines = 8192;
  static constexpr size_t kWakeLines = 256;

  SceneStream(scene::ScenesOptions o, py::object progress, bool terminal)
      : control_(std::make_shared<util::CallControl>(terminal)),
        state_(std::make_shared<State>()),
        forward_(control_, std::move(progress)) {
    o.on_line = [st = state_, control = control_](std::string_view line) {
      std::unique_lock lock(st->mu);
      if (!st->dropping) {
        st->cv.wait(lock,
                    [&] { return !st->attached || st->lines.size() < kQueueLines || control->cancelled(); });
        if (st->lines.size() >= kQueueLines) {
          st->dropping = true;
          st->drop_offset = st->bytes;
        } else {
          st->lines.emplace_back(line);
          // The consumer is woken by batches (or takes what is there after its 50 ms wait), not
          // once per line: far fewer round trips into Python.
          if (st->lines.size() == kWakeLines) st->cv.notify_all();
        }
      }
      st->bytes += line.size();
      if (control->cancelled()) throw util::Cancelled();
    };
    wait_for_background();
    std::promise<void> stopped;
    stopped_ = stopped.get_future().share();
    worker_ = std::thread(
        [st = state_, control = control_, o = std::move(o), stopped = std::move(stopped)]() mutable {
          util::CallControl::Bind bind(control);
          std::optional<scene::ScenesReport> report;
          std::exception_ptr error;
          try {
            report = scene::run_scenes(o);
          } catch (...) {
            error = std::current_exception();
          }
          {
            std::lock_guard lock(st->mu);
            st->report = std::move(report);
            st->error = error;
            st->finished = true;
          }
          st->cv.notify_all();
          stopped.set_value();
        });
  }

  ~SceneStream() {
    detach();
    if (stopped_.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      worker_.join();
    else
      adopt_background(std::move(worker_), stopped_);  // finishes writing the file
  }
  SceneStream(const SceneStream&) = delete;
  SceneStream& operator=(const SceneStream&) = delete;

  // The consumer starts iterating: the build waits for it when the queue is full.
  void attach() {
    std::lock_guard lock(state_->mu);
    state_->attached = true;
  }
  // The consumer stopped (or waits for the end): nothing more is queued, the lines not yet taken are
  // dropped, and the consumer continues from the file at the first of them (the file is still
  // written in full).
  void detach() {
    {
      std::lock_guard lock(state_->mu);
      state_->attached = false;
      state_->dropping = true;
      state_->drop_offset = state_->taken_bytes;
      state_->lines.clear();
    }
    state_->cv.notify_all();
  }

  // Waits until the build has loaded the dataset and started building (its bar reported), or has
  // ended; raises the build's error (a missing or bad input is raised by usermirror.scenes() itself).
  void wait_started() {
    for (;;) {
      if (forward_.absorb()) return;
      {
        py::gil_scoped_release release;
        if (stopped_.wait_for(std::chrono::milliseconds(20)) == std::future_status::ready) break;
      }
      check_signals(false);
    }
    rethrow();
  }

  // Stops the build (the consumer left the first pass early: break, an exception, Ctrl-C): no file
  // is written. Waits up to 2 s for it to stop (it stops at its next line).
  void cancel() {
    {
      std::lock_guard lock(state_->mu);
      if (state_->finished) return;
      control_->cancel();
    }
    state_->cv.notify_all();
    wait_stopped(stopped_, std::chrono::milliseconds(2000));
  }

  // The next queued lines (a non-empty list of bytes); at the end, the byte offset (int) from which
  // the finished file holds lines that were not queued, or None when every line was delivered.
  py::object next_lines() {
    std::deque<std::string> got;
    // While lines flow, signals and progress are still looked at every 100 ms.
    if (std::chrono::steady_clock::now() - last_check_ >= std::chrono::milliseconds(100)) check_signals();
    for (;;) {
      bool finished = false;
      {
        py::gil_scoped_release release;
        std::unique_lock lock(state_->mu);
        state_->cv.wait_for(lock, std::chrono::milliseconds(50),
                            [&] { return state_->lines.size() >= kWakeLines || state_->finished; });
        got.swap(state_->lines);
        for (const auto& line : got) state_->taken_bytes += line.size();
        finished = state_->finished;
        if (!got.empty()) state_->cv.notify_all();  // room in the queue again
      }
      if (!got.empty()) {
        py::list out(got.size());
        size_t i = 0;
        for (auto& line : got) out[i++] = py::bytes(line);
        return out;
      }
      if (finished) {
        forward_.flush();
        rethrow();
        std::lock_guard lock(state_->mu);
        if (state_->delivered) return py::none();
        state_->delivered = true;
        if (state_->dropping) return py::int_(state_->drop_offset);
        return py::none();
      }
      check_signals();
    }
  }

  // Waits for the end of the build (the file is complete) and returns its report as a dict.
  py::dict wait() {
    detach();  // a consumer iterating in the same thread must not keep the build waiting
    for (;;) {
      {
        py::gil_scoped_release release;
        if (stopped_.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) break;
      }
      check_signals();
    }
    forward_.flush();
    rethrow();
    std::lock_guard lock(state_->mu);
    return scenes_report(*state_->report);
  }

  bool finished() {
    std::lock_guard lock(state_->mu);
    return state_->finished;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> lines;
    bool attached = false;
    bool dropping = false;
    bool delivered = false;
    uint64_t drop_offset = 0;  // the file holds the lines from here on that were not queued
    uint64_t taken_bytes = 0;  // bytes of the lines handed to the consumer (they start the file)
    uint64_t bytes = 0;        // bytes written
    bool finished = false;
    std::exception_ptr error;
    std::optional<scene::ScenesReport> report;
  };

  void rethrow() {
    std::exception_ptr e;
    {
      std::lock_guard lock(state_->mu);
      e = state_->error;
    }
    if (e) std::rethrow_exception(e);
  }

  // GIL held: forwards progress; on Ctrl-C (or an exception of the progress callback) cancels the
  // build, waits up to 2 s for it to stop and raises.
  void check_signals(bool forward = true) {
    last_check_ = std::chrono::steady_clock::now();
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (forward) forward_.poll();
    } catch (...) {
      {
        std::lock_guard lock(state_->mu);  // the build may be between its wait's test and its sleep
        control_->cancel();
      }
      state_->cv.notify_all();
      wait_stopped(stopped_, std::chrono::milliseconds(2000));
      throw;
    }
  }

  std::shared_ptr<util::CallControl> control_;
  std::shared_ptr<State> state_;
  ProgressForwarder forward_;
  std::shared_future<void> stopped_;
  std::thread worker_;
  std::chrono::steady_clock::time_point last_check_;
};

py::dict distil(const fs::path& work, const std::vector<std::string>& datasets, const std::string& name,
                int64_t select, const std::string& filter_column, const std::string& sampling_column,
                bool ascending, uint64_t seed, const std::optional<std::string>& allocation,
                const fs::path& system_prompt, const fs::path& prompts_dir, unsigned threads,
                const std::string& compat, py::object progress, bool terminal) {
  distil::DistilOptions o;
  o.compat = data::parse_compat(compat);
  o.work_dir = work;
  o.datasets = datasets;
  o.name = name;
  o.select = select;
  o.filter_column = filter_column;
  o.sampling_column = sampling_column;
  o.ascending = ascending;
  o.seed = seed;
  if (!allocation) {
    // unset: the compat default
  } else if (*allocation == "reference") {
    o.allocation = distil::Allocation::reference;
  } else if (*allocation == "proportional") {
    o.allocation = distil::Allocation::proportional;
  } else {
    throw util::Error("allocation must be proportional or reference, got '" + *allocation + "'",
                      {.field = "allocation"});
  }
  o.system_prompt_file = system_prompt;
  if (!prompts_dir.empty()) o.prompts_dir = prompts_dir;
  o.threads = threads;
  o.progress = true;  // the bars exist for the CallControl; whether they draw is the control's choice
  distil::DistilResult r =
      run_interruptible([o] { return distil::run_distil(o); }, {.progress = progress, .terminal = terminal});
  py::dict d;
  d["scenes"] = r.scenes;
  d["dropped"] = r.dropped;
  d["candidates"] = r.candidates;
  d["pairs"] = r.pairs;
  d["rejected_from_weak"] = r.rejected_from_weak;
  py::list groups;
  for (const auto& g : r.groups) {
    py::dict x;
    x["dataset"] = g.dataset;
    x["choice_cnt"] = g.choice_cnt;
    x["scenes"] = g.scenes;
    x["taken"] = g.taken;
    groups.append(x);
  }
  d["groups"] = groups;
  d["pref_file"] = r.pref_file;
  d["sft_file"] = r.sft_file;
  d["metrics_file"] = r.metrics_file;
  return d;
}

// Returns the paths; the Python layer reads report.json into a dict.
py::dict evaluate(const std::string& backend_spec, const fs::path& work, const std::vector<fs::path>& inputs,
                  const std::string& mode, const std::string& prompt, const fs::path& prompts_dir,
                  int repeats, int max_tokens, uint64_t seed, int64_t bootstrap, const fs::path& out,
                  int64_t max_failures, const std::string& compat, py::object progress, bool terminal) {
  pipeline::EvaluateOptions o;
  o.compat = data::parse_compat(compat);
  o.work = work;
  o.inputs = inputs;
  if (o.inputs.empty()) throw util::Error("give inputs (scene files) or datasets", {.field = "input"});
  o.mode = mode;
  std::optional<fs::path> dir;
  if (!prompts_dir.empty()) dir = prompts_dir;
  o.system_prompt =
      text::load_prompt(prompt.empty() ? (mode == "direct" ? "direct-v1" : "reasoning-v1") : prompt, dir);
  o.repeats = repeats;
  o.max_tokens = max_tokens;
  o.seed = seed;
  o.bootstrap = bootstrap;
  o.budget.max_failures = max_failures;
  o.out_dir = out.empty() ? work / "eval" / mode : out;
  pipeline::EvaluateResult r = run_interruptible(
      [o, backend_spec] {
        auto be = backend::make_backend(backend_spec);
        return pipeline::run_evaluate(*be, o);
      },
      {.progress = progress, .terminal = terminal});
  py::dict d;
  d["scenes"] = r.scenes;
  d["expected_hit_rate"] = r.expected_hit_rate;
  d["predictions"] = r.predictions;
  d["report_json"] = r.report_json;
  d["report_md"] = r.report_md;
  d["figures"] = r.figures;
  return d;
}

// Renders one entity with a template; the dict is the base of the fields (docs: scene/template.h).
std::string render(const scene::Template& t, py::handle values, const char* what) {
  if (!py::isinstance<py::dict>(values))
    throw util::Error(std::string(what) + " must be a dict of template fields", {.field = what});
  nlohmann::json base = to_json(values);
  scene::Fields f(&base);
  return t.render(f);
}

// A scene from plain values rendered with the dataset's templates.
py::dict render_scene(const std::string& dataset, py::handle profile, py::handle history, py::handle items) {
  auto strategy = scene::make_strategy(dataset);
  text::SceneText t;
  t.profile = render(strategy->profile_template(), profile, "profile");
  size_t i = 0;
  for (auto h : history) {
    if (i++) t.history.push_back('\n');
    t.history += render(strategy->history_template(), h, "history");
  }
  for (auto it : items) t.action_list.push_back(render(strategy->item_template(), it, "items"));
  if (t.action_list.size() < 2) throw util::Error("a scene needs at least 2 items", {.field = "items"});
  py::dict text;
  text["profile"] = t.profile;
  text["action_list"] = t.action_list;
  text["history"] = t.history;
  py::dict d;
  d["text"] = text;
  d["dataset"] = dataset;
  d["choice_cnt"] = t.action_list.size();
  return d;
}

py::dict template_fields(const std::string& dataset) {
  auto s = scene::make_strategy(dataset);
  py::dict d;
  d["profile"] = s->profile_template().keys();
  d["history"] = s->history_template().keys();
  d["items"] = s->item_template().keys();
  return d;
}

}  // namespace

void bind_stages(py::module_& m) {
  using namespace py::literals;
  m.def("prepare", &prepare, "dataset"_a, "raw"_a, "work"_a, "skip_bad"_a = false,
        "min_user_interactions"_a = py::none(), "max_user_interactions"_a = py::none(),
        "min_item_interactions"_a = py::none(), "kcore"_a = false, "keep_latest_fraction"_a = py::none(),
        "min_rating_number"_a = py::none(), "max_rows"_a = py::none(), "compat"_a = "usermirror",
        "progress"_a = py::none(), "terminal"_a = true);
  py::class_<SceneStream>(m, "SceneStream")
      .def(py::init([](const std::string& dataset, const fs::path& work, const std::string& split,
                       std::optional<int64_t> samples, std::optional<int> min_exposure,
                       std::optional<int> max_exposure, uint64_t seed, unsigned threads,
                       const std::vector<std::string>& scorers, const fs::path& output, bool all_users,
                       bool with_impressions, const std::string& impressions, const std::string& compat,
                       py::object progress, bool terminal) {
             return std::make_unique<SceneStream>(
                 scenes_options(dataset, work, split, samples, min_exposure, max_exposure, seed, threads,
                                scorers, output, all_users, with_impressions, impressions, compat),
                 std::move(progress), terminal);
           }),
           "dataset"_a, "work"_a, "split"_a, "samples"_a, "min_exposure"_a, "max_exposure"_a, "seed"_a,
           "threads"_a, "scorers"_a, "output"_a, "all_users"_a, "with_impressions"_a, "impressions"_a,
           "compat"_a, "progress"_a, "terminal"_a)
      .def("attach", &SceneStream::attach)
      .def("detach", &SceneStream::detach)
      .def("next_lines", &SceneStream::next_lines)
      .def("wait_started", &SceneStream::wait_started)
      .def("cancel", &SceneStream::cancel)
      .def("wait", &SceneStream::wait)
      .def_property_readonly("finished", &SceneStream::finished);
  m.def("distil", &distil, "work"_a, "datasets"_a, "name"_a, "select"_a, "filter_column"_a,
        "sampling_column"_a, "ascending"_a, "seed"_a, "allocation"_a, "system_prompt"_a, "prompts_dir"_a,
        "threads"_a, "compat"_a, "progress"_a, "terminal"_a);
  m.def("evaluate", &evaluate, "backend"_a, "work"_a, "inputs"_a, "mode"_a, "prompt"_a, "prompts_dir"_a,
        "repeats"_a, "max_tokens"_a, "seed"_a, "bootstrap"_a, "out"_a, "max_failures"_a, "compat"_a,
        "progress"_a, "terminal"_a);
  m.def("render_scene", &render_scene, "dataset"_a, "profile"_a, "history"_a, "items"_a);
  m.def("template_fields", &template_fields, "dataset"_a);
  m.def(
      "load_prompt",
      [](const std::string& name, const fs::path& prompts_dir) {
        std::optional<fs::path> dir;
        if (!prompts_dir.empty()) dir = prompts_dir;
        return text::load_prompt(name, dir);
      },
      "name"_a, "prompts_dir"_a = fs::path());
  m.def("strategy_names", &scene::strategy_names);
  m.def("backend_kinds", &backend::backend_kinds);
}

}  // namespace um::python
