#pragma once
// The watch over one request while it runs on the backend (internal to serve): the cancellation flag
// handed to every backend request it sends (GenerateRequest::cancel, OptionRequest::cancel), the
// client's connection and the request's time limit (X-Request-Timeout / ServeOptions::
// request_timeout_s). Whoever notices first sets the flag: the client leaving (a socket probe or a
// failed write), the deadline passing, or the server's drain timeout (which sets the flags of all
// requests in flight). The embedded engine then stops the request at its next decode step, prefill
// block or block step, and the answer says why (throw_cancelled).
//
// Thread safety: the flag and the reason are atomics; poll()/get() are called by the request's HTTP
// thread, check_deadline() and timed_out() from any thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "serve/api_error.h"
#include "util/error.h"

namespace um::serve {

using SteadyClock = std::chrono::steady_clock;

// One request's time limit, counted from when the server received it (the wait for a backend slot
// included).
struct Deadline {
  double limit_s = 0;  // 0 = none
  SteadyClock::time_point at{};
  bool set() const { return limit_s > 0; }
  bool passed() const { return set() && SteadyClock::now() >= at; }
};

// "request timed out after its 2.5 s limit; the work was cancelled" (504, type timeout_error).
ApiError timeout_error(double limit_s);

// The largest X-Request-Timeout accepted (about 115 days; beyond, the clock arithmetic overflows).
inline constexpr double kMaxRequestTimeoutS = 1e7;

// A request's deadline from its X-Request-Timeout header ("" = absent) and the server's limit
// (ServeOptions::request_timeout_s, 0 = none): the header's value, at most the server's; the server's
// when the header is absent. Throws ApiError 400 (param "X-Request-Timeout") unless the header is a
// number of seconds in (0, kMaxRequestTimeoutS].
Deadline request_deadline(const std::string& header, double server_limit_s, SteadyClock::time_point received);

class RequestWatch {
 public:
  // `cancel`: the request's flag; `client_gone`: whether the client has closed its connection (a
  // socket probe, asked by poll()); `aborting`: whether the server is aborting what is left after its
  // drain timeout.
  RequestWatch(std::shared_ptr<std::atomic<bool>> cancel, Deadline deadline,
               std::function<bool()> client_gone, const std::atomic<bool>& aborting)
      : cancel_(std::move(cancel)),
        deadline_(deadline),
        client_gone_(std::move(client_gone)),
        aborting_(aborting) {}

  std::shared_ptr<const std::atomic<bool>> flag() const { return cancel_; }
  bool cancelled() const { return cancel_->load(); }
  const Deadline& deadline() const { return deadline_; }

  // Sets the flag once the deadline has passed (cheap: a clock read). Returns whether the request is
  // cancelled, for whatever reason.
  bool check_deadline() {
    if (deadline_.passed() && !cancel_->load()) {
      int none = kNone;
      reason_.compare_exchange_strong(none, kDeadline);
      cancel_->store(true);
    }
    return cancel_->load();
  }
  // check_deadline(), then the client's connection (a system call).
  bool poll() {
    if (check_deadline()) return true;
    if (client_gone_ && client_gone_()) client_left();
    return cancel_->load();
  }
  // The client went away (a write to it failed).
  void client_left() {
    int none = kNone;
    reason_.compare_exchange_strong(none, kClient);
    cancel_->store(true);
  }
  // The deadline, not the client or the drain, cancelled the request.
  bool timed_out() const { return reason_.load() == kDeadline; }
  // The client's leaving cancelled the request.
  bool client_gone() const { return reason_.load() == kClient; }

  // When to poll next: in 50 ms (a socket probe costs a system call), or at the deadline if sooner,
  // so that the flag is set when the deadline passes, not up to a poll period later.
  SteadyClock::time_point next_poll() const {
    const SteadyClock::time_point next = SteadyClock::now() + std::chrono::milliseconds(50);
    return deadline_.set() && !cancel_->load() ? std::min(next, deadline_.at) : next;
  }

  // Waits for a backend future, polling every 50 ms (and at the deadline). A backend failure after the
  // request was cancelled is answered as the cancellation (throw_cancelled); a result that arrives anyway (a
  // backend that cannot cancel) is returned.
  template <typename T>
  T get(std::future<T>& f) {
    while (f.wait_until(next_poll()) != std::future_status::ready) poll();
    try {
      return f.get();
    } catch (const util::Error&) {
      if (cancelled()) throw_cancelled();
      throw;
    }
  }

  // The answer of a cancelled request: 504 when its deadline passed, 503 when the server aborted it
  // after the drain timeout, 499 when the client left (nobody reads that one).
  ApiError cancellation() const {
    if (timed_out()) return timeout_error(deadline_.limit_s);
    if (aborting_.load())
      return ApiError(503, "server shutting down: the request was aborted after the drain timeout", "",
                      "server_shutting_down", "server_error");
    return ApiError(499, "client closed the connection; the request was cancelled", "", "client_closed",
                    "invalid_request_error");
  }
  [[noreturn]] void throw_cancelled() const { throw cancellation(); }

 private:
  static constexpr int kNone = 0, kClient = 1, kDeadline = 2;
  std::shared_ptr<std::atomic<bool>> cancel_;
  Deadline deadline_;
  std::function<bool()> client_gone_;
  const std::atomic<bool>& aborting_;
  std::atomic<int> reason_{kNone};
};

}  // namespace um::serve
