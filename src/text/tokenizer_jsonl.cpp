#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "text/tokenizer.h"
#include "util/error.h"

namespace um::text {

int64_t encode_json_lines(const Tokenizer& tok, std::istream& in, std::ostream& out, bool add_special_tokens,
                          unsigned threads, const std::string& source) {
  constexpr size_t kBlock = 4096;
  std::vector<std::string> texts;
  std::string line, buf;
  int64_t line_no = 0;
  auto flush = [&] {
    auto ids = tok.encode_batch(texts, add_special_tokens, threads);
    for (const auto& v : ids) {
      buf.clear();
      buf.push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) buf.push_back(',');
        buf += std::to_string(v[i]);
      }
      buf += "]\n";
      out << buf;
    }
    texts.clear();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw util::Error(std::string("not valid JSON: ") + e.what(), {.file = source, .line = line_no});
    }
    if (!j.is_string()) {
      throw util::Error("expected a JSON string, got " + std::string(j.type_name()),
                        {.file = source, .line = line_no});
    }
    texts.push_back(j.get<std::string>());
    if (texts.size() == kBlock) flush();
  }
  flush();
  out.flush();
  if (!out) throw util::Error("cannot write the output", {.file = "<stdout>"});
  return line_no;
}

}  // namespace um::text
