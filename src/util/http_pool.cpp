#include "util/http_pool.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <queue>

#include "util/error.h"
#include "util/rng.h"

namespace um::util {
namespace {

using Clock = std::chrono::steady_clock;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_curl_global() {
  static CurlGlobal g;  // thread-safe static init; curl_global_init is not itself thread-safe
}

struct Pending {
  HttpJob job;
  int attempt = 0;  // attempts made so far
  std::string last_error;
};

struct Delayed {
  Clock::time_point due;
  uint64_t seq;
  std::shared_ptr<Pending> p;
  bool operator>(const Delayed& o) const { return due != o.due ? due > o.due : seq > o.seq; }
};

struct Transfer {
  std::shared_ptr<Pending> p;
  size_t endpoint = 0;
  std::string url;
  std::string response;
  std::string request_id;
  std::string retry_after;
  curl_slist* headers = nullptr;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<Transfer*>(user)->response.append(data, size * n);
  return size * n;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "x-request-id") t->request_id = trim(line.substr(colon + 1));
    if (name == "retry-after") t->retry_after = trim(line.substr(colon + 1));
  }
  return size * n;
}

// Retry-After is delta-seconds or an HTTP date; returns seconds (<0 when absent/unparseable).
double parse_retry_after(const std::string& v) {
  if (v.empty()) return -1;
  char* end = nullptr;
  double s = std::strtod(v.c_str(), &end);
  if (end != v.c_str() && *end == '\0') return std::max(0.0, s);
  time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return -1;
  return std::max(0.0, static_cast<double>(when - time(nullptr)));
}

std::string snippet(const std::string& body) {
  std::string s = body.substr(0, 500);
  if (body.size() > 500) s += "...";
  return s;
}

}  // namespace

struct HttpPool::State {
  CURLM* multi = nullptr;
  std::mutex mu;
  std::deque<std::shared_ptr<Pending>> incoming;  // guarded by mu
  bool stop = false;                              // guarded by mu

  // Loop thread only.
  std::deque<std::shared_ptr<Pending>> ready;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed;
  uint64_t seq = 0;
  std::map<CURL*, std::unique_ptr<Transfer>> active;
  std::vector<CURL*> idle_handles;
  std::vector<int> outstanding;               // per endpoint
  std::vector<Clock::time_point> rest_until;  // per endpoint, after connection failures
  std::vector<double> rest_s;
  size_t rr = 0;
  util::Rng rng{0};

  std::atomic<int64_t> attempts{0}, retries{0}, succeeded{0}, failed{0};
};

HttpPool::HttpPool(HttpPoolConfig config) : config_(std::move(config)), state_(std::make_unique<State>()) {
  if (config_.endpoints.empty()) throw util::Error("HTTP client needs at least one endpoint");
  if (config_.concurrency < 1) throw util::Error("HTTP client concurrency must be >= 1");
  if (config_.max_attempts < 1) throw util::Error("HTTP client max_attempts must be >= 1");
  ensure_curl_global();
  state_->multi = curl_multi_init();
  if (!state_->multi) throw util::Error("curl_multi_init failed");
  const long total = static_cast<long>(config_.concurrency * config_.endpoints.size());
  curl_multi_setopt(state_->multi, CURLMOPT_MAXCONNECTS, total + 4);
  state_->outstanding.assign(config_.endpoints.size(), 0);
  state_->rest_until.assign(config_.endpoints.size(), Clock::time_point{});
  state_->rest_s.assign(config_.endpoints.size(), 0.0);
  state_->rng = util::Rng(config_.jitter_seed);
  thread_ = std::thread([this] { loop(); });
}

HttpPool::~HttpPool() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  curl_multi_wakeup(state_->multi);
  thread_.join();
  for (CURL* h : state_->idle_handles) curl_easy_cleanup(h);
  curl_multi_cleanup(state_->multi);
}

void HttpPool::post(HttpJob job) {
  auto p = std::make_shared<Pending>();
  p->job = std::move(job);
  {
    std::lock_guard lock(state_->mu);
    if (state_->stop) {
      HttpFailure f{.message = "request " + p->job.key + ": HTTP client is shut down"};
      p->job.on_failure(std::move(f));
      return;
    }
    state_->incoming.push_back(std::move(p));
  }
  curl_multi_wakeup(state_->multi);
}

HttpPoolStats HttpPool::stats() const {
  return {state_->attempts.load(), state_->retries.load(), state_->succeeded.load(), state_->failed.load()};
}

void HttpPool::loop() {
  State& s = *state_;
  const size_t n_ep = config_.endpoints.size();

  auto fail = [&](const std::shared_ptr<Pending>& p, HttpFailure f) {
    f.attempts = p->attempt;
    s.failed.fetch_add(1);
    p->job.on_failure(std::move(f));
  };

  // Schedules another attempt, or fails the job when attempts are exhausted.
  auto retry_or_fail = [&](const std::shared_ptr<Pending>& p, HttpFailure f, double retry_after_s) {
    p->last_error = f.message;
    if (p->attempt >= config_.max_attempts) {
      f.message += " (gave up after " + std::to_string(p->attempt) + " attempts)";
      fail(p, std::move(f));
      return;
    }
    double cap = std::min(config_.backoff_max_s, config_.backoff_base_s * std::pow(2.0, p->attempt - 1));
    double delay = cap * (0.5 + 0.5 * s.rng.uniform01());  // jitter in [cap/2, cap)
    if (retry_after_s >= 0) delay = std::max(delay, std::min(retry_after_s, config_.retry_after_max_s));
    s.retries.fetch_add(1);
    s.delayed.push({Clock::now() + std::chrono::microseconds(static_cast<int64_t>(delay * 1e6)), s.seq++, p});
  };

  // Least outstanding among endpoints that are up; a rested endpoint (recent connection failure) is
  // used only when no endpoint is up, so a lone server is still retried.
  auto pick_endpoint = [&]() -> long {
    auto now = Clock::now();
    long best = -1, best_resting = -1;
    bool any_up = false;
    for (size_t k = 0; k < n_ep; ++k) {
      size_t i = (s.rr + k) % n_ep;
      bool up = s.rest_until[i] <= now;
      any_up = any_up || up;
      if (s.outstanding[i] >= config_.concurrency) continue;
      long& slot = up ? best : best_resting;
      if (slot < 0 || s.outstanding[i] < s.outstanding[static_cast<size_t>(slot)])
        slot = static_cast<long>(i);
    }
    s.rr = (s.rr + 1) % n_ep;
    if (best >= 0) return best;
    return any_up ? -1 : best_resting;
  };

  auto start = [&](const std::shared_ptr<Pending>& p, size_t ep) {
    CURL* h;
    if (!s.idle_handles.empty()) {
      h = s.idle_handles.back();
      s.idle_handles.pop_back();
      curl_easy_reset(h);
    } else {
      h = curl_easy_init();
    }
    auto t = std::make_unique<Transfer>();
    t->p = p;
    t->endpoint = ep;
    t->url = config_.endpoints[ep] + p->job.path;
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (!p->job.key.empty()) {
      std::string id = p->job.key;  // a header value cannot hold line breaks
      std::replace_if(
          id.begin(), id.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      t->headers = curl_slist_append(t->headers, ("X-Request-Id: " + id).c_str());
    }
    if (!config_.api_key.empty()) {
      t->headers = curl_slist_append(t->headers, ("Authorization: Bearer " + config_.api_key).c_str());
    }
    curl_easy_setopt(h, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->job.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p->job.body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, t.get());
    ++p->attempt;
    s.attempts.fetch_add(1);
    ++s.outstanding[ep];
    s.active[h] = std::move(t);
    curl_multi_add_handle(s.multi, h);
  };

  auto finish = [&](CURL* h, CURLcode code) {
    auto node = s.active.extract(h);
    std::unique_ptr<Transfer> t = std::move(node.mapped());
    curl_multi_remove_handle(s.multi, h);
    curl_slist_free_all(t->headers);
    --s.outstanding[t->endpoint];
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    s.idle_handles.push_back(h);
    const auto& p = t->p;
    std::string where = "request " + p->job.key + " to " + t->url;
    std::string rid = t->request_id.empty() ? "" : " (request id " + t->request_id + ")";
    if (code != CURLE_OK) {
      if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
        double& rest = s.rest_s[t->endpoint];
        rest = rest == 0 ? config_.backoff_base_s : std::min(config_.backoff_max_s, rest * 2);
        s.rest_until[t->endpoint] =
            Clock::now() + std::chrono::microseconds(static_cast<int64_t>(rest * 1e6));
      }
      retry_or_fail(p,
                    {.status = 0,
                     .message = where + ": " + curl_easy_strerror(code) + rid,
                     .timed_out = code == CURLE_OPERATION_TIMEDOUT},
                    -1);
      return;
    }
    s.rest_s[t->endpoint] = 0;
    if (status >= 200 && status < 300) {
      HttpResponse r{status, std::move(t->response), t->request_id, config_.endpoints[t->endpoint]};
      std::string bad = p->job.on_success(r);
      if (bad.empty()) {
        s.succeeded.fetch_add(1);
      } else {
        retry_or_fail(p, {.status = status, .message = where + ": malformed answer: " + bad + rid}, -1);
      }
      return;
    }
    HttpFailure f{status, t->response,
                  where + ": HTTP " + std::to_string(status) + rid + ": " + snippet(t->response),
                  t->request_id};
    if (status == 408 || status == 429 || status >= 500) {
      retry_or_fail(p, std::move(f), parse_retry_after(t->retry_after));
    } else {
      fail(p, std::move(f));  // validation errors do not improve on retry
    }
  };

  while (true) {
    bool stopping;
    {
      std::lock_guard lock(s.mu);
      stopping = s.stop;
      while (!s.incoming.empty()) {
        s.ready.push_back(std::move(s.incoming.front()));
        s.incoming.pop_front();
      }
    }
    if (stopping) break;
    auto now = Clock::now();
    while (!s.delayed.empty() && s.delayed.top().due <= now) {
      s.ready.push_back(s.delayed.top().p);
      s.delayed.pop();
    }
    while (!s.ready.empty()) {
      long ep = pick_endpoint();
      if (ep < 0) break;
      auto p = std::move(s.ready.front());
      s.ready.pop_front();
      start(p, static_cast<size_t>(ep));
    }
    int running = 0;
    curl_multi_perform(s.multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(s.multi, &left)) {
      if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
    }
    // Finished transfers free slots: start queued work before sleeping.
    if (!s.ready.empty()) {
      bool slot = false;
      for (size_t i = 0; i < n_ep; ++i) slot = slot || s.outstanding[i] < config_.concurrency;
      if (slot) continue;
    }
    int timeout_ms = 1000;
    if (!s.delayed.empty()) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(s.delayed.top().due - Clock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 1000));
    }
    curl_multi_poll(s.multi, nullptr, 0, timeout_ms, nullptr);
  }

  // Shutdown: every job still owned by the pool fails exactly once.
  std::vector<std::shared_ptr<Pending>> orphans(s.ready.begin(), s.ready.end());
  while (!s.delayed.empty()) {
    orphans.push_back(s.delayed.top().p);
    s.delayed.pop();
  }
  for (auto& [h, t] : s.active) {
    curl_multi_remove_handle(s.multi, h);
    curl_slist_free_all(t->headers);
    curl_easy_cleanup(h);
    orphans.push_back(t->p);
  }
  s.active.clear();
  {
    std::lock_guard lock(s.mu);
    for (auto& p : s.incoming) orphans.push_back(p);
    s.incoming.clear();
  }
  for (auto& p : orphans) {
    fail(p, {.message = "request " + p->job.key + ": HTTP client shut down before an answer" +
                        (p->last_error.empty() ? "" : " (last error: " + p->last_error + ")")});
  }
}

}  // namespace um::util
