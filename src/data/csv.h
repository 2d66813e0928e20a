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

// Splits one line on a multi-character separator ("::" for ml-1m); no quoting.
void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>& out);

}  // namespace um::data
