// Decoder forward pass (Llama family semantics, as in HF modeling_llama / qwen2 / qwen3 / mistral):
// pre-norm blocks, RMSNorm computed in float32, rotate-half RoPE, grouped-query attention with a
// causal mask, SwiGLU MLP. Requests are packed: all tokens go through the projections together,
// attention runs per sequence against its own KV cache.
#include "model/detail/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/detail/decode_attention.h"
#include "model/detail/decode_step.h"
#include "model/detail/small_batch_linear.h"
#include "util/error.h"

namespace um::model::detail {

namespace {

// Query rows per attention block: bounds the scores buffer to kv_heads × group × kChunk × L.
constexpr int64_t kChunk = 256;

// HF LlamaRMSNorm: normalise in float32, cast back, then scale by the weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps) {
  at::Tensor xf = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
  at::Tensor var = xf.pow(2).mean(-1, true);
  at::Tensor y = xf * at::rsqrt(var + eps);
  if (y.scalar_type() != x.scalar_type()) y = y.to(x.scalar_type());
  return w * y;
}

// x: [N, heads, d]; cos/sin: [N, 1, d]. x·cos + rotate_half(x)·sin with rotate_half = [-x2, x1].
at::Tensor rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  at::Tensor rot = at::cat({-x2, x1}, -1);
  return x * cos + rot * sin;
}

// Attention of T new queries of one sequence (q: [T, heads, d]) over its first past+T cached
// positions. Writes [T, heads·d] into `out`.
void attend(const Model::Impl& m, const at::Tensor& q, const at::Tensor& K, const at::Tensor& V, int64_t past,
            at::Tensor out) {
  const ModelConfig& c = m.config;
  const int64_t T = q.size(0), kvh = c.num_kv_heads, g = c.num_heads / c.num_kv_heads, d = c.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  // Heads h = j·g + i use kv head j (HF repeat_kv), so grouping as [kvh, g, T, d] needs no K/V copies.
  at::Tensor qg = q.view({T, kvh, g, d}).permute({1, 2, 0, 3});  // [kvh, g, T, d]
  for (int64_t c0 = 0; c0 < T; c0 += kChunk) {
    const int64_t cn = std::min(kChunk, T - c0);
    const int64_t L = past + c0 + cn;  // keys visible to the last query of this block
    at::Tensor qc = qg.narrow(2, c0, cn).reshape({kvh, g * cn, d});
    at::Tensor Kl = K.narrow(1, 0, L), Vl = V.narrow(1, 0, L);
    at::Tensor scores = at::bmm(qc, Kl.transpose(1, 2));  // [kvh, g·cn, L]
    scores = scores.to(at::kFloat).mul_(scale);
    if (cn > 1) {
      // query row i (absolute position past+c0+i) sees keys j <= past+c0+i
      at::Tensor rows = at::arange(cn, at::kLong).add_(past + c0).unsqueeze(1);
      at::Tensor cols = at::arange(L, at::kLong).unsqueeze(0);
      at::Tensor mask = cols > rows;  // [cn, L]
      scores.view({kvh, g, cn, L}).masked_fill_(mask, -std::numeric_limits<float>::infinity());
    }
    at::Tensor probs = at::softmax(scores, -1);
    if (probs.scalar_type() != V.scalar_type()) probs = probs.to(V.scalar_type());
    at::Tensor o = at::bmm(probs, Vl);  // [kvh, g·cn, d]
    out.narrow(0, c0, cn).copy_(o.view({kvh, g, cn, d}).permute({2, 0, 1, 3}).reshape({cn, kvh * g * d}));
  }
}

// Upper bound on the f32 scores of one shared-prefix attention call (elements): bounds its memory.
constexpr int64_t kSharedScores = int64_t{1} << 24;

// Whether two caches hold the same bytes in positions [0, len) of layer l.
bool same_cache_prefix(const KvSeq& a, const KvSeq& b, size_t l, int64_t len) {
  for (const bool keys : {true, false}) {
    const at::Tensor& x = keys ? a.k[l] : a.v[l];
    const at::Tensor& y = keys ? b.k[l] : b.v[l];
    const int64_t es = static_cast<int64_t>(x.element_size()), row = len * x.size(2) * es;
    const auto* xp = static_cast<const char*>(x.data_ptr());
    const auto* yp = static_cast<const char*>(y.data_ptr());
    for (int64_t h = 0; h < x.size(0); ++h) {
      if (std::memcmp(xp + h * x.stride(0) * es, yp + h * y.stride(0) * es, static_cast<size_t>(row)) != 0)
        return false;
    }
  }
  return true;
}

// Attention of G segments that extend the same cached prefix (same tokens, byte-identical K/V in
// [0, past): the forks of score_continuations) by T new tokens each, packed at rows [off, off + G·T).
// The prefix part is one GEMM for all G·T queries against the first segment's cache instead of G
// small ones, and the softmax runs once over [prefix | own keys]. Same rounding points as attend(),
// except that the weighted sums over the prefix and over the own keys are rounded separately.
void attend_shared(const Model::Impl& m, const std::vector<Segment>& segs, size_t first, int64_t G, size_t l,
                   const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t off,
                   const at::Tensor& attn_out) {
  const ModelConfig& c = m.config;
  const int64_t kvh = c.num_kv_heads, g = c.num_heads / kvh, d = c.head_dim;
  const int64_t T = static_cast<int64_t>(segs[first].tokens.size()), past = segs[first].kv->len;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  // Rows in (kv head, segment, group head, token) order, so that [kvh, G·g·T, ·] and [kvh·G, g·T, ·]
  // are views of the same tensor.
  at::Tensor qg =
      q.narrow(0, off, G * T).view({G, T, kvh, g, d}).permute({2, 0, 3, 1, 4}).reshape({kvh, G * g * T, d});
  at::Tensor ko = k.narrow(0, off, G * T).view({G, T, kvh, d}).permute({2, 0, 3, 1}).reshape({kvh * G, d, T});
  at::Tensor vo = v.narrow(0, off, G * T).view({G, T, kvh, d}).permute({2, 0, 1, 3}).reshape({kvh * G, T, d});
  const at::Tensor K = segs[first].kv->k[l].narrow(1, 0, past), V = segs[first].kv->v[l].narrow(1, 0, past);
  at::Tensor scores = at::cat(
      {at::bmm(qg, K.transpose(1, 2)), at::bmm(qg.view({kvh * G, g * T, d}), ko).view({kvh, G * g * T, T})},
      -1);  // [kvh, G·g·T, past + T]
  scores = scores.to(at::kFloat).mul_(scale);
  if (T > 1) {
    at::Tensor mask = at::ones({T, T}, at::kBool).triu_(1);  // own key j is after query t
    scores.view({kvh, G * g, T, past + T})
        .narrow(3, past, T)
        .masked_fill_(mask, -std::numeric_limits<float>::infinity());
  }
  at::Tensor probs = at::softmax(scores, -1);
  if (probs.scalar_type() != V.scalar_type()) probs = probs.to(V.scalar_type());
  at::Tensor o = at::bmm(probs.narrow(2, 0, past), V);  // [kvh, G·g·T, d]
  o.add_(at::bmm(probs.narrow(2, past, T).reshape({kvh * G, g * T, T}), vo).view({kvh, G * g * T, d}));
  attn_out.narrow(0, off, G * T)
      .copy_(o.view({kvh, G, g, T, d}).permute({1, 3, 0, 2, 4}).reshape({G * T, kvh * g * d}));
}

// The general path: per segment, write K/V at [len, len+T) and attend its T queries; runs of
// consecutive segments that extend the same cached prefix by the same number of tokens share the
// prefix attention (attend_shared).
void attend_segments(const Model::Impl& m, const std::vector<Segment>& segs, size_t l, const at::Tensor& q,
                     const at::Tensor& k, const at::Tensor& v, const at::Tensor& attn_out) {
  const ModelConfig& c = m.config;
  int64_t off = 0;
  for (const auto& s : segs) {
    const int64_t T = static_cast<int64_t>(s.tokens.size());
    s.kv->k[l].narrow(1, s.kv->len, T).copy_(k.narrow(0, off, T).transpose(0, 1));
    s.kv->v[l].narrow(1, s.kv->len, T).copy_(v.narrow(0, off, T).transpose(0, 1));
    off += T;
  }
  off = 0;
  for (size_t i = 0; i < segs.size();) {
    const KvSeq& a = *segs[i].kv;
    const int64_t T = static_cast<int64_t>(segs[i].tokens.size());
    // Segments per shared call: as many as extend the same prefix, within the scores bound.
    const int64_t per_row = c.num_heads * T * (a.len + T);
    const int64_t cap = std::max<int64_t>(1, kSharedScores / std::max<int64_t>(per_row, 1));
    size_t j = i + 1;
    while (a.len > 0 && j < segs.size() && static_cast<int64_t>(j - i) < cap &&
           static_cast<int64_t>(segs[j].tokens.size()) == T && segs[j].kv->len == a.len &&
           segs[j].kv->tokens == a.tokens && same_cache_prefix(a, *segs[j].kv, l, a.len))
      ++j;
    const int64_t G = static_cast<int64_t>(j - i);
    if (G > 1) {
      attend_shared(m, segs, i, G, l, q, k, v, off, attn_out);
    } else {
      attend(m, q.narrow(0, off, T), a.k[l], a.v[l], a.len, attn_out.narrow(0, off, T));
    }
    off += G * T;
    i = j;
  }
}

}  // namespace

void reserve(const Model::Impl& m, KvSeq& s, int64_t needed) {
  if (needed <= s.cap) return;
  const ModelConfig& c = m.config;
  int64_t cap = std::max<int64_t>({needed, 2 * s.cap, 64});
  auto opts = at::TensorOptions().dtype(m.scalar);
  if (s.k.empty()) {
    s.k.resize(static_cast<size_t>(c.num_layers));
    s.v.resize(static_cast<size_t>(c.num_layers));
  }
  for (size_t l = 0; l < s.k.size(); ++l) {
    at::Tensor nk = at::empty({c.num_kv_heads, cap, c.head_dim}, opts);
    at::Tensor nv = at::empty({c.num_kv_heads, cap, c.head_dim}, opts);
    if (s.len > 0) {
      nk.narrow(1, 0, s.len).copy_(s.k[l].narrow(1, 0, s.len));
      nv.narrow(1, 0, s.len).copy_(s.v[l].narrow(1, 0, s.len));
    }
    s.k[l] = nk;
    s.v[l] = nv;
  }
  s.cap = cap;
}

KvSeq clone_prefix(const Model::Impl& m, const KvSeq& s, int64_t len, int64_t extra) {
  KvSeq out;
  out.tokens.assign(s.tokens.begin(), s.tokens.begin() + len);
  if (len == 0) return out;
  reserve(m, out, len + extra);
  for (size_t l = 0; l < s.k.size(); ++l) {
    out.k[l].narrow(1, 0, len).copy_(s.k[l].narrow(1, 0, len));
    out.v[l].narrow(1, 0, len).copy_(s.v[l].narrow(1, 0, len));
  }
  out.len = len;
  return out;
}

at::Tensor forward(const Model::Impl& m, const std::vector<Segment>& segs) {
  const ModelConfig& c = m.config;
  const int64_t nh = c.num_heads, kvh = c.num_kv_heads, d = c.head_dim;
  int64_t N = 0, rows = 0;
  for (const auto& s : segs) {
    const int64_t T = static_cast<int64_t>(s.tokens.size());
    if (T == 0) throw util::Error("cannot append an empty token list", {.field = "tokens"});
    if (c.sliding_window > 0 && s.kv->len + T > c.sliding_window) {
      throw util::NotSupported("sequence length " + std::to_string(s.kv->len + T) +
                                   " exceeds the sliding window " + std::to_string(c.sliding_window) +
                                   " (sliding-window attention is not implemented)",
                               {.field = "sliding_window"});
    }
    for (int32_t t : s.tokens) {
      if (t < 0 || t >= c.vocab_size) {
        throw util::Error("token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                              std::to_string(c.vocab_size) + ")",
                          {.field = "tokens"});
      }
    }
    N += T;
    rows += s.no_logits ? 0 : s.all_positions ? T : 1;
  }
  for (const auto& s : segs) reserve(m, *s.kv, s.kv->len + static_cast<int64_t>(s.tokens.size()));

  // Token ids, absolute positions, and the packed rows whose logits are wanted.
  at::Tensor ids = at::empty({N}, at::kLong), pos = at::empty({N}, at::kFloat),
             pick = at::empty({rows}, at::kLong);
  {
    auto* ip = ids.data_ptr<int64_t>();
    auto* pp = pos.data_ptr<float>();
    auto* kp = pick.data_ptr<int64_t>();
    int64_t n = 0, r = 0;
    for (const auto& s : segs) {
      const int64_t T = static_cast<int64_t>(s.tokens.size());
      for (int64_t i = 0; i < T; ++i, ++n) {
        ip[n] = s.tokens[static_cast<size_t>(i)];
        pp[n] = static_cast<float>(s.kv->len + i);
        if (!s.no_logits && (s.all_positions || i == T - 1)) kp[r++] = n;
      }
    }
  }
  at::Tensor freqs = pos.unsqueeze(1) * m.inv_freq.unsqueeze(0);  // [N, d/2] float32
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  at::Tensor cos = emb.cos().to(m.scalar).unsqueeze(1), sin = emb.sin().to(m.scalar).unsqueeze(1);

  // A decode step (one new token per sequence) takes the fused attention kernel.
  const bool decode_step =
      !decode_kernels_disabled() &&
      std::all_of(segs.begin(), segs.end(), [](const Segment& s) { return s.tokens.size() == 1; });

  at::Tensor x = at::index_select(m.embed, 0, ids);  // [N, H]
  // bf16 decode steps on AVX-512 BF16 run every layer in one parallel region (decode_step.h).
  const bool fused = decode_step && fused_decode_applicable(m, segs);
  if (fused) fused_decode_layers(m, segs, x, cos, sin);
  at::Tensor attn_out = at::empty({N, nh * d}, x.options());
  for (size_t l = 0; !fused && l < m.layers.size(); ++l) {
    const LayerWeights& w = m.layers[l];
    at::Tensor h = rms_norm(x, w.input_norm, c.rms_norm_eps);
    at::Tensor q, k, v;
    if (w.fused) {
      at::Tensor qkv = w.qkv(h);
      q = qkv.narrow(1, 0, nh * d);
      k = qkv.narrow(1, nh * d, kvh * d);
      v = qkv.narrow(1, (nh + kvh) * d, kvh * d);
    } else {
      auto qkv = Linear::project(h, {&w.q, &w.k, &w.v});
      q = qkv[0];
      k = qkv[1];
      v = qkv[2];
    }
    q = q.reshape({N, nh, d});
    k = k.reshape({N, kvh, d});
    v = v.reshape({N, kvh, d});
    if (c.qk_norm) {
      q = rms_norm(q, w.q_norm, c.rms_norm_eps);
      k = rms_norm(k, w.k_norm, c.rms_norm_eps);
    }
    q = rope(q, cos, sin);
    k = rope(k, cos, sin);
    if (decode_step) {
      decode_attention(segs, l, q, k, v, attn_out);
    } else {
      attend_segments(m, segs, l, q, k, v, attn_out);
    }
    x = x + w.o(attn_out);
    h = rms_norm(x, w.post_norm, c.rms_norm_eps);
    at::Tensor act;
    if (w.fused) {
      at::Tensor gu = w.gate_up(h);
      const int64_t I = gu.size(1) / 2;
      act = at::silu(gu.narrow(1, 0, I)) * gu.narrow(1, I, I);
    } else {
      auto gu = Linear::project(h, {&w.gate, &w.up});
      act = at::silu(gu[0]).mul_(gu[1]);
    }
    x = x + w.down(act);
  }
  at::Tensor logits = at::empty({0, c.vocab_size}, at::kFloat);
  if (rows > 0) {
    at::Tensor hs = rms_norm(at::index_select(x, 0, pick), m.final_norm, c.rms_norm_eps);
    logits = m.lm_head(hs).to(at::kFloat).contiguous();
  }
  for (const auto& s : segs) {
    s.kv->len += static_cast<int64_t>(s.tokens.size());
    s.kv->tokens.insert(s.kv->tokens.end(), s.tokens.begin(), s.tokens.end());
  }
  return logits;
}

}  // namespace um::model::detail
