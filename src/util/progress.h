#pragma once
// Progress bars with rate and ETA on stderr, and end-of-command summaries.
//
//   util::Progress bar("scenes", total);
//   for (...) bar.add(1);
//   bar.finish();
//
// Redraws at most 5 times a second; on a terminal it redraws in place, otherwise it prints a line
// every 10 seconds (so CI logs stay readable). UM_NO_PROGRESS=1 silences it. Thread-safe add().
//
// A caller that wants the bars of one call elsewhere (the Python package, docs/python.md) binds a
// CallControl to the thread that runs the call (CallControl::Bind). Every Progress constructed on
// that thread afterwards reports its label, done and total to it (throttled to one report per 50 ms
// per bar, plus the first and the final one), draws on stderr only when the control says so, and
// once the control is cancelled, add() on that thread and check_cancelled() throw util::Cancelled,
// so the call unwinds (outputs are written atomically or append-only: nothing half-written looks
// complete). add() from other threads (backend callbacks, pool workers) only reports, never throws.
// Without a bound control nothing changes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/error.h"

namespace um::util {

// Thrown when the call's CallControl was cancelled (Ctrl-C in the Python package).
class Cancelled : public Error {
 public:
  Cancelled() : Error("interrupted") {}
};

class CallControl {
 public:
  // The latest state of one bar since the previous take().
  struct Report {
    uint64_t bar = 0;  // unique per bar of this control, in creation order
    std::string label;
    uint64_t done = 0;
    uint64_t total = 0;
    bool final = false;  // the bar finished
  };
  // terminal: whether bound bars still draw on stderr.
  explicit CallControl(bool terminal) : terminal_(terminal) {}
  bool terminal() const { return terminal_; }
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // A new bar's id (Progress does this; other counters, e.g. the Python simulator's, may too).
  uint64_t new_bar() { return next_bar_.fetch_add(1) + 1; }
  // Records a bar's state (thread-safe); a final report is never replaced by a later non-final one.
  void update(uint64_t bar, const std::string& label, uint64_t done, uint64_t total, bool final);
  // The bars updated since the previous take(), in order of their ids.
  std::vector<Report> take();

  // Binds `control` to the calling thread for the scope's lifetime (nullptr: none).
  class Bind {
   public:
    explicit Bind(std::shared_ptr<CallControl> control);
    ~Bind();
    Bind(const Bind&) = delete;
    Bind& operator=(const Bind&) = delete;

   private:
    std::shared_ptr<CallControl> previous_;
  };
  // The control bound to the calling thread, or nullptr.
  static const std::shared_ptr<CallControl>& current();

 private:
  const bool terminal_;
  std::atomic<bool> cancelled_{false};
  std::atomic<uint64_t> next_bar_{0};
  std::mutex mu_;
  std::map<uint64_t, Report> pending_;
};

// Throws Cancelled when the calling thread's CallControl was cancelled; for long loops without a bar.
void check_cancelled();

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
  void report(bool final);
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
  std::shared_ptr<CallControl> control_;  // bound at construction (see CallControl), may be null
  uint64_t bar_id_ = 0;
  std::thread::id owner_;
  std::atomic<int64_t> last_report_ns_{0};
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
