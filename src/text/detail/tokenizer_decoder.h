#pragma once
// tokenizer.json "decoder" section: ByteLevel, Metaspace, Replace, Fuse, Strip, ByteFallback and
// Sequence, each a step of the Rust crate's decode_chain over the list of token strings.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace um::text::detail {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// nullptr for a JSON null. Throws util::NotSupported for unknown types.
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j);

// transformers' clean_up_tokenization (" ." → "." , " n't" → "n't", ...), applied in order.
std::string clean_up_tokenization(std::string s);

}  // namespace um::text::detail
