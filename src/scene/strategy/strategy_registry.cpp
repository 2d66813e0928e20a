#include <functional>

#include "scene/strategy/strategies.h"
#include "util/error.h"

namespace um::scene {

namespace {

using Factory = std::unique_ptr<Strategy> (*)(std::string_view);

struct Row {
  const char* name;
  Factory make;
};

// Exact names. Names containing "Amazon" are matched separately (Amazon-<Category>).
constexpr Row kTable[] = {
    {"ml-1m", strategies::movielens},
    {"ml-100k", strategies::movielens},
    {"ml-latest-small", strategies::movielens},
    {"ml-latest", strategies::movielens},
    {"ml-10m", strategies::movielens},
    {"ml-20m", strategies::movielens},
    {"ml-25m", strategies::movielens},
    {"ml-32m", strategies::movielens},
    {"goodreads", strategies::goodreads},
    {"KuaiRec2", strategies::kuairec},
    {"LastFM", strategies::lastfm},
    {"MIND", strategies::mind},
    {"mobilerec", strategies::mobilerec},
    {"steam", strategies::steam},
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(std::string_view dataset) {
  for (const auto& row : kTable) {
    if (dataset == row.name) return row.make(dataset);
  }
  if (dataset.find("Amazon") != std::string_view::npos) return strategies::amazon(dataset);
  std::string known;
  for (const auto& n : strategy_names()) known += (known.empty() ? "" : ", ") + n;
  throw util::NotSupported(
      "no scene strategy for dataset '" + std::string(dataset) + "' (known: " + known + ")",
      {.field = "dataset"});
}

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (const auto& row : kTable) names.emplace_back(row.name);
  names.emplace_back("Amazon-<Category>");
  return names;
}

}  // namespace um::scene
