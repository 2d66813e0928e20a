// The one place that knows Hugging Face config.json / generation_config.json key names.
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "model/arch/arch.h"
#include "model/config.h"
#include "util/error.h"

namespace um::model {

namespace {

using nlohmann::json;

namespace key {
constexpr const char* kArchitectures = "architectures";
constexpr const char* kModelType = "model_type";
constexpr const char* kVocab = "vocab_size";
constexpr const char* kHidden = "hidden_size";
constexpr const char* kIntermediate = "intermediate_size";
constexpr const char* kLayers = "num_hidden_layers";
constexpr const char* kHeads = "num_attention_heads";
constexpr const char* kKvHeads = "num_key_value_heads";
constexpr const char* kHeadDim = "head_dim";
constexpr const char* kRopeTheta = "rope_theta";
constexpr const char* kRmsEps = "rms_norm_eps";
constexpr const char* kMaxPos = "max_position_embeddings";
constexpr const char* kTie = "tie_word_embeddings";
constexpr const char* kAttnBias = "attention_bias";
constexpr const char* kMlpBias = "mlp_bias";
constexpr const char* kHiddenAct = "hidden_act";
constexpr const char* kSlidingWindow = "sliding_window";
constexpr const char* kUseSlidingWindow = "use_sliding_window";
constexpr const char* kRopeScaling = "rope_scaling";
constexpr const char* kRopeType = "rope_type";
constexpr const char* kRopeTypeOld = "type";
constexpr const char* kFactor = "factor";
constexpr const char* kLowFreq = "low_freq_factor";
constexpr const char* kHighFreq = "high_freq_factor";
constexpr const char* kOrigMaxPos = "original_max_position_embeddings";
constexpr const char* kTorchDtype = "torch_dtype";
constexpr const char* kBos = "bos_token_id";
constexpr const char* kEos = "eos_token_id";
}  // namespace key

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw util::Error("cannot open file", {.file = p.string()});
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number beyond double's
    throw util::Error(std::string("invalid JSON: ") + e.what(), {.file = source});
  }
}

int64_t get_int(const json& j, const char* k, const std::string& src,
                std::optional<int64_t> def = std::nullopt) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) {
    if (def) return *def;
    throw util::Error("required key is missing", {.file = src, .field = k});
  }
  if (!it->is_number_integer()) throw util::Error("must be an integer", {.file = src, .field = k});
  return it->get<int64_t>();
}

double get_num(const json& j, const char* k, const std::string& src, double def) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_number()) throw util::Error("must be a number", {.file = src, .field = k});
  return it->get<double>();
}

bool get_bool(const json& j, const char* k, const std::string& src, bool def) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) throw util::Error("must be true or false", {.file = src, .field = k});
  return it->get<bool>();
}

std::vector<int64_t> get_ids(const json& j, const char* k, const std::string& src) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_number_integer()) return {it->get<int64_t>()};
  if (it->is_array()) {
    std::vector<int64_t> out;
    for (const auto& v : *it) {
      if (!v.is_number_integer()) throw util::Error("must be integers", {.file = src, .field = k});
      out.push_back(v.get<int64_t>());
    }
    return out;
  }
  throw util::Error("must be an integer or a list of integers", {.file = src, .field = k});
}

void parse_rope_scaling(const json& j, ModelConfig& c, const std::string& src) {
  auto it = j.find(key::kRopeScaling);
  if (it == j.end() || it->is_null()) return;
  const json& rs = *it;
  std::string type;
  if (rs.contains(key::kRopeType))
    type = rs[key::kRopeType].get<std::string>();
  else if (rs.contains(key::kRopeTypeOld))
    type = rs[key::kRopeTypeOld].get<std::string>();
  if (type == "default" || type.empty()) return;
  if (type != "llama3") {
    throw util::NotSupported("rope scaling type '" + type + "' is not supported (supported: llama3)",
                             {.file = src, .field = "rope_scaling.rope_type"});
  }
  c.rope_scaling.type = type;
  c.rope_scaling.factor = get_num(rs, key::kFactor, src, 8.0);
  c.rope_scaling.low_freq_factor = get_num(rs, key::kLowFreq, src, 1.0);
  c.rope_scaling.high_freq_factor = get_num(rs, key::kHighFreq, src, 4.0);
  c.rope_scaling.original_max_position_embeddings = get_int(rs, key::kOrigMaxPos, src, 8192);
}

void validate(const ModelConfig& c, const std::string& src) {
  auto positive = [&](int64_t v, const char* k) {
    if (v <= 0) throw util::Error("must be positive", {.file = src, .field = k});
  };
  positive(c.vocab_size, key::kVocab);
  positive(c.hidden_size, key::kHidden);
  positive(c.intermediate_size, key::kIntermediate);
  positive(c.num_layers, key::kLayers);
  positive(c.num_heads, key::kHeads);
  positive(c.num_kv_heads, key::kKvHeads);
  positive(c.head_dim, key::kHeadDim);
  if (c.num_heads % c.num_kv_heads != 0) {
    throw util::Error("num_attention_heads must be a multiple of num_key_value_heads",
                      {.file = src, .field = key::kKvHeads});
  }
  if (c.head_dim % 2 != 0)
    throw util::Error("head_dim must be even (RoPE)", {.file = src, .field = key::kHeadDim});
}

}  // namespace

namespace {
ModelConfig parse_config_json(const std::string& config_json, const std::string& src);
}  // namespace

ModelConfig parse_config(const std::string& config_json, const std::string& src) {
  try {
    return parse_config_json(config_json, src);
  } catch (const json::exception& e) {
    // A value of the wrong type where a checked accessor does not look (e.g. a non-string
    // architecture or rope_type): an error naming the file, never a library exception.
    throw util::Error(std::string("malformed config: ") + e.what(), {.file = src});
  }
}

namespace {
ModelConfig parse_config_json(const std::string& config_json, const std::string& src) {
  json j = parse_json(config_json, src);
  if (!j.is_object()) throw util::Error("config must be a JSON object", {.file = src});
  auto arch_it = j.find(key::kArchitectures);
  if (arch_it == j.end() || !arch_it->is_array() || arch_it->empty()) {
    throw util::Error("required key is missing or empty", {.file = src, .field = key::kArchitectures});
  }
  if (arch_it->size() != 1) {
    throw util::NotSupported("exactly one architecture expected",
                             {.file = src, .field = key::kArchitectures});
  }
  const auto& spec = arch::find_by_class(arch_it->at(0).get<std::string>(), src);

  ModelConfig c;
  c.architecture = spec.hf_class;
  c.family = spec.family;
  c.vocab_size = get_int(j, key::kVocab, src);
  c.hidden_size = get_int(j, key::kHidden, src);
  c.intermediate_size = get_int(j, key::kIntermediate, src);
  c.num_layers = get_int(j, key::kLayers, src);
  c.num_heads = get_int(j, key::kHeads, src);
  c.num_kv_heads = get_int(j, key::kKvHeads, src, c.num_heads);
  c.head_dim = get_int(j, key::kHeadDim, src, c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
  c.rope_theta = get_num(j, key::kRopeTheta, src, 10000.0);
  c.rms_norm_eps = get_num(j, key::kRmsEps, src, 1e-6);
  c.max_position_embeddings = get_int(j, key::kMaxPos, src, 4096);
  c.tie_word_embeddings = get_bool(j, key::kTie, src, false);
  c.qkv_bias = get_bool(j, key::kAttnBias, src, false);
  if (get_bool(j, key::kMlpBias, src, false)) {
    throw util::NotSupported("MLP biases are not supported", {.file = src, .field = key::kMlpBias});
  }
  if (j.contains(key::kHiddenAct) && j[key::kHiddenAct] != "silu") {
    throw util::NotSupported("only hidden_act \"silu\" is supported",
                             {.file = src, .field = key::kHiddenAct});
  }
  // Qwen2/3 carry a sliding_window value that is inactive unless use_sliding_window is true.
  bool has_use_flag = j.contains(key::kUseSlidingWindow);
  if (get_bool(j, key::kUseSlidingWindow, src, false)) {
    throw util::NotSupported("sliding-window attention is not supported",
                             {.file = src, .field = key::kUseSlidingWindow});
  }
  if (!has_use_flag) c.sliding_window = get_int(j, key::kSlidingWindow, src, 0);
  parse_rope_scaling(j, c, src);
  if (j.contains(key::kTorchDtype) && j[key::kTorchDtype].is_string()) c.torch_dtype = j[key::kTorchDtype];
  c.bos_token_id = get_int(j, key::kBos, src, -1);
  c.eos_token_ids = get_ids(j, key::kEos, src);
  spec.apply(c, src);
  validate(c, src);
  return c;
}
}  // namespace

ModelConfig load_config(const std::filesystem::path& dir) {
  auto cfg_path = dir / "config.json";
  if (!std::filesystem::exists(cfg_path))
    throw util::Error("model directory has no config.json", {.file = dir.string()});
  ModelConfig c = parse_config(read_text(cfg_path), cfg_path.string());
  auto gen_path = dir / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    json g = parse_json(read_text(gen_path), gen_path.string());
    auto eos = get_ids(g, key::kEos, gen_path.string());
    if (!eos.empty()) c.eos_token_ids = eos;
    if (c.bos_token_id < 0) c.bos_token_id = get_int(g, key::kBos, gen_path.string(), -1);
  }
  return c;
}

std::string config_to_json(const ModelConfig& c) {
  const auto& spec = arch::find_by_family(c.family);
  json j;
  j[key::kArchitectures] = json::array({spec.hf_class});
  j[key::kModelType] = spec.model_type;
  j[key::kVocab] = c.vocab_size;
  j[key::kHidden] = c.hidden_size;
  j[key::kIntermediate] = c.intermediate_size;
  j[key::kLayers] = c.num_layers;
  j[key::kHeads] = c.num_heads;
  j[key::kKvHeads] = c.num_kv_heads;
  j[key::kHeadDim] = c.head_dim;
  j[key::kRopeTheta] = c.rope_theta;
  j[key::kRmsEps] = c.rms_norm_eps;
  j[key::kMaxPos] = c.max_position_embeddings;
  j[key::kTie] = c.tie_word_embeddings;
  j[key::kHiddenAct] = "silu";
  if (spec.hf_keys.attention_bias) j[key::kAttnBias] = c.qkv_bias;
  if (spec.hf_keys.use_sliding_window) j[key::kUseSlidingWindow] = false;
  if (spec.hf_keys.sliding_window) {
    j[key::kSlidingWindow] = c.sliding_window > 0 ? json(c.sliding_window) : json(nullptr);
  }
  if (c.rope_scaling.type.empty()) {
    j[key::kRopeScaling] = nullptr;
  } else {
    j[key::kRopeScaling] = {{key::kRopeType, c.rope_scaling.type},
                            {key::kFactor, c.rope_scaling.factor},
                            {key::kLowFreq, c.rope_scaling.low_freq_factor},
                            {key::kHighFreq, c.rope_scaling.high_freq_factor},
                            {key::kOrigMaxPos, c.rope_scaling.original_max_position_embeddings}};
  }
  j[key::kTorchDtype] = c.torch_dtype;
  if (c.bos_token_id >= 0) j[key::kBos] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1)
    j[key::kEos] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty())
    j[key::kEos] = c.eos_token_ids;
  return j.dump(2) + "\n";
}

std::string generation_config_to_json(const ModelConfig& c) {
  json j;
  if (c.bos_token_id >= 0) j[key::kBos] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1)
    j[key::kEos] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty())
    j[key::kEos] = c.eos_token_ids;
  return j.dump(2) + "\n";
}

}  // namespace um::model

namespace um::model {

std::string hf_tensor_name(TensorKind kind, int64_t layer) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  switch (kind) {
    case TensorKind::Embed:
      return "model.embed_tokens.weight";
    case TensorKind::FinalNorm:
      return "model.norm.weight";
    case TensorKind::LmHead:
      return "lm_head.weight";
    case TensorKind::InputNorm:
      return p + "input_layernorm.weight";
    case TensorKind::Q:
      return p + "self_attn.q_proj.weight";
    case TensorKind::K:
      return p + "self_attn.k_proj.weight";
    case TensorKind::V:
      return p + "self_attn.v_proj.weight";
    case TensorKind::O:
      return p + "self_attn.o_proj.weight";
    case TensorKind::QBias:
      return p + "self_attn.q_proj.bias";
    case TensorKind::KBias:
      return p + "self_attn.k_proj.bias";
    case TensorKind::VBias:
      return p + "self_attn.v_proj.bias";
    case TensorKind::QNorm:
      return p + "self_attn.q_norm.weight";
    case TensorKind::KNorm:
      return p + "self_attn.k_norm.weight";
    case TensorKind::PostNorm:
      return p + "post_attention_layernorm.weight";
    case TensorKind::Gate:
      return p + "mlp.gate_proj.weight";
    case TensorKind::Up:
      return p + "mlp.up_proj.weight";
    case TensorKind::Down:
      return p + "mlp.down_proj.weight";
  }
  return {};
}

}  // namespace um::model
