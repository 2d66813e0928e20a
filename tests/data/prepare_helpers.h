#pragma once
// Helpers for the data tests: run prepare into a fresh work dir and read the outputs back as
// nlohmann::json values (an independent JSON parser from the simdjson used by the readers).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "data/data.h"

namespace um::testing {

inline std::filesystem::path fixture(const std::string& name) {
  return source_dir() / "tests" / "fixtures" / "raw" / name;
}

// A copy of fixture `name` in a fresh temporary folder, with the ".fixture" suffix removed from file
// names. Fixtures named like the official files of datasets that may not be redistributed
// (user_artists.dat, behaviors.tsv, ...) are stored with that suffix, so nobody mistakes the
// hand-written few lines for a copy of the real data.
inline std::filesystem::path raw_fixture(const std::string& name) {
  std::filesystem::path out = temp_dir("fixture-" + name);
  for (const auto& e : std::filesystem::directory_iterator(fixture(name))) {
    std::string file = e.path().filename().string();
    const std::string suffix = ".fixture";
    if (file.size() > suffix.size() && file.ends_with(suffix)) file.resize(file.size() - suffix.size());
    std::filesystem::copy_file(e.path(), out / file);
  }
  return out;
}

inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

struct Prepared {
  std::filesystem::path work;
  data::PrepareResult result;
  std::vector<nlohmann::json> users, items, interactions;
  // Records keyed by id (the last one wins; ids are unique in valid outputs).
  std::map<std::string, nlohmann::json> user_by_id() const {
    std::map<std::string, nlohmann::json> m;
    for (const auto& u : users) m[u["user_id"].get<std::string>()] = u;
    return m;
  }
  std::map<std::string, nlohmann::json> item_by_id() const {
    std::map<std::string, nlohmann::json> m;
    for (const auto& i : items) m[i["item_id"].get<std::string>()] = i;
    return m;
  }
  uint64_t stat(const std::string& key) const {
    auto it = result.stats.find(key);
    return it == result.stats.end() ? 0 : it->second;
  }
};

inline Prepared run_prepare(const std::string& dataset, const std::filesystem::path& raw,
                            data::FilterOptions filters = {}, bool skip_bad = false) {
  Prepared p;
  p.work = temp_dir("prep-" + dataset);
  p.result = data::prepare(
      {.dataset = dataset, .raw_dir = raw, .work_dir = p.work, .skip_bad = skip_bad, .filters = filters});
  p.users = read_jsonl(p.work / data::user_file(dataset));
  p.items = read_jsonl(p.work / data::item_file(dataset));
  p.interactions = read_jsonl(p.work / data::interaction_file(dataset));
  return p;
}

}  // namespace um::testing
