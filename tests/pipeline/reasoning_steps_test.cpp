// The reasoning-mode steps shared by evaluate and the arena (pipeline/reasoning_steps.h): the store
// keys and value of step 1, reuse of stored generations by a resumed run, and step 2's requests
// (built by backend/simulation_requests.h, one per stored continuation).
#include "pipeline/reasoning_steps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/simulation_requests.h"
#include "common/shared_data.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

// Generation only: each request gets n samples "<key> #<s>"; requests are recorded.
class GenerateRecorder : public backend::Backend {
 public:
  std::string model_name() const override { return "recorder"; }
  void submit_generate(std::vector<backend::GenerateRequest> requests,
                       backend::GenerateCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      backend::GenerateResult r;
      for (int s = 0; s < requests[i].sampling.n; ++s)
        r.samples.push_back({requests[i].key + " #" + std::to_string(s), "stop", {}});
      seen.push_back(requests[i]);
      done(i, std::move(r), nullptr);
    }
  }
  void submit_options(std::vector<backend::OptionRequest>, backend::OptionCallback) override {
    ADD_FAILURE() << "the generate step asks no option distribution";
  }
  std::vector<backend::GenerateRequest> seen;
};

text::SceneText scene(const std::string& who) {
  text::SceneText t;
  t.profile = "profile of " + who;
  t.action_list = {"<Movie> A", "<Movie> B", "<Movie> C"};
  t.history = "history of " + who;
  return t;
}

TEST(ReasoningSteps, StoresContentsUnderGenKeysAndReusesThemOnResume) {
  const fs::path dir = um::testing::temp_dir("reasoning-steps");
  const fs::path store_file = dir / "s.store.jsonl";
  const text::SceneText t0 = scene("u0"), t1 = scene("u1");
  const std::vector<ReasoningRecord> records = {{.key = "0", .text = &t0, .options = 3, .seed = 11},
                                                {.key = "u1@5", .text = &t1, .options = 2, .seed = 12}};
  const ReasoningSettings settings{.system_prompt = "sys", .repeats = 2, .max_tokens = 7};
  GenerateRecorder be;
  {
    backend::RequestStore store(store_file, "test/reasoning");
    GenerateStepCounts c = run_reasoning_generate(be, records, store, settings, {"gen", "scenes"}, {});
    EXPECT_EQ(c.sent, 2);
    EXPECT_EQ(c.reused, 0);
    EXPECT_EQ(c.failed, 0);
  }
  ASSERT_EQ(be.seen.size(), 2u);
  EXPECT_EQ(be.seen[0].key, "0/gen");
  EXPECT_EQ(be.seen[1].key, "u1@5/gen");
  EXPECT_EQ(be.seen[1].sampling.n, 2);
  EXPECT_EQ(be.seen[1].sampling.seed, std::optional<uint64_t>(12));
  EXPECT_EQ(be.seen[1].sampling.max_tokens, 7);
  EXPECT_FALSE(be.seen[0].shared_prefix.has_value());
  const backend::GenerateRequest want = backend::reasoning_generate_request(
      "0/gen", backend::simulation_messages(t0, "sys"), {.n = 2, .max_tokens = 7, .seed = 11});
  ASSERT_EQ(be.seen[0].messages.size(), want.messages.size());
  for (size_t m = 0; m < want.messages.size(); ++m)
    EXPECT_EQ(be.seen[0].messages[m].content, want.messages[m].content);

  // The stored value is {"contents": [...]}, read back per record.
  const auto stored = load_store(store_file, "test/reasoning");
  EXPECT_EQ(stored.at("0/gen").dump(), R"({"contents":["0/gen #0","0/gen #1"]})");
  EXPECT_EQ(stored_contents(stored, "u1@5"), (std::vector<std::string>{"u1@5/gen #0", "u1@5/gen #1"}));
  EXPECT_TRUE(stored_contents(stored, "u2").empty());

  // A resumed run sends nothing for the stored generations.
  {
    backend::RequestStore store(store_file, "test/reasoning");
    GenerateStepCounts c = run_reasoning_generate(be, records, store, settings, {"gen", "scenes"}, {});
    EXPECT_EQ(c.sent, 0);
    EXPECT_EQ(c.reused, 2);
  }
  EXPECT_EQ(be.seen.size(), 2u);
}

TEST(ReasoningSteps, OptionRequestsFollowStoredContinuations) {
  const text::SceneText t0 = scene("u0"), t1 = scene("u1");
  const std::vector<ReasoningRecord> records = {{.key = "a", .text = &t0, .options = 3},
                                                {.key = "b", .text = &t1, .options = 3},
                                                {.key = "c", .text = &t0, .options = 2}};
  std::map<std::string, nlohmann::json> generated;
  generated["a/gen"] = nlohmann::json{{"contents", {"x", "y"}}};
  generated["c/gen"] = nlohmann::json{{"contents", {"z"}}};  // b's generation failed: no requests
  ReasoningSettings settings{.system_prompt = "sys", .repeats = 2};
  auto requests = reasoning_option_requests(records, generated, settings);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].key, "a/p0");
  EXPECT_EQ(requests[1].key, "a/p1");
  EXPECT_EQ(requests[2].key, "c/p0");
  EXPECT_EQ(requests[2].letters, (std::vector<std::string>{"A", "B"}));
  const backend::OptionRequest want =
      backend::reasoning_option_request("a/p1", backend::simulation_messages(t0, "sys"), "y", 3);
  ASSERT_EQ(requests[1].messages.size(), want.messages.size());
  for (size_t m = 0; m < want.messages.size(); ++m) {
    EXPECT_EQ(requests[1].messages[m].role, want.messages[m].role);
    EXPECT_EQ(requests[1].messages[m].content, want.messages[m].content);
  }
  EXPECT_FALSE(requests[0].shared_prefix.has_value());

  settings.shared_prefix = true;  // the arena's page groups
  requests = reasoning_option_requests(records, generated, settings);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(backend::shared_prefix_key(requests[0]), backend::shared_prefix_key(requests[1]));
  EXPECT_FALSE(backend::shared_prefix_key(requests[0]).empty());
  EXPECT_EQ(option_key("a", 12), "a/p12");
  EXPECT_EQ(generation_key("a"), "a/gen");
}

}  // namespace
}  // namespace um::pipeline
