// Steam (UCSD, Kang & McAuley 2018): steam_games.json.gz + steam_reviews.json.gz, one Python
// literal dict per line as distributed (u'...' strings, True/False), or strict JSON Lines (the
// reference converted them to steam_games.jsonl / steam_reviews.jsonl first; both are accepted).
// Output follows docs/method.md §2.9; fixes in docs/reference-differences.md "## Prepare".
#include <algorithm>
#include <charconv>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/json_access.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"
#include "util/time.h"

namespace um::data::readers {
namespace {

std::string joined_list(simdjson::dom::object o, std::string_view key, std::string_view if_empty) {
  std::string out;
  simdjson::dom::array a;
  if (!o[key].get_array().get(a)) {
    for (auto e : a) {
      std::string_view s;
      if (e.get_string().get(s)) continue;
      if (!out.empty()) out += '/';
      out += s;
    }
  }
  return out.empty() ? std::string(if_empty) : out;
}

std::string str_or(simdjson::dom::object o, std::string_view key, std::string_view dflt) {
  auto s = get_str(o, key);
  return s && !s->empty() ? std::string(*s) : std::string(dflt);
}

// "$4.99" for a numeric price (Python str() of the float); a text price such as "Free To Play" is
// kept as it is (the reference writes "$Free To Play").
std::string price_text(simdjson::dom::object o) {
  simdjson::dom::element e;
  if (o["price"].get(e) || e.is_null()) return "NA";
  std::string_view s;
  if (!e.get_string().get(s)) return s.empty() ? "NA" : std::string(s);
  int64_t i;
  if (e.is_int64() && !e.get_int64().get(i)) return "$" + std::to_string(i);
  double d;
  if (!e.get_double().get(d)) return "$" + util::python_float_repr(d);
  return "NA";
}

Item game_record(simdjson::dom::object o, const std::string& id) {
  util::JsonWriter w;
  w.begin_object();
  w.key("app_name");
  w.value(str_or(o, "app_name", ""));
  w.key("genres");
  w.value(joined_list(o, "genres", ""));
  w.key("tags");
  w.value(joined_list(o, "tags", ""));
  w.key("specs");
  w.value(joined_list(o, "specs", "NA"));
  w.key("developer");
  w.value(str_or(o, "developer", "Unknown"));
  w.key("publisher");
  w.value(str_or(o, "publisher", "Unknown"));
  w.key("sentiment");
  w.value(str_or(o, "sentiment", "NA"));
  w.key("price");
  w.value(price_text(o));
  w.key("release_date");
  w.value(str_or(o, "release_date", ""));
  w.end_object();
  util::JsonWriter f;
  f.begin_object();
  f.key("release_date");
  if (auto r = get_str(o, "release_date"))
    f.value(*r);
  else
    f.null();
  f.key("early_access");
  bool ea = false;
  if (o["early_access"].get_bool().get(ea))
    f.null();
  else
    f.value(ea);
  f.end_object();
  return {id, w.take(), f.take()};
}

struct Review {
  std::string user, item;
  int64_t day_us;
  int64_t products;  // -1 = not given
  std::string behavior;
};

void read_games(const ReadContext& ctx, Dataset& ds) {
  auto games = ctx.require_any(
      {"steam_games.json.gz", "steam_games.json", "steam_games.jsonl", "steam_games.jsonl.gz"});
  std::unordered_set<std::string> ids;
  uint64_t no_id = 0, dup = 0;
  // Python literals and JSON are both read by the literal converter (JSON's true/false/null too).
  for_each_json_line(games, ctx, true, [&](simdjson::dom::object o, const util::Location&) {
    auto id = get_id(o, "id");
    if (!id) {  // two official lines lack an id; the reference drops them too
      ++no_id;
      return;
    }
    if (!ids.insert(*id).second) {
      ++dup;
      return;
    }
    ds.items.push_back(game_record(o, *id));
  });
  if (no_id) ctx.count("dropped: games without id", no_id);
  if (dup) ctx.count("games duplicates (first kept)", dup);
}

// Earliest review per (user, product), user records, then the 5..20 reviews window.
void finish(std::vector<Review>& reviews, Dataset& ds, const ReadContext& ctx);

Dataset read_steam(const ReadContext& ctx) {
  Dataset ds;
  read_games(ctx, ds);
  auto reviews_path = ctx.require_any(
      {"steam_reviews.json.gz", "steam_reviews.json", "steam_reviews.jsonl", "steam_reviews.jsonl.gz"});
  std::vector<Review> reviews;
  uint64_t rows = 0;
  for_each_json_line(reviews_path, ctx, true, [&](simdjson::dom::object o, const util::Location& at) {
    if (!row_budget_left(ctx, rows)) return;
    ++rows;
    auto user = get_id(o, "username");
    if (!user) return report_missing(ctx, at, "username");
    auto item = get_id(o, "product_id");
    if (!item) return report_missing(ctx, at, "product_id");
    auto date = get_str(o, "date");
    if (!date) return report_missing(ctx, at, "date");
    auto day = util::parse_datetime(*date);
    if (!day) {
      util::Location w = at;
      w.field = "date";
      ctx.bad->report(
          util::Error("unrecognised date '" + std::string(*date) + "'", w).with_reason("bad date"));
      return;
    }
    auto products = get_num(o, "products");
    util::JsonWriter w;
    w.begin_object();
    w.key("hours_played");  // missing → 0.0, as the reference renders it (docs/method.md §2.9)
    w.value(get_num(o, "hours").value_or(0.0));
    w.key("review_text");
    w.value(get_str(o, "text").value_or(""));
    w.end_object();
    reviews.push_back({std::move(*user), std::move(*item), *day,
                       products ? static_cast<int64_t>(*products) : -1, w.take()});
  });
  ctx.count("reviews read", rows);
  finish(reviews, ds, ctx);
  return ds;
}

void finish(std::vector<Review>& reviews, Dataset& ds, const ReadContext& ctx) {
  // Stable on file order for equal days.
  std::stable_sort(reviews.begin(), reviews.end(),
                   [](const Review& a, const Review& b) { return a.day_us < b.day_us; });
  // products: the first non-missing value over the user's kept reviews in time order (pandas'
  // groupby().first() skips missing values), -1 when every review lacks it (docs/method.md §2.9).
  std::unordered_set<std::string> seen;
  std::unordered_map<std::string, int64_t> products;
  for (auto& r : reviews) {
    if (!seen.insert(r.user + '\x1f' + r.item).second) {
      ctx.count("dropped: duplicate user-item");
      continue;
    }
    auto [it, fresh] = products.try_emplace(r.user, r.products);
    if (fresh)
      ds.users.push_back({r.user, "{}", "{}"});
    else if (it->second < 0)
      it->second = r.products;
    ds.interactions.push_back({std::move(r.user), std::move(r.item), r.day_us, std::move(r.behavior)});
  }
  reviews.clear();
  for (auto& u : ds.users) {
    int64_t p = products[u.id];
    util::JsonWriter d, f;
    d.begin_object();
    d.key("products");
    if (p < 0)
      d.value("");
    else
      d.value(std::to_string(p));
    d.end_object();
    f.begin_object();
    f.key("products");
    if (p < 0)
      f.null();
    else
      f.value(p);
    f.end_object();
    u.description = d.take();
    u.features = f.take();
  }
  apply_count_filter(ds, count_filter(ctx), ctx);
}

// "Posted November 5, 2011." → that day 00:00 UTC. Reviews of the crawl year are written without
// the year ("Posted July 15."); they have no recoverable date and are reported.
std::optional<int64_t> parse_posted(std::string_view s) {
  static const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                                 "July",    "August",   "September", "October", "November", "December"};
  if (s.rfind("Posted ", 0) != 0) return std::nullopt;
  s.remove_prefix(7);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  unsigned mon = 0;
  for (unsigned m = 0; m < 12; ++m) {
    std::string_view name(months[m]);
    if (s.rfind(name, 0) == 0 && s.size() > name.size() && s[name.size()] == ' ') {
      mon = m + 1;
      s.remove_prefix(name.size() + 1);
      break;
    }
  }
  auto comma = s.find(", ");
  if (!mon || comma == std::string_view::npos) return std::nullopt;
  int d = 0, y = 0;
  auto r1 = std::from_chars(s.data(), s.data() + comma, d);
  auto r2 = std::from_chars(s.data() + comma + 2, s.data() + s.size(), y);
  if (r1.ec != std::errc() || r1.ptr != s.data() + comma || r2.ec != std::errc() ||
      r2.ptr != s.data() + s.size() || d < 1 || d > 31)
    return std::nullopt;
  return util::days_from_civil(y, mon, static_cast<unsigned>(d)) * 86400 * util::kMicrosPerSecond;
}

// The Australian crawl (Kang & McAuley): australian_user_reviews (user_id, reviews: [{item_id,
// posted, recommend, review, ...}]) + australian_users_items (user_id, items_count, items:
// [{item_id, playtime_forever (minutes), ...}]), same output schema as "steam": hours_played from
// the user's playtime of the game, products = items_count, plus the review's `recommend`.
Dataset read_steam_australian(const ReadContext& ctx) {
  Dataset ds;
  read_games(ctx, ds);
  struct Owned {
    int64_t items_count = -1;
    std::unordered_map<std::string, double> minutes;
  };
  std::unordered_map<std::string, Owned> owned;
  auto items_path = ctx.raw_dir / "australian_users_items.json.gz";
  if (!std::filesystem::exists(items_path)) items_path = ctx.raw_dir / "australian_users_items.json";
  if (std::filesystem::exists(items_path)) {
    for_each_json_line(items_path, ctx, true, [&](simdjson::dom::object o, const util::Location& at) {
      auto user = get_id(o, "user_id");
      if (!user) return report_missing(ctx, at, "user_id");
      Owned& ow = owned[*user];
      if (auto n = get_num(o, "items_count")) ow.items_count = static_cast<int64_t>(*n);
      simdjson::dom::array items;
      if (o["items"].get_array().get(items)) return;
      for (auto e : items) {
        simdjson::dom::object it;
        if (e.get_object().get(it)) continue;
        auto id = get_id(it, "item_id");
        auto minutes = get_num(it, "playtime_forever");
        if (id && minutes) ow.minutes[*id] = *minutes;
      }
    });
  } else {
    ctx.count("australian_users_items absent: hours and products unknown", 1);
  }
  std::vector<Review> reviews;
  uint64_t users_read = 0, no_year = 0;
  auto reviews_path = ctx.require_any({"australian_user_reviews.json.gz", "australian_user_reviews.json"});
  for_each_json_line(reviews_path, ctx, true, [&](simdjson::dom::object o, const util::Location& at) {
    auto user = get_id(o, "user_id");
    if (!user) return report_missing(ctx, at, "user_id");
    ++users_read;
    auto ow = owned.find(*user);
    simdjson::dom::array list;
    if (o["reviews"].get_array().get(list)) return report_missing(ctx, at, "reviews");
    for (auto e : list) {
      if (!row_budget_left(ctx, reviews.size())) return;
      simdjson::dom::object r;
      if (e.get_object().get(r)) continue;
      auto item = get_id(r, "item_id");
      if (!item) {
        report_missing(ctx, at, "item_id");
        continue;
      }
      auto day = parse_posted(get_str(r, "posted").value_or(""));
      if (!day) {
        ++no_year;
        continue;
      }
      util::JsonWriter w;
      w.begin_object();
      w.key("hours_played");
      const double* minutes = nullptr;
      if (ow != owned.end())
        if (auto m = ow->second.minutes.find(*item); m != ow->second.minutes.end()) minutes = &m->second;
      if (minutes)
        w.value(*minutes / 60.0);
      else
        w.null();
      w.key("review_text");
      w.value(get_str(r, "review").value_or(""));
      w.key("recommend");
      bool rec = false;
      if (r["recommend"].get_bool().get(rec))
        w.null();
      else
        w.value(rec);
      w.end_object();
      reviews.push_back(
          {*user, std::move(*item), *day, ow == owned.end() ? -1 : ow->second.items_count, w.take()});
    }
  });
  ctx.count("review users read", users_read);
  ctx.count("reviews read", reviews.size() + no_year);
  if (no_year) ctx.count("dropped: posted date without a year", no_year);
  finish(reviews, ds, ctx);
  return ds;
}

}  // namespace

std::vector<ReaderEntry> steam_readers() {
  // Users with 5 to 20 reviews, as the reference keeps them.
  constexpr FilterDefaults kSteamFilters{.min_user_interactions = 5, .max_user_interactions = 20};
  return {{.name = "steam",
           .description = "steam_games.json.gz + steam_reviews.json.gz (UCSD Steam, Python-literal lines) or "
                          "their .jsonl conversions",
           .read = read_steam,
           .scene_family = "steam",
           .filters = kSteamFilters},
          {.name = "steam-australian",
           .description = "steam_games.json.gz + australian_user_reviews.json.gz (+ "
                          "australian_users_items.json.gz), UCSD Australian Steam crawl",
           .read = read_steam_australian,
           .scene_family = "steam",
           .filters = kSteamFilters}};
}

}  // namespace um::data::readers
