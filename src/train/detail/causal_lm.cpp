// The training forward mirrors model/forward.cpp operation by operation (HF modeling_llama/qwen2/
// qwen3/mistral semantics): RMSNorm in float32, rotate-half RoPE from float32 angles, grouped-query
// attention with float32 scores and a causal mask, SwiGLU MLP. Tests compare its logits with the
// engine's on exported weights.
#include "train/detail/causal_lm.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <set>

#include "model/safetensors.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::train::detail {

namespace {

using model::TensorKind;

torch::ScalarType st_scalar(model::StDType d) {
  switch (d) {
    case model::StDType::F32:
      return torch::kFloat;
    case model::StDType::F16:
      return torch::kHalf;
    case model::StDType::BF16:
      return torch::kBFloat16;
  }
  return torch::kFloat;
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps,
                       torch::ScalarType compute) {
  const bool low = x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf;
  torch::Tensor xf = low ? x.to(torch::kFloat) : x;
  torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
  if (low) y = y.to(x.scalar_type());
  return (w.scalar_type() == compute ? w : w.to(compute)) * y;
}

// x: [B, T, heads, d]; cos/sin: [1, T, 1, d].
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor rot = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rot * sin;
}

// Same values as model_load.cpp's rope_inv_freq (HF float32 base**(2i/d), optional llama3 scaling).
torch::Tensor rope_inv_freq(const model::ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    float expo = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
    f[static_cast<size_t>(i)] = 1.0f / std::pow(static_cast<float>(c.rope_theta), expo);
  }
  if (c.rope_scaling.type == "llama3") {
    const auto& rs = c.rope_scaling;
    const double old_ctx = static_cast<double>(rs.original_max_position_embeddings);
    const double low_wavelen = old_ctx / rs.low_freq_factor, high_wavelen = old_ctx / rs.high_freq_factor;
    for (auto& x : f) {
      const double inv = x;
      const double wavelen = 2.0 * std::numbers::pi / inv;
      double out = wavelen > low_wavelen ? inv / rs.factor : inv;
      if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
        const double smooth =
            (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
        out = (1.0 - smooth) * out / rs.factor + smooth * out;
      }
      x = static_cast<float>(out);
    }
  }
  return torch::from_blob(f.data(), {half}, torch::kFloat).clone();
}

const char* module_name(TensorKind k) {
  switch (k) {
    case TensorKind::Q:
      return "q_proj";
    case TensorKind::K:
      return "k_proj";
    case TensorKind::V:
      return "v_proj";
    case TensorKind::O:
      return "o_proj";
    case TensorKind::Gate:
      return "gate_proj";
    case TensorKind::Up:
      return "up_proj";
    case TensorKind::Down:
      return "down_proj";
    default:
      return "";
  }
}

// Reentrant activation checkpointing (torch.utils.checkpoint, use_reentrant=True): the block runs
// without saving activations; backward re-runs it with the saved RNG state and backpropagates
// through the recomputation, accumulating parameter gradients directly.
struct CheckpointedBlock : torch::autograd::Function<CheckpointedBlock> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                                                torch::Tensor cos, torch::Tensor sin, torch::Tensor mask,
                                                torch::Tensor /*dummy*/, int64_t layer, int64_t self) {
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["self"] = self;
    ctx->saved_data["rng"] = at::detail::getDefaultCPUGenerator().get_state();
    ctx->save_for_backward({x, cos, sin, mask});
    const auto* m = reinterpret_cast<const CausalLM*>(self);
    return {m->block_fn(static_cast<size_t>(layer), x, cos, sin, mask)};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto* m = reinterpret_cast<const CausalLM*>(ctx->saved_data["self"].toInt());
    const auto layer = static_cast<size_t>(ctx->saved_data["layer"].toInt());
    torch::Tensor x = saved[0].detach().requires_grad_(true);
    auto gen = at::detail::getDefaultCPUGenerator();
    torch::Tensor now = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());
    torch::Tensor y;
    {
      torch::AutoGradMode on(true);
      y = m->block_fn(layer, x, saved[1], saved[2], saved[3]);
    }
    gen.set_state(now);
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(),        torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor LoraLinear::forward(const torch::Tensor& x, torch::ScalarType compute, bool training) const {
  torch::Tensor y =
      torch::linear(x, w.scalar_type() == compute ? w : w.to(compute),
                    b.defined() ? (b.scalar_type() == compute ? b : b.to(compute)) : torch::Tensor());
  if (a.defined()) {
    torch::Tensor xd = training && dropout > 0 ? torch::dropout(x, dropout, true) : x;
    torch::Tensor la = a.scalar_type() == compute ? a : a.to(compute);
    torch::Tensor lb = bm.scalar_type() == compute ? bm : bm.to(compute);
    y = y + torch::linear(torch::linear(xd, la), lb) * scale;
  }
  return y;
}

torch::Tensor LoraLinear::merged() const {
  torch::NoGradGuard ng;
  if (!a.defined()) return w.detach().clone();
  return w.detach() + torch::matmul(bm.detach(), a.detach()) * scale;
}

CausalLM::CausalLM(const std::filesystem::path& dir, const LmOptions& opts) : opts_(opts) {
  cfg_ = model::load_config(dir);
  model::SafetensorsSet files(dir);
  const auto& c = cfg_;
  const int64_t H = c.hidden_size, d = c.head_dim, qd = c.num_heads * d, kvd = c.num_kv_heads * d,
                I = c.intermediate_size, V = c.vocab_size;
  auto get = [&](TensorKind kind, int64_t layer, std::vector<int64_t> shape) {
    const std::string name = model::hf_tensor_name(kind, layer);
    const model::TensorView& v = files.at(name);
    if (v.shape != shape)
      throw util::Error("tensor shape does not match the config", {.file = dir.string(), .field = name});
    torch::Tensor t = torch::empty(v.shape, torch::TensorOptions().dtype(st_scalar(v.dtype)));
    std::memcpy(t.data_ptr(), v.data, v.nbytes);
    return t.to(opts_.master).contiguous();
  };
  std::set<std::string> targets(opts_.lora.targets.begin(), opts_.lora.targets.end());
  for (const auto& t : targets) {
    static const std::set<std::string> known = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
    if (!known.count(t)) {
      throw util::NotSupported(
          "unknown LoRA target module '" + t + "' (q_proj k_proj v_proj o_proj gate_proj up_proj down_proj)",
          {.field = "lora_targets"});
    }
  }
  if (opts_.lora.rank < 0) throw util::Error("LoRA rank must be >= 0", {.field = "lora_rank"});
  auto lin = [&](TensorKind kind, int64_t layer, int64_t out, int64_t in, TensorKind bias_kind, bool bias) {
    LoraLinear l;
    l.w = get(kind, layer, {out, in});
    if (bias) l.b = get(bias_kind, layer, {out});
    const std::string mod = module_name(kind);
    if (opts_.lora.rank > 0 && targets.count(mod)) {
      const int64_t r = opts_.lora.rank;
      // peft: A ~ kaiming_uniform(a=√5) = U(-1/√in, 1/√in), B = 0, scale = alpha / r.
      std::vector<double> av(static_cast<size_t>(r * in));
      util::Rng rng = util::Rng::stream(opts_.seed, "train/lora/" + model::hf_tensor_name(kind, layer), 0);
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      for (auto& x : av) x = bound * (2.0 * rng.uniform01() - 1.0);
      l.a = torch::from_blob(av.data(), {r, in}, torch::kDouble).to(opts_.master).clone();
      l.bm = torch::zeros({out, r}, torch::TensorOptions().dtype(opts_.master));
      l.scale = opts_.lora.alpha / static_cast<double>(r);
      l.dropout = opts_.lora.dropout;
    }
    return l;
  };
  embed_ = get(TensorKind::Embed, -1, {V, H});
  final_norm_ = get(TensorKind::FinalNorm, -1, {H});
  if (c.tie_word_embeddings) {
    lm_head_.w = embed_;
  } else {
    lm_head_.w = get(TensorKind::LmHead, -1, {V, H});
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    Layer y;
    y.input_norm = get(TensorKind::InputNorm, l, {H});
    y.post_norm = get(TensorKind::PostNorm, l, {H});
    if (c.qk_norm) {
      y.q_norm = get(TensorKind::QNorm, l, {d});
      y.k_norm = get(TensorKind::KNorm, l, {d});
    }
    y.q = lin(TensorKind::Q, l, qd, H, TensorKind::QBias, c.qkv_bias);
    y.k = lin(TensorKind::K, l, kvd, H, TensorKind::KBias, c.qkv_bias);
    y.v = lin(TensorKind::V, l, kvd, H, TensorKind::VBias, c.qkv_bias);
    y.o = lin(TensorKind::O, l, H, qd, TensorKind::O, false);
    y.gate = lin(TensorKind::Gate, l, I, H, TensorKind::Gate, false);
    y.up = lin(TensorKind::Up, l, I, H, TensorKind::Up, false);
    y.down = lin(TensorKind::Down, l, H, I, TensorKind::Down, false);
    layers_.push_back(std::move(y));
  }
  inv_freq_ = rope_inv_freq(c);
  const bool full = opts_.lora.rank == 0;
  for (auto& [name, t] : named_parameters()) {
    const bool adapter = name.find(".lora_") != std::string::npos;
    t.requires_grad_(full || adapter);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto add_lin = [&](const LoraLinear& l, TensorKind kind, TensorKind bias, int64_t layer) {
    out.emplace_back(model::hf_tensor_name(kind, layer), l.w);
    if (l.b.defined()) out.emplace_back(model::hf_tensor_name(bias, layer), l.b);
    if (l.a.defined()) {
      std::string base = model::hf_tensor_name(kind, layer);
      base = base.substr(0, base.size() - std::string(".weight").size());
      out.emplace_back(base + ".lora_A.weight", l.a);
      out.emplace_back(base + ".lora_B.weight", l.bm);
    }
  };
  out.emplace_back(model::hf_tensor_name(TensorKind::Embed), embed_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& y = layers_[i];
    const auto l = static_cast<int64_t>(i);
    out.emplace_back(model::hf_tensor_name(TensorKind::InputNorm, l), y.input_norm);
    add_lin(y.q, TensorKind::Q, TensorKind::QBias, l);
    add_lin(y.k, TensorKind::K, TensorKind::KBias, l);
    add_lin(y.v, TensorKind::V, TensorKind::VBias, l);
    if (y.q_norm.defined()) {
      out.emplace_back(model::hf_tensor_name(TensorKind::QNorm, l), y.q_norm);
      out.emplace_back(model::hf_tensor_name(TensorKind::KNorm, l), y.k_norm);
    }
    add_lin(y.o, TensorKind::O, TensorKind::O, l);
    out.emplace_back(model::hf_tensor_name(TensorKind::PostNorm, l), y.post_norm);
    add_lin(y.gate, TensorKind::Gate, TensorKind::Gate, l);
    add_lin(y.up, TensorKind::Up, TensorKind::Up, l);
    add_lin(y.down, TensorKind::Down, TensorKind::Down, l);
  }
  out.emplace_back(model::hf_tensor_name(TensorKind::FinalNorm), final_norm_);
  if (!cfg_.tie_word_embeddings) out.emplace_back(model::hf_tensor_name(TensorKind::LmHead), lm_head_.w);
  return out;
}

std::vector<torch::Tensor> CausalLM::trainable() const {
  std::vector<torch::Tensor> out;
  for (auto& [name, t] : named_parameters()) {
    if (t.requires_grad()) out.push_back(t);
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::merged_weights() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  torch::NoGradGuard ng;
  for (auto& [name, t] : named_parameters()) {
    if (name.find(".lora_") != std::string::npos) continue;
    out.emplace_back(name, t.detach());
  }
  // Fold adapters into their base weights.
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& y = layers_[i];
    const auto l = static_cast<int64_t>(i);
    const std::pair<const LoraLinear*, TensorKind> lins[] = {
        {&y.q, TensorKind::Q},      {&y.k, TensorKind::K},       {&y.v, TensorKind::V},
        {&y.o, TensorKind::O},      {&y.gate, TensorKind::Gate}, {&y.up, TensorKind::Up},
        {&y.down, TensorKind::Down}};
    for (const auto& [lp, kind] : lins) {
      if (!lp->a.defined()) continue;
      const std::string name = model::hf_tensor_name(kind, l);
      for (auto& [n, t] : out) {
        if (n == name) t = lp->merged();
      }
    }
  }
  return out;
}

torch::Tensor CausalLM::block_fn(size_t l, const torch::Tensor& x, const torch::Tensor& cos,
                                 const torch::Tensor& sin, const torch::Tensor& mask) const {
  const auto& c = cfg_;
  const Layer& w = layers_[l];
  const auto cd = opts_.compute;
  const int64_t B = x.size(0), T = x.size(1), nh = c.num_heads, kvh = c.num_kv_heads, d = c.head_dim,
                g = nh / kvh;
  torch::Tensor h = rms_norm(x, w.input_norm, c.rms_norm_eps, cd);
  torch::Tensor q = w.q.forward(h, cd, training_).view({B, T, nh, d});
  torch::Tensor k = w.k.forward(h, cd, training_).view({B, T, kvh, d});
  torch::Tensor v = w.v.forward(h, cd, training_).view({B, T, kvh, d});
  if (c.qk_norm) {
    q = rms_norm(q, w.q_norm, c.rms_norm_eps, cd);
    k = rms_norm(k, w.k_norm, c.rms_norm_eps, cd);
  }
  q = rope(q, cos, sin);
  k = rope(k, cos, sin);
  // Heads j·g + i share kv head j (HF repeat_kv). The g query heads of a group are stacked along the
  // rows, [B, kvh, g·T, d], so each group is one GEMM against its own k and v [B, kvh, T, d]: no
  // g-fold copies of k and v (nor their summation in backward) and B·kvh instead of B·nh GEMM calls.
  torch::Tensor qg = q.view({B, T, kvh, g, d}).permute({0, 2, 3, 1, 4}).reshape({B, kvh, g * T, d});
  torch::Tensor kt = k.permute({0, 2, 3, 1});  // [B, kvh, d, T]
  torch::Tensor vg = v.permute({0, 2, 1, 3});  // [B, kvh, T, d]
  torch::Tensor scores = torch::matmul(qg, kt).view({B, kvh, g, T, T});
  if (scores.scalar_type() == torch::kBFloat16 || scores.scalar_type() == torch::kHalf)
    scores = scores.to(torch::kFloat);
  scores = scores * (1.0 / std::sqrt(static_cast<double>(d)));
  scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());
  torch::Tensor probs = torch::softmax(scores, -1);
  if (probs.scalar_type() != vg.scalar_type()) probs = probs.to(vg.scalar_type());
  torch::Tensor att = torch::matmul(probs.view({B, kvh, g * T, T}), vg)
                          .view({B, kvh, g, T, d})
                          .permute({0, 3, 1, 2, 4})
                          .reshape({B, T, nh * d});
  torch::Tensor y = x + w.o.forward(att, cd, training_);
  h = rms_norm(y, w.post_norm, c.rms_norm_eps, cd);
  torch::Tensor act = torch::silu(w.gate.forward(h, cd, training_)) * w.up.forward(h, cd, training_);
  return y + w.down.forward(act, cd, training_);
}

torch::Tensor CausalLM::hidden(const torch::Tensor& ids) const {
  const auto& c = cfg_;
  const int64_t T = ids.size(1);
  if (c.sliding_window > 0 && T > c.sliding_window) {
    throw util::NotSupported("sequence length " + std::to_string(T) + " exceeds the sliding window " +
                                 std::to_string(c.sliding_window) +
                                 " (sliding-window attention is not implemented)",
                             {.field = "sliding_window"});
  }
  {
    // Host-side check (ids live on the CPU): no tensor reductions or syncs in the step.
    const torch::Tensor ic = ids.contiguous();
    const int64_t* p = ic.data_ptr<int64_t>();
    for (int64_t i = 0; i < ic.numel(); ++i) {
      if (p[i] < 0 || p[i] >= c.vocab_size) {
        throw util::Error("token id " + std::to_string(p[i]) + " outside the vocabulary [0, " +
                              std::to_string(c.vocab_size) + ")",
                          {.field = "tokens"});
      }
    }
  }
  const auto cd = opts_.compute;
  torch::Tensor pos = torch::arange(T, torch::kFloat);
  torch::Tensor freqs = pos.unsqueeze(1) * inv_freq_.unsqueeze(0);
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  torch::Tensor cos = emb.cos().to(cd).view({1, T, 1, c.head_dim});
  torch::Tensor sin = emb.sin().to(cd).view({1, T, 1, c.head_dim});
  const torch::Tensor mask = torch::ones({T, T}, torch::kBool).triu(1);
  torch::Tensor x = torch::embedding(embed_, ids).to(cd);
  torch::Tensor dummy;
  if (opts_.activation_checkpointing && torch::GradMode::is_enabled()) {
    dummy = torch::empty({0}, torch::TensorOptions().requires_grad(true));
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (dummy.defined()) {
      x = CheckpointedBlock::apply(x, cos, sin, mask, dummy, static_cast<int64_t>(l),
                                   reinterpret_cast<int64_t>(this))[0];
    } else {
      x = block_fn(l, x, cos, sin, mask);
    }
  }
  return rms_norm(x, final_norm_, c.rms_norm_eps, cd);
}

torch::Tensor CausalLM::logits(const torch::Tensor& h) const {
  torch::Tensor out = lm_head_.forward(h, opts_.compute, training_);
  return out.scalar_type() == opts_.master
             ? out
             : out.to(opts_.master == torch::kDouble ? torch::kDouble : torch::kFloat);
}

torch::Tensor target_logprobs(const CausalLM& m, const torch::Tensor& ids, const torch::Tensor& target) {
  const int64_t B = ids.size(0), T = ids.size(1);
  torch::Tensor h = m.hidden(ids);
  // Flat indices of the target rows (position t predicts token t+1), computed once.
  torch::Tensor flat = target.narrow(1, 1, T - 1).reshape({-1}).nonzero().squeeze(1);  // [M]
  torch::Tensor hs = h.narrow(1, 0, T - 1).reshape({B * (T - 1), h.size(2)}).index_select(0, flat);
  torch::Tensor labels = ids.narrow(1, 1, T - 1).reshape({-1}).index_select(0, flat);
  torch::Tensor lp = torch::log_softmax(m.logits(hs), -1).gather(1, labels.unsqueeze(1)).squeeze(1);
  torch::Tensor rows = torch::div(flat, T - 1, "floor");
  return torch::zeros({B}, lp.options()).index_add(0, rows, lp);
}

std::pair<torch::Tensor, torch::Tensor> collate(const std::vector<const TokenExample*>& rows) {
  size_t T = 1;
  for (const auto* r : rows) T = std::max(T, r->ids.size());
  const auto B = static_cast<int64_t>(rows.size());
  torch::Tensor ids = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  torch::Tensor tgt = torch::zeros({B, static_cast<int64_t>(T)}, torch::kUInt8);
  auto* ip = ids.data_ptr<int64_t>();
  auto* tp = tgt.data_ptr<uint8_t>();
  for (size_t b = 0; b < rows.size(); ++b) {
    for (size_t t = 0; t < rows[b]->ids.size(); ++t) {
      ip[b * T + t] = rows[b]->ids[t];
      tp[b * T + t] = t > 0 && t < rows[b]->target.size() ? rows[b]->target[t] : 0;
    }
  }
  return {ids, tgt};
}

}  // namespace um::train::detail
