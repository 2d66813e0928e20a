#include "text/detail/tokenizer_postprocess.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace um::text::detail {

using nlohmann::json;

PostProcessor::PostProcessor(const json& j) {
  if (!j.is_null()) add(j);
}

void PostProcessor::add(const json& j) {
  const std::string type = j.at("type").get<std::string>();
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    for (const auto& p : j.at("processors")) add(p);
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    template_ = {j.at("cls").at(1).get<int32_t>(), -1, j.at("sep").at(1).get<int32_t>()};
    return;
  }
  if (type == "TemplateProcessing") {
    std::vector<int32_t> t;
    const json& specials = j.at("special_tokens");
    for (const auto& item : j.at("single")) {
      if (item.contains("Sequence")) {
        t.push_back(-1);
      } else if (item.contains("SpecialToken")) {
        const std::string name = item.at("SpecialToken").at("id").get<std::string>();
        if (!specials.contains(name)) {
          throw util::Error("TemplateProcessing uses undefined special token '" + name + "'",
                            {.field = "post_processor.special_tokens"});
        }
        for (const auto& id : specials.at(name).at("ids")) t.push_back(id.get<int32_t>());
      } else {
        throw util::NotSupported("TemplateProcessing item " + item.dump(),
                                 {.field = "post_processor.single"});
      }
    }
    template_ = std::move(t);
    return;
  }
  throw util::NotSupported("tokenizer.json post_processor type '" + type + "' is not supported",
                           {.field = "post_processor.type"});
}

void PostProcessor::apply(std::vector<int32_t>& ids,
                          std::vector<std::pair<uint32_t, uint32_t>>* offsets) const {
  if (template_.size() == 1) return;
  std::vector<int32_t> out;
  std::vector<std::pair<uint32_t, uint32_t>> offs;
  out.reserve(ids.size() + template_.size());
  for (int32_t t : template_) {
    if (t >= 0) {
      out.push_back(t);
      if (offsets) offs.emplace_back(0, 0);
    } else {
      out.insert(out.end(), ids.begin(), ids.end());
      if (offsets) offs.insert(offs.end(), offsets->begin(), offsets->end());
    }
  }
  ids = std::move(out);
  if (offsets) *offsets = std::move(offs);
}

}  // namespace um::text::detail
