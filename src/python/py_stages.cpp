// prepare, scenes, distil, evaluate and scene rendering from plain Python values: the same
// functions the CLI commands call (cli/cmd_prepare.cpp, cmd_scenes.cpp, cmd_distil.cpp,
// cmd_stages.cpp), with the same defaults.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>

#include "data/data.h"
#include "pipeline/distil.h"
#include "pipeline/evaluate_stage.h"
#include "python/python.h"
#include "scene/scene.h"
#include "text/prompt_store.h"
#include "util/error.h"

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
                 std::optional<int64_t> min_rating_number, std::optional<int64_t> max_rows) {
  data::PrepareOptions o;
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
  data::PrepareResult r = run_interruptible([o] { return data::prepare(o); });
  py::dict d;
  d["users"] = r.users;
  d["items"] = r.items;
  d["interactions"] = r.interactions;
  d["skipped"] = counts(r.skipped);
  d["stats"] = counts(r.stats);
  d["output"] = (work / "raws").string() + "/" + dataset + "_*.jsonl";
  return d;
}

py::dict scenes(const std::string& dataset, const fs::path& work, const std::string& split,
                std::optional<int64_t> samples, std::optional<int> min_exposure,
                std::optional<int> max_exposure, uint64_t seed, unsigned threads,
                const std::vector<std::string>& scorers, const fs::path& output, bool all_users,
                bool with_impressions, const std::string& impressions, bool progress) {
  scene::ScenesOptions o;
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
  o.progress = progress;
  scene::ScenesReport r = run_interruptible([o] { return scene::run_scenes(o); });
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

py::dict distil(const fs::path& work, const std::vector<std::string>& datasets, const std::string& name,
                int64_t select, const std::string& filter_column, const std::string& sampling_column,
                bool ascending, uint64_t seed, const std::string& allocation, const fs::path& system_prompt,
                const fs::path& prompts_dir, unsigned threads, bool progress) {
  pipeline::DistilOptions o;
  o.work_dir = work;
  o.datasets = datasets;
  o.name = name;
  o.select = select;
  o.filter_column = filter_column;
  o.sampling_column = sampling_column;
  o.ascending = ascending;
  o.seed = seed;
  if (allocation == "reference")
    o.allocation = pipeline::Allocation::reference;
  else if (allocation == "proportional")
    o.allocation = pipeline::Allocation::proportional;
  else
    throw util::Error("allocation must be proportional or reference, got '" + allocation + "'",
                      {.field = "allocation"});
  o.system_prompt_file = system_prompt;
  if (!prompts_dir.empty()) o.prompts_dir = prompts_dir;
  o.threads = threads;
  o.progress = progress;
  pipeline::DistilResult r = run_interruptible([o] { return pipeline::run_distil(o); });
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
                  int64_t max_failures) {
  pipeline::EvaluateOptions o;
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
  pipeline::EvaluateResult r = run_interruptible([o, backend_spec] {
    auto be = backend::make_backend(backend_spec);
    return pipeline::run_evaluate(*be, o);
  });
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
        "min_rating_number"_a = py::none(), "max_rows"_a = py::none());
  m.def("run_scenes", &scenes, "dataset"_a, "work"_a, "split"_a, "samples"_a, "min_exposure"_a,
        "max_exposure"_a, "seed"_a, "threads"_a, "scorers"_a, "output"_a, "all_users"_a, "with_impressions"_a,
        "impressions"_a, "progress"_a);
  m.def("distil", &distil, "work"_a, "datasets"_a, "name"_a, "select"_a, "filter_column"_a,
        "sampling_column"_a, "ascending"_a, "seed"_a, "allocation"_a, "system_prompt"_a, "prompts_dir"_a,
        "threads"_a, "progress"_a);
  m.def("evaluate", &evaluate, "backend"_a, "work"_a, "inputs"_a, "mode"_a, "prompt"_a, "prompts_dir"_a,
        "repeats"_a, "max_tokens"_a, "seed"_a, "bootstrap"_a, "out"_a, "max_failures"_a);
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
