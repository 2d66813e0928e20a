#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "backend/backend.h"
#include "util/error.h"

namespace um::backend {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

TEST(BackendSpec, ParsesKindTargetsAndOptions) {
  BackendSpec s = parse_backend_spec(
      "openai:http://gpu-a:8000/v1,http://gpu-b:8000/"
      "v1?model=Qwen2.5-14B&concurrency=64&api_key_env=OPENAI_API_KEY");
  EXPECT_EQ(s.kind, "openai");
  ASSERT_EQ(s.targets.size(), 2u);
  EXPECT_EQ(s.targets[0], "http://gpu-a:8000/v1");
  EXPECT_EQ(s.targets[1], "http://gpu-b:8000/v1");
  EXPECT_EQ(s.options.at("model"), "Qwen2.5-14B");
  EXPECT_EQ(s.options.at("concurrency"), "64");
  EXPECT_EQ(s.options.at("api_key_env"), "OPENAI_API_KEY");

  BackendSpec l = parse_backend_spec("local:/models/qwen2.5-3b");
  EXPECT_EQ(l.kind, "local");
  EXPECT_EQ(l.targets, std::vector<std::string>{"/models/qwen2.5-3b"});
  EXPECT_TRUE(l.options.empty());
}

TEST(BackendSpec, ClearErrors) {
  EXPECT_NE(error_of([] { parse_backend_spec("/models/x"); }).find("expected <kind>:<target>"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_backend_spec("openai:"); }).find("no target"), std::string::npos);
  EXPECT_NE(error_of([] { parse_backend_spec("openai:http://a/v1,,http://b/v1"); }).find("empty target"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_backend_spec("openai:http://a/v1?model"); }).find("not key=value"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_backend_spec("openai:http://a/v1?model=a&model=b"); }).find("given twice"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_backend_spec("op en:x"); }).find("invalid characters"), std::string::npos);
  EXPECT_NE(error_of([] { make_backend("nosuch:x"); }).find("unknown backend kind 'nosuch'"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_backend("openai:http://127.0.0.1:9/v1"); }).find("model=NAME is required"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_backend("openai:gpu-a:8000/v1?model=m"); }).find("must start with http"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              make_backend("openai:http://127.0.0.1:9/v1?model=m&concurency=3");
            }).find("unknown option(s) concurency"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              make_backend("openai:http://127.0.0.1:9/v1?model=m&concurrency=x");
            }).find("not an integer"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { make_backend("openai:http://127.0.0.1:9/v1?model=m&concurrency=0"); }).find("outside"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              make_backend("openai:http://127.0.0.1:9/v1?model=m&allowed_token_ids=maybe");
            }).find("auto, on or off"),
            std::string::npos);
}

TEST(BackendSpec, FactoryTableAcceptsRegistrations) {
  struct Null : Backend {
    std::string model_name() const override { return "null"; }
    void submit_generate(std::vector<GenerateRequest>, GenerateCallback) override {}
    void submit_options(std::vector<OptionRequest>, OptionCallback) override {}
  };
  register_backend("null-test", [](const BackendSpec& s) {
    EXPECT_EQ(s.targets[0], "x");
    return std::make_unique<Null>();
  });
  EXPECT_EQ(make_backend("null-test:x")->model_name(), "null");
  auto kinds = backend_kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "openai"), kinds.end());
}

TEST(LetterDistribution, SoftmaxOverLettersWithFloorForMissing) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  OptionResult r = letter_distribution({std::log(0.2), std::log(0.6), std::log(0.2)});
  EXPECT_NEAR(r.probs[0], 0.2, 1e-15);
  EXPECT_NEAR(r.probs[1], 0.6, 1e-15);
  EXPECT_EQ(r.missing_letters, 0);
  // Raw (full-vocabulary) logprobs that do not sum to 1 are renormalised over the letters.
  r = letter_distribution({std::log(0.1), std::log(0.3)});
  EXPECT_NEAR(r.probs[0], 0.25, 1e-15);
  EXPECT_NEAR(r.probs[1], 0.75, 1e-15);
  // A missing letter gets 1e-10 before renormalisation (reference §8.1).
  r = letter_distribution({std::log(0.5), nan, std::log(0.5)});
  EXPECT_EQ(r.missing_letters, 1);
  EXPECT_NEAR(r.probs[1], 1e-10 / (1 + 1e-10), 1e-22);
  EXPECT_NEAR(r.probs[0] + r.probs[1] + r.probs[2], 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(r.raw_logprobs[1]));
}

}  // namespace
}  // namespace um::backend
