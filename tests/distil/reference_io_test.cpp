#include "distil/reference_io.h"

#include <gtest/gtest.h>

#include "distil/scene_messages.h"

namespace um::distil {
namespace {

const util::Location kWhere{.file = "x.jsonl", .line = 7};

TEST(ReferenceIo, ProbsLineNullPartialAndBadLetters) {
  LineParser p;
  ProbsRecord r;
  parse_probs(
      p,
      R"({"user_id": "u", "item_id": "i", "decision_list": ["x", "y"], "choice": [{"A": 0.25, "C": 0.75}, {"B": 1.0}]})",
      r, kAllDecisions, kWhere);
  ASSERT_TRUE(r.has_choice);
  ASSERT_EQ(r.choice.size(), 2u);
  EXPECT_TRUE(r.choice[0].present[0]);
  EXPECT_FALSE(r.choice[0].present[1]);
  EXPECT_DOUBLE_EQ(r.choice[0].value[2], 0.75);
  EXPECT_EQ(r.decision_list, (std::vector<std::string>{"x", "y"}));
  // Only decision 1 wanted; counting still covers both.
  parse_probs(p, R"({"user_id": "u", "item_id": "i", "decision_list": ["x", "y"], "choice": null})", r, 2,
              kWhere);
  EXPECT_FALSE(r.has_choice);
  EXPECT_EQ(r.n_decisions, 2u);
  EXPECT_EQ(r.decision_list, (std::vector<std::string>{"", "y"}));
  parse_probs(p, R"({"user_id": "u", "item_id": "i", "decision_list": ["x", "y"], "choice": null})", r, 0,
              kWhere);
  EXPECT_EQ(r.n_decisions, 2u);
  EXPECT_TRUE(r.decision_list.empty());
  // Located decisions decode to the same texts as decoded ones, also when escaped; non-strings fail.
  const std::string line =
      R"({"decision_list": ["a \"q\"\n\u00e9", "plain"  ,"\ud83d\ude00"], "user_id": 1, "item_id": 2, "choice": null})";
  parse_probs(p, line, r, 0, kWhere);
  ASSERT_EQ(r.decision_tokens.size(), 3u);
  const std::vector<ProbsRecord::Span> spans = r.decision_tokens;
  LineParser q;
  std::vector<std::string> decoded;
  for (const auto& t : spans)
    decoded.emplace_back(parse_string_token(q, std::string_view(line).substr(t.offset, t.size), kWhere));
  parse_probs(p, line, r, kAllDecisions, kWhere);
  EXPECT_EQ(decoded, r.decision_list);
  EXPECT_EQ(decoded[0], "a \"q\"\n\xC3\xA9");
  EXPECT_THROW(parse_probs(p, R"({"decision_list": ["x", 3], "choice": null})", r, 0, kWhere), util::Error);
  EXPECT_THROW(parse_string_token(q, R"("bad \x escape")", kWhere), util::Error);
  EXPECT_THROW(parse_probs(p, R"({"decision_list": ["x"], "choice": [{"a": 1}]})", r, 0, kWhere),
               util::Error);
  EXPECT_THROW(parse_probs(p, R"({"decision_list": ["x"], "choice": [{"A": -1}]})", r, 0, kWhere),
               util::Error);
  EXPECT_THROW(parse_probs(p, R"({"decision_list": ["x"], "choice": [{"A": 1}, {"A": 1}]})", r, 0, kWhere),
               util::Error);
}

TEST(ReferenceIo, ProbsWriteRoundTrip) {
  ProbsRecord r;
  r.user_id = "u";
  r.item_id = "i";
  r.decision_list = {"Thought: \"q\""};
  r.has_choice = true;
  r.choice.emplace_back().set(1, 0.5);
  r.choice.back().set(0, 0.25);
  util::JsonWriter w;
  write_probs(w, r);
  EXPECT_EQ(
      w.str(),
      R"({"user_id":"u","item_id":"i","decision_list":["Thought: \"q\""],"choice":[{"A":0.25,"B":0.5}]})");
}

TEST(ReferenceIo, DecisionsBatchOutput) {
  LineParser p;
  DecisionsRecord d;
  parse_decisions(
      p,
      R"({"id": "x", "custom_id": "ml-1m-42", "response": {"status_code": 200, "body": {"choices": [)"
      R"({"index": 0, "message": {"role": "assistant", "content": "T1 Behavior: [A]"}},)"
      R"({"index": 1, "message": {"role": "assistant", "content": "T2"}}]}}, "error": null})",
      d, kWhere);
  EXPECT_EQ(d.row, 42);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.contents, (std::vector<std::string>{"T1 Behavior: [A]", "T2"}));
  parse_decisions(p, R"({"custom_id": "MIND-3", "response": null, "error": {"message": "x"}})", d, kWhere);
  EXPECT_EQ(d.row, 3);
  EXPECT_FALSE(d.ok);
  EXPECT_TRUE(d.contents.empty());
  EXPECT_THROW(parse_decisions(p, R"({"custom_id": "nodash"})", d, kWhere), util::Error);
  util::JsonWriter w;
  write_decisions(w, "ml-1m-5", "m", {"a", "b"});
  parse_decisions(p, w.str(), d, kWhere);
  EXPECT_EQ(d.row, 5);
  EXPECT_EQ(d.contents, (std::vector<std::string>{"a", "b"}));
}

TEST(ReferenceIo, RationaleCutAtFirstBehaviorAndStripped) {
  EXPECT_EQ(cut_rationale("  Thought: x\nBehavior: [B]\nBehavior: [C]"), "Thought: x");
  EXPECT_EQ(cut_rationale("\n\tno marker \n"), "no marker");
  EXPECT_EQ(assistant_target("Thought: y\n", 2), "Thought: y\nBehavior: [C]");
}

TEST(SceneMessages, WorkedExampleOfTheMethodDoc) {
  // docs/method.md §5.4 (ml-1m, 2 history items, 2 options), exact string.
  text::SceneText t;
  t.profile = "## User Profile\nGender: male\nAge: 25-34\nOccupation: programmer\nLocation: Austin, TX\n";
  t.history =
      "A movie viewed 3 days ago\nToy Story (1995) Animation|Children's|Comedy \nMy Behavior:\nRating: "
      "4.0/5.0\n\nA movie viewed 2 hours ago\nHeat (1995) Action|Crime|Thriller \nMy Behavior:\nRating: "
      "5.0/5.0\n";
  t.action_list = {"Casino (1995) - Drama|Thriller \n", "[New Release]Sabrina (1995) - Comedy|Romance \n"};
  EXPECT_EQ(
      user_message(t),
      "# User Profile\n## User Profile\nGender: male\nAge: 25-34\nOccupation: programmer\nLocation: Austin, "
      "TX\n\n\n## History\nA movie viewed 3 days ago\nToy Story (1995) Animation|Children's|Comedy \nMy "
      "Behavior:\nRating: 4.0/5.0\n\nA movie viewed 2 hours ago\nHeat (1995) Action|Crime|Thriller \nMy "
      "Behavior:\nRating: 5.0/5.0\n\n\n# Exposure List\n[A] Casino (1995) - Drama|Thriller \n\n[B] [New "
      "Release]Sabrina (1995) - Comedy|Romance \n\n");
}

}  // namespace
}  // namespace um::distil
