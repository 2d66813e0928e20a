#include "pipeline/reasoning_steps.h"

#include "backend/simulation_requests.h"

namespace um::pipeline {

std::string generation_key(std::string_view key) { return std::string(key) + "/gen"; }

std::string option_key(std::string_view key, size_t r) { return std::string(key) + "/p" + std::to_string(r); }

GenerateStepCounts run_reasoning_generate(backend::Backend& be, const std::vector<ReasoningRecord>& records,
                                          backend::RequestStore& store, const ReasoningSettings& settings,
                                          const ProgressLabel& label, const SkipBudget& budget) {
  GenerateStepCounts counts;
  std::vector<backend::GenerateRequest> todo;
  for (const ReasoningRecord& rec : records) {
    std::string key = generation_key(rec.key);
    if (store.contains(key)) {
      ++counts.reused;
      continue;
    }
    backend::ReasoningSampling sampling{.n = settings.repeats,
                                        .temperature = settings.temperature,
                                        .top_p = settings.top_p,
                                        .max_tokens = settings.max_tokens,
                                        .seed = rec.seed};
    todo.push_back(backend::reasoning_generate_request(
        std::move(key), backend::simulation_messages(*rec.text, settings.system_prompt), sampling));
    if (settings.shared_prefix) todo.back().shared_prefix = backend::scene_shared_prefix(*rec.text);
  }
  counts.sent = static_cast<int64_t>(todo.size());
  util::Progress bar(label.title, todo.size(), label.unit);
  counts.failed = run_generate(
      be, std::move(todo), store,
      [](const backend::GenerateResult& res) { return contents_value(res).dump(); }, bar, budget);
  bar.finish();
  return counts;
}

std::vector<std::string> stored_contents(const std::map<std::string, nlohmann::json>& stored,
                                         std::string_view key) {
  auto g = stored.find(generation_key(key));
  if (g == stored.end()) return {};
  return g->second.at("contents").get<std::vector<std::string>>();
}

std::vector<backend::OptionRequest> reasoning_option_requests(
    const std::vector<ReasoningRecord>& records, const std::map<std::string, nlohmann::json>& generated,
    const ReasoningSettings& settings) {
  std::vector<backend::OptionRequest> out;
  for (const ReasoningRecord& rec : records) {
    // A record without a stored generation (it failed within the budget) gets no requests.
    const std::vector<std::string> contents = stored_contents(generated, rec.key);
    for (size_t r = 0; r < contents.size(); ++r) {
      out.push_back(backend::reasoning_option_request(
          option_key(rec.key, r), backend::simulation_messages(*rec.text, settings.system_prompt),
          contents[r], rec.options));
      if (settings.shared_prefix) out.back().shared_prefix = backend::scene_shared_prefix(*rec.text);
    }
  }
  return out;
}

}  // namespace um::pipeline
