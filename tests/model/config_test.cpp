// HF config parsing, unsupported configurations naming their field, safetensors round trip and
// sharded loading, model init determinism and the logits command interface.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "model/safetensors.h"
#include "model/tiny_models.h"
#include "util/error.h"
#include "util/float16.h"

namespace um {
namespace {

std::string base_config(const std::string& arch) {
  return R"({"architectures": [")" + arch + R"("], "vocab_size": 100, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
    "eos_token_id": [5, 6], "tie_word_embeddings": true})";
}

std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const util::Error& e) {
    return e.where().field;
  }
  return "<no error>";
}

TEST(HfConfig, ParsesCommonAndFamilyKeys) {
  auto c = model::parse_config(base_config("Qwen2ForCausalLM"), "config.json");
  EXPECT_EQ(c.family, "qwen2");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{5, 6}));
  auto q3 = model::parse_config(base_config("Qwen3ForCausalLM"), "config.json");
  EXPECT_TRUE(q3.qk_norm);
  EXPECT_FALSE(q3.qkv_bias);
  auto j = nlohmann::json::parse(base_config("LlamaForCausalLM"));
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 32.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  j["head_dim"] = 32;
  auto l = model::parse_config(j.dump(), "config.json");
  EXPECT_EQ(l.rope_scaling.type, "llama3");
  EXPECT_EQ(l.rope_scaling.factor, 32.0);
  EXPECT_EQ(l.head_dim, 32);
  // Round trip through our writer.
  auto back = model::parse_config(model::config_to_json(l), "x");
  EXPECT_EQ(back.rope_scaling.factor, 32.0);
  EXPECT_EQ(back.head_dim, 32);
  EXPECT_EQ(back.eos_token_ids, l.eos_token_ids);
}

TEST(HfConfig, UnsupportedConfigsNameTheField) {
  auto with = [](const std::string& arch, const char* key, nlohmann::json v) {
    auto j = nlohmann::json::parse(base_config(arch));
    j[key] = v;
    return j.dump();
  };
  EXPECT_EQ(field_of([&] { model::parse_config(base_config("GPT2LMHeadModel"), "c"); }), "architectures");
  EXPECT_EQ(field_of([&] {
              model::parse_config(with("LlamaForCausalLM", "rope_scaling", {{"rope_type", "yarn"}}), "c");
            }),
            "rope_scaling.rope_type");
  EXPECT_EQ(field_of([&] { model::parse_config(with("LlamaForCausalLM", "hidden_act", "gelu"), "c"); }),
            "hidden_act");
  EXPECT_EQ(field_of([&] { model::parse_config(with("LlamaForCausalLM", "mlp_bias", true), "c"); }),
            "mlp_bias");
  EXPECT_EQ(field_of([&] { model::parse_config(with("Qwen2ForCausalLM", "use_sliding_window", true), "c"); }),
            "use_sliding_window");
  EXPECT_EQ(field_of([&] { model::parse_config(with("LlamaForCausalLM", "num_key_value_heads", 3), "c"); }),
            "num_key_value_heads");
  EXPECT_EQ(field_of([&] { model::parse_config(with("LlamaForCausalLM", "hidden_size", "x"), "c"); }),
            "hidden_size");
  auto j = nlohmann::json::parse(base_config("LlamaForCausalLM"));
  j.erase("vocab_size");
  EXPECT_EQ(field_of([&] { model::parse_config(j.dump(), "c"); }), "vocab_size");
  EXPECT_THROW(model::parse_config(with("GPT2LMHeadModel", "x", 1), "c"), util::NotSupported);
}

TEST(Safetensors, RoundTripAndBf16) {
  auto dir = testing::temp_dir("st");
  std::vector<float> f = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 7.0f};
  model::TensorData a{"a", model::StDType::F32, {2, 3}, {}};
  a.bytes.resize(f.size() * 4);
  std::memcpy(a.bytes.data(), f.data(), a.bytes.size());
  model::TensorData b{"b.weight", model::StDType::BF16, {3}, {}};
  for (float v : {1.0f, -0.5f, 65536.0f}) {
    uint16_t h = util::f32_to_bf16(v);
    b.bytes.push_back(static_cast<uint8_t>(h & 0xff));
    b.bytes.push_back(static_cast<uint8_t>(h >> 8));
  }
  model::write_safetensors(dir / "x.safetensors", {a, b});
  model::SafetensorsFile file(dir / "x.safetensors");
  const auto& t = file.tensors();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(t.at("a").data, f.data(), 24), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.at("a").data) % 8, 0u);  // header padded to 8 bytes
  const auto* bb = static_cast<const uint16_t*>(t.at("b.weight").data);
  EXPECT_EQ(util::bf16_to_f32(bb[0]), 1.0f);
  EXPECT_EQ(util::bf16_to_f32(bb[1]), -0.5f);
  EXPECT_EQ(util::bf16_to_f32(bb[2]), 65536.0f);
  EXPECT_EQ(util::bf16_to_f32(util::f32_to_bf16(1.00390625f)), 1.0f);  // ties round to even
  EXPECT_EQ(util::f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(util::f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(util::f16_to_f32(0x0001), std::ldexp(1.0f, -24));
}

TEST(ModelInit, DeterministicAndShardedLoadingAgrees) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  auto o = testing::tiny_options("llama");
  o.kv_heads = 2;
  auto d1 = testing::make_tiny_model(o, tok, "det1");
  auto d2 = testing::make_tiny_model(o, tok, "det2");
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(d1 / "model.safetensors"), read(d2 / "model.safetensors"));
  EXPECT_EQ(read(d1 / "tokenizer.json"), read(tok / "tokenizer.json"));
  o.seed = 8;
  auto d3 = testing::make_tiny_model(o, tok, "det3");
  EXPECT_NE(read(d1 / "model.safetensors"), read(d3 / "model.safetensors"));
  // With the tokenizer's full vocabulary, its <|im_end|> is the eos id (a 512-token toy vocabulary
  // cannot hold it, so none is written).
  EXPECT_TRUE(model::load_config(d1).eos_token_ids.empty());
  auto full = o;
  full.vocab = 0;
  full.tokenizer_dir = tok;
  EXPECT_EQ(model::init_config(full).eos_token_ids, (std::vector<int64_t>{151645}));

  // Re-shard d1 into two files with an index: identical logits.
  auto sh = testing::temp_dir("sharded");
  model::SafetensorsFile whole(d1 / "model.safetensors");
  std::vector<model::TensorData> part[2];
  nlohmann::json index;
  size_t i = 0;
  for (const auto& [name, v] : whole.tensors()) {
    const size_t k = i++ % 2;
    const char* file = k ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
    model::TensorData t{name, v.dtype, v.shape, {}};
    t.bytes.assign(static_cast<const uint8_t*>(v.data), static_cast<const uint8_t*>(v.data) + v.nbytes);
    part[k].push_back(std::move(t));
    index["weight_map"][name] = file;
  }
  model::write_safetensors(sh / "model-00001-of-00002.safetensors", part[0]);
  model::write_safetensors(sh / "model-00002-of-00002.safetensors", part[1]);
  std::ofstream(sh / "model.safetensors.index.json") << index.dump();
  std::filesystem::copy_file(d1 / "config.json", sh / "config.json");
  std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  auto a = model::logits_for_ids(d1, ids, true, model::DType::F32);
  auto b = model::logits_for_ids(sh, ids, true, model::DType::F32);
  EXPECT_EQ(a.data, b.data);
  // A missing tensor is reported by name.
  std::filesystem::remove(sh / "model-00002-of-00002.safetensors");
  EXPECT_THROW(model::Model::load(sh), util::Error);
}

TEST(ModelInit, Bf16ComputeTracksF32) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  auto o = testing::tiny_options("qwen2");
  o.kv_heads = 2;
  o.dtype = "bf16";
  auto dir = testing::make_tiny_model(o, tok, "bf16");
  std::vector<int32_t> ids = {3, 14, 15, 92, 65, 35, 89, 79};
  auto f = model::logits_for_ids(dir, ids, true, model::DType::F32);
  auto b = model::logits_for_ids(dir, ids, true, model::DType::BF16);
  EXPECT_LT(testing::max_rel_diff(b, f), 0.1);
  EXPECT_GT(testing::max_rel_diff(b, f), 0.0);  // really computed in bf16
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// f32 -> f16 by truncating the mantissa (normal range only): both engines read the same f16 bytes.
uint16_t to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((u >> 23) & 0xffu) - 127 + 15;
  if (exp <= 0) return static_cast<uint16_t>(sign);  // flush tiny values to zero
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | ((u >> 13) & 0x3ffu));
}

TEST(ModelInit, F16WeightsMatchNumpy) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  auto o = testing::tiny_options("qwen2");
  o.kv_heads = 2;
  auto src = testing::make_tiny_model(o, tok, "f16src");
  auto dst = testing::temp_dir("model-f16");
  model::SafetensorsFile whole(src / "model.safetensors");
  std::vector<model::TensorData> out;
  for (const auto& [name, v] : whole.tensors()) {
    model::TensorData t{name, model::StDType::F16, v.shape, {}};
    const float* f = static_cast<const float*>(v.data);
    for (int64_t i = 0; i < v.numel(); ++i) {
      uint16_t h = to_f16(f[i]);
      t.bytes.push_back(static_cast<uint8_t>(h & 0xff));
      t.bytes.push_back(static_cast<uint8_t>(h >> 8));
    }
    out.push_back(std::move(t));
  }
  model::write_safetensors(dst / "model.safetensors", out);
  std::filesystem::copy_file(src / "config.json", dst / "config.json");
  std::vector<int32_t> ids = {9, 8, 7, 300, 21, 5};
  auto ours = model::logits_for_ids(dst, ids, true, model::DType::F32);
  auto ref = testing::numpy_logits(dst, ids, true);
  EXPECT_LT(testing::max_rel_diff(ours, ref), 1e-4);
  // f16 rounding changed the model: the logits differ from the f32 original.
  EXPECT_GT(testing::max_rel_diff(ours, model::logits_for_ids(src, ids, true, model::DType::F32)), 1e-6);
}

}  // namespace
}  // namespace um
