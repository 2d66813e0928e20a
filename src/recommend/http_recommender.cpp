// http:URL[?timeout=10&concurrency=8&attempts=3&backoff=0.5] — a recommender service. Each query is
//   POST URL  {"user_id": "<id>", "history": ["<item id>", ...], "k": K}
// answered by {"items": ["<item id>", ...]} (ids strings or integers, best first). Requests go
// through util::HttpPool: recommend_batch keeps up to `concurrency` requests in flight, transport
// errors, timeouts (per attempt, seconds), 408/429/5xx are retried with backoff up to `attempts`.
// A query that cannot be answered is a counted skip, never an exception:
//   "http: invalid JSON", "http: answer without an items array", "http: invalid item id",
//   "http: timeout after N attempts", "http: status S after N attempts",
//   "http: transport error after N attempts".
// Unknown ids, history items and repeats in an answer are dropped and counted as for file:.
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "recommend/detail.h"
#include "util/error.h"
#include "util/http_pool.h"
#include "util/json_writer.h"

namespace um::recommend::detail {
namespace {

class HttpRecommender final : public Recommender {
 public:
  HttpRecommender(std::string name, const Split& split, util::HttpPoolConfig config)
      : Recommender(std::move(name)),
        split_(split),
        items_(index_ids(split.item_ids)),
        pool_(std::make_unique<util::HttpPool>(std::move(config))) {}

  Recommendation recommend(const Query& q) const override { return recommend_batch({q}).front(); }

  std::vector<Recommendation> recommend_batch(const std::vector<Query>& queries) const override {
    struct Shared {
      std::mutex mu;
      std::condition_variable cv;
      size_t remaining = 0;
      std::vector<Recommendation> out;
    };
    auto shared = std::make_shared<Shared>();
    shared->out.resize(queries.size());
    std::vector<std::vector<char>> masks;
    masks.reserve(queries.size());
    for (const Query& q : queries) masks.push_back(history_mask(split_, q));  // bad rows throw here
    shared->remaining = queries.size();
    auto done = [shared](size_t i, Recommendation r) {
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->out[i] = std::move(r);
      if (--shared->remaining == 0) shared->cv.notify_all();
    };
    for (size_t i = 0; i < queries.size(); ++i) {
      const Query& q = queries[i];
      util::JsonWriter w;
      w.begin_object();
      w.key("user_id");
      w.value(split_.user_ids[q.user]);
      w.key("history");
      w.begin_array();
      for (uint32_t h : q.history) w.value(split_.item_ids[h]);
      w.end_array();
      w.key("k");
      w.value(static_cast<uint64_t>(q.k));
      w.end_object();
      util::HttpJob job;
      job.body = w.str();
      job.key = "user " + split_.user_ids[q.user];
      auto mask = std::make_shared<std::vector<char>>(std::move(masks[i]));
      const size_t k = q.k;
      job.on_success = [this, done, i, mask, k](util::HttpResponse& resp) -> std::string {
        done(i, parse_answer(resp.body, *mask, k));
        return "";
      };
      job.on_failure = [done, i](util::HttpFailure&& f) {
        Recommendation r;
        const std::string n = std::to_string(f.attempts) + (f.attempts == 1 ? " attempt" : " attempts");
        if (f.timed_out) {
          r.skip = "http: timeout after " + n;
        } else if (f.status != 0) {
          r.skip = "http: status " + std::to_string(f.status) + " after " + n;
        } else {
          r.skip = "http: transport error after " + n;
        }
        done(i, std::move(r));
      };
      pool_->post(std::move(job));
    }
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->cv.wait(lock, [&] { return shared->remaining == 0; });
    return std::move(shared->out);
  }

  std::map<std::string, int64_t> stats() const override {
    util::HttpPoolStats s = pool_->stats();
    return {{"http: attempts", s.attempts}, {"http: retries", s.retries}, {"http: failed", s.failed}};
  }

 private:
  Recommendation parse_answer(const std::string& body, const std::vector<char>& mask, size_t k) const {
    Recommendation r;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception&) {
      r.skip = "http: invalid JSON";
      return r;
    }
    if (!j.is_object() || !j.contains("items") || !j["items"].is_array()) {
      r.skip = "http: answer without an items array";
      return r;
    }
    std::vector<int64_t> rows;
    for (const auto& v : j["items"]) {
      std::string id;
      if (v.is_string()) {
        id = v.get<std::string>();
      } else if (v.is_number_integer()) {
        id = v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : std::to_string(v.get<int64_t>());
      } else {
        r.skip = "http: invalid item id";
        return r;
      }
      auto it = items_.find(id);
      rows.push_back(it == items_.end() ? -1 : static_cast<int64_t>(it->second));
    }
    take_ranked(r, rows, mask, k);
    return r;
  }

  const Split& split_;
  std::unordered_map<std::string, uint32_t> items_;
  std::unique_ptr<util::HttpPool> pool_;  // last: destroyed first, while the members its callbacks use live
};

}  // namespace

std::unique_ptr<Recommender> make_http(const std::string& spec, std::string_view arg, Options&,
                                       const Split& split, const RecommenderOptions& options) {
  auto [url, opts] = parse_spec(arg);
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    spec_error(spec, "the URL must start with http:// or https://");
  util::HttpPoolConfig c;
  c.endpoints = {url};
  c.timeout_s = opts.number("timeout", 10, 1e-3, 86400);
  c.concurrency = static_cast<int>(opts.integer("concurrency", 8, 1, 4096));
  c.max_attempts = static_cast<int>(opts.integer("attempts", 3, 1, 100));
  c.backoff_base_s = opts.number("backoff", 0.5, 0, 3600);
  c.connect_timeout_s = std::min(10.0, c.timeout_s);
  c.jitter_seed = options.seed;
  try {
    opts.finish();
  } catch (const util::Error&) {
    spec_error(spec, "unknown option after '?' (http: takes timeout, concurrency, attempts, backoff)");
  }
  return std::make_unique<HttpRecommender>(spec, split, std::move(c));
}

}  // namespace um::recommend::detail
