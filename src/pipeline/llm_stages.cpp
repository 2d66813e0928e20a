#include "pipeline/llm_stages.h"

#include <map>
#include <nlohmann/json.hpp>

#include "distil/scene_messages.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/rng.h"

namespace um::pipeline {
namespace fs = std::filesystem;

namespace {

void check_variant(const std::string& v) {
  if (v != "strong" && v != "weak")
    throw util::Error("variant must be strong or weak, got '" + v + "'", {.field = "variant"});
}

}  // namespace

StageCounts run_decide(backend::Backend& be, const DecideOptions& opts) {
  check_variant(opts.variant);
  StageCounts counts;
  const auto scenes = read_scenes(distil::scenes_path(opts.work, opts.dataset, "train"));
  counts.records_in = static_cast<int64_t>(scenes.size());
  const fs::path out_path = distil::decisions_path(opts.work, opts.dataset, opts.variant);
  const std::string stage = "decide/" + opts.variant;
  fs::create_directories(out_path.parent_path());
  {
    backend::RequestStore store(store_path_for(out_path), stage);
    std::vector<backend::GenerateRequest> todo;
    for (size_t r = 0; r < scenes.size(); ++r) {
      std::string key = opts.dataset + "-" + std::to_string(r);
      ++counts.requests;
      if (store.contains(key)) {
        ++counts.reused;
        continue;
      }
      backend::GenerateRequest req;
      req.key = key;
      req.messages = {{"system", opts.system_prompt}, {"user", user_message(scenes[r].text)}};
      req.sampling.n = opts.n;
      req.sampling.temperature = opts.temperature;
      req.sampling.top_p = opts.top_p;
      req.sampling.max_tokens = opts.max_tokens;
      // One seed per scene and variant: reproducible samples regardless of order or restarts.
      req.sampling.seed = util::Rng::stream(opts.seed, stage, r).next_u64() >> 1;
      todo.push_back(std::move(req));
    }
    counts.sent = static_cast<int64_t>(todo.size());
    util::Progress bar("decide " + opts.dataset + " " + opts.variant, todo.size(), "scenes");
    counts.failed = run_generate(
        be, std::move(todo), store,
        [](const backend::GenerateResult& res) {
          nlohmann::json v = contents_value(res);
          v["tokens"] = res.prompt_tokens + res.completion_tokens;
          return v.dump();
        },
        bar, opts.budget);
    bar.finish();
  }
  auto stored = load_store(store_path_for(out_path), stage);
  util::AtomicWriter out(out_path);
  util::JsonWriter w;
  for (size_t r = 0; r < scenes.size(); ++r) {
    auto it = stored.find(opts.dataset + "-" + std::to_string(r));
    if (it == stored.end()) continue;  // failed within the skip budget: the reference's "missing"
    std::vector<std::string> contents = it->second.at("contents").get<std::vector<std::string>>();
    counts.tokens += it->second.value("tokens", int64_t{0});
    w.clear();
    distil::write_decisions(w, it->first, be.model_name(), contents);
    w.newline();
    out.write(w.str());
    ++counts.records_out;
  }
  out.commit();
  return counts;
}

StageCounts run_score(backend::Backend& be, const ScoreOptions& opts) {
  check_variant(opts.variant);
  StageCounts counts;
  const auto scenes = read_scenes(distil::scenes_path(opts.work, opts.dataset, "train"));
  counts.records_in = static_cast<int64_t>(scenes.size());

  // Rationales per scene row, cut at "Behavior:" and stripped (§7 step 1).
  std::vector<std::vector<std::string>> rationales(scenes.size());
  const fs::path dec_path = distil::decisions_path(opts.work, opts.dataset, opts.variant);
  if (!fs::exists(dec_path))
    throw util::Error("decisions file missing (run `usermirror decide` first)", {.file = dec_path.string()});
  {
    util::LineReader in(dec_path);
    distil::LineParser parser;
    std::string_view line;
    while (in.next(line)) {
      if (line.empty()) continue;
      distil::DecisionsRecord d;
      util::Location where{.file = dec_path.string(), .line = in.line_number()};
      distil::parse_decisions(parser, line, d, where);
      if (!d.ok) continue;
      if (d.row < 0 || static_cast<size_t>(d.row) >= scenes.size())
        throw util::Error("custom_id row " + std::to_string(d.row) + " is not a train scene row", where);
      for (const auto& c : d.contents)
        rationales[static_cast<size_t>(d.row)].emplace_back(distil::cut_rationale(c));
    }
  }

  const fs::path out_path = distil::probs_path(opts.work, opts.dataset, opts.variant);
  const std::string stage = "score/" + opts.variant;
  fs::create_directories(out_path.parent_path());
  auto key_of = [&](size_t r, size_t j) {
    return opts.dataset + "-" + std::to_string(r) + "/" + std::to_string(j);
  };
  {
    backend::RequestStore store(store_path_for(out_path), stage);
    std::vector<backend::OptionRequest> todo;
    for (size_t r = 0; r < scenes.size(); ++r) {
      const auto& s = scenes[r];
      std::string user = user_message(s.text);
      std::vector<std::string> letters;
      for (int k = 0; k < s.choice_cnt; ++k) letters.emplace_back(1, distil::option_letter(k));
      for (size_t j = 0; j < rationales[r].size(); ++j) {
        ++counts.requests;
        std::string key = key_of(r, j);
        if (store.contains(key)) {
          ++counts.reused;
          continue;
        }
        backend::OptionRequest req;
        req.key = key;
        req.messages = {{"system", opts.system_prompt},
                        {"user", user},
                        {"assistant", rationales[r][j] + "\nBehavior: ["}};
        req.letters = letters;
        todo.push_back(std::move(req));
      }
    }
    counts.sent = static_cast<int64_t>(todo.size());
    util::Progress bar("score " + opts.dataset + " " + opts.variant, todo.size(), "rationales");
    counts.failed = run_options(
        be, std::move(todo), store,
        [](const backend::OptionResult& res) {
          nlohmann::json v;
          v["probs"] = res.probs;
          v["missing"] = res.missing_letters;
          return v.dump();
        },
        bar, opts.budget);
    bar.finish();
  }
  auto stored = load_store(store_path_for(out_path), stage);
  util::AtomicWriter out(out_path);
  util::JsonWriter w;
  for (size_t r = 0; r < scenes.size(); ++r) {
    distil::ProbsRecord rec;
    rec.user_id = scenes[r].user_id;
    rec.item_id = scenes[r].item_id;
    bool complete = !rationales[r].empty();
    for (size_t j = 0; j < rationales[r].size() && complete; ++j) {
      auto it = stored.find(key_of(r, j));
      if (it == stored.end()) {
        complete = false;  // a failed request within the budget: the scene gets no choice
        break;
      }
      distil::LetterProbs lp;
      auto probs = it->second.at("probs").get<std::vector<double>>();
      for (size_t k = 0; k < probs.size(); ++k) lp.set(static_cast<int>(k), probs[k]);
      rec.choice.push_back(lp);
    }
    rec.decision_list = rationales[r];
    rec.n_decisions = rec.decision_list.size();
    rec.has_choice = complete;
    if (!complete) rec.choice.clear();
    w.clear();
    distil::write_probs(w, rec);
    w.newline();
    out.write(w.str());
    ++counts.records_out;
  }
  out.commit();
  return counts;
}

}  // namespace um::pipeline
