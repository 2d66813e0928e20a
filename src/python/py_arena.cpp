// usermirror.arena: the arena (arena/arena.h) with recommenders given as spec strings or as Python
// objects with recommend(user_id, history, k) -> list of item ids (PythonRecommender below, entered
// through ArenaOptions::custom_recommender).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdio>
#include <unordered_map>

#include "arena/arena.h"
#include "python/python.h"
#include "recommend/detail.h"
#include "util/error.h"

namespace um::python {

namespace fs = std::filesystem;

namespace {

// A Python object as a recommend::Recommender. Its lists go through the same filter as the file
// recommenders' (recommend/detail.h take_ranked: unknown ids and history items or duplicates are
// dropped and counted, the rest cut to k), so a Python recommender returning a file's lists gives
// that file recommender's pages. Called with the GIL acquired, one query at a time, in query order
// (a stateful Python object sees a deterministic sequence).
class PythonRecommender final : public recommend::Recommender {
 public:
  PythonRecommender(std::string name, py::object obj, const data::Dataset& ds, const recommend::Split& split)
      : Recommender(std::move(name)), obj_(std::move(obj)), ds_(ds), split_(split) {
    for (uint32_t i = 0; i < ds.items.size(); ++i) rows_.emplace(ds.items[i].id, i);
  }
  ~PythonRecommender() override {
    py::gil_scoped_acquire gil;
    obj_ = py::object();
  }

  recommend::Recommendation recommend(const recommend::Query& q) const override {
    recommend::Recommendation r;
    std::vector<int64_t> items;
    {
      py::gil_scoped_acquire gil;
      try {
        py::list history;
        for (uint32_t h : q.history) history.append(ds_.items[h].id);
        py::object out = obj_.attr("recommend")(ds_.users[q.user].id, history, q.k);
        if (out.is_none()) {
          r.skip = "no list for this user (None)";
          return r;
        }
        for (auto id : out) {
          auto it = rows_.find(py::str(id).cast<std::string>());
          items.push_back(it == rows_.end() ? -1 : static_cast<int64_t>(it->second));
        }
      } catch (py::error_already_set& e) {
        throw util::Error("Python recommender '" + name() + "' raised " + e.what(),
                          {.field = "recommenders", .record = ds_.users[q.user].id});
      }
    }
    recommend::detail::take_ranked(r, items, recommend::detail::history_mask(split_, q), q.k);
    return r;
  }

  std::vector<recommend::Recommendation> recommend_batch(
      const std::vector<recommend::Query>& queries) const override {
    std::vector<recommend::Recommendation> out;
    out.reserve(queries.size());
    for (const auto& q : queries) out.push_back(recommend(q));
    return out;
  }

 private:
  py::object obj_;
  const data::Dataset& ds_;
  const recommend::Split& split_;
  std::unordered_map<std::string, uint32_t> rows_;
};

arena::ArenaOptions options_from(py::dict kw) {
  arena::ArenaOptions o;
  o.work = kw["work"].cast<fs::path>();
  o.dataset = kw["dataset"].cast<std::string>();
  o.recommenders = kw["recommenders"].cast<std::vector<std::string>>();
  o.simulator = kw["simulator"].cast<std::string>();
  o.mode = kw["mode"].cast<std::string>();
  o.protocol = kw["protocol"].cast<std::string>();
  o.users = kw["users"].cast<size_t>();
  o.page_size = kw["page_size"].cast<size_t>();
  o.history = kw["history"].cast<size_t>();
  o.rounds = kw["rounds"].cast<int>();
  o.offline_k = kw["offline_k"].cast<int>();
  o.split = kw["split"].cast<std::string>();
  o.name = kw["name"].cast<std::string>();
  o.seed = kw["seed"].cast<uint64_t>();
  o.threads = kw["threads"].cast<unsigned>();
  o.system_prompt = kw["prompt"].cast<std::string>();
  o.prompts_dir = kw["prompts_dir"].cast<fs::path>();
  o.repeats = kw["repeats"].cast<int>();
  o.max_tokens = kw["max_tokens"].cast<int>();
  o.temperature = kw["temperature"].cast<double>();
  o.top_p = kw["top_p"].cast<double>();
  o.max_failures = kw["max_failures"].cast<int64_t>();
  if (!kw["controls"].is_none()) o.controls = kw["controls"].cast<std::vector<std::string>>();
  o.order = kw["order"].cast<std::string>();
  o.bootstrap = kw["bootstrap"].cast<int64_t>();
  o.figures = kw["figures"].cast<bool>();
  o.progress = kw["progress"].cast<bool>();
  return o;
}

// kw: the options above; python_recommenders: name -> object; simulator_core: a SimulatorCore whose
// backend answers (None: the spec in kw["simulator"] is made by the arena). Returns the result's
// paths and numbers; the Python layer reads report.json.
py::dict run(py::dict kw, py::dict python_recommenders, std::shared_ptr<SimulatorCore> simulator,
             bool print_summary, py::object progress, bool terminal) {
  arena::ArenaOptions o = options_from(kw);
  // The objects are Python references: whoever drops the last copy (possibly a worker thread) does
  // it under the GIL.
  using Objects = std::map<std::string, py::object>;
  std::shared_ptr<Objects> objects(new Objects(), [](Objects* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
  for (auto [k, v] : python_recommenders)
    objects->emplace(k.cast<std::string>(), py::reinterpret_borrow<py::object>(v));
  o.custom_recommender = [objects](const std::string& name, const data::Dataset& ds,
                                   const recommend::Split& split) -> std::unique_ptr<recommend::Recommender> {
    auto it = objects->find(name);
    if (it == objects->end()) return nullptr;
    py::gil_scoped_acquire gil;
    return std::make_unique<PythonRecommender>(name, it->second, ds, split);
  };
  arena::ArenaResult r = run_interruptible(
      [o = std::move(o), simulator, print_summary] {
        util::Summary summary("arena " + o.dataset + " " + o.protocol);
        arena::ArenaResult res =
            simulator ? arena::run_arena(o, simulator->backend(), summary) : arena::run_arena(o, summary);
        if (print_summary) summary.print("pages");
        return res;
      },
      {.progress = progress, .terminal = terminal});
  py::dict d;
  d["out_dir"] = r.out_dir;
  d["report_json"] = r.report_json;
  d["report_md"] = r.report_md;
  d["pages_jsonl"] = r.pages_jsonl;
  d["users"] = r.users;
  d["pages"] = r.pages;
  d["distinct_pages"] = r.distinct_pages;
  d["ranking"] = r.ranking;
  d["seconds_simulator"] = r.seconds_simulator;
  d["seconds_total"] = r.seconds_total;
  d["prefix_cache_hit_rate"] = r.prefix_cache_hit_rate;
  d["figures"] = r.figures;
  return d;
}

}  // namespace

void bind_arena(py::module_& m) {
  using namespace py::literals;
  m.def("run_arena", &run, "options"_a, "python_recommenders"_a, "simulator"_a, "print_summary"_a,
        "progress"_a = py::none(), "terminal"_a = true);
  m.def("builtin_recommenders", &recommend::builtin_recommenders);
}

}  // namespace um::python
