// Session: the one owner of KV state. Sequence operations (create, fork, truncate, release) and the
// LRU prefix cache are the only code that changes it; forward() appends.
#include <algorithm>
#include <cstring>
#include <list>
#include <unordered_map>
#include <unordered_set>

#include "model/detail/forward.h"
#include "util/error.h"

namespace um::model {

struct Session::State {
  std::unordered_map<SeqId, detail::KvSeq> seqs;
  SeqId next = 1;
  size_t prefix_capacity = 8;
  std::list<SeqId> lru;                     // cached prefixes (hidden sequences), most recent first
  std::unordered_map<SeqId, size_t> split;  // the prefill split each cached prefix was computed with

  detail::KvSeq& get(SeqId id) {
    auto it = seqs.find(id);
    if (it == seqs.end()) throw util::Error("unknown sequence id " + std::to_string(id), {.field = "seq"});
    return it->second;
  }
};

namespace {
Logits to_logits(const at::Tensor& t) {
  Logits out;
  out.rows = static_cast<size_t>(t.size(0));
  out.cols = static_cast<size_t>(t.size(1));
  out.data.resize(out.rows * out.cols);
  std::memcpy(out.data.data(), t.data_ptr<float>(), out.data.size() * sizeof(float));
  return out;
}
}  // namespace

Session::Session(std::shared_ptr<const Model> model, size_t prefix_cache_entries)
    : model_(std::move(model)), state_(std::make_unique<State>()) {
  if (!model_) throw util::Error("Session needs a loaded model");
  state_->prefix_capacity = prefix_cache_entries;
}

Session::~Session() = default;

SeqId Session::create() {
  SeqId id = state_->next++;
  state_->seqs.emplace(id, detail::KvSeq{});
  return id;
}

SeqId Session::fork(SeqId seq, size_t extra) {
  const detail::KvSeq& src = state_->get(seq);
  detail::KvSeq copy = detail::clone_prefix(model_->impl(), src, src.len, static_cast<int64_t>(extra));
  SeqId id = state_->next++;
  state_->seqs.emplace(id, std::move(copy));
  return id;
}

void Session::truncate(SeqId seq, size_t len) {
  detail::KvSeq& s = state_->get(seq);
  if (static_cast<int64_t>(len) > s.len) {
    throw util::Error(
        "cannot truncate a sequence of " + std::to_string(s.len) + " tokens to " + std::to_string(len),
        {.field = "len"});
  }
  s.len = static_cast<int64_t>(len);
  s.tokens.resize(len);
}

void Session::release(SeqId seq) {
  state_->get(seq);
  state_->seqs.erase(seq);
}

const std::vector<int32_t>& Session::tokens(SeqId seq) const { return state_->get(seq).tokens; }

size_t Session::live_sequences() const { return state_->seqs.size() - state_->lru.size(); }

Logits Session::append(SeqId seq, std::span<const int32_t> tokens, bool all_positions) {
  detail::Segment s{&state_->get(seq), tokens, all_positions};
  tokens_computed_ += tokens.size();
  return to_logits(detail::forward(model_->impl(), {s}));
}

Logits Session::append_batch(const std::vector<Append>& requests) {
  std::vector<detail::Segment> segs;
  std::unordered_set<SeqId> seen;
  for (const auto& r : requests) {
    if (!seen.insert(r.seq).second) {
      throw util::Error("sequence " + std::to_string(r.seq) + " appears twice in one batch",
                        {.field = "seq"});
    }
    segs.push_back({&state_->get(r.seq), r.tokens, r.all_positions});
    tokens_computed_ += r.tokens.size();
  }
  if (segs.empty()) return {};
  return to_logits(detail::forward(model_->impl(), segs));
}

namespace {
constexpr size_t kBlock = Session::kPrefillBlock;

// The end of the prefill block that starts at (or contains) `pos`: blocks are aligned to absolute
// positions before `split` and to `split` after it (split 0 = no split).
size_t block_end(size_t pos, size_t split) {
  if (split > 0 && pos < split) return std::min(split, (pos / kBlock + 1) * kBlock);
  if (split > 0) return split + ((pos - split) / kBlock + 1) * kBlock;
  return (pos / kBlock + 1) * kBlock;
}

// How much of a cached prefix (computed with split `cached_split`) may be reused for tokens sharing
// its first `common` tokens, computed with `split`: the last block boundary at or before `common`
// that both block layouts have, with identical blocks before it.
size_t reusable(size_t common, size_t cached_split, size_t split) {
  if (split > 0 && cached_split == split && common >= split)
    return split + (common - split) / kBlock * kBlock;
  size_t cap = common;
  if (split > 0) cap = std::min(cap, split);
  if (cached_split > 0) cap = std::min(cap, cached_split);
  return cap / kBlock * kBlock;
}
}  // namespace

size_t Session::last_block_rows(size_t tokens, size_t split) {
  if (tokens == 0) return 0;
  if (split >= tokens) split = 0;
  size_t pos = 0;
  while (block_end(pos, split) < tokens) pos = block_end(pos, split);
  return tokens - pos;
}

Session::Head Session::prefill_head(std::span<const int32_t> tokens, size_t split,
                                    const std::function<bool()>& cancelled) {
  if (tokens.empty()) throw util::Error("prefill needs at least one token", {.field = "tokens"});
  State& st = *state_;
  // The cached prefix allowing the longest reuse; at least one token is always recomputed so the
  // caller gets logits of the last position.
  auto best = st.lru.end();
  size_t reuse = 0;
  for (auto it = st.lru.begin(); it != st.lru.end(); ++it) {
    const auto& ct = st.get(*it).tokens;
    size_t n = 0;
    const size_t lim = std::min(ct.size(), tokens.size() - 1);
    while (n < lim && ct[n] == tokens[n]) ++n;
    // Every position is computed in the same block whether or not a prefix was cached: results are
    // bit-identical with and without the cache (a resumed stage reproduces an uninterrupted one byte
    // for byte).
    const size_t r = reusable(n, st.split[*it], split);
    if (r > reuse) {
      reuse = r;
      best = it;
    }
  }
  Head h;
  if (best != st.lru.end() && reuse > 0) {
    detail::KvSeq copy = detail::clone_prefix(model_->impl(), st.get(*best), static_cast<int64_t>(reuse));
    h.seq = st.next++;
    st.seqs.emplace(h.seq, std::move(copy));
    st.lru.splice(st.lru.begin(), st.lru, best);
    ++prefix_hits_;
  } else {
    h.seq = create();
  }
  try {
    for (size_t pos = reuse;;) {
      if (cancelled && cancelled()) throw util::Error("prefill cancelled");
      const size_t end = std::min(tokens.size(), block_end(pos, split));
      if (end == tokens.size()) {
        h.last = pos;
        break;
      }
      // Not the last block: fill the cache, skip the vocabulary projection.
      detail::Segment blk{&st.get(h.seq), tokens.subspan(pos, end - pos), false, true};
      tokens_computed_ += end - pos;
      detail::forward(model_->impl(), {blk});
      pos = end;
    }
  } catch (...) {
    release(h.seq);
    throw;
  }
  return h;
}

void Session::remember_prefix(SeqId seq, std::span<const int32_t> tokens, size_t split) {
  State& st = *state_;
  if (st.prefix_capacity == 0) return;
  // Cached entries that this prefix extends with the same split are dropped (it covers them).
  for (auto it = st.lru.begin(); it != st.lru.end();) {
    const auto& ct = st.get(*it).tokens;
    if (st.split[*it] == split && ct.size() <= tokens.size() &&
        std::equal(ct.begin(), ct.end(), tokens.begin())) {
      st.seqs.erase(*it);
      st.split.erase(*it);
      it = st.lru.erase(it);
    } else {
      ++it;
    }
  }
  const detail::KvSeq& done = st.get(seq);
  detail::KvSeq cached = detail::clone_prefix(model_->impl(), done, done.len);
  SeqId cid = st.next++;
  st.seqs.emplace(cid, std::move(cached));
  st.lru.push_front(cid);
  st.split[cid] = split;
  while (st.lru.size() > st.prefix_capacity) {
    st.seqs.erase(st.lru.back());
    st.split.erase(st.lru.back());
    st.lru.pop_back();
  }
}

SeqId Session::prefill_cached(std::span<const int32_t> tokens, Logits* last_logits, size_t split,
                              const std::function<bool()>& cancelled) {
  if (split >= tokens.size()) split = 0;  // nothing after the split: an ordinary prefill
  const Head h = prefill_head(tokens, split, cancelled);
  Logits l;
  try {
    l = append(h.seq, tokens.subspan(h.last));
  } catch (...) {
    release(h.seq);
    throw;
  }
  if (last_logits) *last_logits = std::move(l);
  remember_prefix(h.seq, tokens, split);
  return h.seq;
}

std::vector<SeqId> Session::prefill_cached_together(std::span<const PrefillPrompt> prompts,
                                                    Logits* last_logits) {
  std::vector<SeqId> seqs;
  std::vector<size_t> splits, last;
  auto release_all = [&] {
    for (SeqId q : seqs) release(q);
  };
  try {
    for (const PrefillPrompt& p : prompts) {
      const size_t split = p.split >= p.tokens.size() ? 0 : p.split;
      const Head h = prefill_head(p.tokens, split, p.cancelled);
      seqs.push_back(h.seq);
      splits.push_back(split);
      last.push_back(h.last);
    }
    std::vector<Append> step;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto tail = prompts[i].tokens.subspan(last[i]);
      step.push_back({seqs[i], std::vector<int32_t>(tail.begin(), tail.end()), false});
    }
    Logits l = append_batch(step);
    if (last_logits) *last_logits = std::move(l);
  } catch (...) {
    release_all();
    throw;
  }
  for (size_t i = 0; i < prompts.size(); ++i) remember_prefix(seqs[i], prompts[i].tokens, splits[i]);
  return seqs;
}

}  // namespace um::model
