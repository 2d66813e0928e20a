#include "scene/scene_generator.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::scene {

namespace {

constexpr int64_t kNoRelease = std::numeric_limits<int64_t>::min();
constexpr size_t kStaticHistory = 10;  // MIND: last 10 ids of user_features.history
constexpr int kMinHistory = 2, kMaxHistory = 10;

nlohmann::json parse_json(const std::string& text, const util::Location& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw util::Error(std::string("invalid JSON: ") + e.what(), where);
  }
}

std::string id_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

SceneGenerator::~SceneGenerator() = default;

SceneGenerator::SceneGenerator(const data::Dataset& ds, SceneConfig cfg)
    : ds_(ds), cfg_(std::move(cfg)), index_(ds), strategy_(make_strategy(ds.name)) {
  if (cfg_.shape.min_options < 1 || cfg_.shape.max_options < cfg_.shape.min_options) {
    throw util::Error("exposure range must satisfy 1 <= min <= max", {.field = "min-exposure"});
  }
  // Resolve the compat defaults once: build() and the scorers see plain values.
  const bool reference = cfg_.compat == data::Compat::reference;
  cfg_.shape.reference_positions = data::resolve(cfg_.shape.reference_positions, cfg_.compat);
  cfg_.collaborative_full_history = data::resolve(cfg_.collaborative_full_history, cfg_.compat);
  k_ = cfg_.top_k ? cfg_.top_k : std::max<size_t>(32, 3 * static_cast<size_t>(cfg_.shape.max_options));

  // Item descriptions are parsed once; release times only when the strategy filters on them.
  item_desc_.resize(ds.items.size());
  release_.assign(ds.items.size(), kNoRelease);
  const bool timed = strategy_->has_time_filter();
  util::parallel_for(ds.items.size(), cfg_.threads, [&](size_t i) {
    util::Location where{.file = data::item_file(ds.name), .line = static_cast<int64_t>(i + 1)};
    where.field = "item_description";
    item_desc_[i] = parse_json(ds.items[i].description, where);
    if (timed) {
      where.field = "item_features";
      auto r = strategy_->release_time(item_desc_[i], parse_json(ds.items[i].features, where));
      if (r) release_[i] = *r;
    }
  });

  if (strategy_->uses_friends()) {
    social_.friends.resize(ds.users.size());
    for (size_t u = 0; u < ds.users.size(); ++u) {
      auto f = parse_json(
          ds.users[u].features,
          {.file = data::user_file(ds.name), .line = static_cast<int64_t>(u + 1), .field = "user_features"});
      const auto& fr = f.is_object() && f.contains("friends") ? f["friends"] : nlohmann::json();
      if (!fr.is_array()) continue;
      for (const auto& id : fr) {
        int64_t row = index_.user_row(id_text(id));
        if (row >= 0)
          social_.friends[u].push_back(static_cast<uint32_t>(row));  // friends without data dropped
      }
    }
  }

  bool want_real = cfg_.impressions == ImpressionMode::Real ||
                   (cfg_.impressions == ImpressionMode::Auto && cfg_.split == "train" && !reference);
  if (cfg_.impressions == ImpressionMode::Real && !strategy_->has_real_impressions()) {
    throw util::NotSupported("dataset '" + ds.name + "' has no real impressions", {.field = "impressions"});
  }
  real_ = want_real && strategy_->has_real_impressions();

  if (!real_) {
    scorer_names_ = cfg_.scorers;
    if (scorer_names_.empty()) {
      scorer_names_ = strategy_->default_scorers();
      bool have_vectors = !cfg_.content_vectors.empty() ||
                          (!cfg_.work.empty() && std::filesystem::exists(cfg_.work / "embeddings" /
                                                                         (ds.name + ".content.safetensors")));
      if (reference && !have_vectors) {
        // The reference always ranks with the content scorer (it embeds the items with a vLLM model).
        throw util::Error(
            "--compat reference uses the content scorer, as the reference always does: pass "
            "--content-vectors FILE (or put " +
                (cfg_.work / "embeddings" / (ds.name + ".content.safetensors")).string() +
                "), or name the scorers with --scorers",
            {.field = "content-vectors"});
      }
      if (have_vectors) scorer_names_.push_back("content");
    }
    ScorerContext ctx{index_,
                      social_,
                      cfg_.work,
                      cfg_.content_vectors,
                      cfg_.seed,
                      cfg_.threads,
                      *cfg_.collaborative_full_history,
                      cfg_.compat};
    for (const auto& n : scorer_names_) scorers_.push_back(make_scorer(n, ctx));
  }
}

std::vector<uint32_t> SceneGenerator::sample_targets(const std::vector<std::string>* users,
                                                     size_t* candidates) const {
  std::vector<char> allowed;
  if (users) {
    allowed.assign(ds_.users.size(), 0);
    for (const auto& u : *users) {
      int64_t row = index_.user_row(u);
      if (row >= 0) allowed[static_cast<size_t>(row)] = 1;
    }
  }
  std::vector<uint32_t> pool;
  for (size_t k = 0; k < ds_.interactions.size(); ++k) {
    if (!index_.valid(k)) continue;
    uint32_t u = index_.interaction_user(k);
    if (users && !allowed[u]) continue;
    if (real_) {
      auto b = parse_json(ds_.interactions[k].behavior, {.file = data::interaction_file(ds_.name),
                                                         .line = static_cast<int64_t>(k + 1),
                                                         .field = "behavior_features"});
      const auto& imp =
          b.is_object() && b.contains("impression_list") ? b["impression_list"] : nlohmann::json();
      if (!imp.is_array()) continue;
      auto n = static_cast<int>(imp.size());
      if (n < cfg_.shape.min_options || n > cfg_.shape.max_options) continue;
    } else if (index_.order_id(k) < 3) {
      continue;
    }
    pool.push_back(static_cast<uint32_t>(k));
  }
  if (candidates) *candidates = pool.size();
  size_t m = std::min(cfg_.samples, pool.size());
  util::Rng rng = util::Rng::stream(cfg_.seed, stage("targets"), 0);
  for (size_t i = 0; i < m; ++i) {
    auto j =
        static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(pool.size()) - 1));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(m);
  return pool;
}

std::vector<std::string> SceneGenerator::history_entries(uint64_t record, uint32_t user, size_t before,
                                                         SceneOutcome& o, const SceneView& view,
                                                         const std::vector<uint32_t>& appended) const {
  // Entries: (item row, interaction index or -1 for MIND's static click history).
  std::vector<std::pair<uint32_t, int64_t>> entries;
  if (strategy_->static_click_history()) {
    auto f = parse_json(ds_.users[user].features, {.file = data::user_file(ds_.name),
                                                   .line = static_cast<int64_t>(user + 1),
                                                   .field = "user_features"});
    const auto& h = f.is_object() && f.contains("history") ? f["history"] : nlohmann::json();
    if (h.is_array()) {
      size_t start = h.size() > kStaticHistory ? h.size() - kStaticHistory : 0;
      for (size_t i = start; i < h.size(); ++i) {
        int64_t row = index_.item_row(id_text(h[i]));
        if (row < 0) {
          ++o.dropped_static_history;
          continue;
        }
        entries.emplace_back(static_cast<uint32_t>(row), -1);
      }
    }
  }
  auto tl = index_.timeline(user);
  for (size_t i = 0; i < before; ++i)
    entries.emplace_back(index_.interaction_item(tl.begin()[i]), tl.begin()[i]);
  constexpr int64_t kAppended = -2;  // a simulated choice: no behaviour features, seen at the target time
  for (uint32_t item : appended) entries.emplace_back(item, kAppended);

  size_t keep = cfg_.history_window;
  if (keep == 0) {
    util::Rng rng = util::Rng::stream(cfg_.seed, stage("history"), record);
    keep = static_cast<size_t>(rng.uniform_int(kMinHistory, kMaxHistory));
  }
  size_t first = entries.size() > keep ? entries.size() - keep : 0;
  std::vector<std::string> out;
  static const nlohmann::json kEmpty = nlohmann::json::object();
  for (size_t i = first; i < entries.size(); ++i) {
    auto [item, k] = entries[i];
    nlohmann::json behavior;
    std::optional<int64_t> ts;
    if (k >= 0) {
      behavior =
          parse_json(ds_.interactions[static_cast<size_t>(k)].behavior,
                     {.file = data::interaction_file(ds_.name), .line = k + 1, .field = "behavior_features"});
      ts = ds_.interactions[static_cast<size_t>(k)].timestamp_us;
    } else if (k == kAppended) {
      ts = view.target_us;
    }
    HistoryInput in{item, item_desc_[item], k >= 0 ? behavior : kEmpty, ts};
    Fields f(&item_desc_[item]);
    strategy_->history_features(view, in, f);
    out.push_back(strategy_->history_template().render(f));
  }
  return out;
}

std::vector<uint32_t> SceneGenerator::sampled_negatives(uint64_t record, uint32_t user, uint32_t gt,
                                                        int64_t t, size_t before) const {
  ScoreQuery q{user, gt, t, before};
  std::vector<std::vector<uint32_t>> lists(scorers_.size());
  for (size_t s = 0; s < scorers_.size(); ++s) {
    util::Rng rng = util::Rng::stream(cfg_.seed, stage("score") + "/" + scorer_names_[s], record);
    scorers_[s]->top_k(q, k_, rng, lists[s]);
  }
  util::Rng mrng = util::Rng::stream(cfg_.seed, stage("merge"), record);
  std::vector<uint32_t> merged = merge_ranked_lists(lists, mrng);
  std::vector<uint32_t> out;
  out.reserve(merged.size());
  for (uint32_t item : merged) {
    if (release_[item] != kNoRelease && release_[item] > t) continue;  // time filter
    if (index_.has_touched(user, item)) continue;                      // interaction filter (any time)
    out.push_back(item);
  }
  return out;
}

void SceneGenerator::prefetch(const std::vector<uint32_t>& interactions, unsigned threads) const {
  if (real_) return;
  std::vector<ScoreQuery> qs;
  qs.reserve(interactions.size());
  for (uint32_t k : interactions) {
    const uint32_t user = index_.interaction_user(k);
    const int64_t t = ds_.interactions[k].timestamp_us;
    qs.push_back({user, index_.interaction_item(k), t, index_.count_before(user, t)});
  }
  for (const auto& s : scorers_) s->prefetch(qs, k_, threads);
}

SceneOutcome SceneGenerator::build(uint64_t record, uint32_t interaction) const {
  SceneOutcome o;
  const auto& inter = ds_.interactions[interaction];
  const uint32_t user = index_.interaction_user(interaction);
  const uint32_t gt = index_.interaction_item(interaction);
  const int64_t t = inter.timestamp_us;
  const size_t before = index_.count_before(user, t);
  SceneView view{index_, social_, user, t};
  try {
    Exposure exp;
    if (real_) {
      auto b = parse_json(inter.behavior, {.field = "behavior_features"});
      const auto& imp = b["impression_list"];
      const auto& pos = b.contains("item_pos") ? b["item_pos"] : nlohmann::json();
      for (const auto& id : imp) {
        int64_t row = index_.item_row(id_text(id));
        if (row < 0) {
          o.skip_reason = "impression item not in the item table";
          return o;
        }
        exp.items.push_back(static_cast<uint32_t>(row));
      }
      if (!pos.is_number_integer() || pos.get<int64_t>() < 0 || pos.get<size_t>() >= exp.items.size() ||
          exp.items[pos.get<size_t>()] != gt) {
        o.skip_reason = "impression item_pos does not point at the chosen item";
        return o;
      }
      exp.item_pos = pos.get<int>();
    } else {
      auto negatives = sampled_negatives(record, user, gt, t, before);
      util::Rng lrng = util::Rng::stream(cfg_.seed, stage("length"), record);
      util::Rng prng = util::Rng::stream(cfg_.seed, stage("position"), record);
      auto shaped = shape_exposure(negatives, gt, cfg_.shape, lrng, prng);
      if (!shaped) {
        o.skip_reason = "too few candidates after filtering";
        return o;
      }
      exp = std::move(*shaped);
    }

    SceneRecord r;
    auto udesc = parse_json(ds_.users[user].description, {.file = data::user_file(ds_.name),
                                                          .line = static_cast<int64_t>(user + 1),
                                                          .field = "user_description"});
    Fields pf(&udesc);
    r.text.profile = strategy_->profile_template().render(pf);
    for (uint32_t item : exp.items) {
      Fields f(&item_desc_[item]);
      strategy_->item_features(view, item, item_desc_[item], f);
      r.text.action_list.push_back(strategy_->item_template().render(f));
      r.impression_list.push_back(ds_.items[item].id);
    }
    auto hist = history_entries(record, user, before, o, view);
    for (size_t i = 0; i < hist.size(); ++i) {
      if (i) r.text.history.push_back('\n');
      r.text.history += hist[i];
    }
    r.user_id = inter.user_id;
    r.item_id = inter.item_id;
    r.timestamp = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    r.item_pos = exp.item_pos;
    r.choice_cnt = static_cast<int>(exp.items.size());
    r.dataset = ds_.name;
    o.record = std::move(r);
  } catch (const util::Error& e) {
    util::Location where = e.where();
    if (where.file.empty()) {
      where.file = data::interaction_file(ds_.name);
      where.line = static_cast<int64_t>(interaction) + 1;
    }
    if (where.record.empty()) where.record = "scene " + std::to_string(record);
    throw util::Error(e.message(), where).with_reason(e.reason());
  }
  return o;
}

}  // namespace um::scene

namespace um::scene {

SceneText SceneGenerator::render(uint64_t record, uint32_t user, int64_t t_us,
                                 const std::vector<uint32_t>& items,
                                 const std::vector<uint32_t>& appended) const {
  if (user >= ds_.users.size()) throw util::Error("user row out of range", {.field = "user"});
  SceneView view{index_, social_, user, t_us};
  SceneText text;
  auto udesc = parse_json(ds_.users[user].description, {.file = data::user_file(ds_.name),
                                                        .line = static_cast<int64_t>(user + 1),
                                                        .field = "user_description"});
  Fields pf(&udesc);
  text.profile = strategy_->profile_template().render(pf);
  for (uint32_t item : items) {
    if (item >= ds_.items.size()) throw util::Error("item row out of range", {.field = "items"});
    Fields f(&item_desc_[item]);
    strategy_->item_features(view, item, item_desc_[item], f);
    text.action_list.push_back(strategy_->item_template().render(f));
  }
  SceneOutcome unused;
  auto hist = history_entries(record, user, index_.count_before(user, t_us), unused, view, appended);
  for (size_t i = 0; i < hist.size(); ++i) {
    if (i) text.history.push_back('\n');
    text.history += hist[i];
  }
  return text;
}

}  // namespace um::scene
