// usermirror.Simulator: a backend asked for the choice distribution of scenes, with the requests of
// backend/simulation_requests.h (direct: "Behavior: ["; reasoning: rationales, each re-closed and
// scored, the distributions averaged) — what evaluate, serve and the arena send.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "backend/simulation_requests.h"
#include "python/python.h"
#include "text/prompt_store.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/rng.h"

namespace um::python {

namespace fs = std::filesystem;

namespace {

// Results of one batch of submit_*() calls; shared with the backend's callbacks, so an abandoned
// wait (Ctrl-C) leaves nothing dangling.
template <class Result>
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result> results;
  std::vector<std::exception_ptr> errors;
  size_t left = 0;
  std::atomic<size_t>* done = nullptr;

  explicit Pending(size_t n) : results(n), errors(n), left(n) {}
  void set(size_t i, Result&& r, std::exception_ptr e) {
    std::lock_guard lock(mu);
    results[i] = std::move(r);
    errors[i] = e;
    if (--left == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
};

// Submits `requests` in chunks of `chunk`, keeping two chunks in flight so the backend never idles
// between them, and returns the results in request order. Between chunks util::check_cancelled()
// stops a cancelled call (a chunk still in flight finishes in the backend; its callbacks only touch
// their shared Pending). `done(1)` is called per finished request. Throws the first request error.
template <class Result, class Request, class Submit>
std::vector<Result> submit_chunked(std::vector<Request> requests, size_t chunk, Submit submit,
                                   const std::function<void(size_t)>& done) {
  const size_t n = requests.size();
  std::vector<Result> out(n);
  std::deque<std::pair<size_t, std::shared_ptr<Pending<Result>>>> in_flight;
  size_t next = 0;
  auto launch = [&] {
    const size_t end = std::min(n, next + chunk);
    auto p = std::make_shared<Pending<Result>>(end - next);
    std::vector<Request> batch(std::make_move_iterator(requests.begin() + static_cast<std::ptrdiff_t>(next)),
                               std::make_move_iterator(requests.begin() + static_cast<std::ptrdiff_t>(end)));
    submit(std::move(batch), [p, done](size_t i, Result&& r, std::exception_ptr e) {
      if (done) done(1);  // before set(): the last set() ends the wait
      p->set(i, std::move(r), e);
    });
    in_flight.emplace_back(next, std::move(p));
    next = end;
  };
  while (next < n && in_flight.size() < 2) launch();
  while (!in_flight.empty()) {
    auto [begin, p] = std::move(in_flight.front());
    in_flight.pop_front();
    p->wait();
    for (size_t i = 0; i < p->results.size(); ++i) out[begin + i] = std::move(p->results[i]);
    util::check_cancelled();
    if (next < n) launch();
  }
  return out;
}

// Chunk sizes: small enough that a cancelled call stops soon (at most two chunks in flight: about
// a second of the tiny model's option prompts), large enough that the backend's workers stay busy.
constexpr size_t kGenerateChunk = 16;
constexpr size_t kOptionsChunk = 64;

}  // namespace

SimulatorCore::SimulatorCore(SimulatorConfig config) : cfg_(std::move(config)) {
  if (cfg_.mode != "direct" && cfg_.mode != "reasoning")
    throw util::Error("mode must be direct or reasoning, got '" + cfg_.mode + "'", {.field = "mode"});
  if (cfg_.repeats < 1) throw util::Error("repeats must be >= 1", {.field = "repeats"});
  be_ = backend::make_backend(cfg_.spec);
}

std::vector<std::vector<double>> SimulatorCore::choose(const std::vector<text::SceneText>& scenes,
                                                       const std::function<void(size_t)>& done,
                                                       uint64_t first_record) {
  const size_t n = scenes.size();
  std::vector<std::vector<backend::Message>> base(n);
  for (size_t i = 0; i < n; ++i) {
    if (scenes[i].action_list.size() < 2 || scenes[i].action_list.size() > 26)
      throw util::Error("a scene needs 2 to 26 options, got " + std::to_string(scenes[i].action_list.size()),
                        {.field = "action_list", .record = "scene " + std::to_string(i)});
    base[i] = backend::simulation_messages(scenes[i], cfg_.system_prompt);
  }
  std::vector<std::vector<double>> out(n);
  if (cfg_.mode == "direct") {
    std::vector<backend::OptionRequest> reqs;
    reqs.reserve(n);
    for (size_t i = 0; i < n; ++i)
      reqs.push_back(backend::direct_option_request(std::to_string(i) + "/p0", std::move(base[i]),
                                                    scenes[i].action_list.size()));
    auto results = submit_chunked<backend::OptionResult>(
        std::move(reqs), kOptionsChunk,
        [this](std::vector<backend::OptionRequest> b, backend::OptionCallback cb) {
          be_->submit_options(std::move(b), std::move(cb));
        },
        done);
    for (size_t i = 0; i < n; ++i) out[i] = std::move(results[i].probs);
    return out;
  }
  // Reasoning: the sampling stream of scene i is evaluate's (pipeline/evaluate_stage.cpp).
  std::vector<backend::GenerateRequest> gens;
  gens.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    backend::ReasoningSampling s{
        .n = cfg_.repeats,
        .temperature = cfg_.temperature,
        .top_p = cfg_.top_p,
        .max_tokens = cfg_.max_tokens,
        .seed = util::Rng::stream(cfg_.seed, "evaluate/reasoning", first_record + i).next_u64() >> 1};
    gens.push_back(backend::reasoning_generate_request(std::to_string(i) + "/gen", base[i], s));
  }
  auto generated = submit_chunked<backend::GenerateResult>(
      std::move(gens), kGenerateChunk,
      [this](std::vector<backend::GenerateRequest> b, backend::GenerateCallback cb) {
        be_->submit_generate(std::move(b), std::move(cb));
      },
      {});
  std::vector<backend::OptionRequest> reqs;
  std::vector<size_t> owner;
  for (size_t i = 0; i < n; ++i) {
    const auto& samples = generated[i].samples;
    for (size_t r = 0; r < samples.size(); ++r) {
      reqs.push_back(backend::reasoning_option_request(std::to_string(i) + "/p" + std::to_string(r), base[i],
                                                       samples[r].text, scenes[i].action_list.size()));
      owner.push_back(i);
    }
  }
  auto scored = submit_chunked<backend::OptionResult>(
      std::move(reqs), kOptionsChunk,
      [this](std::vector<backend::OptionRequest> b, backend::OptionCallback cb) {
        be_->submit_options(std::move(b), std::move(cb));
      },
      {});
  std::vector<size_t> got(n, 0);
  for (size_t i = 0; i < n; ++i) out[i].assign(scenes[i].action_list.size(), 0.0);
  for (size_t j = 0; j < owner.size(); ++j) {
    auto& mean = out[owner[j]];
    for (size_t k = 0; k < mean.size(); ++k) mean[k] += scored[j].probs[k];
    ++got[owner[j]];
  }
  for (size_t i = 0; i < n; ++i) {
    if (got[i] == 0)
      throw util::Error("the backend returned no rationale", {.record = "scene " + std::to_string(i)});
    for (double& v : out[i]) v /= static_cast<double>(got[i]);
    if (done) done(1);
  }
  return out;
}

text::SceneText scene_text(py::handle scene) {
  py::handle src = scene;
  if (py::hasattr(scene, "to_dict") && !py::isinstance<py::dict>(scene))
    src = scene.attr("to_dict")().release();
  if (!py::isinstance<py::dict>(src))
    throw util::Error("a scene is a dict with text {profile, action_list, history}", {.field = "scene"});
  py::dict d = py::reinterpret_borrow<py::dict>(src);
  py::dict t = d.contains("text") ? py::dict(d["text"]) : d;
  for (const char* k : {"profile", "action_list", "history"})
    if (!t.contains(k)) throw util::Error(std::string("a scene's text has no '") + k + "'", {.field = k});
  text::SceneText out;
  out.profile = py::str(t["profile"]).cast<std::string>();
  out.history = py::str(t["history"]).cast<std::string>();
  for (auto a : t["action_list"]) out.action_list.push_back(py::str(a).cast<std::string>());
  return out;
}

namespace {

// A vector handed to numpy without a copy: the array owns it through a capsule.
py::array_t<double> to_numpy(std::vector<double>&& v) {
  auto* owned = new std::vector<double>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>({owned->size()}, {sizeof(double)}, owned->data(), free_when_done);
}

std::vector<text::SceneText> scene_texts(py::handle scenes) {
  std::vector<text::SceneText> texts;
  for (auto s : scenes) texts.push_back(scene_text(s));
  return texts;
}

// progress: None or a callable(stage, done, total), called with stage "simulator" (finished scenes).
py::list choose_batch(const std::shared_ptr<SimulatorCore>& sim, py::handle scenes, py::object progress) {
  auto texts = scene_texts(scenes);
  const bool report = !progress.is_none();
  auto dist = run_interruptible(
      [sim, texts = std::move(texts), report] {
        std::shared_ptr<util::CallControl> control = report ? util::CallControl::current() : nullptr;
        std::function<void(size_t)> done;
        if (control) {
          const uint64_t bar = control->new_bar();
          const uint64_t total = texts.size();
          control->update(bar, "simulator", 0, total, false);
          auto finished = std::make_shared<std::atomic<uint64_t>>(0);
          done = [control, bar, total, finished](size_t k) {
            const uint64_t now = finished->fetch_add(k) + k;
            control->update(bar, "simulator", now, total, now == total);
          };
        }
        return sim->choose(texts, done);
      },
      {.progress = progress, .terminal = false});
  py::list out(dist.size());
  for (size_t i = 0; i < dist.size(); ++i) out[i] = to_numpy(std::move(dist[i]));
  return out;
}

}  // namespace

void bind_simulator(py::module_& m) {
  using namespace py::literals;
  py::class_<SimulatorCore, std::shared_ptr<SimulatorCore>>(m, "SimulatorCore")
      .def(py::init([](const std::string& spec, const std::string& mode, const std::string& prompt,
                       const fs::path& prompts_dir, int repeats, int max_tokens, double temperature,
                       double top_p, uint64_t seed) {
             SimulatorConfig c;
             c.spec = spec;
             c.mode = mode;
             std::optional<fs::path> dir;
             if (!prompts_dir.empty()) dir = prompts_dir;
             std::string name = prompt.empty() ? (mode == "direct" ? "direct-v1" : "reasoning-v1") : prompt;
             // A prompt name (prompts/) or a file, as the arena's --prompt.
             c.system_prompt =
                 fs::is_regular_file(name) ? util::read_file(name) : text::load_prompt(name, dir);
             c.repeats = repeats;
             c.max_tokens = max_tokens;
             c.temperature = temperature;
             c.top_p = top_p;
             c.seed = seed;
             py::gil_scoped_release release;  // loading a local model takes a while
             return std::make_shared<SimulatorCore>(std::move(c));
           }),
           "spec"_a, "mode"_a, "prompt"_a, "prompts_dir"_a, "repeats"_a, "max_tokens"_a, "temperature"_a,
           "top_p"_a, "seed"_a)
      .def("choose_batch", &choose_batch, "scenes"_a, "progress"_a = py::none())
      .def_property_readonly("spec", [](const SimulatorCore& s) { return s.config().spec; })
      .def_property_readonly("mode", [](const SimulatorCore& s) { return s.config().mode; })
      .def_property_readonly("system_prompt", [](const SimulatorCore& s) { return s.config().system_prompt; })
      .def_property_readonly("model_name", [](SimulatorCore& s) { return s.backend().model_name(); })
      .def("stats",
           [](SimulatorCore& s) {
             auto st = s.backend().stats();
             py::dict d;
             d["requests"] = st.requests;
             d["failed"] = st.failed;
             d["missing_letters"] = st.missing_letters;
             d["option_prompt_tokens"] = st.option_prompt_tokens;
             d["option_prompt_tokens_cached"] = st.option_prompt_tokens_cached;
             return d;
           })
      // Benchmark support (bench/python_simulator.py): seconds of `reps` C++ calls on already
      // converted scenes, i.e. choose_batch without the Python conversions.
      .def(
          "_time_cpp",
          [](SimulatorCore& s, py::handle scenes, int reps) {
            auto texts = scene_texts(scenes);
            py::gil_scoped_release release;
            auto t0 = std::chrono::steady_clock::now();
            for (int r = 0; r < reps; ++r) s.choose(texts);
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          },
          "scenes"_a, "reps"_a);
  m.def("scene_text", [](py::handle scene) {
    auto t = scene_text(scene);
    py::dict d;
    d["profile"] = t.profile;
    d["action_list"] = t.action_list;
    d["history"] = t.history;
    return d;
  });
}

}  // namespace um::python
