// Scene → messages exactly as the reference builds them (docs/method.md §5), and the Behavior convention.
#include <gtest/gtest.h>

#include "common/shared_data.h"
#include "text/chat_template.h"
#include "text/prompt.h"
#include "text/prompt_store.h"
#include "util/error.h"

namespace {

using um::text::SceneText;

SceneText worked_example() {
  SceneText s;
  s.profile = "## User Profile\nGender: male\nAge: 25-34\nOccupation: programmer\nLocation: Austin, TX\n";
  s.history =
      "A movie viewed 3 days ago\nToy Story (1995) Animation|Children's|Comedy \nMy Behavior:\nRating: "
      "4.0/5.0\n\n"
      "A movie viewed 2 hours ago\nHeat (1995) Action|Crime|Thriller \nMy Behavior:\nRating: 5.0/5.0\n";
  s.action_list = {"Casino (1995) - Drama|Thriller \n", "[New Release]Sabrina (1995) - Comedy|Romance \n"};
  return s;
}

TEST(PromptMessages, WorkedExampleOfMethodDoc54IsExact) {
  // Copied from §5.4 of docs/method.md.
  const std::string expected =
      "# User Profile\n## User Profile\nGender: male\nAge: 25-34\nOccupation: programmer\nLocation: Austin, "
      "TX\n\n\n## History\nA movie viewed 3 days ago\nToy Story (1995) Animation|Children's|Comedy \nMy "
      "Behavior:\nRating: 4.0/5.0\n\nA movie viewed 2 hours ago\nHeat (1995) Action|Crime|Thriller \nMy "
      "Behavior:\nRating: 5.0/5.0\n\n\n# Exposure List\n[A] Casino (1995) - Drama|Thriller \n\n[B] [New "
      "Release]Sabrina (1995) - Comedy|Romance \n\n";
  EXPECT_EQ(um::text::user_message(worked_example()), expected);
}

TEST(PromptMessages, LetteringAndEmptyParts) {
  EXPECT_EQ(um::text::lettered_action_list({"x\n\n", "y\n\n", "z\n\n"}), "[A] x\n\n\n[B] y\n\n\n[C] z\n\n");
  EXPECT_EQ(um::text::lettered_action_list({}), "");
  EXPECT_EQ(um::text::user_message(SceneText{"", {"a\n"}, ""}),
            "# User Profile\n\n\n## History\n\n\n# Exposure List\n[A] a\n\n");
  EXPECT_EQ(um::text::option_letter(0), 'A');
  EXPECT_EQ(um::text::option_letter(11), 'L');
  EXPECT_EQ(um::text::option_index('E'), 4u);
  EXPECT_THROW(um::text::option_letter(26), um::util::Error);
  EXPECT_THROW(um::text::option_index('a'), um::util::Error);
}

TEST(PromptMessages, MessagesAndAssistantPrefixes) {
  auto scene = worked_example();
  auto two = um::text::scene_messages(scene, "SYS\n");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].role, "system");
  EXPECT_EQ(two[0].content, "SYS\n");
  EXPECT_EQ(two[1].role, "user");
  EXPECT_EQ(two[1].content, um::text::user_message(scene));
  auto eval = um::text::scene_messages(scene, "SYS\n", um::text::kEvalReasoningPrefix);
  ASSERT_EQ(eval.size(), 3u);
  EXPECT_EQ(eval[2].role, "assistant");
  EXPECT_EQ(eval[2].content, "Thought:\nStimulus:");
  EXPECT_EQ(um::text::scene_messages(scene, "D", um::text::kBehaviorPrefix)[2].content, "Behavior: [");
  EXPECT_EQ(um::text::scene_messages(scene, "D", um::text::kThoughtPrefix)[2].content, "Thought:");
}

TEST(PromptMessages, BehaviorConvention) {
  const std::string gen = "  Thought:\nStimulus: bored\nEvaluation: fine\n\nBehavior: [B]\nBehavior: [C]";
  EXPECT_EQ(um::text::rationale_of(gen), "Thought:\nStimulus: bored\nEvaluation: fine");
  EXPECT_EQ(um::text::reclose_for_scoring(gen), "Thought:\nStimulus: bored\nEvaluation: fine\nBehavior: [");
  EXPECT_EQ(um::text::training_target(gen, 'D'),
            "Thought:\nStimulus: bored\nEvaluation: fine\nBehavior: [D]");
  // No "Behavior:": the whole text, stripped (Python str.strip also strips e.g. U+3000).
  EXPECT_EQ(um::text::rationale_of("\u3000 just thinking \n"), "just thinking");
  // "Behavior" without the colon does not cut.
  EXPECT_EQ(um::text::rationale_of("My Behavior was odd. Behavior:[A]"), "My Behavior was odd.");
  EXPECT_THROW(um::text::training_target(gen, '1'), um::util::Error);
}

TEST(PromptMessages, ScoringPromptThroughQwen3Template) {
  UM_REQUIRE_SHARED(qwen3, "tokenizers/qwen3");
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(qwen3);
  auto scene = worked_example();
  auto msgs = um::text::scene_messages(scene, "SYS\n",
                                       um::text::reclose_for_scoring("Thought:\nStimulus: x\nBehavior: [A]"));
  std::string prompt = tpl.render(msgs, {.continue_final_message = true});
  const std::string head = "<|im_start|>system\nSYS\n<|im_end|>\n<|im_start|>user\n" +
                           um::text::user_message(scene) + "<|im_end|>\n<|im_start|>assistant\n";
  ASSERT_EQ(prompt.substr(0, head.size()), head);
  // Qwen3 puts an empty think block before the final assistant turn's content; the turn stays open.
  EXPECT_EQ(prompt.substr(head.size()), "<think>\n\n</think>\n\nThought:\nStimulus: x\nBehavior: [");
}

TEST(PromptMessages, OurPromptsAreShippedAndFollowTheOutputLayout) {
  std::string reasoning = um::text::load_prompt(um::text::kDefaultReasoningPrompt);
  std::string direct = um::text::load_prompt(um::text::kDefaultDirectPrompt);
  EXPECT_NE(reasoning.find("Thought:\nStimulus: "), std::string::npos);
  EXPECT_NE(reasoning.find("\nBehavior: [<letter>]\n"), std::string::npos);
  EXPECT_EQ(reasoning.back(), '\n');
  EXPECT_EQ(direct.back(), '\n');
  // Ours, not the authors'.
  EXPECT_NE(um::text::sha256_hex(reasoning), um::text::kAuthorsDefaultSha256);
  EXPECT_NE(um::text::sha256_hex(direct), um::text::kAuthorsDirectSha256);
}

}  // namespace
