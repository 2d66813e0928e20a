#include "backend/request_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace um::backend {
namespace {

using nlohmann::json;

std::string header_line(const std::string& stage) {
  json h;
  h["magic"] = RequestStore::kMagic;
  h["version"] = RequestStore::kVersion;
  h["stage"] = stage;
  return h.dump() + "\n";
}

void check_header(const std::string& line, const std::filesystem::path& path, const std::string& stage) {
  json h = json::parse(line, nullptr, false);
  util::Location at{.file = path.string(), .line = 1};
  // A field of the wrong type ({"magic":1}) made value() throw json::type_error (found by tests/fuzz).
  for (const char* f : {"magic", "stage"})
    if (h.is_object() && h.contains(f) && !h[f].is_string())
      throw util::Error(std::string("request store header: '") + f + "' is not a string", at);
  if (h.is_object() && h.contains("version") && !h["version"].is_number_integer())
    throw util::Error("request store header: 'version' is not an integer", at);
  if (h.is_discarded() || !h.is_object() || h.value("magic", "") != RequestStore::kMagic) {
    throw util::Error("not a usermirror request store (bad magic)", at);
  }
  if (h.value("version", 0) != RequestStore::kVersion) {
    throw util::Error("request store version " + std::to_string(h.value("version", 0)) +
                          " is not supported (expected " + std::to_string(RequestStore::kVersion) + ")",
                      at);
  }
  if (h.value("stage", "") != stage) {
    throw util::Error("request store belongs to stage '" + h.value("stage", "") + "', not '" + stage + "'",
                      at);
  }
}

// Scans the file; fn(key, value) per record. Returns the byte length of the valid prefix (torn
// final line excluded).
uint64_t scan(const std::filesystem::path& path, const std::string& stage,
              const std::function<void(std::string&&, const json&)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw util::Error(std::string("cannot open: ") + std::strerror(errno), {.file = path.string()});
  std::string line;
  uint64_t good = 0;
  int64_t line_no = 0;
  std::string pending_error;
  while (std::getline(in, line)) {
    ++line_no;
    const bool terminated = !in.eof();
    if (!terminated) {  // torn final line: no newline
      if (line_no == 1 && header_line(stage).rfind(line, 0) != 0) check_header(line, path, stage);
      break;
    }
    if (line_no == 1) {
      check_header(line, path, stage);
      good += line.size() + 1;
      continue;
    }
    if (!pending_error.empty()) {
      throw util::Error(pending_error, {.file = path.string(), .line = line_no - 1});
    }
    json rec = json::parse(line, nullptr, false);
    if (rec.is_discarded() || !rec.is_object() || !rec.contains("key") || !rec["key"].is_string() ||
        !rec.contains("value")) {
      pending_error = "malformed request store record";  // fatal unless it is the final line
      continue;
    }
    fn(rec["key"].get<std::string>(), rec["value"]);
    good += line.size() + 1;
  }
  return good;
}

}  // namespace

RequestStore::RequestStore(std::filesystem::path path, std::string stage)
    : path_(std::move(path)), stage_(std::move(stage)) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path_, ec) && std::filesystem::file_size(path_, ec) > 0;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  uint64_t good = 0;
  if (exists) {
    good = scan(path_, stage_, [&](std::string&& key, const json&) { keys_.insert(std::move(key)); });
    uint64_t size = std::filesystem::file_size(path_);
    if (size > good) {
      truncated_ = size - good;
      std::filesystem::resize_file(path_, good);
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw util::Error(std::string("cannot open for append: ") + std::strerror(errno),
                      {.file = path_.string()});
  if (good == 0) {
    if (::ftruncate(fd_, 0) != 0) throw util::Error("cannot truncate", {.file = path_.string()});
    std::string h = header_line(stage_);
    if (::write(fd_, h.data(), h.size()) != static_cast<ssize_t>(h.size())) {
      throw util::Error(std::string("write failed: ") + std::strerror(errno), {.file = path_.string()});
    }
  }
}

RequestStore::~RequestStore() {
  if (fd_ >= 0) ::close(fd_);
}

bool RequestStore::contains(const std::string& key) const {
  std::lock_guard lock(mu_);
  return keys_.count(key) > 0;
}

size_t RequestStore::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

bool RequestStore::put(const std::string& key, std::string_view value_json) {
  if (!json::accept(value_json)) {
    throw util::Error("request store value is not valid JSON", {.file = path_.string(), .record = key});
  }
  std::string line =
      "{\"key\":" + json(key).dump(-1, ' ', false, json::error_handler_t::replace) + ",\"value\":";
  line.append(value_json);
  line += "}\n";
  std::lock_guard lock(mu_);
  if (keys_.count(key)) return false;
  size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(fd_, line.data() + off, line.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw util::Error(std::string("write failed: ") + std::strerror(errno),
                        {.file = path_.string(), .record = key});
    }
    off += static_cast<size_t>(w);
  }
  keys_.insert(key);
  return true;
}

void RequestStore::read(const std::filesystem::path& path, const std::string& stage,
                        const std::function<void(const std::string&, const std::string&)>& fn) {
  scan(path, stage, [&](std::string&& key, const json& value) { fn(key, value.dump()); });
}

}  // namespace um::backend
