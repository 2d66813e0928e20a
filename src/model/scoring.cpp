// Option scoring over a Session, with prefix sharing (torch-free: only the Session API).
#include <algorithm>
#include <cstdint>
#include <functional>

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

std::vector<OptionScores> score_option_group(Session& s, const std::vector<std::vector<int32_t>>& prompts,
                                             size_t split,
                                             const std::vector<std::vector<int32_t>>& option_ids,
                                             const std::function<bool(size_t prompt)>& cancelled) {
  if (option_ids.size() != prompts.size())
    throw util::Error("score_option_group needs one option list per prompt", {.field = "option_ids"});
  std::vector<OptionScores> out(prompts.size());
  if (prompts.empty()) return out;
  auto is_cancelled = [&](size_t i) { return cancelled && cancelled(i); };
  auto all_cancelled = [&] {
    if (!cancelled) return false;
    for (size_t i = 0; i < prompts.size(); ++i)
      if (!cancelled(i)) return false;
    return true;
  };
  const auto& first = prompts[0];
  if (first.empty()) throw util::Error("prefill needs at least one token", {.field = "tokens"});
  if (split >= first.size()) split = 0;
  // Prompt 0 alone; its sequence, cut to the shared part, is the base of the others. It runs while
  // any prompt of the group is live (it holds their shared part).
  Logits l0;
  SeqId seq0 = 0;
  try {
    seq0 = s.prefill_cached(first, &l0, split, all_cancelled);
  } catch (const util::Error&) {
    if (all_cancelled()) throw util::Error("option scoring cancelled");
    throw;
  }
  out[0].probs = option_distribution(l0.row(0), option_ids[0]);
  std::vector<size_t> batched;  // prompts continued from the shared part
  try {
    for (size_t i = 1; i < prompts.size(); ++i) {
      if (all_cancelled()) throw util::Error("option scoring cancelled");
      const auto& p = prompts[i];
      if (split > 0 && p.size() > split &&
          std::equal(first.begin(), first.begin() + static_cast<long>(split), p.begin())) {
        batched.push_back(i);
      } else if (!is_cancelled(i)) {  // asked alone: nobody else depends on its work
        Logits l;
        SeqId q = s.prefill_cached(p, &l, split > 0 && p.size() > split ? split : 0,
                                   [&] { return is_cancelled(i); });
        s.release(q);
        out[i].probs = option_distribution(l.row(0), option_ids[i]);
      }
    }
  } catch (...) {
    s.release(seq0);
    throw;
  }
  if (batched.empty()) {
    s.release(seq0);
    return out;
  }
  s.truncate(seq0, split);
  std::vector<SeqId> seqs;
  try {
    for (size_t i : batched) seqs.push_back(s.fork(seq0, prompts[i].size() - split));
    s.release(seq0);
    seq0 = 0;
    // Block steps: every prompt's next block (aligned to `split`, as prefill_cached computes it) in
    // one batched forward, until every prompt is done. A step keeps the rows of cancelled prompts
    // while any prompt it or a later step serves is live (the live rows' bits must not depend on
    // who left), and the steps stop once none is.
    for (size_t pos = split;; pos += Session::kPrefillBlock) {
      std::vector<Append> step;
      std::vector<size_t> last;  // prompts whose final block this step holds
      bool live = false;
      for (size_t j = 0; j < batched.size(); ++j) {
        const auto& p = prompts[batched[j]];
        if (pos >= p.size()) continue;
        live = live || !is_cancelled(batched[j]);
        const size_t end = std::min(p.size(), pos + Session::kPrefillBlock);
        step.push_back(
            {seqs[j],
             std::vector<int32_t>(p.begin() + static_cast<long>(pos), p.begin() + static_cast<long>(end)),
             false});
        last.push_back(end == p.size() ? batched[j] : SIZE_MAX);
      }
      if (step.empty() || !live) break;
      Logits l = s.append_batch(step);
      for (size_t r = 0; r < last.size(); ++r)
        if (last[r] != SIZE_MAX) out[last[r]].probs = option_distribution(l.row(r), option_ids[last[r]]);
    }
  } catch (...) {
    if (seq0 != 0) s.release(seq0);
    for (SeqId q : seqs) s.release(q);
    throw;
  }
  for (SeqId q : seqs) s.release(q);
  if (all_cancelled()) throw util::Error("option scoring cancelled");
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
