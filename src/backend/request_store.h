#pragma once
// RequestStore: an append-only, keyed result store that makes LLM stages resumable. Requests are
// keyed by (scene, variant, sample), e.g. "ml-1m-12/teacher/3"; a stage that is killed and
// restarted asks contains(key) and re-sends only what has no stored answer, so nothing is lost or
// duplicated.
//
// File format (JSONL):
//   line 1: {"magic":"usermirror-request-store","version":1,"stage":"<stage>"}
//   then:   {"key":"<key>","value":<any JSON>}      one per stored answer, first write wins
// On open the header is verified (magic, version, stage), every key is loaded, and a torn final
// line (no trailing newline or not valid JSON — a write cut by a kill) is truncated away and
// counted. A malformed line elsewhere is corruption and throws util::Error with file and line.
//
//   backend::RequestStore store(work / "decisions/ml-1m.store.jsonl", "decide");
//   if (!store.contains(key)) store.put(key, R"({"choices":["..."]})");
//
// Thread safety: every method may be called from any thread (one mutex); each put() is one
// write(2) of a whole line, flushed before put() returns.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace um::backend {

class RequestStore {
 public:
  static constexpr const char* kMagic = "usermirror-request-store";
  static constexpr int kVersion = 1;

  RequestStore(std::filesystem::path path, std::string stage);
  ~RequestStore();
  RequestStore(const RequestStore&) = delete;
  RequestStore& operator=(const RequestStore&) = delete;

  bool contains(const std::string& key) const;
  // Appends the record unless `key` is already stored (returns false then). `value_json` must be
  // one valid JSON value (util::Error otherwise).
  bool put(const std::string& key, std::string_view value_json);
  size_t size() const;
  // Bytes of a torn final line removed on open (0 when the file was clean).
  uint64_t truncated_bytes() const { return truncated_; }
  const std::filesystem::path& path() const { return path_; }

  // Every stored record in file order: fn(key, value_json). Verifies the header like the constructor
  // (a torn final line is skipped, not removed).
  static void read(const std::filesystem::path& path, const std::string& stage,
                   const std::function<void(const std::string& key, const std::string& value_json)>& fn);

 private:
  std::filesystem::path path_;
  std::string stage_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> keys_;
  int fd_ = -1;
  uint64_t truncated_ = 0;
};

}  // namespace um::backend
