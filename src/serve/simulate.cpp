#include "serve/simulate.h"

#include <algorithm>
#include <climits>
#include <random>

#include "backend/simulation_requests.h"
#include "serve/api_error.h"
#include "text/prompt.h"
#include "text/prompt_store.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::serve {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

ojson dist_json(const std::vector<std::string>& letters, const std::vector<double>& probs) {
  ojson d = ojson::object();
  for (size_t i = 0; i < letters.size(); ++i) d[letters[i]] = probs[i];
  return d;
}

std::vector<std::string> parse_letters(const json& b) {
  std::vector<std::string> letters;
  if (b.contains("letters")) {
    if (!b["letters"].is_array() || b["letters"].empty() || b["letters"].size() > 26) {
      throw ApiError(400, "'letters' must be a non-empty array of at most 26 strings", "letters");
    }
    for (const auto& l : b["letters"]) {
      if (!l.is_string() || l.get<std::string>().empty())
        throw ApiError(400, "'letters' must hold strings", "letters");
      letters.push_back(l.get<std::string>());
    }
    // The answer's distribution is keyed by letter: a repeated one would lose an option.
    std::vector<std::string> sorted = letters;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw ApiError(400, "'letters' must be distinct", "letters");
  } else if (b.contains("options")) {
    if (!b["options"].is_number_integer() || b["options"].get<int64_t>() < 1 ||
        b["options"].get<int64_t>() > 26) {
      throw ApiError(400, "'options' must be an integer between 1 and 26", "options");
    }
    for (int64_t i = 0; i < b["options"].get<int64_t>(); ++i)
      letters.push_back(std::string(1, char('A' + i)));
  } else {
    throw ApiError(400, "give 'options' (number of exposure options) or 'letters'", "options",
                   "missing_required_parameter");
  }
  return letters;
}

}  // namespace

std::string simulate(backend::Backend& backend, const json& b, const ServeOptions& opts,
                     const std::vector<std::string>& models, RequestWatch& watch) {
  if (b.contains("model")) {
    if (!b["model"].is_string() ||
        std::find(models.begin(), models.end(), b["model"].get<std::string>()) == models.end()) {
      throw ApiError(404, "unknown model", "model", "model_not_found");
    }
  }
  if (b.contains("mode") && !b["mode"].is_string())
    throw ApiError(400, "'mode' must be direct or reasoning", "mode");
  std::string mode = b.value("mode", "direct");
  if (mode != "direct" && mode != "reasoning")
    throw ApiError(400, "'mode' must be direct or reasoning", "mode");
  std::vector<backend::Message> messages;
  std::vector<std::string> letters;
  if (b.contains("scene") || b.contains("text")) {
    // A scene record (a line of datasets/<DS>_*.jsonl) or its `text` field: build the prompt here.
    const json& t =
        b.contains("scene")
            ? (b["scene"].is_object() && b["scene"].contains("text") ? b["scene"]["text"] : json())
            : b["text"];
    if (!t.is_object() || !t.contains("profile") || !t["profile"].is_string() || !t.contains("history") ||
        !t["history"].is_string() || !t.contains("action_list") || !t["action_list"].is_array() ||
        t["action_list"].empty() || t["action_list"].size() > 26) {
      throw ApiError(400,
                     "a scene needs text.profile, text.history (strings) and text.action_list (1-26 strings)",
                     "scene");
    }
    text::SceneText scene{t["profile"].get<std::string>(), {}, t["history"].get<std::string>()};
    for (const auto& a : t["action_list"]) {
      if (!a.is_string()) throw ApiError(400, "text.action_list must hold strings", "scene");
      scene.action_list.push_back(a.get<std::string>());
    }
    std::string prompt_name(mode == "direct" ? text::kDefaultDirectPrompt : text::kDefaultReasoningPrompt);
    if (b.contains("prompt")) {
      if (!b["prompt"].is_string()) throw ApiError(400, "'prompt' must be a prompt name", "prompt");
      prompt_name = b["prompt"].get<std::string>();
    }
    std::string system;
    try {
      system = text::load_prompt(prompt_name);
    } catch (const util::Error& e) {
      throw ApiError(400, e.what(), "prompt");
    }
    messages = backend::simulation_messages(scene, system);
    for (size_t i = 0; i < scene.action_list.size(); ++i)
      letters.push_back(std::string(1, text::option_letter(i)));
  } else {
    if (!b.contains("messages") || !b["messages"].is_array() || b["messages"].empty()) {
      throw ApiError(
          400, "give 'scene' (a scene record), 'text' (its text field) or 'messages' (the scene prompt)",
          "messages");
    }
    for (const auto& m : b["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
          !m["content"].is_string()) {
        throw ApiError(400, "each message needs string 'role' and 'content'", "messages");
      }
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    letters = parse_letters(b);
  }
  std::vector<int32_t> letter_ids;
  if (b.contains("letter_token_ids")) {
    if (!b["letter_token_ids"].is_array() || b["letter_token_ids"].size() != letters.size()) {
      throw ApiError(400, "'letter_token_ids' must have one id per letter", "letter_token_ids");
    }
    for (const auto& x : b["letter_token_ids"]) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
        throw ApiError(400,
                       "'letter_token_ids' must be non-negative integer token ids, got " +
                           (x.is_number() ? x.dump() : std::string("a ") + x.type_name()),
                       "letter_token_ids", "invalid_value");
      letter_ids.push_back(x.get<int32_t>());
    }
  }
  if (b.contains("seed") && !b["seed"].is_number_integer())
    throw ApiError(400, "'seed' must be an integer", "seed");
  const uint64_t seed = b.contains("seed") ? b["seed"].get<uint64_t>() : std::random_device{}();

  ojson out;
  out["mode"] = mode;
  out["letters"] = letters;
  std::vector<double> mean(letters.size(), 0.0);
  int missing = 0;
  if (mode == "direct") {
    // The shared builder, with the client's own letters (and their ids, when given).
    backend::OptionRequest req = backend::direct_option_request("simulate", messages, letters.size());
    req.letters = letters;
    req.letter_token_ids = letter_ids;
    req.cancel = watch.flag();
    std::vector<backend::OptionRequest> one;
    one.push_back(std::move(req));
    auto futures = backend.option_distribution(std::move(one));
    backend::OptionResult r = watch.get(futures[0]);
    mean = r.probs;
    missing = r.missing_letters;
  } else {
    auto num = [&](const char* k, double fallback, double lo, double hi) {
      if (!b.contains(k)) return fallback;
      if (!b[k].is_number() || b[k].get<double>() < lo || b[k].get<double>() > hi) {
        throw ApiError(400, std::string("'") + k + "' is out of range or not a number", k);
      }
      return b[k].get<double>();
    };
    backend::ReasoningSampling sampling;
    sampling.n = static_cast<int>(num("n", 1, 1, opts.max_n));
    sampling.temperature = num("temperature", 1.0, 0, 2);
    sampling.top_p = num("top_p", 0.8, 1e-9, 1);  // the reference's evaluation defaults (§7)
    sampling.max_tokens =
        static_cast<int>(num("max_tokens", std::min(1024, opts.max_tokens_limit), 1, opts.max_tokens_limit));
    sampling.seed = seed;
    std::vector<backend::GenerateRequest> gen;
    gen.push_back(backend::reasoning_generate_request("simulate", messages, sampling));
    gen[0].cancel = watch.flag();
    auto gen_future = backend.generate(std::move(gen));
    backend::GenerateResult g = watch.get(gen_future[0]);
    // No new work for a request cancelled meanwhile (a backend that cannot cancel finished it anyway).
    if (watch.poll()) watch.throw_cancelled();
    std::vector<backend::OptionRequest> reqs;
    for (size_t i = 0; i < g.samples.size(); ++i) {
      backend::OptionRequest req = backend::reasoning_option_request(
          "simulate/" + std::to_string(i), messages, g.samples[i].text, letters.size());
      req.letters = letters;
      req.letter_token_ids = letter_ids;
      req.cancel = watch.flag();
      reqs.push_back(std::move(req));
    }
    auto futures = backend.option_distribution(std::move(reqs));
    ojson rationales = ojson::array();
    std::vector<backend::OptionResult> results;
    for (auto& f : futures) results.push_back(watch.get(f));
    for (size_t i = 0; i < futures.size(); ++i) {
      backend::OptionResult& r = results[i];
      for (size_t k = 0; k < mean.size(); ++k) mean[k] += r.probs[k] / static_cast<double>(futures.size());
      missing += r.missing_letters;
      ojson ra;
      ra["text"] = backend::reasoning_turn(g.samples[i].text);
      ra["distribution"] = dist_json(letters, r.probs);
      rationales.push_back(std::move(ra));
    }
    out["rationales"] = std::move(rationales);
  }
  util::Rng rng = util::Rng::stream(seed, "serve/simulate", 0);
  size_t choice = rng.categorical(mean);
  out["distribution"] = dist_json(letters, mean);
  out["choice"] = letters[choice];
  out["choice_index"] = choice;
  out["missing_letters"] = missing;
  out["seed"] = seed;
  return out.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string simulate(backend::Backend& backend, const json& b, const ServeOptions& opts,
                     const std::vector<std::string>& models) {
  static const std::atomic<bool> kNeverAborting{false};
  RequestWatch watch(std::make_shared<std::atomic<bool>>(false), Deadline{}, {}, kNeverAborting);
  return simulate(backend, b, opts, models, watch);
}

}  // namespace um::serve
