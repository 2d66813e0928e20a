// RecBole interoperability (docs/arena.md, "Bring your own recommender").
//
// Export: export_recbole writes the atomic files of the split — NAME.inter, NAME.user, NAME.item
// and the benchmark files NAME.train.inter / NAME.valid.inter (header only) / NAME.test.inter — so
// that RecBole trains on exactly our train part with
//   benchmark_filename: [train, valid, test]
// Columns: user_id:token, item_id:token, timestamp:float (epoch seconds). NAME.train.inter holds
// every train interaction, NAME.test.inter the kept test interactions of the test users (test items
// unseen in train are dropped, as in the split), NAME.inter both.
//
// Import ("recbole:PATH"): the top-K lists a RecBole model produced, one user per line, as TSV with
// RecBole's typed header:
//   user_id:token<TAB>item_id_list:token_seq[<TAB>timestamp:float]
//   196<TAB>242 302 377 51
// items space-separated, best first; the optional timestamp column (epoch seconds) makes lists
// time-dependent exactly as in file:. Written from RecBole with
//   uid_series = dataset.token2id(dataset.uid_field, user_tokens)
//   _, topk = full_sort_topk(uid_series, model, test_data, k=50, device=config["device"])
//   items = dataset.id2token(dataset.iid_field, topk.cpu())
//   print("user_id:token\titem_id_list:token_seq"); then per user: token + "\t" + " ".join(row)
// The same dropping and counting rules as file: apply.
#include <charconv>
#include <cmath>

#include "recommend/detail.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::recommend {
namespace detail {
namespace {

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

}  // namespace

std::unique_ptr<Recommender> make_recbole(const std::string& spec, std::string_view arg, Options&,
                                          const Split& split, const RecommenderOptions&) {
  ListTable table;
  table.file = std::string(arg);
  table.by_user.resize(split.num_users);
  if (!std::filesystem::exists(table.file))
    throw util::Error("recbole recommender: no such file",
                      {.file = table.file.string(), .field = "recommenders"});
  auto users = index_ids(split.user_ids);
  auto items = index_ids(split.item_ids);
  util::LineReader in(table.file);
  std::string_view line;
  long col_user = -1, col_items = -1, col_time = -1;
  size_t columns = 0;
  while (in.next(line)) {
    const int64_t lineno = in.line_number();
    util::Location where{.file = table.file.string(), .line = lineno};
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (col_user < 0) {  // header
      auto names = split_on(line, '\t');
      columns = names.size();
      for (size_t c = 0; c < names.size(); ++c) {
        if (names[c] == "user_id:token") col_user = static_cast<long>(c);
        if (names[c] == "item_id_list:token_seq") col_items = static_cast<long>(c);
        if (names[c] == "timestamp:float") col_time = static_cast<long>(c);
      }
      if (col_user < 0 || col_items < 0)
        throw util::Error(
            "header must name the columns user_id:token and item_id_list:token_seq (tab-separated)",
            {.file = table.file.string(), .line = lineno, .field = "header"});
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto cells = split_on(line, '\t');
    if (cells.size() != columns)
      throw util::Error(
          std::to_string(cells.size()) + " tab-separated cells, the header has " + std::to_string(columns),
          where);
    where.field = "user_id";
    std::string_view uid = cells[static_cast<size_t>(col_user)];
    if (uid.empty()) throw util::Error("empty user id", where);
    ListEntry entry;
    entry.line = lineno;
    for (std::string_view tok : split_on(cells[static_cast<size_t>(col_items)], ' ')) {
      if (tok.empty()) continue;
      auto it = items.find(std::string(tok));
      entry.items.push_back(it == items.end() ? -1 : static_cast<int64_t>(it->second));
    }
    if (col_time >= 0) {
      where.field = "timestamp";
      std::string_view t = cells[static_cast<size_t>(col_time)];
      double sec = 0;
      auto r = std::from_chars(t.data(), t.data() + t.size(), sec);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(sec))
        throw util::Error("timestamp must be epoch seconds, got '" + std::string(t) + "'", where);
      entry.t_us = static_cast<int64_t>(std::llround(sec * 1e6));
    }
    ++table.lines;
    auto u = users.find(std::string(uid));
    if (u == users.end()) {
      ++table.unknown_users;
      continue;
    }
    add_list(table, u->second, std::move(entry), "user_id");
  }
  if (col_user < 0)
    throw util::Error("empty file (expected a header user_id:token<TAB>item_id_list:token_seq)",
                      {.file = table.file.string(), .line = 1, .field = "header"});
  finish_lists(table);
  return make_list_recommender(spec, split, std::move(table), "recbole");
}

}  // namespace detail

namespace {

std::string token(const std::string& id, const std::string& what) {
  if (id.find_first_of("\t\r\n") != std::string::npos)
    throw util::Error(what + " id holds a tab or line break, which RecBole's atomic files cannot carry",
                      {.field = what, .record = id});
  return id;
}

std::string seconds(int64_t t_us) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(t_us) / 1e6, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

}  // namespace

std::vector<std::filesystem::path> export_recbole(const data::Dataset& ds, const Split& split,
                                                  const std::filesystem::path& dir, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos)
    throw util::Error("RecBole dataset name must be a non-empty file name, got '" + name + "'",
                      {.field = "name"});
  if (split.num_users != ds.users.size() || split.num_items != ds.items.size())
    throw util::Error("the split was made from another dataset", {.field = "split"});
  std::filesystem::create_directories(dir);
  std::vector<std::filesystem::path> written;
  const std::string header = "user_id:token\titem_id:token\ttimestamp:float\n";
  auto rows = [&](bool train, bool test) {
    std::string out = header;
    for (size_t u = 0; u < split.num_users; ++u) {
      const bool is_test_user = std::binary_search(split.test_users.begin(), split.test_users.end(), u);
      auto add = [&](const std::vector<Event>& ev) {
        for (const Event& e : ev)
          out += token(ds.users[u].id, "user") + "\t" + token(ds.items[e.item].id, "item") + "\t" +
                 seconds(e.t_us) + "\n";
      };
      if (train) add(split.train[u]);
      if (test && is_test_user) add(split.test[u]);
    }
    return out;
  };
  auto write = [&](const std::string& file, const std::string& content) {
    util::write_file_atomic(dir / file, content);
    written.push_back(dir / file);
  };
  write(name + ".inter", rows(true, true));
  write(name + ".train.inter", rows(true, false));
  write(name + ".valid.inter", header);
  write(name + ".test.inter", rows(false, true));
  std::string users = "user_id:token\n";
  for (const auto& u : ds.users) users += token(u.id, "user") + "\n";
  write(name + ".user", users);
  std::string items = "item_id:token\n";
  for (const auto& i : ds.items) items += token(i.id, "item") + "\n";
  write(name + ".item", items);
  return written;
}

}  // namespace um::recommend
