#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "serve/api_error.h"
#include "serve/openai_protocol.h"
#include "serve/request_watch.h"
#include "serve/serve.h"
#include "serve/simulate.h"
#include "util/error.h"
#include "util/invalid_input.h"

namespace um::serve {
namespace {

// cpp-httplib compresses "application/json" answers whenever the client accepts it, and picks
// brotli at its slowest setting (~2 ms per small answer, 40x the rest of the request). Answers here
// are small and mostly on loopback or a LAN, so JSON goes out uncompressed under this equivalent
// content type, which httplib does not compress.
constexpr const char* kJson = "application/json; charset=utf-8";

// Bounded admission: `max_running` requests on the backend, `max_waiting` queued behind them; a
// request beyond both is refused at once (429) instead of piling up, and one whose deadline passes
// while it waits leaves the queue (504).
class Admission {
 public:
  enum class Entry { admitted, busy, timed_out };
  Admission(int max_running, int max_waiting) : max_running_(max_running), max_waiting_(max_waiting) {}
  Entry enter(const Deadline& deadline) {
    std::unique_lock lock(mu_);
    if (running_ < max_running_) {
      ++running_;
      return Entry::admitted;
    }
    if (waiting_ >= max_waiting_) return Entry::busy;
    ++waiting_;
    auto free = [&] { return running_ < max_running_; };
    if (deadline.set()) {
      if (!cv_.wait_until(lock, deadline.at, free)) {
        --waiting_;
        return Entry::timed_out;
      }
    } else {
      cv_.wait(lock, free);
    }
    --waiting_;
    ++running_;
    return Entry::admitted;
  }
  void leave() {
    std::lock_guard lock(mu_);
    --running_;
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0, waiting_ = 0;
  const int max_running_, max_waiting_;
};

// A request admitted to the backend, with its time limit.
struct Slot {
  Slot(Admission& a, Deadline d) : a_(a), deadline(d) {}
  ~Slot() { a_.leave(); }
  Admission& a_;
  Deadline deadline;
};

// Compares every byte whatever the first difference, so the time taken does not reveal how much of
// a guessed key was right.
bool constant_time_equal(const std::string& a, const std::string& b) {
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// cpp-httplib 0.11 (Debian) listens with a backlog of 5: a burst of connecting clients overflows
// the accept queue and stalls in SYN/ACK retransmits for seconds. Linux lets listen() be called
// again on a listening socket to enlarge its backlog; find ours by its bound port.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

// The socket of the connection a request came on (found by its two addresses; httplib 0.11 does not
// expose it), or -1. Used to notice a client that went away while its request runs.
int client_socket(const httplib::Request& req) {
  for (int fd = 0; fd < 65536; ++fd) {
    sockaddr_storage peer{}, self{};
    socklen_t plen = sizeof peer, slen = sizeof self;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) {
      if (errno == EBADF && fd > 1024) break;  // past the open descriptors (they are allocated lowest first)
      continue;
    }
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &slen) != 0) continue;
    auto port_of = [](const sockaddr_storage& a) {
      return a.ss_family == AF_INET    ? ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port)
             : a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port)
                                       : -1;
    };
    if (port_of(peer) == req.remote_port && port_of(self) == req.local_port) return fd;
  }
  return -1;
}

// True once the peer closed its side (EOF) or the connection failed. A request body already read
// leaves nothing pending, so a readable socket with no data means the client is gone.
bool peer_gone(int fd) {
  if (fd < 0) return false;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// `text` in pieces of at most `max` bytes, never splitting a UTF-8 character.
std::vector<std::string> utf8_pieces(const std::string& text, size_t max) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + max);
    while (end < text.size() && end > i + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Server::Impl {
  backend::Backend& backend;
  ServeOptions opts;
  httplib::Server http;
  Admission admission;
  std::vector<std::string> models;
  std::atomic<uint64_t> next_id{0};
  std::atomic<int64_t> requests{0}, errors_4xx{0}, errors_5xx{0}, busy{0};
  bool bound = false;
  // stop() may race with run() starting to listen: httplib's stop() does nothing before the listen
  // loop runs, so stop() waits for it (run_active) or keeps run() from starting (stop_requested).
  std::atomic<bool> stop_requested{false}, run_active{false};

  // Requests running on the backend, each with its cancellation flag: a client that goes away
  // cancels its own; SIGTERM's drain (stop()) waits opts.drain_timeout_s, then cancels all that are
  // left and refuses new ones (503), so shutdown is bounded.
  std::mutex inflight_mu;
  std::set<std::shared_ptr<std::atomic<bool>>> inflight_flags;
  std::atomic<bool> aborting{false};
  std::mutex drain_mu;
  std::condition_variable drain_cv;
  bool run_finished = false;
  std::thread drain_thread;

  struct Inflight {
    explicit Inflight(Impl& impl) : impl_(impl), cancel(std::make_shared<std::atomic<bool>>(false)) {
      std::lock_guard lock(impl_.inflight_mu);
      if (impl_.aborting.load()) cancel->store(true);
      impl_.inflight_flags.insert(cancel);
    }
    ~Inflight() {
      std::lock_guard lock(impl_.inflight_mu);
      impl_.inflight_flags.erase(cancel);
    }
    Impl& impl_;
    std::shared_ptr<std::atomic<bool>> cancel;
  };

  void begin_drain() {
    std::lock_guard lock(drain_mu);
    if (drain_thread.joinable()) return;
    drain_thread = std::thread([this] {
      std::unique_lock l(drain_mu);
      if (drain_cv.wait_for(l, std::chrono::seconds(opts.drain_timeout_s), [&] { return run_finished; }))
        return;
      aborting.store(true);
      std::lock_guard il(inflight_mu);
      for (const auto& c : inflight_flags) c->store(true);
    });
  }
  void end_drain() {
    {
      std::lock_guard lock(drain_mu);
      run_finished = true;
    }
    drain_cv.notify_all();
  }
  ~Impl() {
    end_drain();
    if (drain_thread.joinable()) drain_thread.join();
  }

  // The watch of a request admitted to the backend: its in-flight flag, its deadline and its client's
  // connection (found by a scan of the descriptors only if the request lasts, see client_socket).
  std::shared_ptr<RequestWatch> watch(const httplib::Request& req, const std::shared_ptr<Inflight>& inflight,
                                      const std::shared_ptr<Slot>& slot) {
    auto gone = [&req, fd = -2]() mutable {
      if (fd == -2) fd = client_socket(req);
      return peer_gone(fd);
    };
    return std::make_shared<RequestWatch>(inflight->cancel, slot ? slot->deadline : Deadline{}, gone,
                                          aborting);
  }

  Impl(backend::Backend& be, ServeOptions o)
      : backend(be), opts(std::move(o)), admission(opts.max_concurrent, opts.max_queue) {
    models.push_back(backend.model_name());
    if (!opts.model_alias.empty()) models.push_back(opts.model_alias);
  }

  std::string new_id(const char* prefix) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%llx%06llx", prefix, static_cast<unsigned long long>(unix_now()),
                  static_cast<unsigned long long>(next_id.fetch_add(1)));
    return buf;
  }

  void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                  const std::string& param, const std::string& code) {
    res.status = status;
    res.set_content(error_body(message, type, param, code), kJson);
    (status >= 500 ? errors_5xx : errors_4xx).fetch_add(1);
  }

  void check_auth(const httplib::Request& req) {
    if (opts.api_key.empty()) return;
    std::string h = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    std::string given = h.rfind(bearer, 0) == 0 ? h.substr(bearer.size()) : std::string();
    if (!constant_time_equal(given, opts.api_key)) {
      throw ApiError(401, "missing or invalid API key (Authorization: Bearer ...)", "", "invalid_api_key",
                     "authentication_error");
    }
  }

  // The serve handler wrapper: the one place errors become HTTP answers (docs/architecture.md).
  // `fn` gets the admission slot (null for routes without one); a streaming answer keeps it until
  // its generation ends.
  using SlotPtr = std::shared_ptr<Slot>;
  httplib::Server::Handler wrap(std::function<void(const httplib::Request&, httplib::Response&, SlotPtr)> fn,
                                bool needs_slot) {
    return [this, fn = std::move(fn), needs_slot](const httplib::Request& req, httplib::Response& res) {
      const SteadyClock::time_point received = SteadyClock::now();
      requests.fetch_add(1);
      try {
        check_auth(req);
        if (!needs_slot) {
          fn(req, res, nullptr);
          return;
        }
        if (aborting.load()) {
          throw ApiError(503, "server shutting down", "", "server_shutting_down", "server_error");
        }
        const Deadline deadline =
            request_deadline(req.get_header_value("X-Request-Timeout"), opts.request_timeout_s, received);
        switch (admission.enter(deadline)) {
          case Admission::Entry::admitted:
            break;
          case Admission::Entry::busy:
            busy.fetch_add(1);
            res.set_header("Retry-After", std::to_string(opts.retry_after_s));
            throw ApiError(429, "server is busy; retry later", "", "rate_limit_exceeded", "rate_limit_error");
          case Admission::Entry::timed_out:
            throw timeout_error(deadline.limit_s);
        }
        auto slot = std::make_shared<Slot>(admission, deadline);
        fn(req, res, std::move(slot));
      } catch (const ApiError& e) {
        send_error(res, e.status, e.what(), e.type, e.param, e.code);
      } catch (const util::NotSupported& e) {
        send_error(res, 400, e.what(), "invalid_request_error", "", "unsupported");
      } catch (const util::InvalidInput& e) {  // the request's own content (a token id off the vocabulary)
        send_error(res, 400, e.what(), "invalid_request_error", e.where().field, "invalid_value");
      } catch (const util::Error& e) {
        send_error(res, 502, e.what(), "server_error", "", "backend_error");
      } catch (const std::exception& e) {
        send_error(res, 500, e.what(), "server_error", "", "internal_error");
      }
    };
  }

  void routes() {
    http.set_payload_max_length(opts.max_body_bytes);
    http.set_keep_alive_timeout(5);
    http.set_keep_alive_max_count(1000);
    // httplib writes headers and body separately: without TCP_NODELAY, Nagle + delayed ACK add
    // ~40 ms to every keep-alive answer.
    http.set_tcp_nodelay(true);
    const size_t threads = static_cast<size_t>(opts.max_concurrent + opts.max_queue + 8);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Fills errors httplib produces itself (unknown route, 413 body too large, bad request line).
    http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string msg = res.status == 404 ? "unknown endpoint"
                        : res.status == 413
                            ? "request body exceeds " + std::to_string(opts.max_body_bytes) + " bytes"
                            : "bad request (HTTP " + std::to_string(res.status) + ")";
      send_error(res, res.status, msg, "invalid_request_error", "",
                 res.status == 413 ? "request_too_large" : "");
    });

    http.Get("/health", wrap([](const httplib::Request&, httplib::Response& res,
                                SlotPtr) { res.set_content(R"({"status":"ok"})", kJson); },
                             false));
    http.Get(
        "/v1/models",
        wrap(
            [this](const httplib::Request&, httplib::Response& res, SlotPtr) {
              nlohmann::ordered_json data = nlohmann::ordered_json::array();
              for (const auto& m : models) {
                data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "usermirror"}});
              }
              nlohmann::ordered_json j;
              j["object"] = "list";
              j["data"] = std::move(data);
              res.set_content(j.dump(), kJson);
            },
            false));
    http.Post("/v1/chat/completions",
              wrap([this](const httplib::Request& req, httplib::Response& res,
                          SlotPtr slot) { generate(req, res, std::move(slot), true); },
                   true));
    http.Post("/v1/completions", wrap([this](const httplib::Request& req, httplib::Response& res,
                                             SlotPtr slot) { generate(req, res, std::move(slot), false); },
                                      true));
    http.Post("/v1/simulate", wrap(
                                  [this](const httplib::Request& req, httplib::Response& res, SlotPtr slot) {
                                    nlohmann::json body = parse_body(req.body);
                                    auto inflight = std::make_shared<Inflight>(*this);
                                    auto w = watch(req, inflight, slot);
                                    res.set_content(simulate(backend, body, opts, models, *w), kJson);
                                  },
                                  true));
  }

  // The events of one streamed answer, produced on backend threads and written by the HTTP thread.
  struct Stream {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> events;
    bool finished = false;
    void push(std::string e) {
      {
        std::lock_guard lock(mu);
        events.push_back(std::move(e));
      }
      cv.notify_one();
    }
  };

  // The error event that ends a stream whose generation failed after the 200 went out: the request's
  // own content (util::InvalidInput) is the client's error, as the 400 of a whole answer; anything
  // else is the backend's (or the drain timeout's).
  std::string stream_error(std::exception_ptr err, const Inflight& inflight) {
    std::string msg = "generation failed";
    try {
      std::rethrow_exception(err);
    } catch (const util::InvalidInput& e) {
      errors_4xx.fetch_add(1);
      return "data: " + error_body(e.what(), "invalid_request_error", e.where().field, "invalid_value") +
             "\n\n";
    } catch (const std::exception& e) {
      msg = e.what();
    }
    if (inflight.cancel->load() && aborting.load())
      msg = "server shutting down: the request was aborted after the drain timeout";
    errors_5xx.fetch_add(1);
    return error_event(msg, "server_error", aborting.load() ? "server_shutting_down" : "backend_error");
  }

  // Chat completions (one prompt) and completions (one or more prompts): answered whole, or streamed
  // token by token (server-sent events). While the backend works, the connection is watched: a
  // client that leaves cancels its generation (within one decode step on the embedded engine).
  void generate(const httplib::Request& req, httplib::Response& res, SlotPtr slot, bool chat) {
    nlohmann::json body = parse_body(req.body);
    ParsedGenerate p =
        chat ? parse_chat_request(body, opts, models) : parse_completion_request(body, opts, models);
    auto inflight = std::make_shared<Inflight>(*this);
    auto w = watch(req, inflight, slot);
    for (auto& r : p.requests) r.cancel = inflight->cancel;
    const std::string id = new_id(chat ? "chatcmpl-" : "cmpl-");
    const int64_t created = unix_now();
    if (!p.stream) {
      auto futures = backend.generate(p.requests);
      std::vector<backend::GenerateResult> results;
      for (auto& f : futures) results.push_back(w->get(f));
      res.set_content(
          chat ? chat_response(p, results[0], id, created) : completion_response(p, results, id, created),
          kJson);
      return;
    }
    const size_t n = static_cast<size_t>(p.requests[0].sampling.n);
    auto st = std::make_shared<Stream>();
    if (chat) {
      for (size_t i = 0; i < n; ++i) st->push(chat_role_chunk(p, id, created, i));
    }
    // Per choice: bytes sent (completions' text_offset) and whether the backend streamed it.
    struct Progress {
      std::mutex mu;
      std::vector<size_t> sent;
      std::vector<bool> streamed;
      size_t pending = 0;
      int64_t prompt_tokens = 0, completion_tokens = 0;
      bool failed = false;
    };
    auto prog = std::make_shared<Progress>();
    prog->sent.assign(p.requests.size() * n, 0);
    prog->streamed.assign(p.requests.size() * n, false);
    prog->pending = p.requests.size();
    auto shared_p = std::make_shared<ParsedGenerate>(p);
    for (size_t r = 0; r < p.requests.size(); ++r) {
      p.requests[r].on_delta = [this, st, prog, shared_p, id, created, chat, r,
                                n](const backend::SampleDelta& d) {
        const size_t index = r * n + static_cast<size_t>(d.sample);
        size_t offset;
        {
          std::lock_guard lock(prog->mu);
          offset = prog->sent[index];
          prog->sent[index] += d.text.size();
          prog->streamed[index] = true;
        }
        st->push(stream_chunk(*shared_p, id, created, chat, index, d, offset));
      };
    }
    backend.submit_generate(
        p.requests, [this, st, prog, shared_p, id, created, chat, n, inflight, w](
                        size_t r, backend::GenerateResult&& result, std::exception_ptr err) {
          std::lock_guard lock(prog->mu);
          if (err) {
            if (!prog->failed) {
              prog->failed = true;
              if (w->timed_out()) {  // the deadline cancelled it: 504's error, as an event
                const ApiError e = w->cancellation();
                errors_5xx.fetch_add(1);
                st->push(error_event(e.what(), e.type, e.code));
              } else {
                st->push(stream_error(err, *inflight));
              }
            }
          } else {
            prog->prompt_tokens += result.prompt_tokens;
            prog->completion_tokens += result.completion_tokens;
            // A backend that does not stream (an `openai:` upstream): its finished samples, split
            // into deltas (one per token when logprobs were asked for), then the finish.
            for (size_t i = 0; i < result.samples.size() && i < n; ++i) {
              const size_t index = r * n + i;
              if (prog->streamed[index]) continue;
              const backend::Sample& smp = result.samples[i];
              size_t offset = 0;
              auto send = [&](backend::SampleDelta d) {
                d.sample = static_cast<int>(i);
                st->push(stream_chunk(*shared_p, id, created, chat, index, d, offset));
                offset += d.text.size();
              };
              if (shared_p->logprobs && !smp.logprobs.empty()) {
                for (const auto& t : smp.logprobs) send({0, t.token, {t}, ""});
              } else {
                for (auto& piece : utf8_pieces(smp.text, 16)) send({0, std::move(piece), {}, ""});
              }
              send({0, "", {}, smp.finish_reason});
            }
          }
          if (--prog->pending > 0) return;
          if (!prog->failed && shared_p->include_usage)
            st->push(usage_chunk(*shared_p, id, created, chat, prog->prompt_tokens, prog->completion_tokens));
          st->push("data: [DONE]\n\n");
          {
            std::lock_guard sl(st->mu);
            st->finished = true;
          }
          st->cv.notify_one();
        });
    res.set_header("Cache-Control", "no-cache");
    // A stream whose deadline passes keeps going until the backend reports the cancellation, so that
    // the client gets the timeout's error event and [DONE].
    res.set_chunked_content_provider("text/event-stream", [st, slot, inflight, w](size_t,
                                                                                  httplib::DataSink& sink) {
      std::unique_lock lock(st->mu);
      while (true) {
        while (!st->events.empty()) {
          std::string e = std::move(st->events.front());
          st->events.pop_front();
          lock.unlock();
          if (!sink.write(e.data(), e.size())) {
            w->client_left();
            return false;
          }
          lock.lock();
        }
        if (st->finished) break;
        w->check_deadline();
        if (!st->cv.wait_until(lock, w->next_poll(), [&] { return !st->events.empty() || st->finished; })) {
          lock.unlock();
          w->poll();
          if (w->client_gone()) return false;
          lock.lock();
        }
      }
      lock.unlock();
      sink.done();
      return true;
    });
  }
};

Server::Server(backend::Backend& backend, ServeOptions options)
    : impl_(std::make_unique<Impl>(backend, std::move(options))) {
  if (impl_->opts.max_concurrent < 1 || impl_->opts.max_queue < 0 || impl_->opts.max_n < 1 ||
      impl_->opts.max_tokens_limit < 1) {
    throw util::Error("serve: max_concurrent, max_n and max_tokens_limit must be >= 1 and max_queue >= 0");
  }
  impl_->routes();
}

Server::~Server() { stop(); }

int Server::bind() {
  int port = impl_->opts.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(impl_->opts.host);
    if (port < 0) throw util::Error("serve: cannot bind " + impl_->opts.host + " on any port");
  } else if (!impl_->http.bind_to_port(impl_->opts.host, port)) {
    throw util::Error("serve: cannot bind " + impl_->opts.host + ":" + std::to_string(port) +
                      " (address in use or not available)");
  }
  widen_listen_backlog(port);
  impl_->bound = true;
  return port;
}

void Server::run() {
  if (!impl_->bound) bind();
  impl_->run_active.store(true);
  if (!impl_->stop_requested.load()) impl_->http.listen_after_bind();
  impl_->run_active.store(false);
  impl_->end_drain();
}

void Server::stop() {
  impl_->stop_requested.store(true);
  impl_->begin_drain();
  while (impl_->run_active.load() && !impl_->http.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->http.is_running()) impl_->http.stop();
}

ServeStats Server::stats() const {
  return {impl_->requests.load(), impl_->errors_4xx.load(), impl_->errors_5xx.load(), impl_->busy.load()};
}

}  // namespace um::serve
