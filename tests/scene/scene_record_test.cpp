// The scene record (scene/scene_record.h): writing in the reference schema and field order, reading
// our files and the released sets, and the errors naming file, line and field.
#include "scene/scene_record.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/shared_data.h"
#include "util/error.h"
#include "util/json_writer.h"

namespace um::scene {
namespace {

const util::Location kWhere{.file = "x.jsonl", .line = 7};

std::string scene_line(const SceneRecord& r, bool with_impressions, bool ascii) {
  util::JsonWriter w(ascii);
  write_scene(w, r, with_impressions);
  return w.str();
}

TEST(SceneRecord, WritesReferenceFieldOrderWithAsciiEscapes) {
  SceneRecord r;
  r.text.profile = "";
  r.text.action_list = {"Caf\xC3\xA9 \"A\" - x \n", "B/C \n"};
  r.text.history = "h\n";
  r.user_id = "7";
  r.item_id = "42";
  r.timestamp = 978300760000;
  r.item_pos = 1;
  r.choice_cnt = 2;
  r.dataset = "ml-1m";
  r.impression_list = {"3", "42"};
  EXPECT_EQ(
      scene_line(r, false, true),
      R"({"text":{"profile":"","action_list":["Caf\u00e9 \"A\" - x \n","B/C \n"],"history":"h\n"},"user_id":"7",)"
      R"("item_id":"42","timestamp":978300760000,"item_pos":1,"choice_cnt":2,"dataset":"ml-1m"})");
  // Without ascii (evaluate's predictions), UTF-8 is written as is.
  EXPECT_NE(scene_line(r, false, false).find("Caf\xC3\xA9"), std::string::npos);
  const std::string with = scene_line(r, true, true);
  EXPECT_NE(with.find(R"("dataset":"ml-1m","impression_list":["3","42"]})"), std::string::npos);
  util::JsonLineParser p;
  SceneRecord back;
  parse_scene(p, with, back, true, kWhere);
  EXPECT_EQ(back.text.action_list, r.text.action_list);
  EXPECT_EQ(back.impression_list, r.impression_list);
  EXPECT_EQ(back.timestamp, r.timestamp);
  EXPECT_EQ(scene_line(back, true, true), with);
}

TEST(SceneRecord, RoundTripWithNumericIds) {
  util::JsonLineParser p;
  SceneRecord s;
  parse_scene(p,
              R"({"text": {"profile": "P\n", "action_list": ["a\n", "b\n", "c\n"], "history": "H"}, )"
              R"("user_id": 12, "item_id": "i9", "timestamp": 978300760000, "item_pos": 2, "choice_cnt": 3, )"
              R"("dataset": "ml-1m"})",
              s, true, kWhere);
  EXPECT_EQ(s.user_id, "12");
  EXPECT_EQ(s.item_id, "i9");
  EXPECT_EQ(s.timestamp, 978300760000);
  EXPECT_EQ(s.item_pos, 2);
  EXPECT_EQ(s.choice_cnt, 3);
  EXPECT_EQ(s.dataset, "ml-1m");
  EXPECT_EQ(s.text.action_list.size(), 3u);
  const std::string line = scene_line(s, false, false);
  EXPECT_EQ(line,
            R"({"text":{"profile":"P\n","action_list":["a\n","b\n","c\n"],"history":"H"},"user_id":"12",)"
            R"("item_id":"i9","timestamp":978300760000,"item_pos":2,"choice_cnt":3,"dataset":"ml-1m"})");
  SceneRecord back;
  parse_scene(p, line, back, true, kWhere);
  EXPECT_EQ(back.text.history, "H");
  EXPECT_EQ(back.user_id, "12");
}

TEST(SceneRecord, ErrorsNameFileLineAndField) {
  util::JsonLineParser p;
  SceneRecord s;
  try {
    parse_scene(p, R"({"text": {}, "user_id": 1, "item_id": 2, "timestamp": 3, "item_pos": 3, "choice_cnt": 3,
                       "dataset": "d"})",
                s, false, kWhere);
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "item_pos");
    EXPECT_EQ(e.where().line, 7);
    EXPECT_NE(std::string(e.what()).find("x.jsonl:7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_scene(p, R"({"user_id": 1})", s, false, kWhere), util::Error);
  EXPECT_THROW(parse_scene(p, R"({"text": )", s, false, kWhere), util::Error);
  // Without want_text the text is not read; with it, it must hold choice_cnt entries.
  const std::string short_text =
      R"({"text": {"profile": "", "action_list": ["a"], "history": ""}, "user_id": 1, "item_id": 2, )"
      R"("timestamp": 3, "item_pos": 0, "choice_cnt": 2, "dataset": "d"})";
  parse_scene(p, short_text, s, false, kWhere);
  EXPECT_EQ(s.choice_cnt, 2);
  try {
    parse_scene(p, short_text, s, true, kWhere);
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "text.action_list");
  }
  try {
    parse_scene(p,
                R"({"text": {}, "user_id": 1, "item_id": 2, "timestamp": "yesterday", "item_pos": 0, )"
                R"("choice_cnt": 1, "dataset": "d"})",
                s, false, kWhere);
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "timestamp");
  }
}

// Hand-written lines in the published UserMirrorer-eval schema (fields as listed on the dataset
// card: text{action_list, history, profile}, user_id, item_id, timestamp, item_pos, choice_cnt,
// dataset, impression_list), including the integer ids the reference's pandas writer produces.
TEST(SceneRecord, ReadsReleasedEvalRows) {
  auto dir = um::testing::temp_dir("scene-released");
  auto path = dir / "eval.jsonl";
  {
    std::ofstream f(path);
    f << R"({"text":{"action_list":["Product name: A\n","Product name: B\n"],"history":"A product bought 2 days ago\n","profile":""},)"
         R"("user_id":"AE22","item_id":"B01","timestamp":1520000000000,"item_pos":0,"choice_cnt":2,"dataset":"Amazon-Beauty",)"
         R"("impression_list":["B01","B02"]})"
      << "\n\n"
      << R"({"text":{"action_list":["x\n"],"history":"","profile":"p"},"user_id":12,"item_id":345,)"
         R"("timestamp":"2000-12-31 22:00:19","item_pos":0,"choice_cnt":1,"dataset":"ml-1m","impression_list":[345]})"
      << "\n";
  }
  auto rows = read_scene_file(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].dataset, "Amazon-Beauty");
  EXPECT_EQ(rows[0].impression_list[1], "B02");
  EXPECT_EQ(rows[1].user_id, "12");
  EXPECT_EQ(rows[1].item_id, "345");
  EXPECT_EQ(rows[1].timestamp, 978300019000);
  EXPECT_EQ(rows[1].impression_list[0], "345");

  std::ofstream(dir / "bad.jsonl")
      << R"({"text":{"action_list":["x\n"],"history":"","profile":""},"user_id":"1",)"
         R"("item_id":"2","timestamp":0,"item_pos":3,"choice_cnt":1,"dataset":"d"})"
      << "\n";
  try {
    read_scene_file(dir / "bad.jsonl");
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().line, 1);
    EXPECT_EQ(e.where().field, "item_pos");
  }
}

TEST(SceneRecord, ReadsReleasedTrainRows) {
  auto dir = um::testing::temp_dir("scene-released-train");
  auto path = dir / "train.jsonl";
  {
    std::ofstream f(path);
    f << R"({"dataset":"steam","user_id":"bob","item_id":"7","timestamp":1400000000000,)"
         R"("messages_chosen":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"Thought: ...\nBehavior: [B]"}],)"
         R"("messages_rejected":[{"role":"system","content":"S"},{"role":"user","content":"U"},{"role":"assistant","content":"Thought: no\nBehavior: [A]"}],)"
         R"("impression_list":["3","7"],"item_pos":1})"
      << "\n";
    f << R"({"dataset":"steam","user_id":"bob","item_id":"7","timestamp":1400000000000,"messages_chosen":[{"role":"system"}],"messages_rejected":[]})"
      << "\n";
  }
  EXPECT_THROW(read_preference_file(path), util::Error);  // line 2: message without content
  std::string first;
  {
    std::ifstream f(path);
    std::getline(f, first);
  }
  auto r = parse_preference_line(first);
  EXPECT_EQ(r.messages_chosen.size(), 3u);
  EXPECT_EQ(r.messages_chosen[2].content, "Thought: ...\nBehavior: [B]");
  EXPECT_EQ(r.messages_rejected[2].role, "assistant");
  EXPECT_EQ(r.item_pos, 1);
  EXPECT_EQ(r.impression_list, (std::vector<std::string>{"3", "7"}));
}

}  // namespace
}  // namespace um::scene
