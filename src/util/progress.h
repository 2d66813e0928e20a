#pragma once
// Progress bars with rate and ETA on stderr, and end-of-command summaries.
//
//   util::Progress bar("scenes", total);
//   for (...) bar.add(1);
//   bar.finish();
//
// Redraws at most 5 times a second; on a terminal it redraws in place, otherwise it prints a line
// every 10 seconds (so CI logs stay readable). UM_NO_PROGRESS=1 silences it. Thread-safe add().
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace um::util {

class Progress {
 public:
  Progress(std::string label, uint64_t total, std::string unit = "rec");
  ~Progress();
  void add(uint64_t n = 1);
  void set_total(uint64_t total) { total_ = total; }
  void finish();
  double elapsed_seconds() const;

 private:
  void draw(bool final);
  std::string label_;
  std::string unit_;
  std::atomic<uint64_t> done_{0};
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mu_;
  bool tty_;
  bool enabled_;
  bool finished_ = false;
};

// Counts records in/out and skips per reason; prints one summary block at the end of a command.
class Summary {
 public:
  explicit Summary(std::string command);
  void set(const std::string& key, const std::string& value);
  void count(const std::string& key, uint64_t n);
  void skip(const std::string& reason, uint64_t n = 1);
  uint64_t skipped() const;
  const std::map<std::string, uint64_t>& skips() const { return skips_; }
  // Prints "== <command> summary ==" followed by the counters, skips, wall time and throughput of
  // `throughput_key` per second.
  void print(const std::string& throughput_key = "") const;

 private:
  std::string command_;
  std::chrono::steady_clock::time_point start_;
  std::map<std::string, std::string> values_;
  std::map<std::string, uint64_t> counts_;
  std::map<std::string, uint64_t> skips_;
  std::vector<std::string> order_;
};

// Peak resident set size of this process in bytes (from /proc/self/status VmHWM).
uint64_t peak_rss_bytes();
std::string human_bytes(uint64_t bytes);
std::string human_seconds(double s);

}  // namespace um::util
