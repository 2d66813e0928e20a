#include "backend/batch_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/shared_data.h"
#include "util/error.h"

namespace um::backend {
namespace {

TEST(BatchFile, ExportsTheReferenceLineFormat) {
  auto path = um::testing::temp_dir("batch") / "ml-1m_batch.jsonl";
  GenerateRequest r{.key = "ml-1m-0", .messages = {{"system", "S"}, {"user", "U \"q\""}}};
  r.sampling.n = 10;
  r.sampling.temperature = 1.0;
  r.sampling.top_p = 0.9;
  r.sampling.max_tokens = 1024;
  write_batch_input(path, {r}, "gpt-4o-mini");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(
      line,
      R"({"method":"POST","url":"/v1/chat/completions","custom_id":"ml-1m-0","body":{"n":10,"model":"gpt-4o-mini",)"
      R"("temperature":1.0,"top_p":0.9,"max_tokens":1024,"messages":[{"role":"system","content":"S"},)"
      R"({"role":"user","content":"U \"q\""}],"stop":null}})");
  GenerateRequest p{.key = "x", .prompt = std::string("rendered")};
  EXPECT_THROW(write_batch_input(path, {p}, "m"), util::Error);
}

TEST(BatchFile, ImportsOutputWithErrors) {
  auto path = um::testing::temp_dir("batch-out") / "out.jsonl";
  {
    std::ofstream out(path);
    out << R"({"id":"b1","custom_id":"ml-1m-0","response":{"status_code":200,"request_id":"r","body":{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Thought: x\nBehavior: [A]"},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":"y"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":9}}},"error":null})"
        << "\n"
        << R"({"id":"b2","custom_id":"ml-1m-1","response":{"status_code":400,"body":{"error":{"message":"bad"}}},"error":null})"
        << "\n"
        << R"({"id":"b3","custom_id":"ml-1m-2","response":null,"error":{"code":"x","message":"expired"}})"
        << "\n";
  }
  auto recs = read_batch_output(path);
  ASSERT_EQ(recs.size(), 3u);
  ASSERT_TRUE(recs[0].result);
  EXPECT_EQ(recs[0].result->samples.size(), 2u);
  EXPECT_EQ(recs[0].result->samples[0].text, "Thought: x\nBehavior: [A]");
  EXPECT_EQ(recs[0].result->samples[1].finish_reason, "length");
  EXPECT_EQ(recs[0].result->completion_tokens, 9);
  EXPECT_FALSE(recs[1].result);
  EXPECT_NE(recs[1].error.find("status 400"), std::string::npos);
  EXPECT_EQ(recs[2].error, "expired");
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"id":"b4"})"
        << "\n";
  }
  try {
    read_batch_output(path);
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().line, 4);
    EXPECT_EQ(e.where().field, "custom_id");
  }
}

}  // namespace
}  // namespace um::backend
