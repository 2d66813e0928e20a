// MovieLens readers: ml-100k (u.data/u.user/u.item, '|' and tab separated, Latin-1 titles),
// ml-1m ("::" separated, Latin-1 movies), and the CSV releases ml-latest(-small), ml-20m, ml-25m,
// ml-32m (quoted CSV, CRLF in ml-latest-small). Output mirrors the reference's ml-1m processing
// (docs/method.md §2.2); deviations are listed in docs/reference-differences.md.
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "data/csv.h"
#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/utf8.h"

namespace um::data::readers {
namespace {

// Epoch seconds → microseconds; a timestamp whose microseconds overflow int64 is a bad record
// (found by tests/fuzz: a huge number was signed-overflow UB).
int64_t seconds_to_us(int64_t s, const util::Location& at) {
  if (s > INT64_MAX / 1000000 || s < INT64_MIN / 1000000) throw util::Error("timestamp out of range", at);
  return s * 1000000;
}

// First "(YYYY)" group of a title, or empty.
std::string title_year(std::string_view title) {
  for (size_t p = title.find('('); p != std::string_view::npos; p = title.find('(', p + 1)) {
    if (p + 5 < title.size() && title[p + 5] == ')') {
      bool digits = true;
      for (size_t k = 1; k <= 4; ++k) digits = digits && title[p + k] >= '0' && title[p + k] <= '9';
      if (digits) return std::string(title.substr(p + 1, 4));
    }
  }
  return {};
}

void movie_record(Item& item, std::string_view title, std::string_view genres) {
  std::string year = title_year(title);
  util::JsonWriter w;
  w.begin_object();
  w.key("title");
  w.value(title);
  w.key("genres");
  w.value(genres);
  w.key("year");
  if (year.empty())
    w.null();
  else
    w.value(year);
  w.end_object();
  item.description = w.take();
  util::JsonWriter f;
  f.begin_object();
  f.key("year");
  if (year.empty())
    f.null();
  else
    f.value(year);
  f.end_object();
  item.features = f.take();
}

std::string rating_behavior(double rating);

// The few distinct ratings (half stars 0-10) are rendered once; the copies fit the small-string
// buffer, so a rating line allocates nothing for its behaviour.
class RatingJson {
 public:
  const std::string& get(double rating) {
    double k = rating * 2;
    if (k >= 0 && k < static_cast<double>(memo_.size()) && k == static_cast<double>(static_cast<int>(k))) {
      auto& s = memo_[static_cast<size_t>(k)];
      if (s.empty()) s = rating_behavior(rating);
      return s;
    }
    other_ = rating_behavior(rating);
    return other_;
  }

 private:
  std::array<std::string, 21> memo_;
  std::string other_;
};

std::string rating_behavior(double rating) {
  util::JsonWriter w;
  w.begin_object();
  w.key("rating");
  w.value(rating);
  w.end_object();
  return w.take();
}

std::string user_description(std::string_view gender, std::string_view age, std::string_view occupation) {
  util::JsonWriter w;
  w.begin_object();
  w.key("gender");
  w.value(gender == "F" ? "female" : gender == "M" ? "male" : "Unknown");
  w.key("age");
  w.value(age);
  w.key("occupation");
  w.value(occupation);
  // The reference resolves zip codes with an online database (uszipcode); offline it writes
  // "Unknown", which is what we write. The zip code is kept as a feature.
  w.key("location");
  w.value("Unknown");
  w.end_object();
  return w.take();
}

std::string zip_features(std::string_view zip) {
  util::JsonWriter w;
  w.begin_object();
  w.key("zip_code");
  w.value(zip);
  w.end_object();
  return w.take();
}

void read_fields(const std::string& path, int64_t line, std::vector<std::string_view>& f, size_t want,
                 const char* what, const ReadContext& ctx, bool& ok) {
  ok = f.size() >= want;
  if (!ok)
    ctx.bad->report(
        util::Error("expected " + std::to_string(want) + " fields, got " + std::to_string(f.size()),
                    {.file = path, .line = line, .field = what})
            .with_reason("wrong field count"));
}

// Ratings with "user SEP item SEP rating SEP timestamp" lines (u.data, ratings.dat).
void read_rating_lines(const std::filesystem::path& path, std::string_view sep, Dataset& ds,
                       const ReadContext& ctx) {
  util::LineReader in(path);
  std::string_view line;
  std::vector<std::string_view> f;
  RatingJson ratings;
  const std::string p = path.string();
  while (in.next(line)) {
    if (line.empty()) continue;
    if (ctx.filters.max_rows && static_cast<int64_t>(ds.interactions.size()) >= *ctx.filters.max_rows) break;
    split_on(line, sep, f);
    bool ok;
    read_fields(p, in.line_number(), f, 4, "rating line", ctx, ok);
    if (!ok) continue;
    try {
      util::Location at{.file = p, .line = in.line_number()};
      at.field = "rating";
      double rating = parse_double(f[2], at);
      at.field = "timestamp";
      int64_t ts = parse_int(f[3], at);
      ds.interactions.push_back(
          {std::string(f[0]), std::string(f[1]), seconds_to_us(ts, at), ratings.get(rating)});
    } catch (const util::Error& e) {
      ctx.bad->report(e);
    }
  }
  ctx.count("ratings read", ds.interactions.size());
}

Dataset read_ml100k(const ReadContext& ctx) {
  Dataset ds;
  read_rating_lines(ctx.require("u.data"), "\t", ds, ctx);

  // Genre names by flag position (u.genre: "name|index").
  std::vector<std::string> genres;
  {
    util::LineReader in(ctx.require("u.genre"));
    std::string_view line;
    std::vector<std::string_view> f;
    while (in.next(line)) {
      if (line.empty()) continue;
      split_on(line, "|", f);
      if (f.size() != 2)
        throw util::Error("expected name|index", {.file = in.path(), .line = in.line_number()});
      // A genre is a flag column of u.item: the index bounds that line's width (19 in the release).
      constexpr int64_t kMaxGenres = 1024;
      int64_t at = parse_int(f[1], {.file = in.path(), .line = in.line_number(), .field = "index"});
      if (at < 0 || at >= kMaxGenres) {
        throw util::Error("genre index out of range [0, " + std::to_string(kMaxGenres) + ")",
                          {.file = in.path(), .line = in.line_number(), .field = "index"});
      }
      size_t idx = static_cast<size_t>(at);
      if (genres.size() <= idx) genres.resize(idx + 1);
      genres[idx] = std::string(f[0]);
    }
  }
  {
    util::LineReader in(ctx.require("u.item"));
    std::string_view line;
    std::vector<std::string_view> f;
    while (in.next(line)) {
      if (line.empty()) continue;
      split_on(line, "|", f);
      bool ok;
      read_fields(in.path(), in.line_number(), f, 5 + genres.size(), "movie line", ctx, ok);
      if (!ok) continue;
      std::string names;
      for (size_t g = 0; g < genres.size(); ++g) {
        if (f[5 + g] == "1") names += (names.empty() ? "" : "|") + genres[g];
      }
      Item item;
      item.id = std::string(f[0]);
      std::string title = latin1_field(f[1]);
      movie_record(item, title, names);
      ds.items.push_back(std::move(item));
    }
  }
  {
    util::LineReader in(ctx.require("u.user"));
    std::string_view line;
    std::vector<std::string_view> f;
    while (in.next(line)) {
      if (line.empty()) continue;
      split_on(line, "|", f);
      bool ok;
      read_fields(in.path(), in.line_number(), f, 5, "user line", ctx, ok);
      if (!ok) continue;
      ds.users.push_back({std::string(f[0]), user_description(f[2], f[1], f[3]), zip_features(f[4])});
    }
  }
  apply_count_filter(ds, count_filter(ctx), ctx);
  return ds;
}

const std::unordered_map<std::string, std::string>& ml1m_ages() {
  // ml-1m README codes. The reference maps 45 to "45+" and leaves 50 and 56 unmapped ("Unknown",
  // docs/method.md §11.9); we use the README's ranges.
  static const std::unordered_map<std::string, std::string> m = {
      {"1", "Under 18"}, {"18", "18-24"}, {"25", "25-34"}, {"35", "35-44"},
      {"45", "45-49"},   {"50", "50-55"}, {"56", "56+"}};
  return m;
}

const std::unordered_map<std::string, std::string>& ml1m_reference_ages() {
  static const std::unordered_map<std::string, std::string> m = {
      {"1", "Under 18"}, {"18", "18-24"}, {"25", "25-34"}, {"35", "35-44"}, {"45", "45+"}};
  return m;
}

const std::array<const char*, 21>& ml1m_occupations() {
  static const std::array<const char*, 21> o = {"other",
                                                "academic/educator",
                                                "artist",
                                                "clerical/admin",
                                                "college/grad student",
                                                "customer service",
                                                "doctor/health care",
                                                "executive/managerial",
                                                "farmer",
                                                "homemaker",
                                                "K-12 student",
                                                "lawyer",
                                                "programmer",
                                                "retired",
                                                "sales/marketing",
                                                "scientist",
                                                "self-employed",
                                                "technician/engineer",
                                                "tradesman/craftsman",
                                                "unemployed",
                                                "writer"};
  return o;
}

Dataset read_ml1m(const ReadContext& ctx) {
  Dataset ds;
  read_rating_lines(ctx.require_any({"ratings.dat", "ratings.dat.gz"}), "::", ds, ctx);
  {
    util::LineReader in(ctx.require_any({"movies.dat", "movies.dat.gz"}));
    std::string_view line;
    std::vector<std::string_view> f;
    while (in.next(line)) {
      if (line.empty()) continue;
      split_on(line, "::", f);
      bool ok;
      read_fields(in.path(), in.line_number(), f, 3, "movie line", ctx, ok);
      if (!ok) continue;
      Item item;
      item.id = std::string(f[0]);
      movie_record(item, latin1_field(f[1]), latin1_field(f[2]));
      ds.items.push_back(std::move(item));
    }
  }
  {
    util::LineReader in(ctx.require_any({"users.dat", "users.dat.gz"}));
    std::string_view line;
    std::vector<std::string_view> f;
    while (in.next(line)) {
      if (line.empty()) continue;
      split_on(line, "::", f);
      bool ok;
      read_fields(in.path(), in.line_number(), f, 5, "user line", ctx, ok);
      if (!ok) continue;
      // --compat reference: the reference's map (45 → "45+", 50 and 56 unmapped → "Unknown").
      const auto& ages = ctx.compat == Compat::reference ? ml1m_reference_ages() : ml1m_ages();
      auto age = ages.find(std::string(f[2]));
      util::Location at{.file = in.path(), .line = in.line_number(), .field = "Occupation"};
      int64_t occ = -1;
      try {
        occ = parse_int(f[3], at);
      } catch (const util::Error& e) {
        ctx.bad->report(e);
        continue;
      }
      std::string occupation =
          occ >= 0 && occ < 21 ? ml1m_occupations()[static_cast<size_t>(occ)] : "Unknown";
      ds.users.push_back({std::string(f[0]),
                          user_description(f[1], age == ages.end() ? "Unknown" : age->second, occupation),
                          zip_features(f[4])});
    }
  }
  if (ctx.compat == Compat::reference) {
    // The reference writes every users.dat line, users without ratings included.
    std::vector<User> all = ds.users;
    apply_count_filter(ds, count_filter(ctx), ctx);
    if (all.size() != ds.users.size()) {
      if (ctx.stats) ctx.stats->erase("dropped: users without interactions");
      ctx.count("users without interactions kept (--compat reference)", all.size() - ds.users.size());
    }
    ds.users = std::move(all);
    return ds;
  }
  apply_count_filter(ds, count_filter(ctx), ctx);
  return ds;
}

// ml-latest(-small), ml-20m, ml-25m, ml-32m: ratings.csv + movies.csv with headers. No user
// attributes are published, so user records carry empty descriptions.
Dataset read_ml_csv(const ReadContext& ctx) {
  Dataset ds;
  {
    CsvReader in(ctx.require("ratings.csv"));
    std::vector<std::string_view> f;
    if (!in.next(f) || f.size() < 4 || f[0] != "userId")
      throw util::Error("expected header userId,movieId,rating,timestamp", {.file = in.path(), .line = 1});
    std::unordered_set<std::string> users;
    RatingJson ratings;
    while (in.next(f)) {
      if (ctx.filters.max_rows && static_cast<int64_t>(ds.interactions.size()) >= *ctx.filters.max_rows)
        break;
      if (f.size() == 1 && f[0].empty()) continue;
      if (f.size() != 4) {
        ctx.bad->report(util::Error("expected 4 fields", {.file = in.path(), .line = in.record_line()})
                            .with_reason("wrong field count"));
        continue;
      }
      try {
        util::Location at{.file = in.path(), .line = in.record_line(), .field = "rating"};
        double rating = parse_double(f[2], at);
        at.field = "timestamp";
        int64_t ts = parse_int(f[3], at);
        ds.interactions.push_back(
            {std::string(f[0]), std::string(f[1]), seconds_to_us(ts, at), ratings.get(rating)});
        if (users.insert(std::string(f[0])).second) ds.users.push_back({std::string(f[0]), "{}", "{}"});
      } catch (const util::Error& e) {
        ctx.bad->report(e);
      }
    }
    ctx.count("ratings read", ds.interactions.size());
  }
  {
    CsvReader in(ctx.require("movies.csv"));
    std::vector<std::string_view> f;
    if (!in.next(f) || f.size() < 3 || f[0] != "movieId")
      throw util::Error("expected header movieId,title,genres", {.file = in.path(), .line = 1});
    while (in.next(f)) {
      if (f.size() == 1 && f[0].empty()) continue;
      if (f.size() != 3) {
        ctx.bad->report(util::Error("expected 3 fields", {.file = in.path(), .line = in.record_line()})
                            .with_reason("wrong field count"));
        continue;
      }
      if (!check_utf8(ctx, {.file = in.path(), .line = in.record_line()}, "title", f[1])) continue;
      Item item;
      item.id = std::string(f[0]);
      // "(no genres listed)" is MovieLens' own marker; kept verbatim.
      movie_record(item, f[1], f[2]);
      ds.items.push_back(std::move(item));
    }
  }
  apply_count_filter(ds, count_filter(ctx), ctx);
  return ds;
}

}  // namespace

std::vector<ReaderEntry> movielens_readers() {
  // Users with at least 5 ratings (the reference's filter). Only ml-100k and ml-1m publish user
  // attributes (the profile the movielens templates render).
  constexpr FilterDefaults kFilters{.min_user_interactions = 5};
  auto row = [&](const char* name, const char* description, Dataset (*read)(const ReadContext&),
                 bool user_attributes) {
    return ReaderEntry{.name = name,
                       .description = description,
                       .read = read,
                       .scene_family = "movielens",
                       .filters = kFilters,
                       .user_attributes = user_attributes};
  };
  return {
      row("ml-100k", "u.data, u.item, u.user, u.genre (MovieLens 100K)", read_ml100k, true),
      row("ml-1m", "ratings.dat[.gz], movies.dat, users.dat (MovieLens 1M)", read_ml1m, true),
      row("ml-latest-small", "ratings.csv, movies.csv", read_ml_csv, false),
      row("ml-latest", "ratings.csv, movies.csv", read_ml_csv, false),
      row("ml-20m", "ratings.csv, movies.csv", read_ml_csv, false),
      row("ml-25m", "ratings.csv, movies.csv", read_ml_csv, false),
      row("ml-32m", "ratings.csv, movies.csv", read_ml_csv, false),
  };
}

}  // namespace um::data::readers
