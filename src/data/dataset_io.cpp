#include "data/dataset_io.h"

#include <simdjson.h>

#include <chrono>
#include <exception>
#include <thread>

#include "data/cache.h"
#include "data/fields.h"
#include "data/timestamp.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/time.h"

namespace um::data {
namespace fs = std::filesystem;

namespace {

void write_users(const fs::path& path, const std::vector<User>& users) {
  util::AtomicWriter out(path);
  util::JsonWriter w;
  for (const auto& u : users) {
    w.clear();
    w.begin_object();
    w.key(fields::kUserId);
    w.value(u.id);
    w.key(fields::kUserDescription);
    w.raw(u.description);
    w.key(fields::kUserFeatures);
    w.raw(u.features);
    w.end_object();
    w.newline();
    out.write(w.str());
  }
  out.commit();
}

void write_items(const fs::path& path, const std::vector<Item>& items) {
  util::AtomicWriter out(path);
  util::JsonWriter w;
  for (const auto& it : items) {
    w.clear();
    w.begin_object();
    w.key(fields::kItemId);
    w.value(it.id);
    w.key(fields::kItemDescription);
    w.raw(it.description);
    w.key(fields::kItemFeatures);
    w.raw(it.features);
    w.end_object();
    w.newline();
    out.write(w.str());
  }
  out.commit();
}

void write_interactions(const fs::path& path, const std::vector<Interaction>& xs) {
  util::AtomicWriter out(path);
  util::JsonWriter w;
  std::string ts;
  for (const auto& x : xs) {
    w.clear();
    w.begin_object();
    w.key(fields::kUserId);
    w.value(x.user_id);
    w.key(fields::kItemId);
    w.value(x.item_id);
    w.key(fields::kTimestamp);
    ts.clear();
    util::append_datetime(ts, x.timestamp_us);
    w.value(ts);
    w.key(fields::kBehaviorFeatures);
    w.raw(x.behavior);
    w.end_object();
    w.newline();
    out.write(w.str());
  }
  out.commit();
}

// Reads a JSONL file line by line; fn(object, location) is called for every non-empty line.
template <typename Fn>
void for_each_object(const fs::path& path, Fn&& fn) {
  util::LineReader in(path);
  simdjson::dom::parser parser;
  simdjson::padded_string buf;
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    util::Location where{.file = path.string(), .line = in.line_number()};
    simdjson::dom::element doc;
    auto err = parser.parse(line.data(), line.size(), true).get(doc);
    if (err) throw util::Error(std::string("invalid JSON: ") + simdjson::error_message(err), where);
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) throw util::Error("line is not a JSON object", where);
    fn(obj, where);
  }
}

// Ids may be strings or (as pandas writes them) integers.
std::string get_id(simdjson::dom::object obj, const char* key, util::Location where) {
  where.field = key;
  simdjson::dom::element e;
  if (obj[key].get(e)) throw util::Error("missing required field", where);
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(std::string_view(e.get_string()));
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(e.get_int64()));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(e.get_uint64()));
    default:
      throw util::Error("id must be a string or an integer", where);
  }
}

// Nested object kept as compact JSON text; missing or null → "{}".
std::string get_object_json(simdjson::dom::object obj, const char* key, util::Location where) {
  where.field = key;
  simdjson::dom::element e;
  if (obj[key].get(e) || e.is_null()) return "{}";
  if (!e.is_object()) throw util::Error("must be a JSON object", where);
  return simdjson::minify(e);
}

int64_t get_timestamp(simdjson::dom::object obj, util::Location where) {
  where.field = fields::kTimestamp;
  simdjson::dom::element e;
  if (obj[fields::kTimestamp].get(e)) throw util::Error("missing required field", where);
  if (e.is_string()) {
    auto t = parse_timestamp_text(std::string_view(e.get_string()));
    if (!t)
      throw util::Error("unrecognised timestamp '" + std::string(std::string_view(e.get_string())) + "'",
                        where);
    return *t;
  }
  if (e.is_number()) return epoch_number_to_us(double(e.get_double()));
  throw util::Error("timestamp must be a string or a number", where);
}

}  // namespace

void write_dataset(const fs::path& work, const Dataset& ds) {
  fs::create_directories(work / "raws");
  // Three independent jobs: the interactions file (largest), the users + items files, and the
  // cache records. The cache file itself is written last: it records the committed files' stamps.
  CacheBody body;
  std::exception_ptr cache_error, tables_error;
  std::thread cache_job([&] {
    try {
      body = encode_cache_body(ds);
    } catch (...) {
      cache_error = std::current_exception();
    }
  });
  std::thread tables_job([&] {
    try {
      write_users(work / user_file(ds.name), ds.users);
      write_items(work / item_file(ds.name), ds.items);
    } catch (...) {
      tables_error = std::current_exception();
    }
  });
  std::exception_ptr main_error;
  try {
    write_interactions(work / interaction_file(ds.name), ds.interactions);
  } catch (...) {
    main_error = std::current_exception();
  }
  cache_job.join();
  tables_job.join();
  for (const auto& e : {main_error, tables_error, cache_error})
    if (e) std::rethrow_exception(e);
  write_cache(work, ds.name, body);
}

Dataset read_dataset_jsonl(const fs::path& work, const std::string& name) {
  Dataset ds;
  ds.name = name;
  for_each_object(work / user_file(name), [&](simdjson::dom::object o, const util::Location& w) {
    ds.users.push_back({get_id(o, fields::kUserId, w), get_object_json(o, fields::kUserDescription, w),
                        get_object_json(o, fields::kUserFeatures, w)});
  });
  for_each_object(work / item_file(name), [&](simdjson::dom::object o, const util::Location& w) {
    ds.items.push_back({get_id(o, fields::kItemId, w), get_object_json(o, fields::kItemDescription, w),
                        get_object_json(o, fields::kItemFeatures, w)});
  });
  for_each_object(work / interaction_file(name), [&](simdjson::dom::object o, const util::Location& w) {
    ds.interactions.push_back({get_id(o, fields::kUserId, w), get_id(o, fields::kItemId, w),
                               get_timestamp(o, w), get_object_json(o, fields::kBehaviorFeatures, w)});
  });
  return ds;
}

Dataset load_dataset(const fs::path& work, const std::string& name, LoadStats* stats) {
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : {user_file(name), item_file(name), interaction_file(name)}) {
    if (!fs::exists(work / f))
      throw util::Error("prepared table missing (run `usermirror prepare --dataset " + name + "` first)",
                        {.file = (work / f).string()});
  }
  Dataset ds;
  bool cached = false;
  if (auto c = read_cache(work, name)) {
    ds = std::move(*c);
    cached = true;
  } else {
    ds = read_dataset_jsonl(work, name);
  }
  if (stats) {
    stats->from_cache = cached;
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return ds;
}

}  // namespace um::data
