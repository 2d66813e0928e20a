#pragma once
// The loaded pipeline behind um::text::Tokenizer (immutable after construction).
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/detail/tokenizer_added.h"
#include "text/detail/tokenizer_bpe.h"
#include "text/detail/tokenizer_decoder.h"
#include "text/detail/tokenizer_normalizer.h"
#include "text/detail/tokenizer_postprocess.h"
#include "text/detail/tokenizer_pretokenizer.h"

namespace um::text::detail {

using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;

struct TokenizerImpl {
  // `tables` carries the model's vocab and merges when the loader read them itself.
  TokenizerImpl(const nlohmann::json& tok, const nlohmann::json& config, const BpeTables* tables = nullptr);

  // Appends the encoding of `text`; fills `offsets` too when non-null.
  void encode(std::string_view text, bool add_special, std::vector<int32_t>& ids, Offsets* offsets) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;

  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<PostProcessor> post;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;
  std::unordered_map<int32_t, size_t> added_by_id;  // index into `added`
  std::unique_ptr<AddedTokenMatcher> raw_matcher;   // normalized=false tokens
  std::unique_ptr<AddedTokenMatcher> norm_matcher;  // normalized=true tokens
  bool clean_up = false;
  std::optional<std::string> bos, eos, pad;

 private:
  void encode_segment(const TextBuf& text, size_t b, size_t e, std::vector<int32_t>& ids,
                      Offsets* offsets) const;
  void encode_normalized(TextBuf&& buf, bool at_origin, std::vector<int32_t>& ids, Offsets* offsets) const;
};

}  // namespace um::text::detail
