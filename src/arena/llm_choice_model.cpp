#include "arena/llm_choice_model.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "backend/simulation_requests.h"
#include "pipeline/llm_stage.h"
#include "pipeline/reasoning_steps.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::arena {
namespace {

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Option requests per backend call (whole page groups; a group larger than this is one call).
constexpr size_t kChunkRequests = 256;

std::string probs_json(const backend::OptionResult& r) {
  nlohmann::json v;
  v["probs"] = r.probs;
  return v.dump();
}

}  // namespace

LlmChoiceModel::LlmChoiceModel(backend::Backend& backend, const std::filesystem::path& store,
                               LlmChoiceOptions options)
    : be_(backend), store_path_(store), opts_(std::move(options)) {
  if (opts_.mode != "direct" && opts_.mode != "reasoning")
    throw util::Error("mode must be direct or reasoning, got '" + opts_.mode + "'", {.field = "mode"});
  if (opts_.repeats < 1) throw util::Error("repeats must be >= 1", {.field = "repeats"});
  stage_ = "arena/" + opts_.mode + "/prompt-" + util::hex64(util::hash64(opts_.system_prompt));
}

std::vector<std::vector<double>> LlmChoiceModel::choose(const std::vector<const PageScene*>& pages) {
  const bool direct = opts_.mode == "direct";
  auto base = [&](const PageScene& p) { return backend::simulation_messages(p.text, opts_.system_prompt); };
  const pipeline::ReasoningSettings settings{.system_prompt = opts_.system_prompt,
                                             .repeats = opts_.repeats,
                                             .temperature = opts_.temperature,
                                             .top_p = opts_.top_p,
                                             .max_tokens = opts_.max_tokens,
                                             .shared_prefix = true};
  std::vector<pipeline::ReasoningRecord> records;
  if (!direct) {
    for (const PageScene* p : pages)
      records.push_back(
          {.key = p->key,
           .text = &p->text,
           .options = p->items.size(),
           .seed = util::Rng::stream(opts_.seed, "arena/reasoning", util::hash64(p->key)).next_u64() >> 1});
  }
  pipeline::SkipBudget budget{.max_failures = opts_.max_failures - failed_};
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  {
    backend::RequestStore store(store_path_, stage_);
    std::vector<backend::OptionRequest> all;
    if (direct) {
      for (const PageScene* p : pages) {
        all.push_back(
            backend::direct_option_request(pipeline::option_key(p->key, 0), base(*p), p->items.size()));
        all.back().shared_prefix = backend::scene_shared_prefix(p->text);
      }
    } else {
      const pipeline::GenerateStepCounts gen = pipeline::run_reasoning_generate(
          be_, records, store, settings, {"arena (generate)", "pages"}, budget);
      reused_ += gen.reused;
      sent_ += gen.sent;
      failed_ += gen.failed;
      budget.max_failures = opts_.max_failures - failed_;
      all = pipeline::reasoning_option_requests(records, pipeline::load_store(store_path_, stage_), settings);
    }
    // The option requests, page group by page group: consecutive pages with the same shared text
    // (the pages of one user at one time, in the grouped order) carry one SharedPrefix hint, and the
    // embedded engine scores such a run of requests as one group whose results depend on the group
    // alone. So a group is asked whole or not at all: with any of its answers missing (a resumed
    // run), all of its requests are sent again (the stored answers are kept; the recomputed ones are
    // identical), and a chunk sent to the backend always holds whole groups. Page groups are formed
    // exactly as the backend forms them: runs of equal backend::shared_prefix_key.
    std::vector<std::vector<backend::OptionRequest>> groups;
    std::string prev_key;
    for (auto& r : all) {
      std::string key = backend::shared_prefix_key(r);
      if (groups.empty() || key.empty() || key != prev_key) groups.emplace_back();
      prev_key = std::move(key);
      groups.back().push_back(std::move(r));
    }
    std::vector<std::vector<backend::OptionRequest>*> ask;
    size_t asked = 0;
    for (auto& g : groups) {
      size_t missing = 0;
      for (const auto& r : g) missing += store.contains(r.key) ? 0 : 1;
      if (missing == 0) {
        if (direct) reused_ += static_cast<int64_t>(g.size());
        continue;
      }
      asked += g.size();
      ask.push_back(&g);
    }
    sent_ += static_cast<int64_t>(asked);
    util::Progress bar("arena (" + opts_.mode + ")", asked, "prompts");
    std::vector<backend::OptionRequest> chunk;
    auto flush = [&] {
      if (chunk.empty()) return;
      const size_t n = chunk.size();
      failed_ += pipeline::run_options(be_, std::move(chunk), store, probs_json, bar, budget, n);
      budget.max_failures = opts_.max_failures - failed_;
      chunk.clear();
    };
    for (auto* g : ask) {
      if (!chunk.empty() && chunk.size() + g->size() > kChunkRequests) flush();
      for (auto& r : *g) chunk.push_back(std::move(r));
    }
    flush();
    bar.finish();
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cpu_seconds_ += process_cpu_seconds() - cpu_start;

  auto stored = pipeline::load_store(store_path_, stage_);
  std::vector<std::vector<double>> out;
  out.reserve(pages.size());
  for (const PageScene* p : pages) {
    const size_t n = direct ? 1 : pipeline::stored_contents(stored, p->key).size();
    std::vector<double> mean(p->items.size(), 0.0);
    size_t got = 0;
    for (size_t r = 0; r < n; ++r) {
      auto it = stored.find(pipeline::option_key(p->key, r));
      if (it == stored.end()) continue;
      auto probs = it->second.at("probs").get<std::vector<double>>();
      if (probs.size() != mean.size())
        throw util::Error("stored distribution has " + std::to_string(probs.size()) + " options, the page " +
                              std::to_string(mean.size()),
                          {.file = store_path_.string(), .field = "probs", .record = p->key});
      for (size_t k = 0; k < mean.size(); ++k) mean[k] += probs[k];
      ++got;
    }
    if (got == 0) {
      out.emplace_back();
      continue;
    }
    for (double& v : mean) v /= static_cast<double>(got);
    out.push_back(std::move(mean));
  }
  return out;
}

}  // namespace um::arena
