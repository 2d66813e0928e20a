#pragma once
// Raw-dataset readers: one file per format under data/readers/, one row each in the table of
// reader_registry.cpp. A reader turns the official raw files into a Dataset and applies the reference's
// per-dataset filtering (docs/method.md §2), with every parameter overridable from the CLI.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/compat.h"
#include "data/schema.h"
#include "util/error.h"

namespace um::data {

// Optional overrides of the per-dataset filter parameters; unset = the reference's value.
struct FilterOptions {
  std::optional<int64_t> min_user_interactions;  // users with fewer interactions are dropped
  std::optional<int64_t> max_user_interactions;  // users with more are dropped (steam: 20)
  std::optional<int64_t> min_item_interactions;  // items with fewer interactions are dropped
  std::optional<double> keep_latest_fraction;    // Amazon: keep the latest 30 % of reviews
  std::optional<int64_t> min_rating_number;      // Amazon: item meta rating_number threshold
  std::optional<int64_t> max_rows;               // read at most this many interaction rows
  bool kcore = false;                            // iterate the user/item minimums to a fixed point
};

// The reference's filter values for one dataset (docs/method.md §2), held by its row of the reader
// table; each is overridden by the FilterOptions field of the same name. 0 = no such filter.
struct FilterDefaults {
  int64_t min_user_interactions = 0;
  int64_t max_user_interactions = 0;  // 0 = no maximum
  int64_t min_item_interactions = 0;
  double keep_latest_fraction = 1.0;  // Amazon: 0.3 (1 = every review)
  int64_t min_rating_number = 0;      // Amazon: 10
};

// Bad input policy: fail at the first bad record (default), or count and skip (--skip-bad).
class BadRecords {
 public:
  explicit BadRecords(bool skip) : skip_(skip) {}
  // Throws `e` unless skipping; otherwise counts it under e.reason().
  void report(const util::Error& e);
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  uint64_t total() const;

 private:
  bool skip_;
  std::map<std::string, uint64_t> counts_;
};

struct ReadContext {
  std::filesystem::path raw_dir;
  std::string dataset;      // the name asked for (e.g. "Amazon-Beauty")
  FilterOptions filters;    // the user's overrides
  FilterDefaults defaults;  // the dataset's row (ReaderEntry::filters): what an unset override means
  BadRecords* bad = nullptr;
  // Compat::reference: the reference's preprocessing where usermirror deliberately differs (ml-1m:
  // the reference's age labels and every users.dat line, docs/reference-differences.md).
  Compat compat = Compat::usermirror;
  // Named counters the reader wants in the summary (e.g. "ratings read", "dropped: duplicate").
  std::map<std::string, uint64_t>* stats = nullptr;
  void count(const std::string& key, uint64_t n = 1) const {
    if (stats) (*stats)[key] += n;
  }
  // Path of a required raw file; error naming it (and what the folder should contain) if absent.
  std::filesystem::path require(const std::string& file) const;
  // First of `candidates` that exists (e.g. with and without .gz), or error naming them all.
  std::filesystem::path require_any(const std::vector<std::string>& candidates) const;
};

// One row per dataset name: the only table of dataset names (the scene side has none), and everything
// that differs between datasets read by the same reader or rendered by the same scene family, so
// adding a dataset is one row (docs/architecture.md, "… a dataset"). Nothing outside the table
// compares a dataset's name.
struct ReaderEntry {
  std::string name;  // dataset name, or a prefix when `prefix` (e.g. "Amazon-")
  bool prefix = false;
  std::string description;  // raw files expected, for --help and errors
  std::function<Dataset(const ReadContext&)> read;
  // Scene-strategy family the prepared dataset uses ("movielens", "steam", "amazon", ...): a key of
  // the strategy table in scene/strategy/strategy_registry.cpp.
  std::string scene_family;
  // The reference's filter values (handed to `read` as ReadContext::defaults).
  FilterDefaults filters;
  // The prepared users carry descriptive attributes that the family's profile template renders
  // (MovieLens: ml-1m and ml-100k publish gender, age, occupation and zip code; the other releases
  // publish none, so their profile is empty). Read by the families whose releases differ in this.
  bool user_attributes = false;
};

const std::vector<ReaderEntry>& reader_table();
// Entry for a dataset name; error listing the known names when none matches.
const ReaderEntry& find_reader(const std::string& dataset);
// Entry for a dataset name, or nullptr when none matches.
const ReaderEntry* match_reader(std::string_view dataset);
// The table's names as a user types them ("Amazon-<Category>" for the prefix row), in table order.
std::vector<std::string> dataset_names();

}  // namespace um::data
