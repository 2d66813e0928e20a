#pragma once
// tokenizer.json "post_processor" section for single sequences: TemplateProcessing, ByteLevel
// (offsets only, so a no-op here), RobertaProcessing / BertProcessing and Sequence. Applied only
// when encode is asked to add special tokens.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace um::text::detail {

class PostProcessor {
 public:
  // `template_` is the single-sequence layout: id >= 0 → that special id, -1 → the sequence.
  explicit PostProcessor(const nlohmann::json& j);
  // Inserts the special ids around `ids`; `offsets` (if non-null) gets {0,0} for each insert.
  void apply(std::vector<int32_t>& ids, std::vector<std::pair<uint32_t, uint32_t>>* offsets) const;

 private:
  void add(const nlohmann::json& j);
  std::vector<int32_t> template_{-1};
};

}  // namespace um::text::detail
