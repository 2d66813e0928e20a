#include "train/train_fixtures.h"

#include <gtest/gtest.h>

#include "common/shared_data.h"
#include "util/rng.h"

namespace um::testing {

std::filesystem::path tiny_train_model(const std::string& arch, const std::string& tag, int64_t vocab,
                                       int64_t kv_heads, uint64_t seed) {
  model::InitOptions o;
  o.arch = arch;
  o.layers = 2;
  o.hidden = 32;
  o.heads = 4;
  o.kv_heads = kv_heads;
  o.intermediate = 48;
  o.vocab = vocab;
  o.dtype = "f32";
  o.seed = seed;
  auto tok = shared_path("tokenizers/qwen3");
  o.tokenizer_dir = tok ? *tok : source_dir();
  o.out_dir = temp_dir("train-model-" + tag);
  model::init_random_model(o);
  return o.out_dir;
}

namespace {
train::TokenExample make_example(util::Rng& rng, int64_t vocab, int32_t answer_first) {
  train::TokenExample e;
  const int64_t prompt = rng.uniform_int(6, 12), answer = rng.uniform_int(3, 5);
  for (int64_t i = 0; i < prompt; ++i) e.ids.push_back(static_cast<int32_t>(rng.uniform_int(20, vocab - 1)));
  e.ids.push_back(answer_first);
  for (int64_t i = 1; i < answer; ++i) e.ids.push_back(static_cast<int32_t>(10 + i));  // fixed tail
  e.target.assign(e.ids.size(), 0);
  for (size_t i = static_cast<size_t>(prompt); i < e.ids.size(); ++i) e.target[i] = 1;
  return e;
}
}  // namespace

std::vector<train::TokenExample> token_sft_data(int n, int64_t vocab, uint64_t seed) {
  util::Rng rng(seed);
  std::vector<train::TokenExample> out;
  for (int i = 0; i < n; ++i) {
    const int32_t letter = static_cast<int32_t>(rng.categorical({0.6, 0.3, 0.1}));  // ids 0, 1, 2
    out.push_back(make_example(rng, vocab, letter));
  }
  return out;
}

std::vector<train::PrefExample> token_pref_data(int n, int64_t vocab, uint64_t seed) {
  util::Rng rng(seed);
  std::vector<train::PrefExample> out;
  for (int i = 0; i < n; ++i) {
    train::PrefExample p;
    util::Rng copy = rng;  // same prompt for both
    p.chosen = make_example(copy, vocab, 1);
    p.rejected = make_example(rng, vocab, 2);
    out.push_back(std::move(p));
  }
  return out;
}

train::TrainOptions fast_options(const std::filesystem::path& model, const std::string& tag) {
  train::TrainOptions o = train::sft_defaults();
  o.model_dir = model;
  o.out_dir = temp_dir("train-out-" + tag);
  o.warmup_steps = 0;
  o.weight_decay = 0.0;  // the unit tests exercise the optimiser without decay unless they set it
  o.export_model = false;
  o.plot = false;
  o.threads = 1;  // the test machine is shared: one thread avoids stalls at parallel barriers
  return o;
}

model::Logits engine_logits(const std::filesystem::path& model_dir, const std::vector<int32_t>& ids) {
  return model::logits_for_ids(model_dir, ids, true, model::DType::F32);
}

}  // namespace um::testing
