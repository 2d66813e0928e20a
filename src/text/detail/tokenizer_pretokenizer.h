#pragma once
// tokenizer.json "pre_tokenizer" section: Split (PCRE2), ByteLevel, Digits, Metaspace,
// Whitespace, WhitespaceSplit and Sequence. A pre-tokenizer cuts a normalised segment into pieces
// ("words") that the model encodes independently; some also rewrite text (Metaspace, the prefix
// space of ByteLevel), which is appended to the buffer with its alignment.
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "text/detail/tokenizer_text.h"

namespace um::text::detail {

struct Piece {
  uint32_t b = 0;  // byte range in PreTok::buf.s
  uint32_t e = 0;
  bool at_origin = false;  // starts at byte 0 of the caller's input (Metaspace prepend "first")
};

struct PreTok {
  TextBuf buf;
  std::vector<Piece> pieces;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void apply(PreTok& p) const = 0;
};

// nullptr for a JSON null. Throws util::NotSupported for unknown types. Sets *byte_level when a
// ByteLevel pre-tokenizer is present (the model then works on raw bytes).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, bool* byte_level);

}  // namespace um::text::detail
