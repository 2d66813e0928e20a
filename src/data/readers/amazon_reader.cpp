// Amazon Reviews: the 2023 release (<Cat>.jsonl[.gz] + meta_<Cat>.jsonl[.gz], docs/method.md §2.4) and
// the 2018 release (<Cat>.json.gz or the 5-core <Cat>_5.json.gz + meta_<Cat>.json.gz), chosen by
// which files the raw folder holds. Both produce the 2023-based description keys of the reference;
// the 2018 → 2023 field mapping and the fixes are in docs/reference-differences.md "## Prepare".
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "data/filters.h"
#include "data/readers/common.h"
#include "data/readers/json_access.h"
#include "data/readers/readers.h"
#include "util/json_writer.h"
#include "util/rng.h"
#include "util/utf8.h"

namespace um::data::readers {
namespace {

namespace fs = std::filesystem;

// Reference parameter ("Beauty, Fashion" configuration of DataProcessor_Amazon.ipynb; the overridable
// ones are in the reader row, amazon_readers()).
constexpr size_t kMinDetailsKeys = 2;  // "details has more than 1 key"
constexpr size_t kMaxOuterItems = 65536;

struct Files {
  fs::path reviews, meta;
  bool v2023 = false;
};

std::optional<fs::path> first_existing(const fs::path& dir, std::initializer_list<std::string> names) {
  for (const auto& n : names)
    if (fs::exists(dir / n)) return dir / n;
  return std::nullopt;
}

Files locate(const ReadContext& ctx) {
  std::string cat = ctx.dataset.substr(std::string("Amazon-").size());
  auto find = [&](const std::string& c) -> std::optional<Files> {
    auto m23 = first_existing(ctx.raw_dir, {"meta_" + c + ".jsonl.gz", "meta_" + c + ".jsonl"});
    auto r23 = first_existing(ctx.raw_dir, {c + ".jsonl.gz", c + ".jsonl"});
    if (m23 && r23) return Files{*r23, *m23, true};
    auto m18 = first_existing(ctx.raw_dir, {"meta_" + c + ".json.gz", "meta_" + c + ".json"});
    auto r18 = first_existing(ctx.raw_dir, {c + ".json.gz", c + ".json", c + "_5.json.gz", c + "_5.json"});
    if (m18 && r18) return Files{*r18, *m18, false};
    return std::nullopt;
  };
  if (auto f = find(cat)) return *f;
  // The reference names datasets apart from their files (Amazon-Fashion ← Amazon_Fashion): accept
  // a folder holding exactly one category's metadata.
  std::vector<std::string> cats;
  for (const auto& e : fs::directory_iterator(ctx.raw_dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind("meta_", 0) != 0) continue;
    for (const char* ext : {".jsonl.gz", ".jsonl", ".json.gz", ".json"}) {
      std::string x(ext);
      if (n.size() > x.size() + 5 && n.compare(n.size() - x.size(), x.size(), x) == 0) {
        cats.push_back(n.substr(5, n.size() - 5 - x.size()));
        break;
      }
    }
  }
  if (cats.size() == 1)
    if (auto f = find(cats[0])) return *f;
  throw util::Error("raw files missing for " + ctx.dataset + ": expected " + cat + ".jsonl[.gz] + meta_" +
                        cat + ".jsonl[.gz] (2023) or " + cat + "[_5].json[.gz] + meta_" + cat +
                        ".json[.gz] (2018)",
                    {.file = ctx.raw_dir.string()});
}

struct Review {
  std::string user, item;
  int64_t ts_us;
  std::string behavior;
};

struct ItemStats {
  int64_t n = 0;
  double sum = 0;
};

// 2018 metadata holds scraped HTML: tags removed (an unterminated trailing tag, as in the
// `<span class="a-size-medium ...` titles, is dropped), common entities decoded, space trimmed.
std::string clean_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '<' && i + 1 < s.size() &&
        (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/')) {
      size_t e = s.find('>', i);
      if (e == std::string_view::npos) break;
      i = e + 1;
      continue;
    }
    if (c == '&') {
      static const std::pair<std::string_view, std::string_view> ents[] = {
          {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
          {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
      bool done = false;
      for (auto [from, to] : ents) {
        if (s.substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          done = true;
          break;
        }
      }
      if (done) continue;
      if (s.substr(i, 2) == "&#") {
        size_t e = s.find(';', i);
        if (e != std::string_view::npos && e - i <= 9) {
          bool hexa = s[i + 2] == 'x' || s[i + 2] == 'X';
          uint32_t cp = 0;
          bool ok = e > i + 2 + (hexa ? 1 : 0);
          for (size_t k = i + 2 + (hexa ? 1 : 0); k < e && ok; ++k) {
            char d = s[k];
            int v = d >= '0' && d <= '9'                                   ? d - '0'
                    : hexa && std::isxdigit(static_cast<unsigned char>(d)) ? (d | 0x20) - 'a' + 10
                                                                           : -1;
            if (v < 0)
              ok = false;
            else
              cp = cp * (hexa ? 16 : 10) + static_cast<uint32_t>(v);
          }
          if (ok && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
            util::append_utf8(out, cp);
            i = e + 1;
            continue;
          }
        }
      }
    }
    out += c;
    ++i;
  }
  size_t b = out.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = out.find_last_not_of(" \t\r\n");
  return out.substr(b, e - b + 1);
}

// Python str() of a JSON value for the "k: v" detail lines: strings verbatim, others as JSON.
std::string value_text(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  return simdjson::minify(e);
}

// The strings of a JSON list. 2023 lists are taken whole (the reference joins every entry);
// 2018 entries are HTML-cleaned and dropped when that leaves nothing.
std::vector<std::string> string_list(simdjson::dom::object o, std::string_view key, bool html) {
  std::vector<std::string> out;
  simdjson::dom::array a;
  if (o[key].get_array().get(a)) return out;
  for (auto e : a) {
    std::string_view s;
    if (e.get_string().get(s)) continue;
    std::string v = html ? clean_html(s) : std::string(s);
    if (!html || !v.empty()) out.push_back(std::move(v));
  }
  return out;
}

// Python's str.isspace() for one code point (str.strip() without arguments removes these).
bool py_space(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

// Python's str.strip() on UTF-8 text.
std::string py_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    uint32_t cp = 0;
    size_t n = util::decode_utf8(s, b, cp);
    if (n == 0 || !py_space(cp)) break;
    b += n;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    uint32_t cp = 0;
    size_t n = util::decode_utf8(s, start, cp);
    if (n != e - start || !py_space(cp)) break;
    e = start;
  }
  return std::string(s.substr(b, e - b));
}

// The reference's `sep.join(parts).strip() + "\n"`, or "" for an empty list (docs/method.md §2.4).
std::string joined_field(const std::vector<std::string>& parts, std::string_view sep) {
  if (parts.empty()) return {};
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return py_strip(out) + "\n";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

void read_reviews(const Files& files, const ReadContext& ctx, std::vector<Review>& reviews,
                  std::unordered_map<std::string, ItemStats>& stats) {
  uint64_t rows = 0, no_text = 0;
  for_each_json_line(files.reviews, ctx, false, [&](simdjson::dom::object o, const util::Location& at) {
    if (!row_budget_left(ctx, rows)) return;
    ++rows;
    const char* user_key = files.v2023 ? "user_id" : "reviewerID";
    const char* item_key = files.v2023 ? "parent_asin" : "asin";
    const char* rating_key = files.v2023 ? "rating" : "overall";
    const char* time_key = files.v2023 ? "timestamp" : "unixReviewTime";
    auto user = get_id(o, user_key);
    if (!user) return report_missing(ctx, at, user_key);
    auto item = get_id(o, item_key);
    if (!item) return report_missing(ctx, at, item_key);
    auto rating = get_num(o, rating_key);
    if (!rating) return report_missing(ctx, at, rating_key);
    auto t = get_num(o, time_key);
    if (!t) return report_missing(ctx, at, time_key);
    auto ts = scale_timestamp(*t, files.v2023 ? 1000 : 1000000);  // µs: 2023 has ms, 2018 seconds
    if (!ts) return report_bad_timestamp(ctx, at, time_key);
    auto text = get_str(o, files.v2023 ? "text" : "reviewText");
    auto summary = get_str(o, files.v2023 ? "title" : "summary");
    if (!text) ++no_text;
    util::JsonWriter w;
    w.begin_object();
    w.key("rating");
    w.value(static_cast<int64_t>(std::llround(*rating)));
    w.key("review_text");
    w.value(text.value_or(""));
    w.key("review_summary");
    w.value(summary.value_or(""));
    w.end_object();
    auto& s = stats[*item];
    s.n++;
    s.sum += *rating;
    reviews.push_back({std::move(*user), std::move(*item), *ts, w.take()});
  });
  ctx.count("reviews read", rows);
  if (no_text) ctx.count("reviews without text (written as \"\")", no_text);
}

struct Meta {
  std::string id;
  std::string description;
  int64_t rating_number = 0;
  size_t details_keys = 0;
};

Meta meta_record(simdjson::dom::object o, const std::string& id, bool v2023,
                 const std::unordered_map<std::string, ItemStats>& stats) {
  Meta m;
  m.id = id;
  util::JsonWriter w;
  w.begin_object();
  w.key("title");
  auto title = get_str(o, "title");
  if (!title)
    w.null();
  else
    w.value(v2023 ? std::string(*title) : clean_html(*title));
  w.key("price");
  auto price = get_elem(o, "price");
  std::string_view ps;
  if (!price) {
    w.value("NA");
  } else if (!v2023 && !price->get_string().get(ps)) {
    std::string p = clean_html(ps);
    double v = 0;
    auto r = p.size() > 1 && p[0] == '$' ? std::from_chars(p.data() + 1, p.data() + p.size(), v)
                                         : std::from_chars_result{p.data(), std::errc::invalid_argument};
    if (p.empty())
      w.value("NA");
    else if (r.ec == std::errc() && r.ptr == p.data() + p.size())
      w.value(v);
    else
      w.value(p);
  } else {
    w.raw(simdjson::minify(*price));
  }
  w.key("store");
  auto store = get_str(o, v2023 ? "store" : "brand");
  if (!store)
    w.null();
  else
    w.value(v2023 ? std::string(*store) : clean_html(*store));
  if (v2023) {
    w.key("average_rating");
    auto ar = get_elem(o, "average_rating");
    if (ar)
      w.raw(simdjson::minify(*ar));
    else
      w.null();
    w.key("rating_number");
    auto rn = get_num(o, "rating_number");
    m.rating_number = rn ? static_cast<int64_t>(*rn) : 0;
    if (rn)
      w.value(m.rating_number);
    else
      w.null();
  } else {  // 2018 metadata has no rating summary: computed from the review file read
    auto s = stats.find(id);
    w.key("average_rating");
    if (s == stats.end())
      w.null();
    else
      w.value(std::round(s->second.sum / static_cast<double>(s->second.n) * 10) / 10);
    w.key("rating_number");
    m.rating_number = s == stats.end() ? 0 : s->second.n;
    w.value(m.rating_number);
  }
  w.key("category");
  auto cats = string_list(o, v2023 ? "categories" : "category", !v2023);
  if (!cats.empty()) {
    w.value(join(cats, "-"));
  } else {
    auto mc = get_str(o, v2023 ? "main_category" : "main_cat");
    w.value(mc ? (v2023 ? std::string(*mc) : clean_html(*mc)) : std::string("None"));
  }
  w.key("description");
  std::vector<std::string> details;
  simdjson::dom::object d;
  if (!o["details"].get_object().get(d)) {
    for (auto [k, v] : d) {
      std::string key(k);
      if (!v2023)
        while (!key.empty() && (key.back() == ' ' || key.back() == ':')) key.pop_back();
      details.push_back(key + ": " + (v2023 ? value_text(v) : clean_html(value_text(v))));
    }
  }
  m.details_keys = details.size();
  w.value(joined_field(details, ";"));
  w.key("features");
  w.value(joined_field(string_list(o, v2023 ? "features" : "feature", !v2023), ", "));
  w.end_object();
  m.description = w.take();
  return m;
}

Dataset read_amazon(const ReadContext& ctx) {
  Files files = locate(ctx);
  ctx.count(files.v2023 ? "format: Amazon Reviews 2023" : "format: Amazon Review Data 2018", 1);
  std::vector<Review> reviews;
  std::unordered_map<std::string, ItemStats> stats;
  read_reviews(files, ctx, reviews, stats);

  std::vector<Meta> metas;
  std::unordered_map<std::string, size_t> meta_index;
  uint64_t meta_lines = 0, meta_dups = 0;
  for_each_json_line(files.meta, ctx, false, [&](simdjson::dom::object o, const util::Location& at) {
    ++meta_lines;
    const char* id_key = files.v2023 ? "parent_asin" : "asin";
    auto id = get_id(o, id_key);
    if (!id) return report_missing(ctx, at, id_key);
    if (meta_index.count(*id)) {
      ++meta_dups;
      return;
    }
    meta_index.emplace(*id, metas.size());
    metas.push_back(meta_record(o, *id, files.v2023, stats));
  });
  ctx.count("meta lines read", meta_lines);
  if (meta_dups) ctx.count("meta duplicates (first kept)", meta_dups);

  // Down-sampling: drop the earliest int(n × (1 − fraction)) reviews, as pandas' iloc[int(n*0.7):]
  // does (stable by file order on equal times). The product is truncated as Python's int() of the
  // float64 product, with no rounding slack: int(90 * 0.7) is 62 (docs/method.md §2.4).
  double keep = ctx.filters.keep_latest_fraction.value_or(ctx.defaults.keep_latest_fraction);
  if (keep < 0 || keep > 1) throw util::Error("--keep-latest-fraction must be in [0, 1]");
  std::stable_sort(reviews.begin(), reviews.end(),
                   [](const Review& a, const Review& b) { return a.ts_us < b.ts_us; });
  auto drop = static_cast<size_t>(static_cast<double>(reviews.size()) * (1.0 - keep));
  if (drop) {
    reviews.erase(reviews.begin(), reviews.begin() + static_cast<std::ptrdiff_t>(drop));
    ctx.count("dropped: earlier than the latest fraction", drop);
  }

  CountFilter cf = count_filter(ctx);
  int64_t min_rn = ctx.filters.min_rating_number.value_or(ctx.defaults.min_rating_number);
  auto meta_ok = [&](const std::string& id) {
    auto it = meta_index.find(id);
    if (it == meta_index.end()) return false;
    const Meta& m = metas[it->second];
    return m.rating_number >= min_rn && m.details_keys >= kMinDetailsKeys;
  };
  // All counts on the down-sampled reviews at once (not iterated), as the reference does.
  std::unordered_map<std::string_view, int64_t> per_user, per_item;
  for (const auto& r : reviews) {
    per_user[r.user]++;
    per_item[r.item]++;
  }
  // The item pool is the metadata table cut to items with enough down-sampled reviews that pass the
  // metadata filters (docs/method.md §2.4), computed before the user filter.
  std::vector<char> in_pool(metas.size(), 0);
  for (size_t i = 0; i < metas.size(); ++i) {
    auto it = per_item.find(metas[i].id);
    in_pool[i] = it != per_item.end() && it->second >= cf.min_item && meta_ok(metas[i].id);
  }
  std::vector<char> keep_row(reviews.size(), 0);
  uint64_t d_user = 0, d_item = 0, d_meta = 0;
  for (size_t i = 0; i < reviews.size(); ++i) {
    const auto& r = reviews[i];
    int64_t nu = per_user[r.user];
    if (nu < cf.min_user || (cf.max_user > 0 && nu > cf.max_user))
      ++d_user;
    else if (per_item[r.item] < cf.min_item)
      ++d_item;
    else if (!meta_ok(r.item))
      ++d_meta;
    else
      keep_row[i] = 1;
  }
  per_user.clear();
  per_item.clear();
  if (d_user) ctx.count("dropped: user interaction count", d_user);
  if (d_item) ctx.count("dropped: item interaction count", d_item);
  if (d_meta) ctx.count("dropped: item without metadata, rating_number or details", d_meta);

  Dataset ds;
  std::unordered_set<std::string> users, inner;
  for (size_t i = 0; i < reviews.size(); ++i) {
    if (!keep_row[i]) continue;
    auto& r = reviews[i];
    if (users.insert(r.user).second) ds.users.push_back({r.user, "{}", "{}"});
    inner.insert(r.item);
    ds.interactions.push_back({std::move(r.user), std::move(r.item), r.ts_us, std::move(r.behavior)});
  }
  reviews.clear();
  if (cf.kcore) apply_count_filter(ds, cf, ctx);

  // Item pool: the reviewed items plus up to 65,536 "outer" items, the rest of the cut table (items
  // with enough down-sampled reviews and passing the metadata filters, none of whose reviews
  // survived the user filter), as exposure candidates; never-reviewed items are not in the pool
  // (docs/method.md §2.4). Sampled with the seed-0 stream when there are more (the reference uses
  // pandas' sample(random_state=0), whose choice we do not reproduce).
  std::vector<size_t> outer;
  for (size_t i = 0; i < metas.size(); ++i)
    if (in_pool[i] && !inner.count(metas[i].id)) outer.push_back(i);
  if (outer.size() > kMaxOuterItems) {
    util::Rng rng = util::Rng::stream(0, "prepare/amazon/outer-items", 0);
    rng.shuffle(outer);
    outer.resize(kMaxOuterItems);
    std::sort(outer.begin(), outer.end());
  }
  std::vector<char> take(metas.size(), 0);
  for (size_t i : outer) take[i] = 1;
  for (size_t i = 0; i < metas.size(); ++i) {
    if (!take[i] && !inner.count(metas[i].id)) continue;
    ds.items.push_back({metas[i].id, std::move(metas[i].description), "{}"});
  }
  ctx.count("items without interactions (exposure pool)", outer.size());
  return ds;
}

}  // namespace

std::vector<ReaderEntry> amazon_readers() {
  // The reference's "Beauty, Fashion" configuration of DataProcessor_Amazon.ipynb: the latest 30 % of
  // reviews, users and items with at least 5 of them, items with a rating_number of at least 10.
  return {{.name = "Amazon-",
           .prefix = true,
           .description =
               "<Cat>.jsonl[.gz] + meta_<Cat>.jsonl[.gz] (Amazon Reviews 2023) or <Cat>[_5].json[.gz] + "
               "meta_<Cat>.json[.gz] (Amazon Review Data 2018)",
           .read = read_amazon,
           .scene_family = "amazon",
           .filters = {.min_user_interactions = 5,
                       .min_item_interactions = 5,
                       .keep_latest_fraction = 0.3,
                       .min_rating_number = 10}}};
}

}  // namespace um::data::readers
