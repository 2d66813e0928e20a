// The strategy table, keyed by family. Which dataset uses which family is said once, by the dataset's
// row in data/reader_registry.cpp (`data::ReaderEntry::scene_family`), so a name that can be prepared
// has a strategy and no name is spelled here (docs/architecture.md, "… a dataset").
#include <functional>

#include "data/reader.h"
#include "scene/strategy/strategies.h"
#include "util/error.h"

namespace um::scene {

namespace {

using Factory = std::unique_ptr<Strategy> (*)(std::string_view, const data::ReaderEntry&);

struct Row {
  const char* family;
  Factory make;
};

constexpr Row kTable[] = {
    {"amazon", strategies::amazon},       {"goodreads", strategies::goodreads},
    {"kuairec", strategies::kuairec},     {"lastfm", strategies::lastfm},
    {"mind", strategies::mind},           {"mobilerec", strategies::mobilerec},
    {"movielens", strategies::movielens}, {"steam", strategies::steam},
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(std::string_view dataset) {
  if (const data::ReaderEntry* reader = data::match_reader(dataset)) {
    for (const auto& row : kTable) {
      if (reader->scene_family == row.family) return row.make(dataset, *reader);
    }
    throw util::NotSupported("dataset '" + std::string(dataset) + "' names scene family '" +
                                 reader->scene_family + "', which has no strategy",
                             {.field = "dataset"});
  }
  std::string known;
  for (const auto& n : strategy_names()) known += (known.empty() ? "" : ", ") + n;
  throw util::NotSupported(
      "no scene strategy for dataset '" + std::string(dataset) + "' (known: " + known + ")",
      {.field = "dataset"});
}

std::vector<std::string> strategy_names() { return data::dataset_names(); }

std::vector<std::string> strategy_families() {
  std::vector<std::string> families;
  for (const auto& row : kTable) families.emplace_back(row.family);
  return families;
}

}  // namespace um::scene
