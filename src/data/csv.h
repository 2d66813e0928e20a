#pragma once
// Delimited-text record reader (RFC 4180): quoted fields with doubled quotes and embedded
// newlines, CRLF or LF record ends, bare '\r' kept inside unquoted fields (KuaiRec captions).
// Streaming over util::LineReader; gzip-transparent.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/line_reader.h"

namespace um::data {

class CsvReader {
 public:
  explicit CsvReader(const std::filesystem::path& path, char delimiter = ',');
  // Next record's fields (views valid until the next call); false at end of file. Throws
  // util::Error naming file and line for an unterminated quoted field.
  bool next(std::vector<std::string_view>& fields);
  // Line number where the last record started (1-based).
  int64_t record_line() const { return record_line_; }
  const std::string& path() const { return in_.path(); }

 private:
  util::LineReader in_;
  char delim_;
  std::string raw_;
  std::string unquoted_;
  int64_t record_line_ = 0;
};

// Records as pandas' C tokenizer splits them (read_csv with a one-character delimiter and the
// defaults quotechar '"', doublequote, no escape character, skip_blank_lines), which is how the
// reference reads MIND's news.tsv and Last.fm's .dat files (docs/method.md §2.3, §2.7): a field that
// *starts* with '"' is quoted up to the next lone '"' (delimiters and newlines inside are kept,
// "" is one quote), and the text after the closing quote up to the delimiter is appended, so
// `"Weird Al" Yankovic` reads `Weird Al Yankovic`; a '"' anywhere else is an ordinary character.
// Records end at "\n", "\r\n" or a bare '\r'; blank lines are skipped.
class PandasRecordReader {
 public:
  PandasRecordReader(const std::filesystem::path& path, char delimiter);
  // Next record's fields (views valid until the next call); false at end of file. Throws
  // util::Error naming file and line when the file ends inside a quoted field.
  bool next(std::vector<std::string_view>& fields);
  // Line number where the last record started (1-based).
  int64_t record_line() const { return record_line_; }
  const std::string& path() const { return in_.path(); }

 private:
  bool get(char& c);
  util::LineReader in_;
  char delim_;
  std::string buf_;  // raw bytes of the current physical line
  size_t pos_ = 0;
  std::string text_;  // the record's field texts, concatenated
  std::vector<size_t> ends_;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
};

// Splits one line on a multi-character separator ("::" for ml-1m); no quoting.
void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>& out);

}  // namespace um::data
