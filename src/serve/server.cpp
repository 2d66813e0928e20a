#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "serve/api_error.h"
#include "serve/openai_protocol.h"
#include "serve/serve.h"
#include "serve/simulate.h"
#include "util/error.h"

namespace um::serve {
namespace {

// cpp-httplib compresses "application/json" answers whenever the client accepts it, and picks
// brotli at its slowest setting (~2 ms per small answer, 40x the rest of the request). Answers here
// are small and mostly on loopback or a LAN, so JSON goes out uncompressed under this equivalent
// content type, which httplib does not compress.
constexpr const char* kJson = "application/json; charset=utf-8";

// Bounded admission: `max_running` requests on the backend, `max_waiting` queued behind them; a
// request beyond both is refused at once (429) instead of piling up.
class Admission {
 public:
  Admission(int max_running, int max_waiting) : max_running_(max_running), max_waiting_(max_waiting) {}
  bool enter() {
    std::unique_lock lock(mu_);
    if (running_ < max_running_) {
      ++running_;
      return true;
    }
    if (waiting_ >= max_waiting_) return false;
    ++waiting_;
    cv_.wait(lock, [&] { return running_ < max_running_; });
    --waiting_;
    ++running_;
    return true;
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

struct Slot {
  explicit Slot(Admission& a) : a_(a) {}
  ~Slot() { a_.leave(); }
  Admission& a_;
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
  httplib::Server::Handler wrap(std::function<void(const httplib::Request&, httplib::Response&)> fn,
                                bool needs_slot) {
    return [this, fn = std::move(fn), needs_slot](const httplib::Request& req, httplib::Response& res) {
      requests.fetch_add(1);
      try {
        check_auth(req);
        if (!needs_slot) {
          fn(req, res);
          return;
        }
        if (!admission.enter()) {
          busy.fetch_add(1);
          res.set_header("Retry-After", std::to_string(opts.retry_after_s));
          throw ApiError(429, "server is busy; retry later", "", "rate_limit_exceeded", "rate_limit_error");
        }
        Slot slot(admission);
        fn(req, res);
      } catch (const ApiError& e) {
        send_error(res, e.status, e.what(), e.type, e.param, e.code);
      } catch (const util::NotSupported& e) {
        send_error(res, 400, e.what(), "invalid_request_error", "", "unsupported");
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

    http.Get("/health", wrap([](const httplib::Request&,
                                httplib::Response& res) { res.set_content(R"({"status":"ok"})", kJson); },
                             false));
    http.Get(
        "/v1/models",
        wrap(
            [this](const httplib::Request&, httplib::Response& res) {
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
              wrap([this](const httplib::Request& req, httplib::Response& res) { chat(req, res); }, true));
    http.Post(
        "/v1/completions",
        wrap([this](const httplib::Request& req, httplib::Response& res) { completions(req, res); }, true));
    http.Post("/v1/simulate", wrap(
                                  [this](const httplib::Request& req, httplib::Response& res) {
                                    res.set_content(simulate(backend, parse_body(req.body), opts, models),
                                                    kJson);
                                  },
                                  true));
  }

  void chat(const httplib::Request& req, httplib::Response& res) {
    ParsedGenerate p = parse_chat_request(parse_body(req.body), opts, models);
    backend::GenerateResult r = backend.generate_one(p.requests[0]);
    const std::string id = new_id("chatcmpl-");
    if (!p.stream) {
      res.set_content(chat_response(p, r, id, unix_now()), kJson);
      return;
    }
    auto events = std::make_shared<std::vector<std::string>>(chat_stream_events(p, r, id, unix_now()));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [events](size_t, httplib::DataSink& sink) {
      for (const auto& e : *events) {
        if (!sink.write(e.data(), e.size())) return false;
      }
      sink.done();
      return true;
    });
  }

  void completions(const httplib::Request& req, httplib::Response& res) {
    ParsedGenerate p = parse_completion_request(parse_body(req.body), opts, models);
    auto futures = backend.generate(p.requests);
    std::vector<backend::GenerateResult> results;
    for (auto& f : futures) results.push_back(f.get());
    res.set_content(completion_response(p, results, new_id("cmpl-"), unix_now()), kJson);
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
}

void Server::stop() {
  impl_->stop_requested.store(true);
  while (impl_->run_active.load() && !impl_->http.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->http.is_running()) impl_->http.stop();
}

ServeStats Server::stats() const {
  return {impl_->requests.load(), impl_->errors_4xx.load(), impl_->errors_5xx.load(), impl_->busy.load()};
}

}  // namespace um::serve
