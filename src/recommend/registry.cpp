// The name -> factory table of recommenders. Built-ins are "name[?options]"; external ones are
// "scheme:ARGUMENT" (file:PATH, recbole:PATH, http:URL[?options]).
#include <array>

#include "recommend/detail.h"

namespace um::recommend {
namespace {

struct Row {
  const char* name;
  bool builtin;  // false: "name:ARGUMENT"
  detail::Factory make;
};

const std::array<Row, 8>& table() {
  static const std::array<Row, 8> rows = {{
      {"random", true, detail::make_random},
      {"pop", true, detail::make_pop},
      {"itemknn", true, detail::make_itemknn},
      {"ease", true, detail::make_ease},
      {"bpr", true, detail::make_bpr},
      {"file", false, detail::make_file},
      {"recbole", false, detail::make_recbole},
      {"http", false, detail::make_http},
  }};
  return rows;
}

}  // namespace

std::unique_ptr<Recommender> make_recommender(std::string_view spec, const Split& split,
                                              const RecommenderOptions& options) {
  const std::string text(spec);
  if (size_t colon = text.find(':'); colon != std::string::npos) {
    const std::string scheme = text.substr(0, colon);
    for (const Row& r : table()) {
      if (r.builtin || scheme != r.name) continue;
      std::string_view arg = std::string_view(text).substr(colon + 1);
      // file:/recbole: take the whole rest as a path; http: keeps "?options" for itself.
      detail::Options none(text, {});
      if (arg.empty()) detail::spec_error(text, "missing " + std::string(scheme == "http" ? "URL" : "path"));
      auto rec = r.make(text, arg, none, split, options);
      return rec;
    }
  } else {
    auto [name, opts] = detail::parse_spec(text);
    for (const Row& r : table()) {
      if (!r.builtin || name != r.name) continue;
      auto rec = r.make(text, {}, opts, split, options);
      opts.finish();
      return rec;
    }
  }
  std::string known;
  for (const Row& r : table())
    known += std::string(known.empty() ? "" : ", ") + r.name + (r.builtin ? "" : ":...");
  detail::spec_error(text, "unknown recommender (known: " + known + ")");
}

std::vector<std::string> builtin_recommenders() {
  std::vector<std::string> out;
  for (const auto& r : table())
    if (r.builtin) out.push_back(r.name);
  return out;
}

}  // namespace um::recommend
