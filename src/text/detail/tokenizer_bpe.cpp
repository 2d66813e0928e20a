#include "text/detail/tokenizer_bpe.h"

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <queue>

#include "text/detail/tokenizer_text.h"
#include "util/error.h"

namespace um::text::detail {

namespace {

using nlohmann::json;

// Words longer than this many symbols use the heap merge (O(n log n)); shorter ones the simple
// quadratic scan, which is faster for typical words.
constexpr size_t kSimpleMaxSymbols = 48;
// Only words up to this many bytes are cached; the cache is dropped when it grows past the limit.
constexpr size_t kCacheMaxWordBytes = 64;
constexpr size_t kCacheMaxEntries = 1 << 17;

std::atomic<uint64_t> g_next_instance{1};

// Byte-level spelling → raw bytes; false if a character is outside the byte-level alphabet.
bool spelling_to_bytes(std::string_view s, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = next_cp(s, i, cp);
    int b = cp_to_byte(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
    i += n;
  }
  return true;
}

struct WordCache {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
};

// Per-thread caches keyed by model instance, so const encode stays thread-safe without locks.
WordCache& cache_for(uint64_t instance) {
  thread_local std::unordered_map<uint64_t, WordCache> caches;
  thread_local uint64_t last_instance = 0;
  thread_local WordCache* last = nullptr;
  if (instance == last_instance) return *last;
  if (caches.size() > 8 && !caches.contains(instance)) caches.clear();
  last_instance = instance;
  last = &caches[instance];  // node-based map: stays valid until the clear() above
  return *last;
}

}  // namespace

namespace {

// Reads "vocab" and "merges" (either "a b" strings or ["a", "b"] pairs) out of the model JSON.
BpeTables tables_from_json(const json& m) {
  BpeTables t;
  const json& vocab = m.at("vocab");
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    t.vocab.emplace_back(it.key(), it.value().get<int32_t>());
  }
  for (const auto& mj : m.at("merges")) {
    if (mj.is_string()) {
      const auto& s = mj.get_ref<const std::string&>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        throw util::Error("merge '" + s + "' is not two tokens", {.field = "model.merges"});
      }
      t.merges.emplace_back(std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1));
    } else {
      t.merges.emplace_back(mj.at(0).get_ref<const std::string&>(), mj.at(1).get_ref<const std::string&>());
    }
  }
  return t;
}

}  // namespace

BpeModel::BpeModel(const json& m, bool byte_level, const BpeTables* given)
    : byte_level_(byte_level), instance_(g_next_instance.fetch_add(1)) {
  if (m.value("type", std::string("BPE")) != "BPE") {
    throw util::NotSupported(
        "tokenizer model type '" + m.at("type").get<std::string>() + "' is not supported (only BPE)",
        {.field = "model.type"});
  }
  auto str_or_empty = [&](const char* k) {
    return m.contains(k) && m.at(k).is_string() ? m.at(k).get<std::string>() : std::string();
  };
  if (!str_or_empty("continuing_subword_prefix").empty() || !str_or_empty("end_of_word_suffix").empty()) {
    throw util::NotSupported("BPE continuing_subword_prefix / end_of_word_suffix", {.field = "model"});
  }
  if (m.contains("dropout") && m.at("dropout").is_number() && m.at("dropout").get<double>() > 0) {
    throw util::NotSupported("BPE dropout (non-deterministic encoding)", {.field = "model.dropout"});
  }
  ignore_merges_ = m.value("ignore_merges", false);
  byte_fallback_ = m.value("byte_fallback", false);
  fuse_unk_ = m.value("fuse_unk", false);

  BpeTables own;
  if (given == nullptr) own = tables_from_json(m);
  const BpeTables& tables = given != nullptr ? *given : own;

  vocab_.reserve(tables.vocab.size() * 2);
  std::string raw;
  for (const auto& [tok, id] : tables.vocab) {
    if (id < 0) {
      throw util::Error("negative token id", {.field = "model.vocab", .record = std::string(tok)});
    }
    // Ids are dense in real vocabularies; a huge id would overflow (id + 1) or allocate gigabytes
    // (found by tests/fuzz).
    if (static_cast<size_t>(id) >= tables.vocab.size() + (size_t{1} << 20)) {
      throw util::Error("token id out of range", {.field = "model.vocab", .record = std::string(tok)});
    }
    if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(id) + 1);
    id_to_token_[id] = tok;
    if (byte_level_ && spelling_to_bytes(tok, raw)) {
      vocab_.emplace(raw, id);
    } else {
      vocab_.emplace(tok, id);
    }
  }
  byte_ids_.fill(-1);
  fallback_ids_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    if (byte_level_) {
      auto it = vocab_.find(std::string(1, static_cast<char>(b)));
      if (it != vocab_.end()) byte_ids_[b] = it->second;
    }
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    if (auto id = token_to_id(name)) fallback_ids_[b] = *id;
  }
  if (m.contains("unk_token") && m.at("unk_token").is_string()) {
    unk_id_ = token_to_id(m.at("unk_token").get<std::string>());
  }

  merges_.reserve(tables.merges.size() * 2);
  int32_t rank = 0;
  std::string joined;
  for (const auto& [left, right] : tables.merges) {
    auto a = token_to_id(left);
    auto b = token_to_id(right);
    joined.assign(left).append(right);
    auto c = token_to_id(joined);
    if (!a || !b || !c) {
      throw util::Error(
          "merge '" + std::string(left) + " " + std::string(right) + "' uses a token missing from the vocab",
          {.field = "model.merges", .record = std::to_string(rank)});
    }
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(*a)) << 32) | static_cast<uint32_t>(*b);
    merges_.emplace(key, Merge{rank, *c});  // the first (lowest-ranked) occurrence wins
    ++rank;
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  if (byte_level_) {
    thread_local std::string raw;
    if (spelling_to_bytes(token, raw)) {
      auto it = vocab_.find(std::string_view(raw));
      if (it != vocab_.end()) return it->second;
      return std::nullopt;
    }
  }
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || id >= end_id() || id_to_token_[id].empty()) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::initial_symbols(std::string_view w, std::vector<Sym>& syms) const {
  syms.clear();
  if (byte_level_) {
    for (uint32_t i = 0; i < w.size(); ++i) {
      int32_t id = byte_ids_[static_cast<uint8_t>(w[i])];
      if (id < 0) {
        if (!unk_id_) throw util::Error("byte-level vocabulary lacks a byte and has no unk_token");
        id = *unk_id_;
      }
      syms.push_back({id, i, i + 1});
    }
    return;
  }
  // Character level, as the Rust BPE::merge_word: known character, else byte fallback, else unk
  // (consecutive unknowns fused when fuse_unk).
  bool pending_unk = false;
  Sym unk{};
  uint32_t i = 0;
  while (i < w.size()) {
    uint32_t cp = 0;
    auto n = static_cast<uint32_t>(next_cp(w, i, cp));
    auto it = vocab_.find(w.substr(i, n));
    if (it != vocab_.end()) {
      if (pending_unk) syms.push_back(unk);
      pending_unk = false;
      syms.push_back({it->second, i, i + n});
      i += n;
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (uint32_t k = i; k < i + n; ++k) all = all && fallback_ids_[static_cast<uint8_t>(w[k])] >= 0;
      if (all) {
        if (pending_unk) syms.push_back(unk);
        pending_unk = false;
        for (uint32_t k = i; k < i + n; ++k) {
          syms.push_back({fallback_ids_[static_cast<uint8_t>(w[k])], k, k + 1});
        }
        i += n;
        continue;
      }
    }
    if (!unk_id_) {
      throw util::Error(
          "text contains a character missing from the vocabulary and the model "
          "has no unk_token");
    }
    if (pending_unk && fuse_unk_) {
      unk.e = i + n;
    } else {
      if (pending_unk) syms.push_back(unk);
      unk = {*unk_id_, i, i + n};
      pending_unk = true;
    }
    i += n;
  }
  if (pending_unk) syms.push_back(unk);
}

void BpeModel::merge_simple(std::vector<Sym>& syms) const {
  while (syms.size() > 1) {
    int32_t best_rank = INT32_MAX;
    int32_t best_id = -1;
    size_t best = 0;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const Merge* mg = find_merge(syms[i].id, syms[i + 1].id);
      if (mg != nullptr && mg->rank < best_rank) {
        best_rank = mg->rank;
        best_id = mg->id;
        best = i;
      }
    }
    if (best_id < 0) return;
    syms[best] = {best_id, syms[best].b, syms[best + 1].e};
    syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

void BpeModel::merge_heap(std::vector<Sym>& syms) const {
  const auto n = static_cast<int32_t>(syms.size());
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Cand {
    int32_t rank;
    int32_t pos;
    int32_t id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<>> q;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    if (const Merge* mg = find_merge(syms[pos].id, syms[next[pos]].id)) q.push({mg->rank, pos, mg->id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!q.empty()) {
    Cand c = q.top();
    q.pop();
    if (!alive[c.pos] || next[c.pos] < 0) continue;
    int32_t r = next[c.pos];
    const Merge* mg = find_merge(syms[c.pos].id, syms[r].id);
    if (mg == nullptr || mg->rank != c.rank || mg->id != c.id) continue;
    syms[c.pos] = {c.id, syms[c.pos].b, syms[r].e};
    alive[r] = false;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  std::vector<Sym> out;
  for (int32_t i = 0; i < n; ++i) {
    if (alive[i]) out.push_back(syms[i]);
  }
  syms = std::move(out);
}

void BpeModel::tokenize(std::string_view word, std::vector<Sym>& syms) const {
  if (ignore_merges_) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      syms.assign(1, Sym{it->second, 0, static_cast<uint32_t>(word.size())});
      return;
    }
  }
  initial_symbols(word, syms);
  if (syms.size() <= kSimpleMaxSymbols) {
    merge_simple(syms);
  } else {
    merge_heap(syms);
  }
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out) const {
  thread_local std::vector<Sym> syms;
  if (word.size() > kCacheMaxWordBytes) {
    tokenize(word, syms);
    for (const Sym& s : syms) out.push_back(s.id);
    return;
  }
  WordCache& cache = cache_for(instance_);
  auto it = cache.map.find(word);
  if (it != cache.map.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  tokenize(word, syms);
  std::vector<int32_t> ids;
  ids.reserve(syms.size());
  for (const Sym& s : syms) ids.push_back(s.id);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cache.map.size() >= kCacheMaxEntries) cache.map.clear();
  cache.map.emplace(std::string(word), std::move(ids));
}

std::vector<int32_t> BpeModel::encode_uncached(std::string_view word, bool heap) const {
  std::vector<Sym> syms;
  initial_symbols(word, syms);
  if (heap) {
    merge_heap(syms);
  } else {
    merge_simple(syms);
  }
  std::vector<int32_t> ids;
  for (const Sym& s : syms) ids.push_back(s.id);
  return ids;
}

void BpeModel::encode_spans(std::string_view word, std::vector<TokenSpan>& out) const {
  std::vector<Sym> syms;
  tokenize(word, syms);
  for (const Sym& s : syms) out.push_back({s.id, s.b, s.e});
}

}  // namespace um::text::detail
