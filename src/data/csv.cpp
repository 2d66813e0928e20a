#include "data/csv.h"

#include "util/error.h"

namespace um::data {

CsvReader::CsvReader(const std::filesystem::path& path, char delimiter) : in_(path), delim_(delimiter) {}

bool CsvReader::next(std::vector<std::string_view>& fields) {
  fields.clear();
  raw_.clear();
  if (!in_.next_raw(raw_)) return false;
  record_line_ = in_.line_number();
  // A record continues while a quoted field is open at the end of the physical line.
  auto quotes_balanced = [](std::string_view s) {
    bool in_quotes = false;
    for (char c : s)
      if (c == '"') in_quotes = !in_quotes;
    return !in_quotes;
  };
  while (!quotes_balanced(raw_)) {
    if (!in_.next_raw(raw_))
      throw util::Error("unterminated quoted field", {.file = in_.path(), .line = record_line_});
  }
  std::string_view rec(raw_);
  if (!rec.empty() && rec.back() == '\n') rec.remove_suffix(1);
  if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
  // Unquoted fields are views into raw_; quoted ones are unescaped into unquoted_, which is
  // reserved up front so its views stay valid.
  unquoted_.clear();
  unquoted_.reserve(rec.size());
  size_t i = 0;
  for (;;) {
    if (i < rec.size() && rec[i] == '"') {
      size_t start = unquoted_.size();
      ++i;
      for (;;) {
        if (i >= rec.size())
          throw util::Error("unterminated quoted field", {.file = in_.path(), .line = record_line_});
        if (rec[i] == '"') {
          if (i + 1 < rec.size() && rec[i + 1] == '"') {
            unquoted_.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        unquoted_.push_back(rec[i++]);
      }
      // Text between the closing quote and the delimiter is kept (lenient, like Python's csv).
      while (i < rec.size() && rec[i] != delim_) unquoted_.push_back(rec[i++]);
      fields.emplace_back(unquoted_.data() + start, unquoted_.size() - start);
    } else {
      size_t end = rec.find(delim_, i);
      if (end == std::string_view::npos) end = rec.size();
      fields.emplace_back(rec.substr(i, end - i));
      i = end;
    }
    if (i >= rec.size()) break;
    ++i;  // skip delimiter
    if (i == rec.size()) {
      fields.emplace_back();
      break;
    }
  }
  return true;
}

PandasRecordReader::PandasRecordReader(const std::filesystem::path& path, char delimiter)
    : in_(path), delim_(delimiter) {}

bool PandasRecordReader::get(char& c) {
  if (pos_ >= buf_.size()) {
    buf_.clear();
    pos_ = 0;
    if (!in_.next_raw(buf_)) return false;
  }
  c = buf_[pos_++];
  return true;
}

// The states of pandas' tokenize_bytes (pandas/_libs/src/parser/tokenizer.c) for this dialect.
bool PandasRecordReader::next(std::vector<std::string_view>& fields) {
  enum class S { start_record, start_field, in_field, in_quoted, quote_in_quoted, eat_crnl, eat_crnl_blank };
  fields.clear();
  text_.clear();
  ends_.clear();
  S s = S::start_record;
  auto end_field = [&] { ends_.push_back(text_.size()); };
  bool done = false;
  while (!done) {
    char c;
    if (!get(c)) {
      if (s == S::start_record || s == S::eat_crnl_blank) return false;
      if (s == S::in_quoted)
        throw util::Error("end of file inside a quoted field", {.file = in_.path(), .line = record_line_});
      if (s != S::eat_crnl) end_field();
      break;
    }
    if (c == '\n' && s != S::in_quoted) {
      ++line_;
      if (s == S::start_record || s == S::eat_crnl_blank) {  // blank line
        s = S::start_record;
        continue;
      }
      if (s != S::eat_crnl) end_field();
      break;
    }
    switch (s) {
      case S::eat_crnl:  // a bare '\r' ended the record; c starts the next one
        --pos_;
        done = true;
        break;
      case S::eat_crnl_blank:
        --pos_;
        s = S::start_record;
        break;
      case S::start_record:
        if (c == '\r') {
          s = S::eat_crnl_blank;
          break;
        }
        record_line_ = line_;
        [[fallthrough]];
      case S::start_field:
        if (c == '\r') {
          end_field();
          s = S::eat_crnl;
        } else if (c == '"') {
          s = S::in_quoted;
        } else if (c == delim_) {
          end_field();
          s = S::start_field;
        } else {
          text_.push_back(c);
          s = S::in_field;
        }
        break;
      case S::in_field:
        if (c == '\r') {
          end_field();
          s = S::eat_crnl;
        } else if (c == delim_) {
          end_field();
          s = S::start_field;
        } else {
          text_.push_back(c);
        }
        break;
      case S::in_quoted:
        if (c == '"') {
          s = S::quote_in_quoted;
        } else {
          if (c == '\n') ++line_;
          text_.push_back(c);
        }
        break;
      case S::quote_in_quoted:
        if (c == '"') {  // "" inside quotes
          text_.push_back(c);
          s = S::in_quoted;
        } else if (c == '\r') {
          end_field();
          s = S::eat_crnl;
        } else if (c == delim_) {
          end_field();
          s = S::start_field;
        } else {
          text_.push_back(c);
          s = S::in_field;
        }
        break;
    }
  }
  size_t start = 0;
  for (size_t e : ends_) {
    fields.emplace_back(text_.data() + start, e - start);
    start = e;
  }
  return true;
}

void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    size_t p = line.find(sep, start);
    if (p == std::string_view::npos) {
      out.emplace_back(line.substr(start));
      return;
    }
    out.emplace_back(line.substr(start, p - start));
    start = p + sep.size();
  }
}

}  // namespace um::data
