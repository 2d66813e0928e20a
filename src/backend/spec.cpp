#include <algorithm>
#include <charconv>
#include <cmath>

#include "backend/backend.h"
#include "util/error.h"

namespace um::backend {
namespace {

util::Error spec_error(std::string_view spec, const std::string& msg) {
  return util::Error("backend spec '" + std::string(spec) + "': " + msg, {.field = "backend"});
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

BackendSpec parse_backend_spec(std::string_view spec) {
  BackendSpec out;
  out.text = std::string(spec);
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw spec_error(spec,
                     "expected <kind>:<target>, e.g. local:/models/qwen2.5-3b or openai:http://host:8000/v1");
  }
  out.kind = std::string(spec.substr(0, colon));
  for (char c : out.kind) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      throw spec_error(spec, "backend kind '" + out.kind + "' has invalid characters");
    }
  }
  std::string_view rest = spec.substr(colon + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.empty()) throw spec_error(spec, "no target after '" + out.kind + ":'");
  for (auto& t : split(rest, ',')) {
    if (t.empty()) throw spec_error(spec, "empty target in the comma-separated list");
    out.targets.push_back(std::move(t));
  }
  if (!query.empty()) {
    for (auto& kv : split(query, '&')) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw spec_error(spec, "option '" + kv + "' is not key=value");
      }
      std::string key = kv.substr(0, eq);
      if (out.options.count(key)) throw spec_error(spec, "option '" + key + "' given twice");
      out.options[key] = kv.substr(eq + 1);
    }
  }
  return out;
}

std::string SpecOptions::str(const std::string& key, const std::string& fallback) {
  used_.push_back(key);
  auto it = spec_.options.find(key);
  return it == spec_.options.end() ? fallback : it->second;
}

int64_t SpecOptions::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  used_.push_back(key);
  auto it = spec_.options.find(key);
  if (it == spec_.options.end()) return fallback;
  const std::string& v = it->second;
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size()) {
    throw spec_error(spec_.text, "option " + key + "='" + v + "' is not an integer");
  }
  if (x < min || x > max) {
    throw spec_error(spec_.text, "option " + key + "=" + v + " is outside [" + std::to_string(min) + ", " +
                                     std::to_string(max) + "]");
  }
  return x;
}

double SpecOptions::number(const std::string& key, double fallback, double min, double max) {
  used_.push_back(key);
  auto it = spec_.options.find(key);
  if (it == spec_.options.end()) return fallback;
  const std::string& v = it->second;
  double x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x)) {
    throw spec_error(spec_.text, "option " + key + "='" + v + "' is not a number");
  }
  if (x < min || x > max) throw spec_error(spec_.text, "option " + key + "=" + v + " is out of range");
  return x;
}

void SpecOptions::reject_unknown() const {
  std::string unknown;
  for (const auto& [k, v] : spec_.options) {
    if (std::find(used_.begin(), used_.end(), k) == used_.end()) unknown += (unknown.empty() ? "" : ", ") + k;
  }
  if (!unknown.empty()) {
    std::string known;
    for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
    throw spec_error(
        spec_.text, "unknown option(s) " + unknown + " for kind '" + spec_.kind + "' (known: " + known + ")");
  }
}

}  // namespace um::backend
