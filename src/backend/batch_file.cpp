#include "backend/batch_file.h"

#include <nlohmann/json.hpp>

#include "backend/openai/openai_wire.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"

namespace um::backend {

void write_batch_input(const std::filesystem::path& path, const std::vector<GenerateRequest>& requests,
                       const std::string& model) {
  util::AtomicWriter out(path);
  util::JsonWriter w;
  for (const auto& r : requests) {
    if (wire::uses_completions(r) || r.messages.empty()) {
      throw util::Error("batch export needs chat messages", {.record = r.key});
    }
    const SamplingParams& s = r.sampling;
    w.clear();
    w.begin_object();
    w.key("method"), w.value("POST");
    w.key("url"), w.value("/v1/chat/completions");
    w.key("custom_id"), w.value(r.key);
    w.key("body");
    w.begin_object();
    w.key("n"), w.value(s.n);
    w.key("model"), w.value(model);
    w.key("temperature"), w.value(s.temperature);
    w.key("top_p"), w.value(s.top_p);
    w.key("max_tokens"), w.value(s.max_tokens);
    w.key("messages");
    w.begin_array();
    for (const auto& m : r.messages) {
      w.begin_object();
      w.key("role"), w.value(m.role);
      w.key("content"), w.value(m.content);
      w.end_object();
    }
    w.end_array();
    w.key("stop");
    if (s.stop.empty()) {
      w.null();
    } else {
      w.begin_array();
      for (const auto& st : s.stop) w.value(st);
      w.end_array();
    }
    if (s.seed) w.key("seed"), w.value(static_cast<uint64_t>(*s.seed));
    if (s.top_k > 0) w.key("top_k"), w.value(s.top_k);
    if (s.min_p > 0) w.key("min_p"), w.value(s.min_p);
    if (r.continue_final_message) {
      w.key("continue_final_message"), w.value(true);
      w.key("add_generation_prompt"), w.value(false);
    }
    w.end_object();
    w.end_object();
    w.newline();
    out.write(w.str());
  }
  out.commit();
}

std::vector<BatchOutputRecord> read_batch_output(const std::filesystem::path& path) {
  using nlohmann::json;
  std::vector<BatchOutputRecord> out;
  util::LineReader in(path);
  std::string_view line;
  while (in.next(line)) {
    if (line.empty()) continue;
    util::Location at{.file = path.string(), .line = in.line_number()};
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw util::Error("batch output line is not a JSON object", at);
    auto cid = j.find("custom_id");
    if (cid == j.end() || !cid->is_string()) {
      at.field = "custom_id";
      throw util::Error("missing or non-string custom_id", at);
    }
    BatchOutputRecord rec{cid->get<std::string>(), std::nullopt, "", in.line_number()};
    at.record = rec.custom_id;
    auto err = j.find("error");
    auto resp = j.find("response");
    if (err != j.end() && !err->is_null()) {
      rec.error = err->is_object() ? err->value("message", err->dump()) : err->dump();
    } else if (resp == j.end() || !resp->is_object()) {
      rec.error = "no response";
    } else {
      int status = resp->value("status_code", 0);
      auto body = resp->find("body");
      if (status < 200 || status >= 300 || body == resp->end()) {
        rec.error = "status " + std::to_string(status) +
                    (body != resp->end() ? ": " + body->dump().substr(0, 300) : std::string());
      } else {
        try {
          rec.result = wire::parse_generate(body->dump(), false);
        } catch (const util::Error& e) {
          at.field = "response.body";
          throw util::Error(e.message(), at);
        }
      }
    }
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace um::backend
