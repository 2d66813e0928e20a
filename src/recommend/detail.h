#pragma once
// Internals shared by the recommender files: spec options, top-K selection with the documented tie
// rule, history masks, the binary train matrix and the list-file reader behind file: and recbole:.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "recommend/recommend.h"

namespace um::recommend::detail {

// "name?key=value&key=value": the name and its options. Every option must be consumed by the
// factory (Options::finish throws util::Error field "recommenders" for leftovers).
class Options {
 public:
  Options(std::string spec, std::map<std::string, std::string> values)
      : spec_(std::move(spec)), values_(std::move(values)) {}
  double number(const std::string& key, double fallback, double lo, double hi);
  int64_t integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi);
  void finish() const;  // throws for options nobody read
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  std::map<std::string, std::string> values_;
};

// Splits "name?a=1&b=2" (the query part is optional).
std::pair<std::string, Options> parse_spec(std::string_view spec);

[[noreturn]] void spec_error(const std::string& spec, const std::string& message);

// Per-item flags of the query history (and checks the query's rows against the split).
std::vector<char> history_mask(const Split& split, const Query& q);

// The k best candidates of split.train_items outside `excluded`, by score descending, ties by
// ascending item row. `score` is indexed by item row.
std::vector<uint32_t> top_k(const Split& split, const std::vector<double>& score,
                            const std::vector<char>& excluded, size_t k);

// The binary user x item train matrix (each (user, item) pair once), both ways, rows ascending.
struct TrainMatrix {
  std::vector<std::vector<uint32_t>> items_of_user;  // ascending item rows
  std::vector<std::vector<uint32_t>> users_of_item;  // ascending user rows
  int64_t pairs = 0;
};
TrainMatrix train_matrix(const Split& split);

// Ranked id lists per user, as read from a file: recommender or a RecBole top-K file.
struct ListEntry {
  std::optional<int64_t> t_us;  // absent: the list holds at every time
  std::vector<int64_t> items;   // item rows; -1 = id not in the dataset
  int64_t line = 0;
};
struct ListTable {
  std::filesystem::path file;
  std::vector<std::vector<ListEntry>> by_user;  // per user row, ascending t_us
  int64_t lines = 0, unknown_users = 0;
};
// Adds one list; throws util::Error (file/line/field) for a duplicate or mixed timing.
void add_list(ListTable& table, uint32_t user, ListEntry entry, const std::string& field);
// Sorts each user's timed lists (call once after the last add_list).
void finish_lists(ListTable& table);
// The list for a query: the latest with t_us <= q.t_us (or the untimed one), with unknown ids,
// history items and duplicates dropped and counted; skip reasons for users without a list.
Recommendation answer_from_lists(const ListTable& table, const Split& split, const Query& q);

// A recommender answering from `table` (kind: "file" or "recbole", the prefix of its stats).
std::unique_ptr<Recommender> make_list_recommender(const std::string& spec, const Split& split,
                                                   ListTable table, const std::string& kind);

// Copies a ranked list of item rows (-1 = unknown id) into `r` up to k items, dropping and counting
// unknown ids, history items and repeats; sets r.skip when nothing is left.
void take_ranked(Recommendation& r, const std::vector<int64_t>& items, const std::vector<char>& history,
                 size_t k);

// id -> row maps of the split's tables.
std::unordered_map<std::string, uint32_t> index_ids(const std::vector<std::string>& ids);

// Factories of the registry (one per file).
using Factory =
    std::function<std::unique_ptr<Recommender>(const std::string& spec, std::string_view arg, Options& opts,
                                               const Split& split, const RecommenderOptions& options)>;
std::unique_ptr<Recommender> make_random(const std::string&, std::string_view, Options&, const Split&,
                                         const RecommenderOptions&);
std::unique_ptr<Recommender> make_pop(const std::string&, std::string_view, Options&, const Split&,
                                      const RecommenderOptions&);
std::unique_ptr<Recommender> make_itemknn(const std::string&, std::string_view, Options&, const Split&,
                                          const RecommenderOptions&);
std::unique_ptr<Recommender> make_ease(const std::string&, std::string_view, Options&, const Split&,
                                       const RecommenderOptions&);
std::unique_ptr<Recommender> make_bpr(const std::string&, std::string_view, Options&, const Split&,
                                      const RecommenderOptions&);
std::unique_ptr<Recommender> make_file(const std::string&, std::string_view, Options&, const Split&,
                                       const RecommenderOptions&);
std::unique_ptr<Recommender> make_recbole(const std::string&, std::string_view, Options&, const Split&,
                                          const RecommenderOptions&);
std::unique_ptr<Recommender> make_http(const std::string&, std::string_view, Options&, const Split&,
                                       const RecommenderOptions&);

}  // namespace um::recommend::detail
