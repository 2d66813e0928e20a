#include "util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace um::util {

namespace {

std::shared_ptr<CallControl>& bound_control() {
  thread_local std::shared_ptr<CallControl> control;
  return control;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void CallControl::update(uint64_t bar, const std::string& label, uint64_t done, uint64_t total, bool final) {
  std::lock_guard lock(mu_);
  Report& r = pending_[bar];
  if (r.final && !final) return;
  r = Report{bar, label, done, total, final};
}

std::vector<CallControl::Report> CallControl::take() {
  std::lock_guard lock(mu_);
  std::vector<Report> out;
  out.reserve(pending_.size());
  for (auto& [id, r] : pending_) out.push_back(std::move(r));
  pending_.clear();
  return out;
}

CallControl::Bind::Bind(std::shared_ptr<CallControl> control) : previous_(std::move(bound_control())) {
  bound_control() = std::move(control);
}

CallControl::Bind::~Bind() { bound_control() = std::move(previous_); }

const std::shared_ptr<CallControl>& CallControl::current() { return bound_control(); }

void check_cancelled() {
  const auto& c = bound_control();
  if (c && c->cancelled()) throw Cancelled();
}

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      tty_(::isatty(2) != 0),
      control_(bound_control()),
      owner_(std::this_thread::get_id()) {
  const char* off = std::getenv("UM_NO_PROGRESS");
  enabled_ = off == nullptr || std::string(off) != "1";
  if (control_) {
    enabled_ = enabled_ && control_->terminal();
    bar_id_ = control_->new_bar();
    report(false);
  }
}

Progress::~Progress() {
  if (!finished_) finish();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::report(bool final) {
  last_report_ns_.store(now_ns(), std::memory_order_relaxed);
  control_->update(bar_id_, label_, done_.load(), total_, final);
}

void Progress::add(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (control_) {
    if (control_->cancelled() && std::this_thread::get_id() == owner_) throw Cancelled();
    if (now_ns() - last_report_ns_.load(std::memory_order_relaxed) >= 50'000'000) report(false);
  }
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  auto min_gap = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
  if (now - last_draw_ < min_gap) return;
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || now - last_draw_ < min_gap) return;
  last_draw_ = now;
  draw(false);
}

void Progress::draw(bool final) {
  uint64_t done = done_.load();
  double secs = elapsed_seconds();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line;
  if (total_ > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    int width = 24;
    int fill = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(fill), '#');
    bar.append(static_cast<size_t>(width - fill), '.');
    double eta = rate > 0 && done < total_ ? static_cast<double>(total_ - done) / rate : 0;
    line = fmt::format("{} [{}] {}/{} {} {:.0f}% {:.1f} {}/s {} {}", label_, bar, done, total_, unit_,
                       frac * 100, rate, unit_, final ? "in" : "ETA", human_seconds(final ? secs : eta));
  } else {
    line = fmt::format("{} {} {} {:.1f} {}/s {}", label_, done, unit_, rate, unit_, human_seconds(secs));
  }
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (control_) report(true);
  // Only long tasks leave a final line; short ones are covered by the command summary.
  if (enabled_ && (tty_ || elapsed_seconds() >= 2.0)) draw(true);
}

Summary::Summary(std::string command)
    : command_(std::move(command)), start_(std::chrono::steady_clock::now()) {}

void Summary::set(const std::string& key, const std::string& value) {
  if (!values_.count(key) && !counts_.count(key)) order_.push_back(key);
  values_[key] = value;
}
void Summary::count(const std::string& key, uint64_t n) {
  if (!values_.count(key) && !counts_.count(key)) order_.push_back(key);
  counts_[key] += n;
}
void Summary::skip(const std::string& reason, uint64_t n) { skips_[reason] += n; }
uint64_t Summary::skipped() const {
  uint64_t s = 0;
  for (const auto& [k, v] : skips_) s += v;
  return s;
}

void Summary::print(const std::string& throughput_key) const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string out = fmt::format("== {} summary ==\n", command_);
  for (const auto& k : order_) {
    if (auto it = counts_.find(k); it != counts_.end()) {
      out += fmt::format("  {:<22} {}\n", k, it->second);
    } else {
      out += fmt::format("  {:<22} {}\n", k, values_.at(k));
    }
  }
  out += fmt::format("  {:<22} {}\n", "skipped", skipped());
  for (const auto& [reason, n] : skips_) out += fmt::format("    {:<20} {}\n", reason, n);
  out += fmt::format("  {:<22} {}\n", "wall time", human_seconds(secs));
  if (!throughput_key.empty()) {
    if (auto it = counts_.find(throughput_key); it != counts_.end() && secs > 0) {
      out += fmt::format("  {:<22} {:.0f} {}/s\n", "throughput", static_cast<double>(it->second) / secs,
                         throughput_key);
    }
  }
  out += fmt::format("  {:<22} {}\n", "peak RSS", human_bytes(peak_rss_bytes()));
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string human_seconds(double s) {
  if (s < 1) return fmt::format("{:.0f} ms", s * 1000);
  if (s < 120) return fmt::format("{:.2f} s", s);
  int total = static_cast<int>(s);
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}h{:02d}m", total / 3600, (total % 3600) / 60);
}

}  // namespace um::util
