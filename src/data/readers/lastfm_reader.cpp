// Last.fm (HetRec 2011 lastfm-2k): artists.dat, tags.dat (Latin-1), user_artists.dat,
// user_friends.dat, and the tag assignments: user_taggedartists-timestamps.dat (epoch ms) when
// present, else user_taggedartists.dat (day/month/year → that day 00:00 UTC). Tab-separated with a
// header line; CRLF except artists.dat. Output follows docs/method.md §2.7 with the tag-to-artist
// misalignment (§11.8) fixed: each artist gets its own tags.
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "data/csv.h"
#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/time.h"

namespace um::data::readers {
namespace {

constexpr size_t kTopTags = 5;

// Calls fn(fields, location) for each data record of a tab-separated file with a header whose first
// column is `first_header`. Records are tokenised as pandas' read_csv does, as the reference reads
// them (docs/method.md §2.7): artists.dat's `"Weird Al" Yankovic` is `Weird Al Yankovic`.
template <typename Fn>
void for_each_row(const std::filesystem::path& path, std::string_view first_header, size_t min_fields,
                  const ReadContext& ctx, Fn&& fn) {
  PandasRecordReader in(path, '\t');
  std::vector<std::string_view> f;
  bool header = true;
  while (in.next(f)) {
    util::Location at{.file = in.path(), .line = in.record_line()};
    if (header) {
      header = false;
      if (f[0] != first_header)
        throw util::Error("expected a header line starting with '" + std::string(first_header) + "'", at);
      continue;
    }
    if (f.size() < min_fields) {
      at.field = std::string(first_header) + " line";
      ctx.bad->report(util::Error("expected " + std::to_string(min_fields) + " TAB-separated fields, got " +
                                      std::to_string(f.size()),
                                  at)
                          .with_reason("wrong field count"));
      continue;
    }
    try {
      fn(f, at);
    } catch (const util::Error& e) {
      ctx.bad->report(e);
    }
  }
}

struct Event {
  std::string user, artist;
  int64_t tag;
  int64_t ts_us;
};

struct TagCount {
  int64_t tag;
  int64_t n;
};

Dataset read_lastfm(const ReadContext& ctx) {
  Dataset ds;
  std::unordered_map<int64_t, std::string> tag_names;
  for_each_row(ctx.require("tags.dat"), "tagID", 2, ctx, [&](auto& f, util::Location at) {
    at.field = "tagID";
    tag_names[parse_int(f[0], at)] = latin1_field(f[1]);
  });

  std::vector<Event> events;
  auto ts_file = ctx.raw_dir / "user_taggedartists-timestamps.dat";
  if (std::filesystem::exists(ts_file)) {
    for_each_row(ts_file, "userID", 4, ctx, [&](auto& f, util::Location at) {
      at.field = "tagID";
      int64_t tag = parse_int(f[2], at);
      at.field = "timestamp";
      int64_t ms = parse_int(f[3], at);
      events.push_back({std::string(f[0]), std::string(f[1]), tag, ms * 1000});
    });
    ctx.count("tag assignments read (timestamps file)", events.size());
  } else {
    for_each_row(ctx.require("user_taggedartists.dat"), "userID", 6, ctx, [&](auto& f, util::Location at) {
      at.field = "tagID";
      int64_t tag = parse_int(f[2], at);
      at.field = "day";
      int64_t d = parse_int(f[3], at);
      at.field = "month";
      int64_t m = parse_int(f[4], at);
      at.field = "year";
      int64_t y = parse_int(f[5], at);
      if (m < 1 || m > 12 || d < 1 || d > 31) throw util::Error("invalid date", at).with_reason("bad date");
      int64_t days = util::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
      events.push_back({std::string(f[0]), std::string(f[1]), tag, days * 86400 * util::kMicrosPerSecond});
    });
    ctx.count("tag assignments read (day precision: timestamps file absent)", events.size());
  }

  // Per-artist tag frequencies over every assignment, keyed by artist id.
  std::unordered_map<std::string, std::vector<TagCount>> artist_tags;
  {
    std::unordered_map<std::string, std::unordered_map<int64_t, int64_t>> counts;
    for (const auto& e : events) counts[e.artist][e.tag]++;
    for (auto& [artist, m] : counts) {
      auto& v = artist_tags[artist];
      for (auto [tag, n] : m) v.push_back({tag, n});
      std::sort(v.begin(), v.end(),
                [](const TagCount& a, const TagCount& b) { return a.n != b.n ? a.n > b.n : a.tag < b.tag; });
    }
  }
  auto tag_name = [&](int64_t tag) -> std::string {
    auto it = tag_names.find(tag);
    return it == tag_names.end() ? std::string() : it->second;
  };
  uint64_t unknown_tags = 0;
  for (const auto& e : events)
    if (!tag_names.count(e.tag)) ++unknown_tags;
  if (unknown_tags) ctx.count("tag assignments with a tagID absent from tags.dat", unknown_tags);

  std::unordered_set<std::string> artists;
  for_each_row(ctx.require("artists.dat"), "id", 2, ctx, [&](auto& f, util::Location at) {
    Item item;
    item.id = std::string(f[0]);
    // artists.dat is UTF-8 (unlike tags.dat); invalid bytes are reported, not guessed.
    if (!check_utf8(ctx, at, "name", f[1])) return;
    std::string name(f[1]);
    const auto* tags = artist_tags.count(item.id) ? &artist_tags[item.id] : nullptr;
    std::string top;
    util::JsonWriter feat;
    feat.begin_object();
    feat.key("tags");
    feat.begin_array();
    if (tags) {
      for (size_t k = 0; k < tags->size(); ++k) {
        std::string n = tag_name((*tags)[k].tag);
        if (k < kTopTags) top += (k ? "/" : "") + n;
        feat.begin_array();
        feat.value(n);
        feat.value((*tags)[k].n);
        feat.end_array();
      }
    }
    feat.end_array();
    feat.end_object();
    util::JsonWriter w;
    w.begin_object();
    w.key("name");
    w.value(name);
    w.key("tags");
    w.value(top);
    w.end_object();
    item.description = w.take();
    item.features = feat.take();
    artists.insert(item.id);
    ds.items.push_back(std::move(item));
  });

  std::map<std::string, std::vector<std::string>> friends;
  for_each_row(ctx.require("user_friends.dat"), "userID", 2, ctx,
               [&](auto& f, util::Location) { friends[std::string(f[0])].emplace_back(f[1]); });
  std::unordered_set<std::string> users;
  for_each_row(ctx.require("user_artists.dat"), "userID", 3, ctx, [&](auto& f, util::Location) {
    std::string id(f[0]);
    if (!users.insert(id).second) return;
    util::JsonWriter w;
    w.begin_object();
    w.key("friends");
    w.begin_array();
    if (auto it = friends.find(id); it != friends.end())
      for (const auto& fr : it->second) w.value(fr);
    w.end_array();
    w.end_object();
    ds.users.push_back({id, "{}", w.take()});
  });

  // One interaction per (user, artist): the earliest assignment time, the tags in first-seen order.
  struct Group {
    int64_t ts;
    std::vector<int64_t> tags;
  };
  std::unordered_map<std::string, size_t> group_index;
  std::vector<std::pair<const Event*, Group>> groups;
  uint64_t unknown = 0;
  for (const auto& e : events) {
    if (!users.count(e.user) || !artists.count(e.artist)) {
      ++unknown;
      continue;
    }
    auto [it, fresh] = group_index.try_emplace(e.user + '\x1f' + e.artist, groups.size());
    if (fresh) groups.push_back({&e, {e.ts_us, {}}});
    Group& g = groups[it->second].second;
    g.ts = std::min(g.ts, e.ts_us);
    if (std::find(g.tags.begin(), g.tags.end(), e.tag) == g.tags.end()) g.tags.push_back(e.tag);
  }
  if (unknown) ctx.count("dropped: assignments of unknown users or artists", unknown);
  ds.interactions.reserve(groups.size());
  for (auto& [e, g] : groups) {
    util::JsonWriter w;
    w.begin_object();
    w.key("tagID");
    w.begin_array();
    for (auto t : g.tags) w.value(t);
    w.end_array();
    w.key("tagValue");
    w.begin_array();
    for (auto t : g.tags) w.value(tag_name(t));
    w.end_array();
    w.end_object();
    ds.interactions.push_back({e->user, e->artist, g.ts, w.take()});
  }
  return ds;
}

}  // namespace

std::vector<ReaderEntry> lastfm_readers() {
  return {{"LastFM", false,
           "artists.dat, tags.dat, user_artists.dat, user_friends.dat, user_taggedartists[-timestamps].dat "
           "(HetRec 2011 lastfm-2k)",
           read_lastfm, "lastfm"}};
}

}  // namespace um::data::readers
