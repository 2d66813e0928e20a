#include "model/generate.h"

#include <algorithm>

#include "model/model.h"
#include "util/error.h"

namespace um::model {

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o) {
  if (o.n < 1) throw util::Error("n must be at least 1", {.field = "n"});
  if (o.max_tokens < 0) throw util::Error("max_tokens must be >= 0", {.field = "max_tokens"});
  std::vector<int32_t> stops = o.stop_ids;
  if (stops.empty() && !o.ignore_eos) {
    for (auto e : s.model().config().eos_token_ids) stops.push_back(static_cast<int32_t>(e));
  }
  const size_t n = static_cast<size_t>(o.n);
  std::vector<Completion> out(n);
  if (o.max_tokens == 0) {
    for (auto& c : out) c.finish_reason = "length";
    return out;
  }
  std::vector<util::Rng> rngs;
  for (size_t i = 0; i < n; ++i) rngs.push_back(util::Rng::stream(o.seed, "generate", i));

  Logits first;
  SeqId base = s.prefill_cached(prompt, &first);
  std::vector<SeqId> seqs(n);
  for (size_t i = 0; i < n; ++i) seqs[i] = i + 1 < n ? s.fork(base) : base;
  std::vector<int32_t> next(n);
  std::vector<bool> active(n, true);

  // Takes sample i's next token from its logits row; returns false when the sample is finished.
  auto take = [&](size_t i, std::span<const float> row) {
    int32_t t = sample(row, o.sampling, rngs[i]);
    if (std::find(stops.begin(), stops.end(), t) != stops.end()) {
      out[i].finish_reason = "stop";
      return false;
    }
    out[i].tokens.push_back(t);
    if (o.stop_check) {
      int64_t keep = o.stop_check(i, out[i].tokens);
      if (keep >= 0) {
        out[i].tokens.resize(std::min(out[i].tokens.size(), static_cast<size_t>(keep)));
        out[i].finish_reason = "stop";
        return false;
      }
    }
    if (out[i].tokens.size() >= static_cast<size_t>(o.max_tokens)) {
      out[i].finish_reason = "length";
      return false;
    }
    next[i] = t;
    return true;
  };
  auto finish = [&](size_t i) {
    active[i] = false;
    s.release(seqs[i]);
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
