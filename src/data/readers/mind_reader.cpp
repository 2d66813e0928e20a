// MIND (Microsoft News Dataset): behaviors.tsv + news.tsv of one split, plus the reference's
// optional dev/test copies (behaviors_valid.tsv, news_valid.tsv, news_test.tsv) when present.
// Output follows docs/method.md §2.3, with its bugs fixed (docs/reference-differences.md "## Prepare"):
// input files are never modified (the reference appends the dev behaviours to the train file),
// times are read with the 12-hour clock, and an item's "first seen" time is the chronological
// minimum over the kept (filtered) impressions that show it.
#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "data/csv.h"
#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"
#include "data/timestamp.h"
#include "util/json_writer.h"
#include "util/line_reader.h"

namespace um::data::readers {
namespace {

constexpr int64_t kMinHistory = 5;     // impressions with a shorter click history are dropped
constexpr size_t kMaxCandidates = 10;  // impressions showing more candidates are dropped

struct NewsRecord {
  std::string description;
  std::string title_entities;
  std::string abstract_entities;
};

void read_news(const std::filesystem::path& path, std::unordered_map<std::string, size_t>& index,
               std::vector<std::pair<std::string, NewsRecord>>& news, const ReadContext& ctx) {
  // Tokenised as pandas' read_csv does (quoted fields, docs/method.md §2.3): a title such as
  // `"It's not like him:" Mother of ...` reads `It's not like him: Mother of ...`.
  PandasRecordReader in(path, '\t');
  std::vector<std::string_view> f;
  uint64_t dup = 0;
  while (in.next(f)) {
    util::Location at{.file = in.path(), .line = in.record_line()};
    bool utf8 = true;
    for (auto v : f) utf8 = utf8 && check_utf8(ctx, at, "news line", v);
    if (!utf8) continue;
    if (f.size() < 5 || f.size() > 8 || f[0].empty()) {
      at.field = "news line";
      ctx.bad->report(util::Error("expected 8 TAB-separated news fields, got " + std::to_string(f.size()), at)
                          .with_reason("wrong field count"));
      continue;
    }
    f.resize(8);
    std::string id(f[0]);
    if (index.count(id)) {  // the same news in train/dev/test: first kept, as the reference does
      ++dup;
      continue;
    }
    util::JsonWriter w;
    w.begin_object();
    w.key("title");
    w.value(f[3]);
    w.key("abstract");
    if (f[4].empty())
      w.null();
    else
      w.value(f[4]);
    w.key("category");
    w.value(f[1]);
    w.key("subcategory");
    w.value(f[2]);
    w.end_object();
    index.emplace(id, news.size());
    news.push_back({id, {w.take(), std::string(f[6]), std::string(f[7])}});
  }
  if (dup) ctx.count("news duplicates across files (first kept)", dup);
}

Dataset read_mind(const ReadContext& ctx) {
  Dataset ds;
  const auto& raw = ctx.raw_dir;
  std::vector<std::filesystem::path> behavior_files = {ctx.require("behaviors.tsv")};
  if (std::filesystem::exists(raw / "behaviors_valid.tsv"))
    behavior_files.push_back(raw / "behaviors_valid.tsv");
  std::vector<std::filesystem::path> news_files = {ctx.require("news.tsv")};
  for (const char* extra : {"news_valid.tsv", "news_test.tsv"})
    if (std::filesystem::exists(raw / extra)) news_files.push_back(raw / extra);

  std::unordered_map<std::string, size_t> news_index;
  std::vector<std::pair<std::string, NewsRecord>> news;
  for (const auto& p : news_files) read_news(p, news_index, news, ctx);
  ctx.count("news read", news.size());

  const int64_t min_history = ctx.filters.min_user_interactions.value_or(kMinHistory);
  // First-seen time per news id over the kept impressions (candidates and history).
  std::unordered_map<std::string, int64_t> first_seen;
  auto seen = [&](std::string_view id, int64_t t) {
    auto [it, fresh] = first_seen.try_emplace(std::string(id), t);
    if (!fresh && t < it->second) it->second = t;
  };
  std::unordered_map<std::string, size_t> user_index;
  uint64_t rows = 0, short_history = 0, many_candidates = 0, not_one_click = 0, unknown_click = 0;
  std::vector<std::string_view> f, hist, cands;
  for (const auto& path : behavior_files) {
    util::LineReader in(path);
    std::string_view line;
    while (in.next(line)) {
      if (line.empty()) continue;
      if (ctx.filters.max_rows && static_cast<int64_t>(rows) >= *ctx.filters.max_rows) break;
      ++rows;
      if (!check_utf8(ctx, {.file = in.path(), .line = in.line_number()}, "behaviors line", line)) continue;
      split_on(line, "\t", f);
      util::Location at{.file = in.path(), .line = in.line_number()};
      if (f.size() != 5) {
        at.field = "behaviors line";
        ctx.bad->report(util::Error("expected 5 TAB-separated fields, got " + std::to_string(f.size()), at)
                            .with_reason("wrong field count"));
        continue;
      }
      auto t = parse_timestamp_text(f[2]);
      if (!t) {
        at.field = "Time";
        ctx.bad->report(
            util::Error("unrecognised time '" + std::string(f[2]) + "'", at).with_reason("bad time"));
        continue;
      }
      if (f[1].empty()) {
        report_missing(ctx, at, "UserID");
        continue;
      }
      split_spaces(f[3], hist);
      split_spaces(f[4], cands);
      size_t clicks = 0, clicked = 0;
      bool bad_label = false;
      for (size_t k = 0; k < cands.size(); ++k) {
        auto dash = cands[k].rfind('-');
        std::string_view label = dash == std::string_view::npos ? "" : cands[k].substr(dash + 1);
        if (label != "0" && label != "1") {
          bad_label = true;
          break;
        }
        if (label == "1") {
          ++clicks;
          clicked = k;
        }
        cands[k] = cands[k].substr(0, dash);
      }
      if (bad_label || cands.empty()) {
        at.field = "Impressions";
        ctx.bad->report(util::Error("impressions must be space-separated NewsID-0/1 entries", at)
                            .with_reason("bad impressions"));
        continue;
      }
      if (static_cast<int64_t>(hist.size()) < min_history) {
        ++short_history;
        continue;
      }
      if (cands.size() > kMaxCandidates) {
        ++many_candidates;
        continue;
      }
      if (clicks != 1) {
        ++not_one_click;
        continue;
      }
      if (!news_index.count(std::string(cands[clicked]))) ++unknown_click;
      // First seen over the impressions that passed the filters only, as the reference
      // (docs/method.md §2.3).
      for (auto h : hist) seen(h, *t);
      for (auto c : cands) seen(c, *t);
      util::JsonWriter w;
      w.begin_object();
      w.key("impression_list");
      w.begin_array();
      for (auto c : cands) w.value(c);
      w.end_array();
      w.key("item_pos");
      w.value(static_cast<int64_t>(clicked));
      w.end_object();
      std::string user(f[1]);
      if (!user_index.count(user)) {  // profile = history of the user's first kept impression
        util::JsonWriter u;
        u.begin_object();
        u.key("history");
        u.begin_array();
        for (auto h : hist) u.value(h);
        u.end_array();
        u.end_object();
        user_index.emplace(user, ds.users.size());
        ds.users.push_back({user, "{}", u.take()});
      }
      ds.interactions.push_back({std::move(user), std::string(cands[clicked]), *t, w.take()});
    }
  }
  ctx.count("impressions read", rows);
  if (short_history) ctx.count("dropped: history shorter than " + std::to_string(min_history), short_history);
  if (many_candidates) ctx.count("dropped: more than 10 candidates", many_candidates);
  if (not_one_click) ctx.count("dropped: not exactly one click", not_one_click);
  // Kept, as the reference keeps them; only the shared sample has such ids (real splits are consistent).
  if (unknown_click) ctx.count("interactions whose clicked news is not in the news files", unknown_click);

  ds.items.reserve(news.size());
  for (auto& [id, rec] : news) {
    auto fs = first_seen.find(id);
    util::JsonWriter w;
    w.begin_object();
    w.key("title_entities");
    w.value(rec.title_entities);
    w.key("abstract_entities");
    w.value(rec.abstract_entities);
    w.key("time");  // epoch seconds (UTC) of the first impression showing it; 0 if never shown
    w.value(fs == first_seen.end() ? 0.0 : static_cast<double>(fs->second) / 1e6);
    w.end_object();
    ds.items.push_back({id, std::move(rec.description), w.take()});
  }
  return ds;
}

}  // namespace

std::vector<ReaderEntry> mind_readers() {
  return {{"MIND", false,
           "behaviors.tsv + news.tsv of a MIND split (optional behaviors_valid.tsv, news_valid.tsv, "
           "news_test.tsv as the reference names the dev/test copies)",
           read_mind, "mind"}};
}

}  // namespace um::data::readers
