#include "pipeline/run_config.h"

#include <cpptoml.h>

#include <set>

#include "scene/scene_generator.h"
#include "util/error.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

// Reads typed keys from one TOML table and remembers which were used, so leftovers are reported.
class Table {
 public:
  Table(std::shared_ptr<cpptoml::table> t, std::string name, const fs::path& file)
      : t_(std::move(t)), name_(std::move(name)), file_(file.string()) {}

  template <typename T>
  void get(const std::string& key, T& out) {
    used_.insert(key);
    if (!t_ || !t_->contains(key)) return;
    auto v = t_->get_as<T>(key);
    if (!v) throw util::Error("wrong type", where(key));
    out = *v;
  }
  void get(const std::string& key, unsigned& out) {
    int64_t v = out;
    get(key, v);
    if (v < 0) throw util::Error("must be >= 0", where(key));
    out = static_cast<unsigned>(v);
  }
  void get(const std::string& key, uint64_t& out) {
    int64_t v = static_cast<int64_t>(out);
    get(key, v);
    if (v < 0) throw util::Error("must be >= 0", where(key));
    out = static_cast<uint64_t>(v);
  }
  void get_path(const std::string& key, fs::path& out, const fs::path& base) {
    std::string s;
    get(key, s);
    if (!s.empty()) out = fs::path(s).is_absolute() ? fs::path(s) : (base / s).lexically_normal();
  }
  void get_list(const std::string& key, std::vector<std::string>& out) {
    used_.insert(key);
    if (!t_ || !t_->contains(key)) return;
    auto arr = t_->get_array_of<std::string>(key);
    if (!arr) throw util::Error("must be an array of strings", where(key));
    out = *arr;
  }
  void finish() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      if (!used_.count(k)) throw util::Error("unknown key", where(k));
    }
  }
  util::Location where(const std::string& key) const {
    return {.file = file_, .field = name_.empty() ? key : name_ + "." + key};
  }

 private:
  std::shared_ptr<cpptoml::table> t_;
  std::string name_;
  std::string file_;
  std::set<std::string> used_;
};

std::shared_ptr<cpptoml::table> sub(const std::shared_ptr<cpptoml::table>& root, const std::string& key,
                                    const fs::path& file) {
  if (!root->contains(key)) return nullptr;
  auto t = root->get_table(key);
  if (!t) throw util::Error("must be a table", {.file = file.string(), .field = key});
  return t;
}

}  // namespace

RunConfig load_run_config(const fs::path& file) {
  std::shared_ptr<cpptoml::table> root;
  try {
    root = cpptoml::parse_file(file.string());
  } catch (const cpptoml::parse_exception& e) {
    throw util::Error(std::string("invalid TOML: ") + e.what(), {.file = file.string()});
  }
  RunConfig c;
  c.config_file = file;
  const fs::path base = fs::absolute(file).parent_path();

  Table top(root, "", file);
  std::set<std::string> tables = {"run",    "datasets", "models", "decide",
                                  "distil", "evaluate", "train",  "arena"};
  for (const auto& [k, v] : *root) {
    if (!tables.count(k)) throw util::Error("unknown key", top.where(k));
  }

  Table run(sub(root, "run", file), "run", file);
  run.get_path("work", c.work, base);
  run.get("seed", c.seed);
  run.get("threads", c.threads);
  run.get_path("prompts_dir", c.prompts_dir, base);
  run.get("system_prompt", c.system_prompt);
  run.get("direct_prompt", c.direct_prompt);
  run.get("prompts", c.prompts);
  run.get("eval_max_tokens", c.eval_max_tokens);
  run.get_path("length_tokenizer", c.length_tokenizer, base);
  std::string compat = data::compat_name(c.compat);
  run.get("compat", compat);
  run.finish();
  if (c.work.empty()) throw util::Error("required", run.where("work"));
  c.compat = data::parse_compat(compat, run.where("compat"));
  if (c.compat == data::Compat::reference) {
    // The reference's run-level settings, for the keys the file does not set.
    auto given = [&](const char* key) {
      return root->contains("run") && root->get_table("run")->contains(key);
    };
    if (!given("prompts") && !given("system_prompt") && !given("direct_prompt")) c.prompts = "authors";
    if (!given("eval_max_tokens")) c.eval_max_tokens = kReferenceEvalMaxTokens;
  }
  if (c.prompts == "authors") {
    if (c.system_prompt != "reasoning-v1" || c.direct_prompt != "direct-v1")
      throw util::Error("set either prompts or system_prompt/direct_prompt", run.where("prompts"));
    c.system_prompt = "authors-default";
    c.direct_prompt = "authors-direct";
  } else if (c.prompts != "ours") {
    throw util::Error("must be \"ours\" or \"authors\"", run.where("prompts"));
  }
  if (c.eval_max_tokens < 0)
    throw util::Error("must be >= 0 (0 = no length filter)", run.where("eval_max_tokens"));

  if (!root->contains("datasets") || !root->get_table_array("datasets"))
    throw util::Error("at least one [[datasets]] entry is required",
                      {.file = file.string(), .field = "datasets"});
  int idx = 0;
  for (const auto& t : *root->get_table_array("datasets")) {
    RunDataset d;
    Table dt(t, "datasets[" + std::to_string(idx++) + "]", file);
    dt.get("name", d.name);
    dt.get_path("raw", d.raw, base);
    dt.get("eval_samples", d.eval_samples);
    dt.get("train_samples", d.train_samples);
    dt.get("eval_min_exposure", d.eval_min_exposure);
    dt.get("eval_max_exposure", d.eval_max_exposure);
    dt.get("train_min_exposure", d.train_min_exposure);
    dt.get("train_max_exposure", d.train_max_exposure);
    dt.finish();
    if (d.name.empty()) throw util::Error("required", dt.where("name"));
    if (d.raw.empty()) throw util::Error("required", dt.where("raw"));
    if (d.eval_min_exposure < 2 || d.eval_min_exposure > d.eval_max_exposure || d.train_min_exposure < 2 ||
        d.train_min_exposure > d.train_max_exposure || d.train_max_exposure > 26 || d.eval_max_exposure > 26)
      throw util::Error("exposure ranges must satisfy 2 <= min <= max <= 26", dt.where("exposure"));
    c.datasets.push_back(std::move(d));
  }

  Table models(sub(root, "models", file), "models", file);
  models.get("teacher", c.models.teacher);
  models.get("student", c.models.student);
  models.get("predictor", c.models.predictor);
  models.get_path("tiny_tokenizer", c.models.tiny_tokenizer, base);
  models.finish();

  Table decide(sub(root, "decide", file), "decide", file);
  decide.get("n", c.decide.n);
  decide.get("temperature", c.decide.temperature);
  decide.get("top_p", c.decide.top_p);
  decide.get("max_tokens", c.decide.max_tokens);
  decide.finish();
  if (c.decide.n < 1) throw util::Error("must be >= 1", decide.where("n"));

  Table distil(sub(root, "distil", file), "distil", file);
  distil.get("name", c.distil.name);
  distil.get("select", c.distil.select);
  distil.get("filter_column", c.distil.filter_column);
  distil.get("sampling_column", c.distil.sampling_column);
  distil.get("ascending", c.distil.ascending);
  distil.finish();

  Table eval(sub(root, "evaluate", file), "evaluate", file);
  eval.get("enabled", c.evaluate.enabled);
  eval.get_list("modes", c.evaluate.modes);
  eval.get("repeats", c.evaluate.repeats);
  eval.get("max_tokens", c.evaluate.max_tokens);
  eval.finish();
  for (const auto& m : c.evaluate.modes)
    if (m != "direct" && m != "reasoning")
      throw util::Error("mode must be direct or reasoning", eval.where("modes"));

  Table train(sub(root, "train", file), "train", file);
  train.get("enabled", c.train.enabled);
  train.get("sft_steps", c.train.sft_steps);
  train.get("dpo_steps", c.train.dpo_steps);
  train.get("lora_rank", c.train.lora_rank);
  train.finish();

  Table arena(sub(root, "arena", file), "arena", file);
  arena.get("enabled", c.arena.enabled);
  arena.get("dataset", c.arena.dataset);
  arena.get_list("recommenders", c.arena.recommenders);
  arena.get("simulator", c.arena.simulator);
  arena.get("mode", c.arena.mode);
  arena.get_list("protocols", c.arena.protocols);
  arena.get("users", c.arena.users);
  arena.get("page_size", c.arena.page_size);
  arena.get("history", c.arena.history);
  arena.get("rounds", c.arena.rounds);
  arena.get("split", c.arena.split);
  arena.finish();
  if (c.arena.mode != "direct" && c.arena.mode != "reasoning")
    throw util::Error("mode must be direct or reasoning", arena.where("mode"));
  for (const auto& p : c.arena.protocols)
    if (p != "interleave" && p != "multileave" && p != "page" && p != "session")
      throw util::Error("protocol must be interleave, multileave, page or session", arena.where("protocols"));
  if (c.arena.users < 0) throw util::Error("must be >= 0 (0 = all)", arena.where("users"));
  if (c.arena.page_size < 2 || c.arena.page_size > 12)
    throw util::Error("must be between 2 and 12", arena.where("page_size"));
  if (c.arena.history < 0 || c.arena.history > static_cast<int64_t>(scene::kMaxHistoryWindow))
    throw util::Error("must be between 0 (the reference's random 2-10 window) and " +
                          std::to_string(scene::kMaxHistoryWindow),
                      arena.where("history"));
  if (c.arena.rounds < 1) throw util::Error("must be >= 1", arena.where("rounds"));
  if (c.arena.enabled && c.arena.dataset.empty()) c.arena.dataset = c.datasets.front().name;
  if (c.arena.enabled) {
    bool known = false;
    for (const auto& d : c.datasets) known = known || d.name == c.arena.dataset;
    if (!known) throw util::Error("not one of the [[datasets]]", arena.where("dataset"));
  }
  return c;
}

}  // namespace um::pipeline
