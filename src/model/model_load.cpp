// Loading a Hugging Face directory into torch tensors: views over the memory-mapped safetensors
// where the stored layout is used as is, one converted/transposed copy otherwise.
#include <ATen/Parallel.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numbers>

#include "model/detail/decode_step.h"
#include "model/detail/model_impl.h"
#include "util/error.h"
#include "util/heap.h"
#include "util/thread_pool.h"

namespace um::model {

namespace {

at::ScalarType to_scalar(StDType d) {
  switch (d) {
    case StDType::F32:
      return at::kFloat;
    case StDType::F16:
      return at::kHalf;
    case StDType::BF16:
      return at::kBFloat16;
  }
  return at::kFloat;
}

// A tensor over the mapping (no copy) when aligned, else an aligned copy.
at::Tensor mapped(const TensorView& v) {
  auto opts = at::TensorOptions().dtype(to_scalar(v.dtype));
  const size_t el = st_dtype_size(v.dtype);
  if (reinterpret_cast<uintptr_t>(v.data) % el != 0) {
    at::Tensor t = at::empty(v.shape, opts);
    std::memcpy(t.data_ptr(), v.data, v.nbytes);
    return t;
  }
  return at::from_blob(const_cast<void*>(v.data), v.shape, opts);
}

struct Loader {
  const SafetensorsSet& files;
  at::ScalarType scalar;
  bool transposed;

  at::Tensor get(TensorKind kind, int64_t layer, std::vector<int64_t> shape) const {
    const std::string name = hf_tensor_name(kind, layer);
    const TensorView& v = files.at(name);
    if (v.shape != shape) {
      std::string want, got;
      for (auto s : shape) want += (want.empty() ? "" : ",") + std::to_string(s);
      for (auto s : v.shape) got += (got.empty() ? "" : ",") + std::to_string(s);
      throw util::Error("tensor shape [" + got + "] does not match the config (expected [" + want + "])",
                        {.field = name});
    }
    at::Tensor t = mapped(v);
    return t.scalar_type() == scalar ? t : t.to(scalar);
  }
  bool has(TensorKind kind, int64_t layer) const {
    return files.find(hf_tensor_name(kind, layer)) != nullptr;
  }

  Linear linear(const at::Tensor& w, at::Tensor b = {}) const {
    Linear l;
    l.transposed = transposed;
    l.w = transposed ? w.t().contiguous() : w;
    l.b = b;
    return l;
  }
  // Several [out_i, in] projections fused into one [in, sum out_i] transposed weight.
  Linear fused(const std::vector<at::Tensor>& ws, const std::vector<at::Tensor>& bs) const {
    Linear l;
    l.transposed = true;
    std::vector<at::Tensor> parts;
    for (const auto& w : ws) parts.push_back(w.t());
    l.w = at::cat(parts, 1).contiguous();
    if (!bs.empty() && bs[0].defined()) l.b = at::cat(bs, 0);
    return l;
  }
};

// RoPE inverse frequencies with optional "llama3" scaling (HF _compute_llama3_parameters).
at::Tensor rope_inv_freq(const ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // HF computes base ** (arange(0, dim, 2).float() / dim) in float32.
    float expo = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
    f[i] = 1.0f / std::pow(static_cast<float>(c.rope_theta), expo);
  }
  if (c.rope_scaling.type == "llama3") {
    const auto& rs = c.rope_scaling;
    const double old_ctx = static_cast<double>(rs.original_max_position_embeddings);
    const double low_wavelen = old_ctx / rs.low_freq_factor;
    const double high_wavelen = old_ctx / rs.high_freq_factor;
    for (auto& x : f) {
      const double inv = x;
      const double wavelen = 2.0 * std::numbers::pi / inv;
      double out = wavelen > low_wavelen ? inv / rs.factor : inv;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      if (medium) {
        const double smooth =
            (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
        out = (1.0 - smooth) * out / rs.factor + smooth * out;
      }
      x = static_cast<float>(out);
    }
  }
  return at::from_blob(f.data(), {half}, at::kFloat).clone();
}

}  // namespace

DType parse_dtype(const std::string& s) {
  if (s == "bf16" || s == "bfloat16") return DType::BF16;
  if (s == "f32" || s == "float32") return DType::F32;
  throw util::NotSupported("dtype '" + s + "' is not supported (f32, bf16)", {.field = "dtype"});
}

const char* dtype_name(DType d) { return d == DType::BF16 ? "bf16" : "f32"; }

void configure_threads(int threads) {
  // libgomp reads OMP_WAIT_POLICY when it is loaded, so this only reaches OpenMP runtimes started
  // later (and child processes); the CLI documents setting it in the environment.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  const int n = threads > 0 ? threads : static_cast<int>(util::default_threads());
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
const ModelConfig& Model::config() const { return impl_->config; }
DType Model::dtype() const { return impl_->dtype; }

std::shared_ptr<const Model> Model::load(const std::filesystem::path& dir, const LoadOptions& opts) {
  return load_model_with_layout(dir, opts,
                                opts.pretranspose ? WeightLayout::Transposed : WeightLayout::Stored);
}

std::shared_ptr<const Model> load_model_with_layout(const std::filesystem::path& dir, const LoadOptions& opts,
                                                    WeightLayout layout) {
  configure_threads(opts.threads);
  util::keep_freed_heap();  // every forward pass frees its activations (util/heap.h)
  auto impl = std::make_unique<Model::Impl>();
  impl->config = load_config(dir);
  const ModelConfig& c = impl->config;
  impl->dtype = opts.dtype;
  impl->scalar = opts.dtype == DType::BF16 ? at::kBFloat16 : at::kFloat;
  impl->files = std::make_unique<SafetensorsSet>(dir);
  const bool tr = layout == WeightLayout::Transposed;
  Loader ld{*impl->files, impl->scalar, tr};
  const int64_t H = c.hidden_size, d = c.head_dim, qd = c.num_heads * d, kvd = c.num_kv_heads * d,
                I = c.intermediate_size, V = c.vocab_size;

  impl->embed = ld.get(TensorKind::Embed, -1, {V, H});
  impl->final_norm = ld.get(TensorKind::FinalNorm, -1, {H});
  if (c.tie_word_embeddings) {
    impl->lm_head = ld.linear(impl->embed);
  } else {
    impl->lm_head = ld.linear(ld.get(TensorKind::LmHead, -1, {V, H}));
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerWeights w;
    w.input_norm = ld.get(TensorKind::InputNorm, l, {H});
    w.post_norm = ld.get(TensorKind::PostNorm, l, {H});
    if (c.qk_norm) {
      w.q_norm = ld.get(TensorKind::QNorm, l, {d});
      w.k_norm = ld.get(TensorKind::KNorm, l, {d});
    }
    at::Tensor q = ld.get(TensorKind::Q, l, {qd, H}), k = ld.get(TensorKind::K, l, {kvd, H}),
               v = ld.get(TensorKind::V, l, {kvd, H});
    at::Tensor qb, kb, vb;
    if (c.qkv_bias) {
      qb = ld.get(TensorKind::QBias, l, {qd});
      kb = ld.get(TensorKind::KBias, l, {kvd});
      vb = ld.get(TensorKind::VBias, l, {kvd});
    } else if (ld.has(TensorKind::QBias, l)) {
      throw util::Error("weights carry q/k/v biases but the config does not enable them",
                        {.file = dir.string(), .field = hf_tensor_name(TensorKind::QBias, l)});
    }
    at::Tensor gate = ld.get(TensorKind::Gate, l, {I, H}), up = ld.get(TensorKind::Up, l, {I, H});
    w.fused = tr;
    if (tr) {
      w.qkv = ld.fused({q, k, v}, {qb, kb, vb});
      w.gate_up = ld.fused({gate, up}, {});
    } else {
      w.q = ld.linear(q, qb);
      w.k = ld.linear(k, kb);
      w.v = ld.linear(v, vb);
      w.gate = ld.linear(gate);
      w.up = ld.linear(up);
    }
    w.o = ld.linear(ld.get(TensorKind::O, l, {H, qd}));
    w.down = ld.linear(ld.get(TensorKind::Down, l, {H, I}));
    impl->layers.push_back(std::move(w));
  }
  impl->inv_freq = rope_inv_freq(c);
  impl->fused_decode_weights = detail::fused_decode_weights_fit(*impl);
  if (tr) impl->files->release_resident_pages();  // the copies replaced the mapped pages
  return std::make_shared<const Model>(std::move(impl));
}

}  // namespace um::model
