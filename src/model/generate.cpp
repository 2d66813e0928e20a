#include "model/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/model.h"
#include "util/error.h"
#include "util/thread_pool.h"

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

Generation::Generation(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o) : s_(s), o_(o) {
  if (!begin()) return;
  Logits first;
  SeqId base;
  try {
    // A long prompt's prefill stops at the next block once the request is cancelled.
    base = s.prefill_cached(prompt, &first, o.prompt_split, [this] { return cancelled(); });
  } catch (const util::Error&) {
    if (cancelled()) throw util::Error("generation cancelled");
    throw;
  }
  start(base, first.row(0));
}

Generation::Generation(Session& s, SeqId prefilled, std::span<const float> first, const GenerateOptions& o)
    : s_(s), o_(o) {
  bool go = false;
  try {
    go = begin();
  } catch (...) {
    s.release(prefilled);
    throw;
  }
  if (!go) {
    s.release(prefilled);
    return;
  }
  start(prefilled, first);
}

bool Generation::begin() {
  if (o_.n < 1) throw util::Error("n must be at least 1", {.field = "n"});
  if (o_.max_tokens < 0) throw util::Error("max_tokens must be >= 0", {.field = "max_tokens"});
  stops_ = o_.stop_ids;
  if (stops_.empty() && !o_.ignore_eos) {
    for (auto e : s_.model().config().eos_token_ids) stops_.push_back(static_cast<int32_t>(e));
  }
  const size_t n = static_cast<size_t>(o_.n);
  out_.resize(n);
  if (cancelled()) throw util::Error("generation cancelled");
  if (o_.max_tokens == 0) {
    for (size_t i = 0; i < n; ++i) {
      out_[i].finish_reason = "length";
      if (o_.on_token) o_.on_token(i, out_[i]);
    }
    return false;
  }
  for (size_t i = 0; i < n; ++i) rngs_.push_back(util::Rng::stream(o_.seed, "generate", i));
  return true;
}

void Generation::start(SeqId base, std::span<const float> first) {
  const size_t n = static_cast<size_t>(o_.n);
  // Sample n-1 owns the prefilled sequence, the others get forks of it.
  seqs_.assign(n, base);
  next_.assign(n, 0);
  active_.assign(n, false);
  active_[n - 1] = true;
  running_ = 1;
  try {
    for (size_t i = 0; i + 1 < n; ++i) {
      seqs_[i] = s_.fork(base);
      active_[i] = true;
      ++running_;
    }
    for (size_t i = 0; i < n; ++i) {
      Drawn d = draw_row(i, first);
      if (!accept(d)) finish(i);
    }
  } catch (...) {
    for (size_t i = 0; i < n; ++i) {
      if (active_[i]) s_.release(seqs_[i]);
    }
    active_.assign(n, false);
    running_ = 0;
    throw;
  }
}

Generation::~Generation() {
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i]) s_.release(seqs_[i]);
  }
}

size_t Generation::add_to_step(std::vector<Append>& step) const {
  size_t added = 0;
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i]) {
      step.push_back({seqs_[i], {next_[i]}, false});
      ++added;
    }
  }
  return added;
}

void Generation::take_step(const Logits& l, size_t first_row, unsigned threads) {
  const size_t rows = begin_take(l, first_row);
  util::parallel_for(rows, threads, [&](size_t j) { draw(j); });
  end_take();
}

size_t Generation::begin_take(const Logits& l, size_t first_row) {
  drawn_.clear();
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i]) drawn_.push_back({i, l.row(first_row + drawn_.size()), 0, {}});
  }
  return drawn_.size();
}

void Generation::draw(size_t j) {
  Drawn& d = drawn_[j];
  d = draw_row(d.sample, d.row);
}

void Generation::end_take() {
  for (Drawn& d : drawn_) {
    if (!accept(d)) finish(d.sample);
  }
  drawn_.clear();
}

// Sample i's next token from its logits row, and its logprobs when asked: depends on nothing but the
// row and the sample's own random stream.
Generation::Drawn Generation::draw_row(size_t i, std::span<const float> row) {
  Drawn d{i, row, sample(row, o_.sampling, rngs_[i], o_.allowed), {}};
  if (o_.top_logprobs >= 0) d.logprobs = token_logprobs(row, d.token, o_.top_logprobs, o_.allowed);
  return d;
}

// Applies a drawn token to its sample; returns false when the sample is finished.
bool Generation::accept(Drawn& d) {
  const size_t i = d.sample;
  Completion& c = out_[i];
  const int32_t t = d.token;
  if (std::find(stops_.begin(), stops_.end(), t) != stops_.end()) {
    c.finish_reason = "stop";
    return false;
  }
  c.tokens.push_back(t);
  if (o_.top_logprobs >= 0) c.logprobs.push_back(std::move(d.logprobs));
  if (o_.stop_check) {
    int64_t keep = o_.stop_check(i, c.tokens);
    if (keep >= 0) {
      const size_t k = std::min(c.tokens.size(), static_cast<size_t>(keep));
      c.tokens.resize(k);
      if (c.logprobs.size() > k) c.logprobs.resize(k);
      c.finish_reason = "stop";
      return false;
    }
  }
  if (c.tokens.size() >= static_cast<size_t>(o_.max_tokens)) {
    c.finish_reason = "length";
    return false;
  }
  next_[i] = t;
  if (o_.on_token) o_.on_token(i, c);
  return true;
}

void Generation::finish(size_t i) {
  active_[i] = false;
  --running_;
  s_.release(seqs_[i]);
  if (o_.on_token) o_.on_token(i, out_[i]);
}

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o) {
  Generation g(s, prompt, o);
  while (!g.done()) {
    if (g.cancelled()) throw util::Error("generation cancelled");
    std::vector<Append> step;
    g.add_to_step(step);
    Logits l = s.append_batch(step);
    g.take_step(l, 0, /*threads=*/0);
  }
  return g.take_result();
}

}  // namespace um::model
