#pragma once
// recommend — the recommenders that the arena puts in front of simulated users (docs/arena.md):
// train/test splits of a prepared dataset, built-in recommenders trained on the train part
// (random, pop, itemknn, ease, bpr), external ones (file:, recbole:, http:), RecBole export, and the
// offline metrics (HR/Recall/NDCG/MRR@K) on the held-out part.
//
//   data::Dataset ds = data::load_dataset(work, "ml-1m");
//   recommend::Split split = recommend::make_split(ds, recommend::parse_split("global-time:0.9"));
//   auto users = recommend::sample_test_users(split, 200, seed);
//   auto rec = recommend::make_recommender("ease?lambda=500", split, {.seed = seed});
//   recommend::Query q{.user = users[0], .history = split.train_items(users[0]), .t_us = ..., .k = 10};
//   recommend::Recommendation r = rec->recommend(q);
//
// Item and user identities are the dataset's rows (data::Dataset::items / users), so pages render
// with the scene templates directly. Determinism: every random choice comes from
// util::Rng::stream(seed, "recommend/<name>/...", record); results never depend on the thread count.
// Errors: util::Error naming file/line/field (bad specs name the field "recommenders"). Thread
// safety: a constructed Recommender is immutable; recommend() and recommend_batch() may be called
// from any thread.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/schema.h"

namespace um::recommend {

// ---- splits -------------------------------------------------------------------------------------

// "global-time[:Q]" (Q in (0,1), default 0.9): train = interactions at or before the Q-quantile of
// all timestamps (numpy's default linear percentile of the timestamps), test = after it.
// "leave-last[:N]" (N >= 1, default 1): each user's last N interactions (time order, ties in file
// order) are test, the rest train. Throws util::Error (field "split") on anything else.
struct SplitSpec {
  enum class Kind { GlobalTime, LeaveLast };
  Kind kind = Kind::GlobalTime;
  double quantile = 0.9;
  int last = 1;
  std::string text() const;  // canonical spelling, e.g. "global-time:0.9"
};
SplitSpec parse_split(std::string_view spec);

struct Event {
  uint32_t item = 0;  // item row
  int64_t t_us = 0;
};

struct Split {
  SplitSpec spec;
  std::string dataset;
  int64_t cutoff_us = 0;                        // global-time: the quantile timestamp; leave-last: 0
  size_t num_users = 0, num_items = 0;          // rows of the dataset
  std::vector<std::string> user_ids, item_ids;  // the dataset's ids by row (external recommenders)
  std::vector<std::vector<Event>> train, test;  // per user row, time order (ties: file order)
  // Items with at least one train interaction, ascending: the candidates every recommender ranks.
  std::vector<uint32_t> train_items;
  std::vector<char> in_train;  // per item row
  // Users with >= 1 train and >= 1 test interaction (after dropping unseen items), ascending rows.
  std::vector<uint32_t> test_users;
  int64_t interactions = 0;         // valid interactions read (user and item known)
  int64_t unknown_ids = 0;          // interactions naming a user/item absent from the tables, ignored
  int64_t train_interactions = 0;   // sum of train sizes
  int64_t test_interactions = 0;    // kept test interactions (items seen in train)
  int64_t dropped_unseen_test = 0;  // test interactions whose item has no train interaction

  std::vector<uint32_t> train_items_of(uint32_t user) const;  // the user's train items, time order
  // Time of the user's first test interaction (the arena's "now" for that user).
  int64_t first_test_us(uint32_t user) const { return test[user].front().t_us; }
};

Split make_split(const data::Dataset& ds, const SplitSpec& spec);

// min(n, test_users.size()) test users drawn without replacement from stream (seed,
// "recommend/users", 0), returned ascending; n = 0 means all. `capped` is set when n was larger
// than the number available.
std::vector<uint32_t> sample_test_users(const Split& split, size_t n, uint64_t seed, bool* capped = nullptr);

// ---- recommenders --------------------------------------------------------------------------------

struct Query {
  uint32_t user = 0;              // user row
  std::vector<uint32_t> history;  // item rows the user has seen so far, time order (excluded)
  int64_t t_us = 0;               // "now" (file recommenders with timestamps pick by it)
  size_t k = 10;
};

struct Recommendation {
  std::vector<uint32_t> items;  // ranked item rows, no history item, no duplicates, <= k
  // Non-empty when the recommender has no list for this query (e.g. user missing from a file):
  // the reason, counted by the caller; items is then empty.
  std::string skip;
  int64_t unknown_items = 0;   // ids the recommender returned that are not in the dataset (dropped)
  int64_t excluded_items = 0;  // returned history items or duplicates (dropped)
};

struct RecommenderOptions {
  uint64_t seed = 0;
  unsigned threads = 0;   // 0 = all cores; results never depend on it
  bool progress = false;  // progress bars while training
};

class Recommender {
 public:
  virtual ~Recommender() = default;
  // The spec as given, e.g. "ease?lambda=500" — the name used in reports.
  const std::string& name() const { return name_; }
  virtual Recommendation recommend(const Query& q) const = 0;
  // Default: recommend() for each query (in parallel); external recommenders that talk to a
  // service override it to keep many requests in flight. Aligned with `queries`.
  virtual std::vector<Recommendation> recommend_batch(const std::vector<Query>& queries) const;
  // Counters for the report, e.g. {"file: lines naming unknown users", 3}; empty for built-ins.
  virtual std::map<std::string, int64_t> stats() const { return {}; }

 protected:
  explicit Recommender(std::string name, unsigned threads = 0) : name_(std::move(name)), threads_(threads) {}
  unsigned threads() const { return threads_; }

 private:
  std::string name_;
  unsigned threads_ = 0;
};

// Specs: "random", "pop[?window=DAYS]", "itemknn[?k=100&shrink=10]", "ease[?lambda=500]",
// "bpr[?factors=64&epochs=20&lr=0.05&reg=0.0025&neg=1]", "file:PATH", "recbole:PATH",
// "http:URL[?timeout=10&concurrency=8&attempts=3]". Built-ins train on split.train only.
// Throws util::Error (field "recommenders") for an unknown name or option, util::Error with
// file/line/field for a bad file. The recommender keeps a reference to `split`, which must outlive it.
// Semantics (details in each file's header comment): ranking = score descending, then ascending item
// row, over split.train_items minus every q.history item; itemknn/ease score from q.history as given;
// bpr uses the user's trained factor (users without train interactions: item bias only); random
// draws from stream (seed, "recommend/random", user << 32 | history size). External recommenders
// never throw for a bad answer: Recommendation::skip says why ("user not in file", "no list at or
// before the query time", "http: invalid JSON", "http: timeout after N attempts", ...). recbole:
// reads TSV "user_id:token<TAB>item_id_list:token_seq[<TAB>timestamp:float]" (recbole.cpp).
std::unique_ptr<Recommender> make_recommender(std::string_view spec, const Split& split,
                                              const RecommenderOptions& options);
std::vector<std::string> builtin_recommenders();  // "random", "pop", "itemknn", "ease", "bpr"

// ---- offline metrics -----------------------------------------------------------------------------

// Per-user values of HR@K (1 if any test item is in the top K), Recall@K (hits / |test|),
// NDCG@K (DCG / IDCG with binary gains, IDCG over min(|test|, K) hits), MRR@K (1 / rank of the
// first hit, 0 if none), Precision@K (hits / K) — RecBole's definitions. `lists[u]` is the ranked
// list for users[u], `relevant[u]` its test items.
struct OfflineMetrics {
  int k = 10;
  std::map<std::string, std::vector<double>> per_user;  // "hr@10" -> value per user
  std::map<std::string, double> mean;                   // "hr@10" -> mean over users
};
OfflineMetrics offline_metrics(const std::vector<std::vector<uint32_t>>& lists,
                               const std::vector<std::vector<uint32_t>>& relevant, int k);

// ---- RecBole interoperability --------------------------------------------------------------------

// Writes DIR/NAME.inter (all kept interactions), NAME.user, NAME.item and the split as benchmark
// files NAME.train.inter / NAME.valid.inter (empty) / NAME.test.inter, with RecBole's typed headers
// (user_id:token, item_id:token, timestamp:float, ...). Each file atomic. Returns the files written.
std::vector<std::filesystem::path> export_recbole(const data::Dataset& ds, const Split& split,
                                                  const std::filesystem::path& dir, const std::string& name);

}  // namespace um::recommend
