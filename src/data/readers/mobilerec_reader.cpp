// MobileRec (Hugging Face recmeapp/mobilerec): interactions/mobilerec_final.csv and
// app_meta/app_meta.csv (also accepted directly in the raw folder). Output follows docs/method.md
// §2.8; the reference reads only the first 100,000 interaction rows (--max-rows 100000 or --compat
// reference for that) and keeps duplicate app_meta rows, which we de-duplicate (first kept, §11.11).
#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

#include "data/readers/common.h"
#include "data/readers/csv_table.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"

namespace um::data::readers {
namespace {

std::optional<double> to_double(std::string_view s) {
  double v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The reference reads the first 100,000 interaction rows (nrows=100000).
constexpr int64_t kReferenceRows = 100000;

Dataset read_mobilerec(const ReadContext& given) {
  // --compat reference: the reference's row limit unless --max-rows is given.
  ReadContext ctx = given;
  if (ctx.compat == Compat::reference && !ctx.filters.max_rows) ctx.filters.max_rows = kReferenceRows;
  Dataset ds;
  auto inter = ctx.require_any({"interactions/mobilerec_final.csv", "mobilerec_final.csv",
                                "interactions/mobilerec_final.csv.gz", "mobilerec_final.csv.gz"});
  auto meta = ctx.require_any(
      {"app_meta/app_meta.csv", "app_meta.csv", "app_meta/app_meta.csv.gz", "app_meta.csv.gz"});
  struct UserStats {
    double sum = 0;
    int64_t n = 0;
  };
  std::unordered_map<std::string, size_t> user_index;
  std::vector<UserStats> user_stats;
  {
    Table t(inter, {"uid", "app_package", "unix_timestamp", "rating", "review"});
    uint64_t rows = 0;
    bool all_integer = true;
    std::vector<double> ratings;
    std::vector<std::string> reviews;
    while (t.next(&ctx)) {
      if (!row_budget_left(ctx, rows)) break;
      ++rows;
      if (t.fields() != t.columns()) {
        ctx.bad->report(util::Error("expected " + std::to_string(t.columns()) + " fields, got " +
                                        std::to_string(t.fields()),
                                    t.at("interaction line"))
                            .with_reason("wrong field count"));
        continue;
      }
      if (t.get("uid").empty() || t.get("app_package").empty()) {
        report_missing(ctx, t.at(), t.get("uid").empty() ? "uid" : "app_package");
        continue;
      }
      auto ts = to_double(t.get("unix_timestamp"));
      auto rating = to_double(t.get("rating"));
      const char* bad = !ts ? "unix_timestamp" : !rating ? "rating" : nullptr;
      if (bad) {
        ctx.bad->report(util::Error("not a number: '" + std::string(t.get(bad)) + "'", t.at(bad))
                            .with_reason("bad number in " + std::string(bad)));
        continue;
      }
      auto ts_us = scale_timestamp(*ts, 1000000);
      if (!ts_us) {
        report_bad_timestamp(ctx, t.at(), "unix_timestamp");
        continue;
      }
      int64_t as_int = 0;
      std::string_view rtext = t.get("rating");
      auto ri = std::from_chars(rtext.data(), rtext.data() + rtext.size(), as_int);
      if (ri.ec != std::errc() || ri.ptr != rtext.data() + rtext.size()) all_integer = false;
      ratings.push_back(*rating);
      reviews.emplace_back(t.get("review"));
      std::string user(t.get("uid"));
      auto [it, fresh] = user_index.try_emplace(user, user_stats.size());
      if (fresh) {
        user_stats.push_back({});
        ds.users.push_back({user, "{}", "{}"});
      }
      user_stats[it->second].sum += *rating;
      user_stats[it->second].n++;
      ds.interactions.push_back({std::move(user), std::string(t.get("app_package")), *ts_us, ""});
    }
    ctx.count("interaction rows read", rows);
    // pandas reads the rating column as int64 when every value read is an integer, so the reference
    // writes `"rating": 5` and histories show `My Rating: 5` (docs/method.md §2.8); one non-integer
    // value makes the whole column float.
    for (size_t i = 0; i < ds.interactions.size(); ++i) {
      util::JsonWriter w;
      w.begin_object();
      w.key("rating");
      if (all_integer)
        w.value(static_cast<int64_t>(ratings[i]));
      else
        w.value(ratings[i]);
      w.key("review");
      w.value(reviews[i]);
      w.end_object();
      ds.interactions[i].behavior = w.take();
    }
  }
  for (size_t i = 0; i < ds.users.size(); ++i) {
    util::JsonWriter f;
    f.begin_object();
    f.key("avg_rating");
    f.value(user_stats[i].sum / static_cast<double>(user_stats[i].n));
    f.end_object();
    ds.users[i].features = f.take();
  }
  {
    Table t(meta, {"app_package", "app_name", "developer_name", "app_category", "description",
                   "content_rating", "num_reviews", "price", "avg_rating"});
    std::unordered_map<std::string, bool> seen;
    uint64_t dup = 0;
    while (t.next(&ctx)) {
      if (t.fields() != t.columns()) {
        ctx.bad->report(util::Error("expected " + std::to_string(t.columns()) + " fields, got " +
                                        std::to_string(t.fields()),
                                    t.at("app_meta line"))
                            .with_reason("wrong field count"));
        continue;
      }
      std::string id(t.get("app_package"));
      if (id.empty()) {
        report_missing(ctx, t.at(), "app_package");
        continue;
      }
      if (!seen.emplace(id, true).second) {
        ++dup;
        continue;
      }
      std::string_view dev = t.get("developer_name"), price = t.get("price");
      util::JsonWriter w;
      w.begin_object();
      w.key("app_name");
      w.value(t.get("app_name"));
      w.key("developer_name");
      w.value(dev == "None" ? std::string_view("Unknown") : dev);
      for (const char* k : {"app_category", "description", "content_rating", "num_reviews"}) {
        w.key(k);
        w.value(t.get(k));
      }
      w.key("price");
      w.value(price == "Install" ? std::string_view("Free") : price);
      w.key("avg_rating");
      w.value(t.get("avg_rating"));
      w.end_object();
      std::string digits;
      for (char c : t.get("num_reviews"))
        if (c != ',') digits += c;
      util::JsonWriter f;
      f.begin_object();
      f.key("num_reviews");
      int64_t n;
      if (std::from_chars(digits.data(), digits.data() + digits.size(), n).ec == std::errc() &&
          !digits.empty())
        f.value(n);
      else
        f.null();
      f.key("avg_rating");
      if (auto v = to_double(t.get("avg_rating")))
        f.value(*v);
      else
        f.null();
      f.end_object();
      ds.items.push_back({id, w.take(), f.take()});
    }
    if (dup) ctx.count("app_meta duplicates (first kept)", dup);
  }
  return ds;
}

}  // namespace

std::vector<ReaderEntry> mobilerec_readers() {
  return {{"mobilerec", false, "interactions/mobilerec_final.csv + app_meta/app_meta.csv (MobileRec)",
           read_mobilerec, "mobilerec"}};
}

}  // namespace um::data::readers
