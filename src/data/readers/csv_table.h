#pragma once
// CSV with a header line, fields looked up by column name (column order varies between releases).
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/csv.h"
#include "data/reader.h"
#include "util/error.h"
#include "util/utf8.h"

namespace um::data::readers {

// Errors (missing header columns) name the file, line 1 and the column.
class Table {
 public:
  explicit Table(const std::filesystem::path& path, std::vector<std::string> required) : in_(path) {
    std::vector<std::string_view> f;
    if (!in_.next(f))
      throw util::Error("empty file, expected a header line", {.file = in_.path(), .line = 1});
    for (size_t i = 0; i < f.size(); ++i) cols_[std::string(f[i])] = i;
    for (const auto& r : required)
      if (!cols_.count(r))
        throw util::Error("header lacks column '" + r + "'", {.file = in_.path(), .line = 1, .field = r});
  }
  // Next non-blank record. With `ctx`, a record holding text that is not valid UTF-8 is reported
  // (error, or counted as "invalid UTF-8" and skipped with --skip-bad).
  bool next(const ReadContext* ctx = nullptr) {
    for (;;) {
      if (!in_.next(row_)) return false;
      if (row_.size() == 1 && row_[0].empty()) continue;
      if (ctx) {
        if (auto bad = invalid_utf8_column()) {
          ctx->bad->report(util::Error("text is not valid UTF-8", at(*bad)).with_reason("invalid UTF-8"));
          continue;
        }
      }
      return true;
    }
  }
  bool has(const std::string& c) const { return cols_.count(c) > 0; }
  // Field by column name; empty when the row is short or the column is absent.
  std::string_view get(const std::string& c) const {
    auto it = cols_.find(c);
    return it == cols_.end() || it->second >= row_.size() ? std::string_view() : row_[it->second];
  }
  // Index of the first field that is not valid UTF-8, or nullopt.
  std::optional<std::string> invalid_utf8_column() const {
    for (const auto& [name, i] : cols_)
      if (i < row_.size() && !util::is_valid_utf8(row_[i])) return name;
    return std::nullopt;
  }
  size_t fields() const { return row_.size(); }
  size_t columns() const { return cols_.size(); }
  util::Location at(const std::string& field = {}) const {
    return {.file = in_.path(), .line = in_.record_line(), .field = field};
  }

 private:
  CsvReader in_;
  std::unordered_map<std::string, size_t> cols_;
  std::vector<std::string_view> row_;
};

}  // namespace um::data::readers
