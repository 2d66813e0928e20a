#include "pipeline/evaluate_stage.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "backend/simulation_requests.h"
#include "data/dataset_io.h"
#include "distil/option_probs.h"
#include "distil/scene_messages.h"
#include "distil/work_layout.h"
#include "pipeline/collaborative_baseline.h"
#include "pipeline/evaluate_report.h"
#include "pipeline/reasoning_steps.h"
#include "text/chat_template.h"
#include "text/prompt.h"
#include "text/tokenizer.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/rng.h"
#include "util/time.h"

namespace um::pipeline {
namespace fs = std::filesystem;

namespace {

std::string probs_json(const backend::OptionResult& r) {
  nlohmann::json v;
  v["probs"] = r.probs;
  v["missing"] = r.missing_letters;
  return v.dump();
}

void write_letter_dict(util::JsonWriter& w, const std::vector<double>& p) {
  w.begin_object();
  for (size_t k = 0; k < p.size(); ++k) {
    w.key(std::string(1, distil::option_letter(static_cast<int>(k))));
    w.value(p[k]);
  }
  w.end_object();
}

void write_conversation(util::JsonWriter& w, const std::vector<backend::Message>& msgs) {
  w.begin_array();
  for (const auto& m : msgs) {
    w.begin_object();
    w.key("role");
    w.value(m.role);
    w.key("content");
    w.value(m.content);
    w.end_object();
  }
  w.end_array();
}

// Non-LLM baselines on the same scenes, from each dataset's files in the work directory when they
// exist: the position prior from its train scenes; popularity from its prepared interactions (else
// from the train scenes' ground truths), counting only interactions before each scene; the
// collaborative score from its interactions without the eval scenes' ground truths.
BaselineInputs baseline_inputs(const fs::path& work, const std::vector<scene::SceneRecord>& scenes,
                               uint64_t seed) {
  BaselineInputs b;
  std::set<std::string> datasets;
  for (const auto& s : scenes) datasets.insert(s.dataset);
  std::vector<std::vector<double>> collaborative(scenes.size());
  bool any_collaborative = false;
  for (const auto& ds : datasets) {
    const fs::path train = distil::scenes_path(work, ds, "train");
    if (fs::exists(train)) add_baseline_counts(train, b);
    if (!fs::exists(work / data::interaction_file(ds))) continue;
    data::Dataset d = data::load_dataset(work, ds);
    auto& times = b.item_times[ds];
    times.clear();  // the interactions include the train ground truths
    for (const auto& x : d.interactions) times[x.item_id].push_back(util::epoch_ms_from_us(x.timestamp_us));
    std::vector<const scene::SceneRecord*> mine;
    std::vector<size_t> at;
    for (size_t i = 0; i < scenes.size(); ++i) {
      if (scenes[i].dataset != ds) continue;
      mine.push_back(&scenes[i]);
      at.push_back(i);
    }
    auto scores = collaborative_scores(std::move(d), mine, {.seed = seed});
    for (size_t j = 0; j < at.size(); ++j) collaborative[at[j]] = std::move(scores[j]);
    any_collaborative = true;
  }
  if (any_collaborative) b.collaborative_scores = std::move(collaborative);
  return b;
}

}  // namespace

bool run_plot_script(const std::string& script_name, const fs::path& report_json, const fs::path& out_dir) {
  const fs::path script = fs::path(UM_SOURCE_DIR) / "scripts" / script_name;
  const fs::path python = "/usr/bin/python3";
  if (!fs::exists(script) || !fs::exists(python)) {
    std::fprintf(stderr, "figures skipped (%s or %s not found)\n", python.c_str(), script.c_str());
    return false;
  }
  // Arguments are paths we created; quote them for the shell.
  auto quote = [](const fs::path& p) {
    std::string q = "'";
    for (char ch : p.string()) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  };
  std::string cmd = quote(python) + " " + quote(script) + " " + quote(report_json) + " " + quote(out_dir);
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "figures not written (%s exited with %d)\n", script_name.c_str(), rc);
    return false;
  }
  return true;
}

bool render_report_figures(const fs::path& report_json, const fs::path& out_dir) {
  return run_plot_script("plot_eval_report.py", report_json, out_dir);
}

namespace {

std::vector<scene::SceneRecord> read_eval_scenes(const EvaluateOptions& opts) {
  std::vector<scene::SceneRecord> scenes;
  for (const auto& in : opts.inputs) {
    auto part = read_scenes(in);
    scenes.insert(scenes.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return scenes;
}

// Scenes over the context limit get no request (docs/method.md §10): 1 marks them.
std::vector<char> over_context_flags(const std::vector<scene::SceneRecord>& scenes,
                                     const EvaluateOptions& opts, bool direct) {
  std::vector<char> over_context(scenes.size(), 0);
  const size_t max_context = context_limit(opts);
  if (max_context == 0) return over_context;
  if (opts.context_tokenizer.empty())
    throw util::Error("max_context needs a tokenizer folder", {.field = "context_tokenizer"});
  const auto tok = text::Tokenizer::load(opts.context_tokenizer);
  const auto tpl = text::ChatTemplate::from_tokenizer_config(opts.context_tokenizer);
  const std::string_view prefix = direct ? text::kBehaviorPrefix : text::kEvalReasoningPrefix;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const std::string rendered = tpl.render(text::scene_messages(scenes[i].text, opts.system_prompt, prefix));
    over_context[i] = tok.encode(rendered, /*add_special_tokens=*/false).size() > max_context;
  }
  return over_context;
}

// A scene's store records are keyed by its index in the scene list: "<i>/gen", "<i>/p<r>".
std::string scene_key(size_t i) { return std::to_string(i); }

ReasoningSettings reasoning_settings(const EvaluateOptions& opts) {
  return {.system_prompt = opts.system_prompt,
          .repeats = opts.repeats,
          .temperature = opts.temperature,
          .top_p = opts.top_p,
          .max_tokens = opts.max_tokens};
}

// Sends every request whose answer is not yet in the store: in reasoning mode the generations (step
// 1) then the option distribution after each continuation (step 2); in direct mode the option
// distribution after "Behavior: [".
void ask_backend(backend::Backend& be, const std::vector<scene::SceneRecord>& scenes,
                 const std::vector<char>& over_context, const EvaluateOptions& opts,
                 const fs::path& store_file, const std::string& stage, bool direct) {
  backend::RequestStore store(store_file, stage);
  std::vector<backend::OptionRequest> todo;
  if (direct) {
    for (size_t i = 0; i < scenes.size(); ++i) {
      const std::string key = option_key(scene_key(i), 0);
      if (over_context[i] || store.contains(key)) continue;
      todo.push_back(backend::direct_option_request(
          key, backend::simulation_messages(scenes[i].text, opts.system_prompt),
          static_cast<size_t>(scenes[i].choice_cnt)));
    }
  } else {
    std::vector<ReasoningRecord> records;
    for (size_t i = 0; i < scenes.size(); ++i) {
      if (over_context[i]) continue;
      records.push_back({.key = scene_key(i),
                         .text = &scenes[i].text,
                         .options = static_cast<size_t>(scenes[i].choice_cnt),
                         .seed = util::Rng::stream(opts.seed, stage, i).next_u64() >> 1});
    }
    const ReasoningSettings settings = reasoning_settings(opts);
    run_reasoning_generate(be, records, store, settings, {"evaluate " + opts.mode + " (generate)", "scenes"},
                           opts.budget);
    todo = reasoning_option_requests(records, load_store(store_file, stage), settings);
    std::erase_if(todo, [&](const backend::OptionRequest& r) { return store.contains(r.key); });
  }
  util::Progress bar("evaluate " + opts.mode + " (score)", todo.size(), "prompts");
  run_options(be, std::move(todo), store, probs_json, bar, opts.budget);
  bar.finish();
}

// One line of predictions.jsonl: the scene's fields, then messages, choice and intent_list.
std::string prediction_line(const scene::SceneRecord& s, const EvalScene& es,
                            const std::vector<std::vector<backend::Message>>& intents,
                            const EvaluateOptions& opts, bool direct) {
  util::JsonWriter w;
  scene::write_scene(w, s, /*with_impressions=*/!s.impression_list.empty());  // {...}, reopened below
  std::string line = w.take();
  line.pop_back();
  util::JsonWriter tail;
  tail.begin_object();
  tail.key("messages");
  auto msgs = backend::simulation_messages(s.text, opts.system_prompt);
  msgs.push_back({"assistant", std::string(direct ? text::kBehaviorPrefix : text::kEvalReasoningPrefix)});
  write_conversation(tail, msgs);
  tail.key("choice");
  if (direct) {
    if (es.repeats.empty())
      tail.null();
    else
      write_letter_dict(tail, es.repeats[0]);
  } else {
    tail.begin_array();
    for (const auto& p : es.repeats) write_letter_dict(tail, p);
    tail.end_array();
  }
  tail.key("intent_list");
  tail.begin_array();
  if (direct) {
    tail.value("");
  } else {
    for (const auto& m : intents) write_conversation(tail, m);
  }
  tail.end_array();
  tail.end_object();
  return line + "," + tail.str().substr(1) + "\n";
}

// Rebuilds predictions.jsonl from the store in scene order; returns the scenes as the report reads them.
std::vector<EvalScene> write_predictions(const std::vector<scene::SceneRecord>& scenes,
                                         const std::map<std::string, nlohmann::json>& stored,
                                         const EvaluateOptions& opts, bool direct, const fs::path& path) {
  std::vector<EvalScene> eval_scenes;
  util::AtomicWriter out(path);
  for (size_t i = 0; i < scenes.size(); ++i) {
    const auto& s = scenes[i];
    EvalScene es;
    es.dataset = s.dataset;
    es.truth = s.item_pos;
    es.choice_cnt = s.choice_cnt;
    es.option_items = s.impression_list;
    es.timestamp = s.timestamp;
    std::vector<std::vector<backend::Message>> intents;
    const std::vector<std::string> contents =
        direct ? std::vector<std::string>{} : stored_contents(stored, scene_key(i));
    const size_t n = direct ? 1 : contents.size();
    for (size_t r = 0; r < n; ++r) {
      auto it = stored.find(option_key(scene_key(i), r));
      if (it == stored.end()) continue;
      es.repeats.push_back(it->second.at("probs").get<std::vector<double>>());
      if (!direct) {
        auto msgs = backend::simulation_messages(s.text, opts.system_prompt);
        msgs.push_back({"assistant", backend::reasoning_turn(contents[r])});
        intents.push_back(std::move(msgs));
      }
    }
    out.write(prediction_line(s, es, intents, opts, direct));
    eval_scenes.push_back(std::move(es));
  }
  out.commit();
  return eval_scenes;
}

}  // namespace

EvaluateResult run_evaluate(backend::Backend& be, const EvaluateOptions& opts) {
  if (opts.mode != "direct" && opts.mode != "reasoning")
    throw util::Error("mode must be direct or reasoning, got '" + opts.mode + "'", {.field = "mode"});
  if (opts.repeats < 1) throw util::Error("repeats must be >= 1", {.field = "repeats"});
  const std::vector<scene::SceneRecord> scenes = read_eval_scenes(opts);
  fs::create_directories(opts.out_dir);
  const bool direct = opts.mode == "direct";
  const fs::path store_file = opts.out_dir / "predictions.store.jsonl";
  const std::string stage = "evaluate/" + opts.mode;
  const std::vector<char> over_context = over_context_flags(scenes, opts, direct);
  ask_backend(be, scenes, over_context, opts, store_file, stage, direct);

  EvaluateResult result;
  result.scenes = static_cast<int64_t>(scenes.size());
  for (char o : over_context) result.over_context += o;
  result.predictions = opts.out_dir / "predictions.jsonl";
  const std::vector<EvalScene> eval_scenes =
      write_predictions(scenes, load_store(store_file, stage), opts, direct, result.predictions);

  EvalReportOptions ropts;
  ropts.baselines = baseline_inputs(opts.work, scenes, opts.seed);
  ropts.model_name = be.model_name();
  ropts.seed = opts.seed;
  ropts.bootstrap = opts.bootstrap;
  ropts.title = "usermirror evaluation (" + opts.mode + " mode, " + be.model_name() + ")";
  EvalReport report = evaluate_scenes(eval_scenes, ropts);
  result.expected_hit_rate = report.overall.expected_hit_rate.value;
  result.report_json = opts.out_dir / "report.json";
  result.report_md = opts.out_dir / "report.md";
  write_eval_report(report, result.report_json, result.report_md);
  result.figures = render_report_figures(result.report_json, opts.out_dir);
  return result;
}

}  // namespace um::pipeline
