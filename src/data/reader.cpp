#include "data/reader.h"

namespace um::data {

void BadRecords::report(const util::Error& e) {
  if (!skip_) throw e;
  counts_[e.reason()]++;
}

uint64_t BadRecords::total() const {
  uint64_t t = 0;
  for (const auto& [k, v] : counts_) t += v;
  return t;
}

std::filesystem::path ReadContext::require(const std::string& file) const {
  auto p = raw_dir / file;
  if (!std::filesystem::exists(p))
    throw util::Error("raw file missing for dataset " + dataset, {.file = p.string()});
  return p;
}

std::filesystem::path ReadContext::require_any(const std::vector<std::string>& candidates) const {
  std::string names;
  for (const auto& c : candidates) {
    auto p = raw_dir / c;
    if (std::filesystem::exists(p)) return p;
    names += (names.empty() ? "" : ", ") + c;
  }
  throw util::Error("raw file missing for dataset " + dataset + " (looked for " + names + ")",
                    {.file = raw_dir.string()});
}

const ReaderEntry* match_reader(std::string_view dataset) {
  for (const auto& e : reader_table()) {
    if (e.prefix ? dataset.starts_with(e.name) && dataset.size() > e.name.size() : dataset == e.name)
      return &e;
  }
  return nullptr;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& e : reader_table()) names.push_back(e.name + (e.prefix ? "<Category>" : ""));
  return names;
}

const ReaderEntry& find_reader(const std::string& dataset) {
  if (const ReaderEntry* e = match_reader(dataset)) return *e;
  std::string known;
  for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  throw util::Error("unknown dataset '" + dataset + "' (known: " + known + ")");
}

}  // namespace um::data
