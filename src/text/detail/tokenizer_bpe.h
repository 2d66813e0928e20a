#pragma once
// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}): byte-level vocabularies
// (GPT-2, Qwen, Llama-3; the vocabulary is re-keyed by raw bytes at load so that encoding never
// builds the byte-level alphabet strings) and character-level ones with byte_fallback / unk
// (SentencePiece-converted Llama-2, Mistral). Merging applies the lowest-ranked pair first, leftmost
// on ties, which is the order of the Rust implementation's priority queue.
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace um::text::detail {

// A token and the byte range [b, e) of the word it covers.
struct TokenSpan {
  int32_t id;
  uint32_t b;
  uint32_t e;
};

// The bulk of a BPE model, read straight from the JSON parser (views valid during construction).
struct BpeTables {
  std::vector<std::pair<std::string_view, int32_t>> vocab;
  std::vector<std::pair<std::string_view, std::string_view>> merges;
};

class BpeModel {
 public:
  // `model` is the tokenizer.json "model" object; its "vocab" and "merges" are read from there
  // unless `tables` is given (then they may be absent from `model`).
  BpeModel(const nlohmann::json& model, bool byte_level, const BpeTables* tables = nullptr);

  // Appends the ids of one pre-tokenized word. Uses a per-thread cache of recent words.
  void encode(std::string_view word, std::vector<int32_t>& out) const;
  // Same, with the byte range each token covers.
  void encode_spans(std::string_view word, std::vector<TokenSpan>& out) const;

  // Lookup by the vocabulary's own spelling (byte-level alphabet for byte-level models).
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The vocabulary spelling of `id`, or nullptr.
  const std::string* id_to_token(int32_t id) const;
  size_t size() const { return vocab_.size(); }
  // One past the largest id.
  int32_t end_id() const { return static_cast<int32_t>(id_to_token_.size()); }
  bool byte_level() const { return byte_level_; }

  // Exposed for tests: the two merge strategies must agree on every word.
  std::vector<int32_t> encode_uncached(std::string_view word, bool heap) const;
  struct Sym {
    int32_t id;
    uint32_t b;
    uint32_t e;
  };
  void merge_simple(std::vector<Sym>& syms) const;
  void merge_heap(std::vector<Sym>& syms) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void initial_symbols(std::string_view word, std::vector<Sym>& syms) const;
  void tokenize(std::string_view word, std::vector<Sym>& syms) const;
  const Merge* find_merge(int32_t a, int32_t b) const {
    auto it =
        merges_.find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  bool byte_level_;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  std::optional<int32_t> unk_id_;
  // Keys are raw bytes for byte-level models, the vocabulary spelling otherwise.
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> id_to_token_;  // vocabulary spelling, "" for unused ids
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_ids_{};      // byte-level: id of each single byte, -1 if absent
  std::array<int32_t, 256> fallback_ids_{};  // byte_fallback: id of "<0xXX>", -1 if absent
  uint64_t instance_;                        // key of this model's per-thread word cache
};

}  // namespace um::text::detail
