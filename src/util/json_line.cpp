#include "util/json_line.h"

#include "util/json_line_access.h"

namespace um::util {

JsonLineParser::JsonLineParser() : impl_(std::make_unique<Impl>()) {}
JsonLineParser::~JsonLineParser() = default;

void pad_line(std::string& buf, std::string_view line) {
  buf.reserve(line.size() + kJsonPadding);
  buf.assign(line);
  buf.append(kJsonPadding, ' ');
}

}  // namespace um::util
