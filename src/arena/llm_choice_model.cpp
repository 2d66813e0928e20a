#include "arena/llm_choice_model.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "backend/simulation_requests.h"
#include "pipeline/llm_stage.h"
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
  auto gen_key = [](const PageScene& p) { return p.key + "/gen"; };
  auto opt_key = [](const PageScene& p, size_t r) { return p.key + "/p" + std::to_string(r); };
  auto base = [&](const PageScene& p) { return backend::simulation_messages(p.text, opts_.system_prompt); };
  pipeline::SkipBudget budget{.max_failures = opts_.max_failures - failed_};
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  {
    backend::RequestStore store(store_path_, stage_);
    if (!direct) {
      std::vector<backend::GenerateRequest> todo;
      for (const PageScene* p : pages) {
        if (store.contains(gen_key(*p))) {
          ++reused_;
          continue;
        }
        backend::ReasoningSampling s{
            .n = opts_.repeats,
            .temperature = opts_.temperature,
            .top_p = opts_.top_p,
            .max_tokens = opts_.max_tokens,
            .seed = util::Rng::stream(opts_.seed, "arena/reasoning", util::hash64(p->key)).next_u64() >> 1};
        todo.push_back(backend::reasoning_generate_request(gen_key(*p), base(*p), s));
        todo.back().shared_prefix = backend::scene_shared_prefix(p->text);
      }
      sent_ += static_cast<int64_t>(todo.size());
      util::Progress bar("arena (generate)", todo.size(), "pages");
      failed_ += pipeline::run_generate(
          be_, std::move(todo), store,
          [](const backend::GenerateResult& res) {
            nlohmann::json v;
            v["contents"] = nlohmann::json::array();
            for (const auto& s : res.samples) v["contents"].push_back(s.text);
            return v.dump();
          },
          bar, budget);
      bar.finish();
      budget.max_failures = opts_.max_failures - failed_;
    }
    auto generated =
        direct ? std::map<std::string, nlohmann::json>{} : pipeline::load_store(store_path_, stage_);
    // The option requests, page group by page group: consecutive pages with the same shared text
    // (the pages of one user at one time, in the grouped order) carry one SharedPrefix hint, and the
    // embedded engine scores such a run of requests as one group whose results depend on the group
    // alone. So a group is asked whole or not at all: with any of its answers missing (a resumed
    // run), all of its requests are sent again (the stored answers are kept; the recomputed ones are
    // identical), and a chunk sent to the backend always holds whole groups.
    std::vector<backend::OptionRequest> all;
    for (const PageScene* p : pages) {
      if (direct) {
        all.push_back(backend::direct_option_request(opt_key(*p, 0), base(*p), p->items.size()));
        all.back().shared_prefix = backend::scene_shared_prefix(p->text);
        continue;
      }
      auto gen = generated.find(gen_key(*p));
      if (gen == generated.end()) continue;  // generation failed within the budget
      auto contents = gen->second.at("contents").get<std::vector<std::string>>();
      for (size_t r = 0; r < contents.size(); ++r) {
        all.push_back(
            backend::reasoning_option_request(opt_key(*p, r), base(*p), contents[r], p->items.size()));
        all.back().shared_prefix = backend::scene_shared_prefix(p->text);
      }
    }
    // Page groups exactly as the backend forms them: runs of equal backend::shared_prefix_key.
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
    size_t n = 1;
    if (!direct) {
      auto g = stored.find(gen_key(*p));
      n = g == stored.end() ? 0 : g->second.at("contents").size();
    }
    std::vector<double> mean(p->items.size(), 0.0);
    size_t got = 0;
    for (size_t r = 0; r < n; ++r) {
      auto it = stored.find(opt_key(*p, r));
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
