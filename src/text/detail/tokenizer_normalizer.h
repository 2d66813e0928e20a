#pragma once
// tokenizer.json "normalizer" section: NFC/NFD/NFKC/NFKD, Lowercase, Strip, Replace, Prepend and
// Sequence. Each normaliser rewrites a TextBuf, keeping byte alignment to the original input.
#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "text/detail/tokenizer_text.h"

namespace um::text::detail {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(TextBuf& t) const = 0;
};

// nullptr for a JSON null. Throws util::NotSupported for unknown types.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j);

}  // namespace um::text::detail
