// `evaluate --max-context`: scenes whose messages exceed the limit are not sent to the backend and
// count as uniform, as the reference's run_eval (max_context_length 6124, docs/method.md §10).
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/shared_data.h"
#include "pipeline/evaluate_stage.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

// Direct mode only: every option request gets probability 1 on option A; keys are recorded.
class RecordingBackend : public backend::Backend {
 public:
  std::string model_name() const override { return "recording"; }
  void submit_generate(std::vector<backend::GenerateRequest>, backend::GenerateCallback) override {
    ADD_FAILURE() << "no generation in direct mode";
  }
  void submit_options(std::vector<backend::OptionRequest> requests, backend::OptionCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        keys.push_back(requests[i].key);
      }
      backend::OptionResult r;
      r.probs.assign(requests[i].letters.size(), 0.0);
      r.probs[0] = 1.0;
      r.raw_logprobs.assign(requests[i].letters.size(), 0.0);
      done(i, std::move(r), nullptr);
    }
  }
  std::vector<std::string> keys;

 private:
  std::mutex mu_;
};

TEST(EvaluateMaxContext, LongScenesAreScoredUniformWithoutARequest) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  fs::path dir = um::testing::temp_dir("evaluate-max-context");
  std::string long_history;
  for (int i = 0; i < 400; ++i)
    long_history += "A movie viewed 2 days ago\\nAnother Movie (1995) Drama|Comedy \\n";
  {
    std::ofstream f(dir / "eval.jsonl");
    for (int s = 0; s < 2; ++s)
      f << R"({"text":{"action_list":["Movie A\n","Movie B\n"],"history":")" << (s ? long_history : "")
        << R"(","profile":""},"user_id":")" << s
        << R"(","item_id":"1","timestamp":975000000000,"item_pos":0,)"
        << R"("choice_cnt":2,"dataset":"ml-1m"})"
        << "\n";
  }
  EvaluateOptions o;
  o.work = dir;
  o.inputs = {dir / "eval.jsonl"};
  o.mode = "direct";
  o.system_prompt = "You are a test.";
  o.out_dir = dir / "out";
  o.bootstrap = 10;
  o.max_context = 2000;  // the short scene is ~50 tokens, the long one ~9,000
  o.context_tokenizer = tok;
  RecordingBackend be;
  EvaluateResult r = run_evaluate(be, o);
  EXPECT_EQ(r.scenes, 2);
  EXPECT_EQ(r.over_context, 1);
  ASSERT_EQ(be.keys.size(), 1u);
  EXPECT_EQ(be.keys[0], "0/p0");
  // Scene 0: probability 1 on the truth; scene 1: uniform 1/2.
  EXPECT_NEAR(r.expected_hit_rate, 0.75, 1e-9);  // the 1e-10 floor on the other letter
  std::ifstream in(r.predictions);
  std::string line0, line1;
  std::getline(in, line0);
  std::getline(in, line1);
  EXPECT_TRUE(nlohmann::json::parse(line1)["choice"].is_null());

  // Off by default: both scenes are sent.
  RecordingBackend all;
  EvaluateOptions off = o;
  off.max_context = 0;
  off.out_dir = dir / "out-off";
  EXPECT_EQ(run_evaluate(all, off).over_context, 0);
  EXPECT_EQ(all.keys.size(), 2u);
}

}  // namespace
}  // namespace um::pipeline
