#include "scene/length_filter.h"

#include "text/chat_template.h"
#include "text/prompt.h"
#include "text/tokenizer.h"

namespace um::scene {

LengthFilter::LengthFilter(const std::filesystem::path& tokenizer_dir, std::string system_prompt,
                           size_t max_tokens)
    : tokenizer_(std::make_unique<text::Tokenizer>(text::Tokenizer::load(tokenizer_dir))),
      template_(
          std::make_unique<text::ChatTemplate>(text::ChatTemplate::from_tokenizer_config(tokenizer_dir))),
      system_(std::move(system_prompt)),
      max_tokens_(max_tokens) {}

LengthFilter::~LengthFilter() = default;

size_t LengthFilter::count(const SceneText& t) const {
  text::SceneText st{t.profile, t.action_list, t.history};
  std::string rendered = template_->render(text::scene_messages(st, system_));
  return tokenizer_->encode(rendered, /*add_special_tokens=*/false).size();
}

}  // namespace um::scene
