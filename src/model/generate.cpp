#include "model/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/model.h"
#include "util/error.h"

namespace um::model {

TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int k, TokenMask allowed) {
  if (id < 0 || static_cast<size_t>(id) >= logits.size())
    throw util::Error("token id " + std::to_string(id) + " is outside the logits row");
  // The normaliser exactly as log_softmax() computes it, so values equal its entries.
  double mx = -std::numeric_limits<double>::infinity();
  for (float v : logits) mx = std::max(mx, static_cast<double>(v));
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  auto lp = [&](size_t i) { return static_cast<float>(static_cast<double>(logits[i]) - lse); };
  TokenLogprobs out;
  out.id = id;
  out.logprob = lp(static_cast<size_t>(id));
  if (k <= 0) return out;
  // The k best (logprob descending, lower id first) in one pass: a sorted list of at most k entries.
  auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  auto& top = out.top;
  const size_t want = static_cast<size_t>(k);
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!allowed.empty() && (i >= allowed.size() || allowed[i] == 0)) continue;
    std::pair<int32_t, float> c{static_cast<int32_t>(i), lp(i)};
    if (top.size() == want && !better(c, top.back())) continue;
    top.insert(std::upper_bound(top.begin(), top.end(), c, better), c);
    if (top.size() > want) top.pop_back();
  }
  return out;
}

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o) {
  if (o.n < 1) throw util::Error("n must be at least 1", {.field = "n"});
  if (o.max_tokens < 0) throw util::Error("max_tokens must be >= 0", {.field = "max_tokens"});
  std::vector<int32_t> stops = o.stop_ids;
  if (stops.empty() && !o.ignore_eos) {
    for (auto e : s.model().config().eos_token_ids) stops.push_back(static_cast<int32_t>(e));
  }
  const size_t n = static_cast<size_t>(o.n);
  std::vector<Completion> out(n);
  auto cancelled = [&] { return o.cancel != nullptr && o.cancel->load(std::memory_order_relaxed); };
  if (cancelled()) throw util::Error("generation cancelled");
  if (o.max_tokens == 0) {
    for (size_t i = 0; i < n; ++i) {
      out[i].finish_reason = "length";
      if (o.on_token) o.on_token(i, out[i]);
    }
    return out;
  }
  std::vector<util::Rng> rngs;
  for (size_t i = 0; i < n; ++i) rngs.push_back(util::Rng::stream(o.seed, "generate", i));

  Logits first;
  SeqId base = s.prefill_cached(prompt, &first, o.prompt_split);
  std::vector<SeqId> seqs(n);
  for (size_t i = 0; i < n; ++i) seqs[i] = i + 1 < n ? s.fork(base) : base;
  std::vector<int32_t> next(n);
  std::vector<bool> active(n, true);

  // Takes sample i's next token from its logits row; returns false when the sample is finished.
  auto take = [&](size_t i, std::span<const float> row) {
    Completion& c = out[i];
    int32_t t = sample(row, o.sampling, rngs[i], o.allowed);
    if (std::find(stops.begin(), stops.end(), t) != stops.end()) {
      c.finish_reason = "stop";
      return false;
    }
    c.tokens.push_back(t);
    if (o.top_logprobs >= 0) c.logprobs.push_back(token_logprobs(row, t, o.top_logprobs, o.allowed));
    if (o.stop_check) {
      int64_t keep = o.stop_check(i, c.tokens);
      if (keep >= 0) {
        const size_t k = std::min(c.tokens.size(), static_cast<size_t>(keep));
        c.tokens.resize(k);
        if (c.logprobs.size() > k) c.logprobs.resize(k);
        c.finish_reason = "stop";
        return false;
      }
    }
    if (c.tokens.size() >= static_cast<size_t>(o.max_tokens)) {
      c.finish_reason = "length";
      return false;
    }
    next[i] = t;
    if (o.on_token) o.on_token(i, c);
    return true;
  };
  auto finish = [&](size_t i) {
    active[i] = false;
    s.release(seqs[i]);
    if (o.on_token) o.on_token(i, out[i]);
  };
  try {
    for (size_t i = 0; i < n; ++i) {
      if (!take(i, first.row(0))) finish(i);
    }
    while (true) {
      std::vector<Append> step;
      std::vector<size_t> who;
      for (size_t i = 0; i < n; ++i) {
        if (active[i]) {
          step.push_back({seqs[i], {next[i]}, false});
          who.push_back(i);
        }
      }
      if (step.empty()) break;
      if (cancelled()) throw util::Error("generation cancelled");
      Logits l = s.append_batch(step);
      for (size_t j = 0; j < who.size(); ++j) {
        if (!take(who[j], l.row(j))) finish(who[j]);
      }
    }
  } catch (...) {
    for (size_t i = 0; i < n; ++i) {
      if (active[i]) s.release(seqs[i]);
    }
    throw;
  }
  return out;
}

}  // namespace um::model
