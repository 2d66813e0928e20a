// Goodreads (UCSD Book Graph, one genre subset): goodreads_interactions_<genre>.json.gz,
// goodreads_books_<genre>.json.gz, goodreads_book_genres_initial.json.gz,
// goodreads_reviews_<genre>.json.gz, goodreads_book_authors.json.gz (JSON Lines; numbers are often
// strings, "" means missing). The genre is the one whose interactions file the folder holds
// (the reference uses comics_graphic). Output follows docs/method.md §2.5; fixes in
// docs/reference-differences.md "## Prepare".
#include <charconv>
#include <string>
#include <unordered_map>

#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/json_access.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"
#include "util/time.h"

namespace um::data::readers {
namespace {

namespace fs = std::filesystem;

std::string find_genre(const ReadContext& ctx) {
  const std::string prefix = "goodreads_interactions_";
  std::vector<std::string> genres;
  for (const auto& e : fs::directory_iterator(ctx.raw_dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) != 0) continue;
    for (std::string ext : {".json.gz", ".json"})
      if (n.size() > prefix.size() + ext.size() && n.compare(n.size() - ext.size(), ext.size(), ext) == 0) {
        genres.push_back(n.substr(prefix.size(), n.size() - prefix.size() - ext.size()));
        break;
      }
  }
  if (genres.size() == 1) return genres[0];
  for (const auto& g : genres)
    if (g == "comics_graphic") return g;
  throw util::Error(genres.empty()
                        ? "no goodreads_interactions_<genre>.json[.gz] in the raw folder"
                        : "several goodreads_interactions_<genre> files; keep one genre per folder",
                    {.file = ctx.raw_dir.string()});
}

// "Mon Aug 21 12:11:00 -0700 2017" (Ruby/Twitter style, %a %b %d %H:%M:%S %z %Y) → UTC epoch µs.
std::optional<int64_t> parse_goodreads_date(std::string_view s) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' || s[25] != ' ')
    return std::nullopt;
  unsigned mon = 0;
  for (unsigned m = 0; m < 12; ++m)
    if (s.substr(4, 3) == months[m]) mon = m + 1;
  auto num = [&](size_t pos, size_t len, int& out) {
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  int d, h, mi, se, oh, om, y;
  if (!mon || !num(8, 2, d) || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' ||
      !num(17, 2, se) || (s[20] != '+' && s[20] != '-') || !num(21, 2, oh) || !num(23, 2, om) ||
      !num(26, 4, y))
    return std::nullopt;
  if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  int64_t offset = (oh * 3600 + om * 60) * (s[20] == '-' ? -1 : 1);
  int64_t days = util::days_from_civil(y, mon, static_cast<unsigned>(d));
  return (days * 86400 + h * 3600 + mi * 60 + se - offset) * util::kMicrosPerSecond;
}

// Non-empty string, or nullopt ("" is how the UCSD files write a missing value).
std::optional<std::string_view> present(simdjson::dom::object o, std::string_view key) {
  auto s = get_str(o, key);
  if (s && !s->empty()) return s;
  return std::nullopt;
}

// The whole string as a number of type T, or nullopt.
template <typename T>
std::optional<T> number_text(std::optional<std::string_view> s) {
  T v{};
  if (!s) return std::nullopt;
  auto r = std::from_chars(s->data(), s->data() + s->size(), v);
  if (r.ec != std::errc() || r.ptr != s->data() + s->size()) return std::nullopt;
  return v;
}

struct ReviewInfo {
  std::string text;
  int64_t votes = 0, comments = 0;
};

Dataset read_goodreads(const ReadContext& ctx) {
  Dataset ds;
  std::string g = find_genre(ctx);
  ctx.count("genre: " + g, 1);
  auto file = [&](const std::string& stem) { return ctx.require_any({stem + ".json.gz", stem + ".json"}); };

  std::unordered_map<std::string, std::string> authors;
  for_each_json_line(file("goodreads_book_authors"), ctx, false,
                     [&](simdjson::dom::object o, const util::Location&) {
                       auto id = get_id(o, "author_id");
                       auto name = get_str(o, "name");
                       if (id && name) authors[*id] = std::string(*name);
                     });
  std::unordered_map<std::string, std::vector<std::string>> genres;
  for_each_json_line(file("goodreads_book_genres_initial"), ctx, false,
                     [&](simdjson::dom::object o, const util::Location&) {
                       auto id = get_id(o, "book_id");
                       simdjson::dom::object gs;
                       if (!id || o["genres"].get_object().get(gs)) return;
                       auto& v = genres[*id];
                       for (auto [k, n] : gs) v.emplace_back(k);
                     });

  for_each_json_line(file("goodreads_books_" + g), ctx, false,
                     [&](simdjson::dom::object o, const util::Location& at) {
                       auto id = get_id(o, "book_id");
                       if (!id) return report_missing(ctx, at, "book_id");
                       std::string names;
                       std::vector<std::string> author_names;
                       simdjson::dom::array as;
                       if (!o["authors"].get_array().get(as)) {
                         for (auto a : as) {
                           simdjson::dom::object ao;
                           if (a.get_object().get(ao)) continue;
                           auto aid = get_id(ao, "author_id");
                           auto it = aid ? authors.find(*aid) : authors.end();
                           std::string name = it == authors.end() ? "Unknown Author" : it->second;
                           author_names.push_back(name);
                           auto role = present(ao, "role");
                           if (!names.empty()) names += "/";
                           names += name + (role ? " (" + std::string(*role) + ")" : "");
                         }
                       }
                       util::JsonWriter w;
                       w.begin_object();
                       w.key("title");
                       w.value(present(o, "title").value_or(""));
                       w.key("authors");
                       w.value(names);
                       w.key("description");
                       w.value(present(o, "description").value_or(""));
                       w.key("genres");
                       w.begin_array();
                       if (auto it = genres.find(*id); it != genres.end())
                         for (const auto& x : it->second) w.value(x);
                       w.end_array();
                       w.key("publication_year");
                       w.value(present(o, "publication_year").value_or(""));
                       w.key("publisher");
                       w.value(present(o, "publisher").value_or("NA"));
                       w.key("average_rating");
                       if (auto v = number_text<double>(present(o, "average_rating")))
                         w.value(*v);
                       else
                         w.value("NA");
                       w.key("ratings_count");
                       if (auto v = number_text<int64_t>(present(o, "ratings_count")))
                         w.value(*v);
                       else
                         w.value("NA");
                       w.key("num_pages");
                       w.value(present(o, "num_pages").value_or("NA"));
                       w.end_object();
                       util::JsonWriter f;
                       f.begin_object();
                       f.key("authors");
                       f.begin_array();
                       for (const auto& n : author_names) f.value(n);
                       f.end_array();
                       f.key("text_reviews_count");
                       f.value(present(o, "text_reviews_count").value_or(""));
                       f.key("language_code");
                       f.value(present(o, "language_code").value_or(""));
                       f.key("is_ebook");
                       f.value(get_str(o, "is_ebook").value_or("") == "true");
                       f.end_object();
                       ds.items.push_back({*id, w.take(), f.take()});
                     });

  std::unordered_map<std::string, ReviewInfo> reviews;
  for_each_json_line(file("goodreads_reviews_" + g), ctx, false,
                     [&](simdjson::dom::object o, const util::Location&) {
                       auto id = get_id(o, "review_id");
                       if (!id) return;
                       ReviewInfo r;
                       r.text = std::string(get_str(o, "review_text").value_or(""));
                       r.votes = static_cast<int64_t>(get_num(o, "n_votes").value_or(0));
                       r.comments = static_cast<int64_t>(get_num(o, "n_comments").value_or(0));
                       reviews[*id] = std::move(r);
                     });

  std::unordered_map<std::string, bool> users;
  uint64_t rows = 0, bad_date = 0;
  for_each_json_line(file("goodreads_interactions_" + g), ctx, false,
                     [&](simdjson::dom::object o, const util::Location& at) {
                       if (!row_budget_left(ctx, rows)) return;
                       ++rows;
                       auto user = get_id(o, "user_id");
                       if (!user) return report_missing(ctx, at, "user_id");
                       auto book = get_id(o, "book_id");
                       if (!book) return report_missing(ctx, at, "book_id");
                       auto t = parse_goodreads_date(get_str(o, "date_added").value_or(""));
                       if (!t) {  // the reference drops rows whose date does not parse
                         ++bad_date;
                         return;
                       }
                       bool is_read = false;
                       if (o["is_read"].get_bool().get(is_read)) is_read = false;
                       const ReviewInfo* rv = nullptr;
                       if (auto rid = get_id(o, "review_id"))
                         if (auto it = reviews.find(*rid); it != reviews.end()) rv = &it->second;
                       util::JsonWriter w;
                       w.begin_object();
                       w.key("rating");
                       w.value(get_num(o, "rating").value_or(0.0));
                       w.key("is_read");
                       w.value(is_read);
                       w.key("review_text");
                       w.value(rv ? std::string_view(rv->text) : std::string_view());
                       w.key("n_votes");
                       w.value(rv ? rv->votes : int64_t{0});
                       w.key("n_comments");
                       w.value(rv ? rv->comments : int64_t{0});
                       w.end_object();
                       if (users.emplace(*user, true).second) ds.users.push_back({*user, "{}", "{}"});
                       ds.interactions.push_back({std::move(*user), std::move(*book), *t, w.take()});
                     });
  ctx.count("interactions read", rows);
  if (bad_date) ctx.count("dropped: date_added not parsable", bad_date);
  apply_count_filter(ds, count_filter(ctx), ctx);
  return ds;
}

}  // namespace

std::vector<ReaderEntry> goodreads_readers() {
  return {{.name = "goodreads",
           .description =
               "goodreads_interactions_<genre>, goodreads_books_<genre>, goodreads_reviews_<genre>, "
               "goodreads_book_genres_initial, goodreads_book_authors (.json.gz, UCSD Book Graph)",
           .read = read_goodreads,
           .scene_family = "goodreads",
           .filters = {.min_user_interactions = 5}}};
}

}  // namespace um::data::readers
