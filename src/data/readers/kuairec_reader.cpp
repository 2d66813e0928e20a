// KuaiRec 2.0 ("KuaiRec 2.0/data/"): big_matrix.csv (or small_matrix.csv) interactions,
// user_features.csv (+ social_network.csv), item_categories.csv (+ item_daily_features.csv,
// kuairec_caption_category.csv). Output follows docs/method.md §2.6; fixes are listed in
// docs/reference-differences.md "## Prepare" (UTC upload dates, empty
// captions rendered as the reference intended). The caption file has bare '\r' inside unquoted
// fields; CsvReader splits records on '\n' only, which reads them correctly.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "data/csv.h"
#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/csv_table.h"
#include "data/readers/readers.h"
#include "data/timestamp.h"
#include "util/json_writer.h"
#include "util/time.h"

namespace um::data::readers {
namespace {

namespace fs = std::filesystem;

std::optional<double> num(std::string_view s) {
  double v;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || std::isnan(v)) return std::nullopt;
  return v;
}

std::string fixed0(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// The reference's number formatting helper: 1234567 → "1M", 1500 → "2k", 12 → "12".
std::string human_count(std::string_view raw, std::string_view suffix, double scale = 1) {
  auto v = num(raw);
  if (!v) return "Not Available";
  double n = std::nearbyint(*v / scale);
  std::string s = n >= 1e6 ? fixed0(n / 1e6) + "M" : n >= 1e3 ? fixed0(n / 1e3) + "k" : fixed0(n);
  return s + std::string(suffix);
}

void number_or_null(util::JsonWriter& w, std::string_view raw) {
  if (auto v = num(raw)) {
    if (*v == std::trunc(*v) && std::fabs(*v) < 9e15)
      w.value(static_cast<int64_t>(*v));
    else
      w.value(*v);
  } else {
    w.null();
  }
}

// "[1, 2]" (Python list of ints) → JSON array of id strings.
void id_list(util::JsonWriter& w, std::string_view raw) {
  w.begin_array();
  std::string cur;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      cur += c;
    } else if (!cur.empty()) {
      w.value(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) w.value(cur);
  w.end_array();
}

struct Daily {
  std::string date;                                    // earliest day seen
  std::unordered_map<std::string, std::string> first;  // column → that day's value (empty kept)
};

const std::vector<std::string> kDailyColumns = {"video_type", "upload_dt",   "video_duration", "play_cnt",
                                                "like_cnt",   "comment_cnt", "share_cnt"};

void read_interactions(const ReadContext& ctx, Dataset& ds) {
  fs::path matrix =
      ctx.require_any({"big_matrix.csv", "small_matrix.csv", "big_matrix.csv.gz", "small_matrix.csv.gz"});
  ctx.count("interactions file: " + matrix.filename().string(), 1);
  {
    Table t(matrix, {"user_id", "video_id", "play_duration", "video_duration", "timestamp", "watch_ratio"});
    uint64_t rows = 0, no_time = 0;
    while (t.next()) {
      if (!row_budget_left(ctx, rows)) break;
      ++rows;
      auto ts = num(t.get("timestamp"));
      if (!ts) {  // the official matrices hold a few rows without time/date/timestamp
        ++no_time;
        continue;
      }
      auto play = num(t.get("play_duration"));
      auto dur = num(t.get("video_duration"));
      auto ratio = num(t.get("watch_ratio"));
      const char* bad = !play ? "play_duration" : !dur ? "video_duration" : !ratio ? "watch_ratio" : nullptr;
      if (bad) {
        ctx.bad->report(util::Error("not a number: '" + std::string(t.get(bad)) + "'", t.at(bad))
                            .with_reason("bad number in " + std::string(bad)));
        continue;
      }
      if (t.get("user_id").empty() || t.get("video_id").empty()) {
        report_missing(ctx, t.at(), t.get("user_id").empty() ? "user_id" : "video_id");
        continue;
      }
      bool short_play = *play < std::min(3000.0, *dur);
      bool valid_play = *dur <= 7000 ? *play >= *dur : *play > 7000;
      bool long_play = *dur <= 18000 ? *play >= *dur : *play >= 18000;  // `>=` (docs/method.md §2.6)
      util::JsonWriter w;
      w.begin_object();
      w.key("watch_ratio");
      w.value(*ratio);
      w.key("operation");
      w.value(std::string(short_play || *ratio < 1.0 ? "Skip" : "Complete") + " (watched " +
              fixed0(*play / 1000) + "s)");
      w.key("valid_play");
      w.value(valid_play);
      w.key("long_play");
      w.value(long_play);
      w.key("short_play");
      w.value(short_play);
      w.end_object();
      ds.interactions.push_back({std::string(t.get("user_id")), std::string(t.get("video_id")),
                                 static_cast<int64_t>(std::llround(*ts * 1e6)), w.take()});
    }
    ctx.count("interaction rows read", rows);
    if (no_time) ctx.count("dropped: rows without timestamp", no_time);
  }
}

// Users (+ friend lists).
void read_users(const ReadContext& ctx, Dataset& ds) {
  const fs::path& raw = ctx.raw_dir;
  std::unordered_map<std::string, std::string> friends;
  if (fs::exists(raw / "social_network.csv")) {
    Table t(raw / "social_network.csv", {"user_id", "friend_list"});
    while (t.next()) friends[std::string(t.get("user_id"))] = std::string(t.get("friend_list"));
  } else {
    ctx.count("social_network.csv absent: empty friend lists", 1);
  }
  {
    Table t(ctx.require("user_features.csv"),
            {"user_id", "user_active_degree", "is_lowactive_period", "is_live_streamer", "is_video_author",
             "follow_user_num", "fans_user_num", "friend_user_num", "register_days"});
    while (t.next(&ctx)) {
      if (t.fields() != t.columns()) {
        ctx.bad->report(util::Error("expected " + std::to_string(t.columns()) + " fields", t.at("user line"))
                            .with_reason("wrong field count"));
        continue;
      }
      std::string degree(t.get("user_active_degree"));
      if (auto p = degree.find("_active"); p != std::string::npos) degree.erase(p, 7);
      bool live = t.get("is_live_streamer") == "1", author = t.get("is_video_author") == "1";
      util::JsonWriter d;
      d.begin_object();
      d.key("active_degree");
      d.value(degree);
      d.key("low_active_period");
      d.value(t.get("is_lowactive_period") == "1" ? "Yes" : "No");
      d.key("role");
      d.value(live && author ? "Video Author | Live Streamer"
              : live         ? "Live Streamer"
              : author       ? "Video Author"
                             : "");
      for (const char* k : {"follow_user_num", "register_days", "friend_user_num", "fans_user_num"}) {
        d.key(k);
        d.value(t.get(k));
      }
      d.end_object();
      util::JsonWriter f;
      f.begin_object();
      for (const char* k :
           {"user_active_degree", "is_lowactive_period", "is_live_streamer", "is_video_author",
            "follow_user_num", "register_days", "friend_user_num", "fans_user_num"}) {
        f.key(k);
        if (std::string_view(k) == "user_active_degree")
          f.value(t.get(k));
        else
          number_or_null(f, t.get(k));
      }
      f.key("friend_list");
      auto fr = friends.find(std::string(t.get("user_id")));
      id_list(f, fr == friends.end() ? std::string_view() : std::string_view(fr->second));
      f.end_object();
      ds.users.push_back({std::string(t.get("user_id")), d.take(), f.take()});
    }
  }
}

// Items: daily statistics (the earliest day's row as a whole, as the reference's
// groupby().agg("first") over whole rows: an empty value stays "Not Available" even when another
// day has one, docs/method.md §2.6) and captions.
void read_items(const ReadContext& ctx, Dataset& ds) {
  const fs::path& raw = ctx.raw_dir;
  std::unordered_map<std::string, Daily> daily;
  if (fs::exists(raw / "item_daily_features.csv")) {
    Table t(raw / "item_daily_features.csv",
            {"video_id", "date", "video_type", "upload_dt", "video_duration"});
    while (t.next(&ctx)) {
      std::string date(t.get("date"));
      Daily& d = daily[std::string(t.get("video_id"))];
      // yyyymmdd compares chronologically; the first row in file order wins a tie.
      if (!d.date.empty() && !(date < d.date)) continue;
      d.date = date;
      for (const auto& c : kDailyColumns) d.first[c] = std::string(t.get(c));
    }
  } else {
    ctx.count("item_daily_features.csv absent: video statistics \"Not Available\"", 1);
  }
  struct Caption {
    std::string cover, caption, tags, category;
  };
  std::unordered_map<std::string, Caption> captions;
  {
    Table t(ctx.require("kuairec_caption_category.csv"),
            {"video_id", "manual_cover_text", "caption", "topic_tag", "first_level_category_name",
             "second_level_category_name", "third_level_category_name"});
    while (t.next()) {
      if (t.fields() != t.columns()) {
        ctx.bad->report(
            util::Error("expected " + std::to_string(t.columns()) + " fields", t.at("caption line"))
                .with_reason("wrong field count"));
        continue;
      }
      Caption c;
      c.cover = t.get("manual_cover_text") == "UNKNOWN" ? "" : std::string(t.get("manual_cover_text"));
      c.caption = t.get("caption").empty() ? "无标题" : std::string(t.get("caption"));  // "untitled"
      c.tags = t.get("topic_tag") == "[]" ? "" : std::string(t.get("topic_tag"));
      std::string cat = std::string(t.get("first_level_category_name")) + "/" +
                        std::string(t.get("second_level_category_name")) + "/" +
                        std::string(t.get("third_level_category_name"));
      for (size_t p; (p = cat.find("/UNKNOWN")) != std::string::npos;) cat.erase(p, 8);
      c.category = cat;
      captions[std::string(t.get("video_id"))] = std::move(c);
    }
  }
  {
    Table t(ctx.require("item_categories.csv"), {"video_id"});
    static const Daily kNone;
    while (t.next()) {
      std::string id(t.get("video_id"));
      auto dit = daily.find(id);
      const Daily& d = dit == daily.end() ? kNone : dit->second;
      auto col = [&](const std::string& c) -> std::string_view {
        auto it = d.first.find(c);
        return it == d.first.end() ? std::string_view() : std::string_view(it->second);
      };
      auto upload = parse_timestamp_text(col("upload_dt"));
      util::JsonWriter w;
      w.begin_object();
      w.key("video_type");
      w.value(col("video_type"));
      w.key("upload_dt");
      w.value(col("upload_dt"));
      w.key("video_duration");
      w.value(human_count(col("video_duration"), "  sec", 1000));
      w.key("play_count");
      w.value(human_count(col("play_cnt"), ""));
      w.key("like_count");
      w.value(human_count(col("like_cnt"), ""));
      w.key("comment_count");
      w.value(human_count(col("comment_cnt"), ""));
      w.key("share_count");
      w.value(human_count(col("share_cnt"), ""));
      auto cap = captions.find(id);
      w.key("cover_text");
      if (cap == captions.end())
        w.null();
      else
        w.value(cap->second.cover);
      w.key("caption");
      if (cap == captions.end())
        w.null();
      else
        w.value(cap->second.caption);
      w.key("topic_tags");
      if (cap == captions.end())
        w.null();
      else
        w.value(cap->second.tags);
      w.key("category");
      if (cap == captions.end())
        w.null();
      else
        w.value(cap->second.category);
      w.end_object();
      util::JsonWriter f;
      f.begin_object();
      f.key("video_type");
      f.value(col("video_type"));
      f.key("upload_dt");  // epoch seconds of the upload day, UTC
      if (upload)
        f.value(static_cast<double>(*upload) / 1e6);
      else
        f.null();
      f.key("video_duration");
      if (auto v = num(col("video_duration")))
        f.value(*v / 1000);
      else
        f.null();
      for (const char* k : {"play_cnt", "like_cnt", "comment_cnt", "share_cnt"}) {
        f.key(k);
        number_or_null(f, col(k));
      }
      f.end_object();
      ds.items.push_back({id, w.take(), f.take()});
    }
  }
}

Dataset read_kuairec(const ReadContext& ctx) {
  Dataset ds;
  read_interactions(ctx, ds);
  read_users(ctx, ds);
  read_items(ctx, ds);
  return ds;
}

}  // namespace

std::vector<ReaderEntry> kuairec_readers() {
  return {
      {"KuaiRec2", false,
       "big_matrix.csv or small_matrix.csv, user_features.csv, item_categories.csv, "
       "kuairec_caption_category.csv (+ optional social_network.csv, item_daily_features.csv) of KuaiRec 2.0",
       read_kuairec, "kuairec"}};
}

}  // namespace um::data::readers
