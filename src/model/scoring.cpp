// Option scoring over a Session, with prefix sharing (torch-free: only the Session API).
#include "model/model.h"
#include "util/error.h"

namespace um::model {

OptionScores score_options(Session& s, std::span<const int32_t> prefix_tokens,
                           std::span<const int32_t> option_ids, bool full_logprobs, size_t split) {
  Logits l;
  SeqId seq = s.prefill_cached(prefix_tokens, &l, split);
  s.release(seq);
  OptionScores out;
  out.probs = option_distribution(l.row(0), option_ids);
  if (full_logprobs) out.logprobs = log_softmax(l.row(0));
  return out;
}

std::vector<OptionScores> score_continuations(Session& s, std::span<const int32_t> prompt,
                                              const std::vector<std::vector<int32_t>>& continuations,
                                              std::span<const int32_t> option_ids, bool full_logprobs) {
  Logits prompt_logits;
  SeqId base = s.prefill_cached(prompt, &prompt_logits);
  std::vector<Append> reqs;
  std::vector<OptionScores> out(continuations.size());
  std::vector<size_t> pending;  // continuations that add tokens
  for (size_t i = 0; i < continuations.size(); ++i) {
    if (continuations[i].empty()) {
      out[i].probs = option_distribution(prompt_logits.row(0), option_ids);
      if (full_logprobs) out[i].logprobs = log_softmax(prompt_logits.row(0));
      continue;
    }
    reqs.push_back({s.fork(base, continuations[i].size()), continuations[i], false});
    pending.push_back(i);
  }
  s.release(base);
  Logits l;
  try {
    l = s.append_batch(reqs);
  } catch (...) {
    for (const auto& r : reqs) s.release(r.seq);
    throw;
  }
  for (const auto& r : reqs) s.release(r.seq);
  for (size_t j = 0; j < pending.size(); ++j) {
    out[pending[j]].probs = option_distribution(l.row(j), option_ids);
    if (full_logprobs) out[pending[j]].logprobs = log_softmax(l.row(j));
  }
  return out;
}

}  // namespace um::model
