#include "backend/openai/openai_wire.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace um::backend::wire {
namespace {

using nlohmann::json;

json messages_json(const std::vector<Message>& messages) {
  json arr = json::array();
  for (const auto& m : messages) arr.push_back({{"role", m.role}, {"content", m.content}});
  return arr;
}

void put_sampling(json& b, const SamplingParams& s) {
  b["n"] = s.n;
  b["temperature"] = s.temperature;
  b["top_p"] = s.top_p;
  b["max_tokens"] = s.max_tokens;
  if (s.top_k > 0) b["top_k"] = s.top_k;  // vLLM/SGLang extension: sent only when used
  if (s.min_p > 0) b["min_p"] = s.min_p;
  if (!s.stop.empty()) b["stop"] = s.stop;
  if (s.seed) b["seed"] = *s.seed;
}

util::Error bad(const std::string& what) { return util::Error("unexpected response: " + what); }

const json& field(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) throw bad(std::string("missing field '") + name + "'");
  return j.at(name);
}

std::string str_or_empty(const json& j, const char* name) {
  auto it = j.find(name);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

bool uses_completions(const GenerateRequest& req) {
  return req.prompt.has_value() || !req.prompt_tokens.empty();
}

std::string generate_body(const GenerateRequest& req, const std::string& model) {
  json b;
  b["model"] = model;
  if (uses_completions(req)) {
    if (req.prompt) {
      b["prompt"] = *req.prompt;
    } else {
      b["prompt"] = req.prompt_tokens;
    }
    if (req.top_logprobs >= 0) b["logprobs"] = req.top_logprobs;
  } else {
    b["messages"] = messages_json(req.messages);
    if (req.continue_final_message) {
      b["continue_final_message"] = true;
      b["add_generation_prompt"] = false;
    }
    if (req.top_logprobs >= 0) {
      b["logprobs"] = true;
      b["top_logprobs"] = req.top_logprobs;
    }
  }
  put_sampling(b, req.sampling);
  if (!req.allowed_token_ids.empty()) b["allowed_token_ids"] = req.allowed_token_ids;
  return b.dump(-1, ' ', false, json::error_handler_t::replace);
}

GenerateResult parse_generate(const std::string& body, bool completions) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw bad("body is not valid JSON");
  const json& choices = field(j, "choices");
  if (!choices.is_array()) throw bad("'choices' is not an array");
  GenerateResult r;
  r.samples.resize(choices.size());
  for (const auto& c : choices) {
    size_t idx = c.contains("index") && c["index"].is_number_unsigned() ? c["index"].get<size_t>() : 0;
    if (idx >= r.samples.size()) throw bad("choice index out of range");
    Sample& s = r.samples[idx];
    if (completions) {
      const json& t = field(c, "text");
      if (!t.is_string()) throw bad("'text' is not a string");
      s.text = t.get<std::string>();
      auto lp = c.find("logprobs");
      if (lp != c.end() && lp->is_object() && lp->contains("tokens")) {
        const json& toks = (*lp)["tokens"];
        const json& lps = (*lp)["token_logprobs"];
        const json* tops = lp->contains("top_logprobs") ? &(*lp)["top_logprobs"] : nullptr;
        for (size_t i = 0; i < toks.size(); ++i) {
          TokenLogprob tl{toks[i].get<std::string>(), lps[i].is_number() ? lps[i].get<double>() : 0.0, {}};
          if (tops && i < tops->size() && (*tops)[i].is_object()) {
            for (auto it = (*tops)[i].begin(); it != (*tops)[i].end(); ++it) {
              tl.top.push_back({it.key(), it.value().get<double>()});
            }
            std::sort(tl.top.begin(), tl.top.end(), [](auto& a, auto& b2) { return a.logprob > b2.logprob; });
          }
          s.logprobs.push_back(std::move(tl));
        }
      }
    } else {
      const json& m = field(c, "message");
      const json& content = field(m, "content");
      s.text = content.is_string() ? content.get<std::string>() : std::string();
      auto lp = c.find("logprobs");
      if (lp != c.end() && lp->is_object() && lp->contains("content") && (*lp)["content"].is_array()) {
        for (const auto& e : (*lp)["content"]) {
          TokenLogprob tl{e.value("token", ""), e.value("logprob", 0.0), {}};
          if (e.contains("top_logprobs")) {
            for (const auto& t : e["top_logprobs"])
              tl.top.push_back({t.value("token", ""), t.value("logprob", 0.0)});
          }
          s.logprobs.push_back(std::move(tl));
        }
      }
    }
    s.finish_reason = str_or_empty(c, "finish_reason");
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    r.prompt_tokens = u->value("prompt_tokens", int64_t{0});
    r.completion_tokens = u->value("completion_tokens", int64_t{0});
  }
  return r;
}

std::string option_body(const OptionRequest& req, const std::string& model, int top_logprobs,
                        bool send_allowed_token_ids) {
  json b;
  b["model"] = model;
  const int k = std::max<int>(top_logprobs, static_cast<int>(req.letters.size()));
  if (req.prompt) {
    b["prompt"] = *req.prompt;
    b["logprobs"] = k;
  } else {
    b["messages"] = messages_json(req.messages);
    b["continue_final_message"] = true;
    b["add_generation_prompt"] = false;
    b["logprobs"] = true;
    b["top_logprobs"] = k;
  }
  b["max_tokens"] = 1;
  b["temperature"] = 1.0;
  b["n"] = 1;
  if (send_allowed_token_ids && !req.letter_token_ids.empty()) b["allowed_token_ids"] = req.letter_token_ids;
  return b.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<double> parse_option_logprobs(const std::string& body, bool completions,
                                          const std::vector<std::string>& letters) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw bad("body is not valid JSON");
  const json& choices = field(j, "choices");
  if (!choices.is_array() || choices.empty()) throw bad("'choices' is empty");
  const json& lp = field(choices[0], "logprobs");
  std::vector<double> out(letters.size(), std::numeric_limits<double>::quiet_NaN());
  auto offer = [&](const std::string& token, double logprob) {
    for (size_t i = 0; i < letters.size(); ++i) {
      if (token == letters[i] && (std::isnan(out[i]) || logprob > out[i])) out[i] = logprob;
    }
  };
  if (completions) {
    const json& tops = field(lp, "top_logprobs");
    if (!tops.is_array() || tops.empty() || !tops[0].is_object()) throw bad("'top_logprobs' has no entry");
    for (auto it = tops[0].begin(); it != tops[0].end(); ++it) {
      if (it.value().is_number()) offer(it.key(), it.value().get<double>());
    }
    if (lp.contains("tokens") && lp.contains("token_logprobs") && !lp["tokens"].empty() &&
        lp["token_logprobs"][0].is_number()) {
      offer(lp["tokens"][0].get<std::string>(), lp["token_logprobs"][0].get<double>());
    }
  } else {
    const json& content = field(lp, "content");
    if (!content.is_array() || content.empty()) throw bad("'logprobs.content' has no entry");
    const json& first = content[0];
    if (first.contains("token") && first.contains("logprob") && first["logprob"].is_number()) {
      offer(first["token"].get<std::string>(), first["logprob"].get<double>());
    }
    for (const auto& t : field(first, "top_logprobs")) {
      if (t.contains("token") && t.contains("logprob") && t["logprob"].is_number()) {
        offer(t["token"].get<std::string>(), t["logprob"].get<double>());
      }
    }
  }
  return out;
}

}  // namespace um::backend::wire
