#include "model/init.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/arch/arch.h"
#include "model/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/float16.h"
#include "util/rng.h"

namespace um::model {

namespace {
using nlohmann::json;
namespace fs = std::filesystem;

json read_json(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw util::Error("cannot open file", {.file = p.string()});
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw util::Error(std::string("invalid JSON: ") + e.what(), {.file = p.string()});
  }
}

// Id of a special token named by tokenizer_config.json ("eos_token": "<|im_end|>" or {"content": ...}).
int64_t special_token_id(const json& tok, const json& tok_cfg, const char* key) {
  auto it = tok_cfg.find(key);
  if (it == tok_cfg.end() || it->is_null()) return -1;
  std::string content = it->is_string() ? it->get<std::string>() : it->value("content", std::string());
  if (content.empty()) return -1;
  if (tok.contains("added_tokens")) {
    for (const auto& a : tok["added_tokens"]) {
      if (a.value("content", std::string()) == content) return a.value("id", int64_t{-1});
    }
  }
  if (tok.contains("model") && tok["model"].contains("vocab")) {
    const auto& v = tok["model"]["vocab"];
    if (v.is_object() && v.contains(content)) return v[content].get<int64_t>();
  }
  return -1;
}

struct Entry {
  TensorKind kind;
  int64_t layer;
  std::vector<int64_t> shape;
};

std::vector<Entry> layout(const ModelConfig& c) {
  const int64_t H = c.hidden_size, d = c.head_dim, q = c.num_heads * d, kv = c.num_kv_heads * d,
                I = c.intermediate_size;
  std::vector<Entry> e;
  e.push_back({TensorKind::Embed, -1, {c.vocab_size, H}});
  for (int64_t l = 0; l < c.num_layers; ++l) {
    e.push_back({TensorKind::InputNorm, l, {H}});
    e.push_back({TensorKind::Q, l, {q, H}});
    e.push_back({TensorKind::K, l, {kv, H}});
    e.push_back({TensorKind::V, l, {kv, H}});
    if (c.qkv_bias) {
      e.push_back({TensorKind::QBias, l, {q}});
      e.push_back({TensorKind::KBias, l, {kv}});
      e.push_back({TensorKind::VBias, l, {kv}});
    }
    if (c.qk_norm) {
      e.push_back({TensorKind::QNorm, l, {d}});
      e.push_back({TensorKind::KNorm, l, {d}});
    }
    e.push_back({TensorKind::O, l, {H, q}});
    e.push_back({TensorKind::PostNorm, l, {H}});
    e.push_back({TensorKind::Gate, l, {I, H}});
    e.push_back({TensorKind::Up, l, {I, H}});
    e.push_back({TensorKind::Down, l, {H, I}});
  }
  e.push_back({TensorKind::FinalNorm, -1, {H}});
  if (!c.tie_word_embeddings) e.push_back({TensorKind::LmHead, -1, {c.vocab_size, H}});
  return e;
}

bool is_norm(TensorKind k) {
  return k == TensorKind::InputNorm || k == TensorKind::PostNorm || k == TensorKind::FinalNorm ||
         k == TensorKind::QNorm || k == TensorKind::KNorm;
}
bool is_bias(TensorKind k) {
  return k == TensorKind::QBias || k == TensorKind::KBias || k == TensorKind::VBias;
}

}  // namespace

int64_t tokenizer_vocab_size(const fs::path& tokenizer_json) {
  json tok = read_json(tokenizer_json);
  int64_t max_id = -1;
  if (tok.contains("model") && tok["model"].contains("vocab") && tok["model"]["vocab"].is_object()) {
    for (const auto& [k, v] : tok["model"]["vocab"].items()) max_id = std::max(max_id, v.get<int64_t>());
  }
  if (tok.contains("added_tokens")) {
    for (const auto& a : tok["added_tokens"]) max_id = std::max(max_id, a.value("id", int64_t{-1}));
  }
  if (max_id < 0)
    throw util::Error("tokenizer has no vocabulary",
                      {.file = tokenizer_json.string(), .field = "model.vocab"});
  return max_id + 1;
}

ModelConfig init_config(const InitOptions& o) {
  const auto& spec = arch::find_by_family(o.arch);
  ModelConfig c;
  c.architecture = spec.hf_class;
  c.family = spec.family;
  spec.init_defaults(c);
  c.num_layers = o.layers;
  c.hidden_size = o.hidden;
  c.num_heads = o.heads;
  c.num_kv_heads = o.kv_heads > 0 ? o.kv_heads : o.heads;
  c.intermediate_size = o.intermediate > 0 ? o.intermediate : 4 * o.hidden;
  c.head_dim = o.head_dim > 0 ? o.head_dim : (o.heads > 0 ? o.hidden / o.heads : 0);
  c.tie_word_embeddings = o.tie_embeddings;
  c.max_position_embeddings = 32768;
  if (o.dtype != "bf16" && o.dtype != "f32") {
    throw util::NotSupported("dtype must be bf16 or f32", {.field = "dtype"});
  }
  c.torch_dtype = o.dtype == "bf16" ? "bfloat16" : "float32";
  if (!o.rope_scaling.empty()) {
    if (o.rope_scaling != "llama3") {
      throw util::NotSupported("rope scaling '" + o.rope_scaling + "' is not supported (llama3)",
                               {.field = "rope_scaling"});
    }
    // Llama 3.1's values, with a small original context so tiny tests cross every frequency band.
    c.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 8192};
  }
  auto tok_json = o.tokenizer_dir / "tokenizer.json";
  if (!fs::exists(tok_json))
    throw util::Error("tokenizer.json not found", {.file = o.tokenizer_dir.string()});
  c.vocab_size = o.vocab > 0 ? o.vocab : tokenizer_vocab_size(tok_json);
  auto cfg_path = o.tokenizer_dir / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    json tok = read_json(tok_json), tok_cfg = read_json(cfg_path);
    int64_t eos = special_token_id(tok, tok_cfg, "eos_token");
    if (eos >= 0 && eos < c.vocab_size) c.eos_token_ids = {eos};
    int64_t bos = special_token_id(tok, tok_cfg, "bos_token");
    if (bos >= 0 && bos < c.vocab_size) c.bos_token_id = bos;
  }
  // Validate through the same parser the loader uses.
  return parse_config(config_to_json(c), "config.json");
}

ModelConfig init_random_model(const InitOptions& o) {
  ModelConfig c = init_config(o);
  fs::create_directories(o.out_dir);
  const StDType dt = o.dtype == "bf16" ? StDType::BF16 : StDType::F32;
  auto entries = layout(c);
  std::vector<TensorSpec> specs;
  for (const auto& e : entries) specs.push_back({hf_tensor_name(e.kind, e.layer), dt, e.shape});
  // Values: uniform with std 1/sqrt(fan_in) so activations and logits stay O(1) in tiny models and the
  // exactness tests compare non-trivial numbers; norm weights near 1 and small biases, all non-zero.
  write_safetensors(o.out_dir / "model.safetensors", specs, [&](size_t i, std::vector<uint8_t>& bytes) {
    const auto& e = entries[i];
    int64_t n = 1;
    for (auto s : e.shape) n *= s;
    util::Rng rng = util::Rng::stream(o.seed, specs[i].name, 0);
    double center = 0.0, half = 0.0;
    if (is_norm(e.kind)) {
      center = 1.0;
      half = 0.25;
    } else if (is_bias(e.kind)) {
      half = 0.2;
    } else {
      half = std::sqrt(3.0) / std::sqrt(static_cast<double>(e.shape.back()));
    }
    bytes.resize(static_cast<size_t>(n) * st_dtype_size(dt));
    for (int64_t k = 0; k < n; ++k) {
      float v = static_cast<float>(center + half * (2.0 * rng.uniform01() - 1.0));
      if (dt == StDType::BF16) {
        uint16_t b = util::f32_to_bf16(v);
        std::memcpy(bytes.data() + 2 * k, &b, 2);
      } else {
        std::memcpy(bytes.data() + 4 * k, &v, 4);
      }
    }
  });
  util::write_file_atomic(o.out_dir / "config.json", config_to_json(c));
  util::write_file_atomic(o.out_dir / "generation_config.json", generation_config_to_json(c));
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    auto src = o.tokenizer_dir / f;
    if (fs::exists(src) && fs::absolute(src) != fs::absolute(o.out_dir / f)) {
      fs::copy_file(src, o.out_dir / f, fs::copy_options::overwrite_existing);
    }
  }
  return c;
}

}  // namespace um::model
