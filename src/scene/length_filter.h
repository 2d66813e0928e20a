#pragma once
// Token-length filter of scenes (docs/method.md §3.6, reference `--length_filtering L`): a scene is kept
// when its decision-generation prompt — system prompt + user message (§5.1), rendered with the
// tokenizer directory's chat template without a generation prompt and tokenised without extra
// special tokens, as transformers' apply_chat_template(tokenize=True) — has at most L tokens.
// Immutable after construction; count() is thread-safe.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "scene/scene_record.h"

namespace um::text {
class Tokenizer;
class ChatTemplate;
}  // namespace um::text

namespace um::scene {

class LengthFilter {
 public:
  // `tokenizer_dir`: a Hugging Face directory with tokenizer.json and tokenizer_config.json.
  // `system_prompt`: the prompt text itself (see text::load_prompt).
  LengthFilter(const std::filesystem::path& tokenizer_dir, std::string system_prompt, size_t max_tokens);
  ~LengthFilter();

  size_t count(const SceneText& text) const;
  bool keep(const SceneText& text) const { return count(text) <= max_tokens_; }
  size_t max_tokens() const { return max_tokens_; }

 private:
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<text::ChatTemplate> template_;
  std::string system_;
  size_t max_tokens_;
};

}  // namespace um::scene
