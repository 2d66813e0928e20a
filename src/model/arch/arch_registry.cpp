// The architecture table: one row per supported family.
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

const std::vector<ArchSpec>& all_archs() {
  static const std::vector<ArchSpec> table = {llama_spec(), qwen2_spec(), qwen3_spec(), mistral_spec()};
  return table;
}

namespace {
std::string known_list(bool classes) {
  std::string s;
  for (const auto& a : all_archs()) s += (s.empty() ? "" : ", ") + (classes ? a.hf_class : a.family);
  return s;
}
}  // namespace

const ArchSpec& find_by_class(const std::string& hf_class, const std::string& source) {
  for (const auto& a : all_archs()) {
    if (a.hf_class == hf_class) return a;
  }
  throw util::NotSupported(
      "architecture '" + hf_class + "' is not supported (supported: " + known_list(true) + ")",
      {.file = source, .field = "architectures"});
}

const ArchSpec& find_by_family(const std::string& family) {
  for (const auto& a : all_archs()) {
    if (a.family == family) return a;
  }
  throw util::NotSupported(
      "unknown architecture family '" + family + "' (supported: " + known_list(false) + ")",
      {.field = "arch"});
}

}  // namespace um::model::arch
