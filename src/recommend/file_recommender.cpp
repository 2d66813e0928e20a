// file:PATH — a recommender's output as JSONL, one ranked list per line:
//   {"user_id": "42", "items": ["7", "12", 3], "timestamp": "2000-12-31 23:59:59"}
// ids are strings or integers; "timestamp" (optional) is a UTC date-time string or an epoch number
// (unit guessed from its magnitude, as pandas does). Without timestamps each user has one list;
// with timestamps, a query at time t uses the user's latest list with timestamp <= t. Unknown item
// ids are dropped and counted (Recommendation::unknown_items), history items and repeats likewise
// (excluded_items); lines naming users absent from the dataset are ignored and counted (stats()).
// Malformed lines are util::Errors with file, line and field.
#include <nlohmann/json.hpp>

#include "data/timestamp.h"
#include "recommend/detail.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::recommend::detail {
namespace {

std::string id_text(const nlohmann::json& v, const util::Location& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer())
    return v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : std::to_string(v.get<int64_t>());
  throw util::Error("id must be a string or an integer, got " + v.dump(), where);
}

class ListRecommender final : public Recommender {
 public:
  ListRecommender(std::string name, const Split& split, ListTable table, std::string kind)
      : Recommender(std::move(name)), split_(split), table_(std::move(table)), kind_(std::move(kind)) {}

  Recommendation recommend(const Query& q) const override { return answer_from_lists(table_, split_, q); }
  std::map<std::string, int64_t> stats() const override {
    return {{kind_ + ": lists read", table_.lines},
            {kind_ + ": lists naming unknown users", table_.unknown_users}};
  }

 private:
  const Split& split_;
  ListTable table_;
  std::string kind_;
};

}  // namespace

std::unique_ptr<Recommender> make_list_recommender(const std::string& spec, const Split& split,
                                                   ListTable table, const std::string& kind) {
  return std::make_unique<ListRecommender>(spec, split, std::move(table), kind);
}

std::unique_ptr<Recommender> make_file(const std::string& spec, std::string_view arg, Options&,
                                       const Split& split, const RecommenderOptions&) {
  ListTable table;
  table.file = std::string(arg);
  table.by_user.resize(split.num_users);
  if (!std::filesystem::exists(table.file))
    throw util::Error("file recommender: no such file",
                      {.file = table.file.string(), .field = "recommenders"});
  auto users = index_ids(split.user_ids);
  auto items = index_ids(split.item_ids);
  util::LineReader in(table.file);
  std::string_view line;
  while (in.next(line)) {
    const int64_t lineno = in.line_number();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    util::Location where{.file = table.file.string(), .line = lineno};
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      throw util::Error(std::string("not valid JSON: ") + e.what(), where);
    }
    if (!j.is_object()) throw util::Error("a line must be a JSON object", where);
    where.field = "user_id";
    if (!j.contains("user_id")) throw util::Error("missing", where);
    std::string uid = id_text(j["user_id"], where);
    where.field = "items";
    if (!j.contains("items") || !j["items"].is_array())
      throw util::Error("must be an array of item ids", where);
    ListEntry entry;
    entry.line = lineno;
    for (const auto& v : j["items"]) {
      auto it = items.find(id_text(v, where));
      entry.items.push_back(it == items.end() ? -1 : static_cast<int64_t>(it->second));
    }
    if (j.contains("timestamp") && !j["timestamp"].is_null()) {
      where.field = "timestamp";
      const auto& t = j["timestamp"];
      if (t.is_number()) {
        entry.t_us = data::epoch_number_to_us(t.get<double>());
      } else if (t.is_string()) {
        auto parsed = data::parse_timestamp_text(t.get<std::string>());
        if (!parsed) throw util::Error("unreadable timestamp " + t.dump(), where);
        entry.t_us = *parsed;
      } else {
        throw util::Error("timestamp must be a date-time string or an epoch number", where);
      }
    }
    ++table.lines;
    auto u = users.find(uid);
    if (u == users.end()) {
      ++table.unknown_users;
      continue;
    }
    add_list(table, u->second, std::move(entry), "user_id");
  }
  finish_lists(table);
  return make_list_recommender(spec, split, std::move(table), "file");
}

}  // namespace um::recommend::detail
