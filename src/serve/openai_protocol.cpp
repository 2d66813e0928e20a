#include "serve/openai_protocol.h"

#include <algorithm>

#include "serve/api_error.h"

namespace um::serve {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

ApiError bad_param(const std::string& param, const std::string& msg) {
  return ApiError(400, msg, param, "invalid_value");
}

bool present(const json& b, const char* k) { return b.contains(k) && !b[k].is_null(); }

int64_t get_int(const json& b, const char* k, int64_t fallback, int64_t lo, int64_t hi) {
  if (!present(b, k)) return fallback;
  const json& v = b[k];
  if (!v.is_number_integer()) throw bad_param(k, std::string("'") + k + "' must be an integer");
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) {
    throw bad_param(k, std::string("'") + k + "' must be between " + std::to_string(lo) + " and " +
                           std::to_string(hi) + ", got " + std::to_string(x));
  }
  return x;
}

double get_number(const json& b, const char* k, double fallback, double lo, double hi) {
  if (!present(b, k)) return fallback;
  const json& v = b[k];
  if (!v.is_number()) throw bad_param(k, std::string("'") + k + "' must be a number");
  double x = v.get<double>();
  if (!(x >= lo && x <= hi)) {
    throw bad_param(
        k, std::string("'") + k + "' must be between " + json(lo).dump() + " and " + json(hi).dump());
  }
  return x;
}

bool get_bool(const json& b, const char* k, bool fallback) {
  if (!present(b, k)) return fallback;
  if (!b[k].is_boolean()) throw bad_param(k, std::string("'") + k + "' must be a boolean");
  return b[k].get<bool>();
}

// Features the backends do not implement are refused rather than silently ignored.
void refuse_unsupported(const json& b) {
  for (const char* k : {"frequency_penalty", "presence_penalty"}) {
    if (present(b, k) && (!b[k].is_number() || b[k].get<double>() != 0.0)) {
      throw ApiError(400, std::string("'") + k + "' is not supported by this server", k, "unsupported");
    }
  }
  for (const char* k : {"logit_bias", "tools", "functions", "suffix"}) {
    if (present(b, k) && !(b[k].is_object() && b[k].empty()) && !(b[k].is_array() && b[k].empty())) {
      throw ApiError(400, std::string("'") + k + "' is not supported by this server", k, "unsupported");
    }
  }
  if (get_bool(b, "echo", false))
    throw ApiError(400, "'echo' is not supported by this server", "echo", "unsupported");
  if (present(b, "best_of") && get_int(b, "best_of", 1, 1, 1 << 20) != get_int(b, "n", 1, 1, 1 << 20)) {
    throw ApiError(400, "'best_of' different from n is not supported by this server", "best_of",
                   "unsupported");
  }
}

std::string check_model(const json& b, const std::vector<std::string>& models) {
  if (!present(b, "model")) throw ApiError(400, "'model' is required", "model", "missing_required_parameter");
  if (!b["model"].is_string()) throw bad_param("model", "'model' must be a string");
  std::string m = b["model"].get<std::string>();
  if (std::find(models.begin(), models.end(), m) == models.end()) {
    throw ApiError(404, "The model '" + m + "' does not exist", "model", "model_not_found");
  }
  return m;
}

backend::SamplingParams parse_sampling(const json& b, const ServeOptions& opts) {
  backend::SamplingParams s;
  s.n = static_cast<int>(get_int(b, "n", 1, 1, opts.max_n));
  s.temperature = get_number(b, "temperature", 1.0, 0.0, 2.0);
  s.top_p = get_number(b, "top_p", 1.0, 1e-9, 1.0);
  s.top_k = static_cast<int>(get_int(b, "top_k", 0, -1, 1 << 20));
  if (s.top_k < 0) s.top_k = 0;  // vLLM's -1 = off
  s.min_p = get_number(b, "min_p", 0.0, 0.0, 1.0);
  const char* mt = present(b, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  s.max_tokens =
      static_cast<int>(get_int(b, mt, std::min(opts.max_tokens_limit, 1024), 1, opts.max_tokens_limit));
  if (present(b, "stop")) {
    const json& st = b["stop"];
    if (st.is_string()) {
      s.stop.push_back(st.get<std::string>());
    } else if (st.is_array() && st.size() <= 16) {
      for (const auto& x : st) {
        if (!x.is_string()) throw bad_param("stop", "'stop' must be a string or an array of strings");
        s.stop.push_back(x.get<std::string>());
      }
    } else {
      throw bad_param("stop", "'stop' must be a string or an array of at most 16 strings");
    }
    for (const auto& x : s.stop) {
      if (x.empty()) throw bad_param("stop", "stop strings must not be empty");
    }
  }
  if (present(b, "seed")) {
    if (!b["seed"].is_number_integer()) throw bad_param("seed", "'seed' must be an integer");
    s.seed = b["seed"].is_number_unsigned() ? b["seed"].get<uint64_t>()
                                            : static_cast<uint64_t>(b["seed"].get<int64_t>());
  }
  return s;
}

std::vector<int32_t> token_ids(const json& v, const char* param) {
  std::vector<int32_t> out;
  for (const auto& t : v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
      throw bad_param(param, std::string("'") + param +
                                 "' must contain non-negative integer token ids, got " +
                                 (t.is_number() ? t.dump() : std::string("a ") + t.type_name()));
    }
    out.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return out;
}

std::string message_content(const json& m, size_t i) {
  const std::string param = "messages[" + std::to_string(i) + "].content";
  if (!m.contains("content") || m["content"].is_null()) return "";
  const json& c = m["content"];
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) throw bad_param(param, "'" + param + "' must be a string or an array of text parts");
  std::string out;
  for (const auto& part : c) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
        !part["text"].is_string()) {
      throw ApiError(400, "only text content parts are supported", param, "unsupported");
    }
    out += part["text"].get<std::string>();
  }
  return out;
}

void add_bytes(ojson& o, const std::string& token) {
  ojson bytes = ojson::array();
  for (unsigned char c : token) bytes.push_back(static_cast<int>(c));
  o["bytes"] = std::move(bytes);
}

ojson chat_logprobs(const std::vector<backend::TokenLogprob>& logprobs, size_t from, size_t to) {
  ojson content = ojson::array();
  for (size_t i = from; i < to && i < logprobs.size(); ++i) {
    const auto& t = logprobs[i];
    ojson e;
    e["token"] = t.token;
    e["logprob"] = t.logprob;
    add_bytes(e, t.token);
    ojson tops = ojson::array();
    for (const auto& alt : t.top) {
      ojson a;
      a["token"] = alt.token;
      a["logprob"] = alt.logprob;
      add_bytes(a, alt.token);
      tops.push_back(std::move(a));
    }
    e["top_logprobs"] = std::move(tops);
    content.push_back(std::move(e));
  }
  ojson lp;
  lp["content"] = std::move(content);
  return lp;
}

// The legacy completions logprobs object; text offsets start at `offset`.
ojson completion_logprobs(const std::vector<backend::TokenLogprob>& logprobs, size_t offset) {
  ojson lp, tokens = ojson::array(), lps = ojson::array(), tops = ojson::array(), offs = ojson::array();
  size_t off = offset;
  for (const auto& t : logprobs) {
    tokens.push_back(t.token);
    lps.push_back(t.logprob);
    ojson top = ojson::object();
    for (const auto& alt : t.top) top[alt.token] = alt.logprob;
    tops.push_back(std::move(top));
    offs.push_back(off);
    off += t.token.size();
  }
  lp["tokens"] = std::move(tokens);
  lp["token_logprobs"] = std::move(lps);
  lp["top_logprobs"] = std::move(tops);
  lp["text_offset"] = std::move(offs);
  return lp;
}

ojson usage_json(int64_t prompt, int64_t completion) {
  ojson u;
  u["prompt_tokens"] = prompt;
  u["completion_tokens"] = completion;
  u["total_tokens"] = prompt + completion;
  return u;
}

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

// Splits text into pieces of at most `max` bytes without cutting a UTF-8 sequence.

}  // namespace

json parse_body(const std::string& body) {
  try {
    json j = json::parse(body);
    if (!j.is_object()) throw ApiError(400, "request body must be a JSON object", "", "invalid_json");
    return j;
  } catch (const json::parse_error& e) {
    // nlohmann validates UTF-8 inside strings, so invalid UTF-8 lands here too.
    throw ApiError(400, std::string("request body is not valid JSON: ") + e.what(), "", "invalid_json");
  } catch (const json::out_of_range& e) {
    // A number beyond double's range (1e999): out_of_range.406, not a parse_error.
    throw ApiError(400, std::string("request body holds a number out of range: ") + e.what(), "",
                   "invalid_json");
  }
}

ParsedGenerate parse_chat_request(const json& b, const ServeOptions& opts,
                                  const std::vector<std::string>& models) {
  ParsedGenerate p;
  p.model = check_model(b, models);
  refuse_unsupported(b);
  backend::GenerateRequest req;
  if (!present(b, "messages") || !b["messages"].is_array() || b["messages"].empty()) {
    throw bad_param("messages", "'messages' must be a non-empty array");
  }
  size_t i = 0;
  for (const auto& m : b["messages"]) {
    std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      throw bad_param(param, "'" + param + "' must be an object with a string 'role'");
    }
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant") {
      throw bad_param(param + ".role", "unsupported role '" + role + "'");
    }
    req.messages.push_back({role, message_content(m, i)});
    ++i;
  }
  req.continue_final_message = get_bool(b, "continue_final_message", false);
  bool add_generation_prompt = get_bool(b, "add_generation_prompt", !req.continue_final_message);
  if (req.continue_final_message && (add_generation_prompt || req.messages.back().role != "assistant")) {
    throw bad_param("continue_final_message",
                    "continue_final_message needs a final assistant message and add_generation_prompt=false");
  }
  req.sampling = parse_sampling(b, opts);
  p.logprobs = get_bool(b, "logprobs", false);
  int top = static_cast<int>(get_int(b, "top_logprobs", 0, 0, opts.max_logprobs));
  if (present(b, "top_logprobs") && !p.logprobs)
    throw bad_param("top_logprobs", "top_logprobs needs logprobs=true");
  req.top_logprobs = p.logprobs ? top : -1;
  if (present(b, "allowed_token_ids")) {
    if (!b["allowed_token_ids"].is_array())
      throw bad_param("allowed_token_ids", "'allowed_token_ids' must be an array");
    req.allowed_token_ids = token_ids(b["allowed_token_ids"], "allowed_token_ids");
  }
  p.stream = get_bool(b, "stream", false);
  if (present(b, "stream_options")) {
    if (!b["stream_options"].is_object())
      throw bad_param("stream_options", "'stream_options' must be an object");
    p.include_usage = get_bool(b["stream_options"], "include_usage", false);
  }
  req.key = "chat";
  p.requests.push_back(std::move(req));
  return p;
}

ParsedGenerate parse_completion_request(const json& b, const ServeOptions& opts,
                                        const std::vector<std::string>& models) {
  ParsedGenerate p;
  p.model = check_model(b, models);
  refuse_unsupported(b);
  p.stream = get_bool(b, "stream", false);
  if (present(b, "stream_options")) {
    if (!b["stream_options"].is_object())
      throw bad_param("stream_options", "'stream_options' must be an object");
    p.include_usage = get_bool(b["stream_options"], "include_usage", false);
  }
  backend::GenerateRequest base;
  base.sampling = parse_sampling(b, opts);
  if (present(b, "logprobs")) {
    if (b["logprobs"].is_boolean())
      throw bad_param("logprobs", "'logprobs' must be an integer on /v1/completions");
    base.top_logprobs = static_cast<int>(get_int(b, "logprobs", 0, 0, opts.max_logprobs));
    p.logprobs = true;
  }
  if (present(b, "allowed_token_ids")) {
    if (!b["allowed_token_ids"].is_array())
      throw bad_param("allowed_token_ids", "'allowed_token_ids' must be an array");
    base.allowed_token_ids = token_ids(b["allowed_token_ids"], "allowed_token_ids");
  }
  if (!present(b, "prompt"))
    throw ApiError(400, "'prompt' is required", "prompt", "missing_required_parameter");
  const json& pr = b["prompt"];
  auto add_string = [&](const json& s) {
    backend::GenerateRequest r = base;
    r.prompt = s.get<std::string>();
    p.requests.push_back(std::move(r));
  };
  auto add_ids = [&](const json& ids) {
    if (ids.empty()) throw bad_param("prompt", "'prompt' token id list is empty");
    backend::GenerateRequest r = base;
    r.prompt_tokens = token_ids(ids, "prompt");
    p.requests.push_back(std::move(r));
  };
  if (pr.is_string()) {
    add_string(pr);
  } else if (pr.is_array() && !pr.empty() && pr[0].is_number()) {
    add_ids(pr);
  } else if (pr.is_array() && !pr.empty()) {
    for (const auto& x : pr) {
      if (x.is_string()) {
        add_string(x);
      } else if (x.is_array()) {
        add_ids(x);
      } else {
        throw bad_param("prompt", "'prompt' must be a string, token ids, or a list of them");
      }
    }
  } else {
    throw bad_param("prompt", "'prompt' must be a string, token ids, or a non-empty list of them");
  }
  if (static_cast<int64_t>(p.requests.size()) * base.sampling.n > opts.max_n) {
    throw bad_param("prompt", "prompts x n exceeds the server's limit of " + std::to_string(opts.max_n));
  }
  for (size_t i = 0; i < p.requests.size(); ++i) p.requests[i].key = "prompt-" + std::to_string(i);
  return p;
}

std::string chat_response(const ParsedGenerate& p, const backend::GenerateResult& r, const std::string& id,
                          int64_t created) {
  ojson j;
  j["id"] = id;
  j["object"] = "chat.completion";
  j["created"] = created;
  j["model"] = p.model;
  ojson choices = ojson::array();
  for (size_t i = 0; i < r.samples.size(); ++i) {
    const auto& s = r.samples[i];
    ojson c;
    c["index"] = i;
    ojson msg;
    msg["role"] = "assistant";
    msg["content"] = s.text;
    c["message"] = std::move(msg);
    c["logprobs"] = p.logprobs ? chat_logprobs(s.logprobs, 0, s.logprobs.size()) : ojson(nullptr);
    c["finish_reason"] = s.finish_reason;
    choices.push_back(std::move(c));
  }
  j["choices"] = std::move(choices);
  j["usage"] = usage_json(r.prompt_tokens, r.completion_tokens);
  return dump(j);
}

std::string completion_response(const ParsedGenerate& p, const std::vector<backend::GenerateResult>& results,
                                const std::string& id, int64_t created) {
  ojson j;
  j["id"] = id;
  j["object"] = "text_completion";
  j["created"] = created;
  j["model"] = p.model;
  ojson choices = ojson::array();
  int64_t prompt = 0, completion = 0;
  size_t index = 0;
  for (const auto& r : results) {
    prompt += r.prompt_tokens;
    completion += r.completion_tokens;
    for (const auto& s : r.samples) {
      ojson c;
      c["index"] = index++;
      c["text"] = s.text;
      c["logprobs"] = p.logprobs ? completion_logprobs(s.logprobs, 0) : ojson(nullptr);
      c["finish_reason"] = s.finish_reason;
      choices.push_back(std::move(c));
    }
  }
  j["choices"] = std::move(choices);
  j["usage"] = usage_json(prompt, completion);
  return dump(j);
}

namespace {
std::string sse(const ojson& j) { return "data: " + dump(j) + "\n\n"; }
ojson chunk_head(const ParsedGenerate& p, const std::string& id, int64_t created, bool chat) {
  ojson j;
  j["id"] = id;
  j["object"] = chat ? "chat.completion.chunk" : "text_completion";
  j["created"] = created;
  j["model"] = p.model;
  return j;
}
}  // namespace

std::string chat_role_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, size_t index) {
  ojson j = chunk_head(p, id, created, true);
  ojson c, delta;
  delta["role"] = "assistant";
  delta["content"] = "";
  c["index"] = index;
  c["delta"] = std::move(delta);
  c["logprobs"] = nullptr;
  c["finish_reason"] = nullptr;
  j["choices"] = ojson::array({std::move(c)});
  return sse(j);
}

std::string stream_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, bool chat,
                         size_t index, const backend::SampleDelta& d, size_t text_offset) {
  ojson j = chunk_head(p, id, created, chat);
  ojson c;
  c["index"] = index;
  if (chat) {
    ojson delta = ojson::object();
    if (!d.text.empty() || d.finish_reason.empty()) delta["content"] = d.text;
    c["delta"] = std::move(delta);
    c["logprobs"] =
        p.logprobs && !d.logprobs.empty() ? chat_logprobs(d.logprobs, 0, d.logprobs.size()) : ojson(nullptr);
  } else {
    c["text"] = d.text;
    c["logprobs"] = p.logprobs ? completion_logprobs(d.logprobs, text_offset) : ojson(nullptr);
  }
  c["finish_reason"] = d.finish_reason.empty() ? ojson(nullptr) : ojson(d.finish_reason);
  j["choices"] = ojson::array({std::move(c)});
  return sse(j);
}

std::string usage_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, bool chat,
                        int64_t prompt_tokens, int64_t completion_tokens) {
  ojson j = chunk_head(p, id, created, chat);
  j["choices"] = ojson::array();
  j["usage"] = usage_json(prompt_tokens, completion_tokens);
  return sse(j);
}

std::string error_event(const std::string& message, const std::string& type, const std::string& code) {
  return "data: " + error_body(message, type, "", code) + "\n\n";
}

std::string error_body(const std::string& message, const std::string& type, const std::string& param,
                       const std::string& code) {
  ojson e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = param.empty() ? ojson(nullptr) : ojson(param);
  e["code"] = code.empty() ? ojson(nullptr) : ojson(code);
  ojson j;
  j["error"] = std::move(e);
  return dump(j);
}

}  // namespace um::serve
