// Content scorer (docs/method.md §4.3–4.4): dot-product similarity of item text embeddings to the
// ground-truth item's own embedding (the reference indexes the wrong row, §11.2).
//
// Vectors come from the user: a JSONL file of {"item_id": "...", "vector": [floats]} lines, or a
// safetensors file with tensor "item_content_embedding" of shape (#items, dim) in item-file order
// (the reference's cache <work>/embeddings/<DS>.content.safetensors, used when no file is given).
// Items without a vector are never proposed; a ground truth without a vector yields no candidates.
// With --compat reference the query is the reference's: the row whose index is the ground truth's
// iid (its rank of first appearance in the interaction file), not the ground truth's own row (§11.2),
// and the scores go through the reference's float32 softmax before top-k.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "scene/exposure/safetensors_io.h"
#include "scene/exposure/scorer.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/thread_pool.h"

namespace um::scene::scorers {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Content final : public Scorer {
 public:
  explicit Content(const ScorerContext& ctx)
      : index_(ctx.index), reference_query_(ctx.compat == data::Compat::reference) {
    std::filesystem::path path = ctx.content_vectors;
    if (path.empty() && !ctx.work.empty()) {
      path = ctx.work / "embeddings" / (ctx.index.dataset().name + ".content.safetensors");
      if (!std::filesystem::exists(path)) path.clear();
    }
    if (path.empty()) {
      throw util::Error(
          "the content scorer needs item vectors: pass --content-vectors FILE (JSONL {item_id, vector} or "
          "safetensors 'item_content_embedding'), or drop 'content' from --scorers",
          {.field = "content-vectors"});
    }
    const size_t n = ctx.index.num_items();
    has_.assign(n, 0);
    if (path.extension() == ".safetensors") {
      Matrix2D m = read_safetensors_matrix(path, "item_content_embedding");
      if (m.rows != n) {
        throw util::Error("content embedding has " + std::to_string(m.rows) +
                              " rows but the item table has " + std::to_string(n),
                          {.file = path.string(), .field = "item_content_embedding"});
      }
      c_ = Eigen::Map<const RowMat>(m.data.data(), static_cast<Eigen::Index>(m.rows),
                                    static_cast<Eigen::Index>(m.cols));
      has_.assign(n, 1);
      return;
    }
    util::LineReader in(path);
    std::string_view line;
    std::vector<std::vector<float>> rows(n);
    size_t dim = 0;
    while (in.next(line)) {
      if (line.empty()) continue;
      util::Location loc{.file = path.string(), .line = static_cast<int64_t>(in.line_number())};
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        throw util::Error(std::string("not JSON: ") + e.what(), loc);
      }
      const auto& id = j["item_id"];
      std::string sid = id.is_string() ? id.get<std::string>() : id.dump();
      const auto& vec = j["vector"];
      if (!vec.is_array() || vec.empty())
        throw util::Error("vector must be a non-empty array", {loc.file, loc.line, "vector"});
      if (dim == 0) dim = vec.size();
      if (vec.size() != dim) {
        throw util::Error(
            "vector has " + std::to_string(vec.size()) + " values, expected " + std::to_string(dim),
            {loc.file, loc.line, "vector"});
      }
      int64_t row = ctx.index.item_row(sid);
      if (row < 0) continue;  // vectors for items outside this dataset are ignored
      auto& r = rows[static_cast<size_t>(row)];
      r.resize(dim);
      for (size_t d = 0; d < dim; ++d) r[d] = vec[d].get<float>();
      has_[static_cast<size_t>(row)] = 1;
    }
    c_ = RowMat::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim));
    for (size_t i = 0; i < n; ++i) {
      for (size_t d = 0; d < rows[i].size(); ++d)
        c_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(d)) = rows[i][d];
    }
  }
  std::string_view name() const override { return "content"; }

  // The list depends only on (ground truth, k): computed once per ground-truth item and reused by every
  // scene with that ground truth (exact: no randomness is involved).
  void top_k(const ScoreQuery& q, size_t k, util::Rng&, std::vector<uint32_t>& out) const override {
    const uint32_t row = query_row(q.ground_truth);
    if (!has_[row] || c_.cols() == 0) return;
    {
      std::lock_guard<std::mutex> lock(memo_mu_);
      if (auto it = memo_.find(key(row, k)); it != memo_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<uint32_t> list;
    compute_top_k(row, k, list);
    out.insert(out.end(), list.begin(), list.end());
    std::lock_guard<std::mutex> lock(memo_mu_);
    memo_.emplace(key(row, k), std::move(list));
  }

  // The distinct ground truths not yet known, in blocks of B queries: S = C · Q_Bᵀ (one matrix-matrix
  // product per block, as the reference's one GEMM), then the top k of each column. Same lists as
  // compute_top_k (same float dot products up to summation order; ties → lower row).
  void prefetch(const std::vector<ScoreQuery>& queries, size_t k, unsigned threads) const override {
    if (c_.cols() == 0) return;
    std::vector<uint32_t> todo;
    {
      std::lock_guard<std::mutex> lock(memo_mu_);
      std::unordered_map<uint32_t, char> seen;
      for (const auto& q : queries) {
        const uint32_t row = query_row(q.ground_truth);
        if (!has_[row] || memo_.count(key(row, k))) continue;
        if (seen.emplace(row, 1).second) todo.push_back(row);
      }
    }
    if (todo.empty()) return;
    const auto n = c_.rows();
    // Block width: at most 256 queries and about 64 MB of scores per block.
    const size_t width =
        std::clamp<size_t>((size_t{64} << 20) / (sizeof(float) * static_cast<size_t>(n)), 8, 256);
    const size_t blocks = (todo.size() + width - 1) / width;
    util::parallel_for(blocks, threads, [&](size_t b) {
      const size_t lo = b * width, hi = std::min(todo.size(), lo + width);
      RowMat q(static_cast<Eigen::Index>(hi - lo), c_.cols());
      for (size_t j = lo; j < hi; ++j) q.row(static_cast<Eigen::Index>(j - lo)) = c_.row(todo[j]);
      Eigen::MatrixXf s = c_ * q.transpose();  // n × width, column-major: one column per query
      std::vector<float> scores(static_cast<size_t>(n));
      for (size_t j = lo; j < hi; ++j) {
        const float* col = s.col(static_cast<Eigen::Index>(j - lo)).data();
        for (Eigen::Index i = 0; i < n; ++i)
          scores[static_cast<size_t>(i)] = has_[static_cast<size_t>(i)] && std::isfinite(col[i])
                                               ? col[i]
                                               : -std::numeric_limits<float>::infinity();
        std::vector<uint32_t> list;
        rank(scores.data(), scores.size(), k, list);
        std::lock_guard<std::mutex> lock(memo_mu_);
        memo_.emplace(key(todo[j], k), std::move(list));
      }
    });
  }

 private:
  // The embedding row queried for a ground-truth item row (lists are memoised by this row).
  uint32_t query_row(uint32_t ground_truth) const {
    return reference_query_ ? static_cast<uint32_t>(index_.item_iid(ground_truth)) : ground_truth;
  }
  static uint64_t key(uint32_t row, size_t k) {
    return (static_cast<uint64_t>(row) << 32) | static_cast<uint32_t>(k);
  }

  void compute_top_k(uint32_t row, size_t k, std::vector<uint32_t>& out) const {
    Eigen::VectorXf scores = c_ * c_.row(row).transpose();
    for (Eigen::Index i = 0; i < scores.size(); ++i) {
      if (!has_[static_cast<size_t>(i)] || !std::isfinite(scores[i]))
        scores[i] = -std::numeric_limits<float>::infinity();
    }
    rank(scores.data(), static_cast<size_t>(scores.size()), k, out);
  }

  // Top k of one score row (items without a vector at -inf), appended to `out` without the items that
  // have no vector. Compat::reference: the reference's float32 softmax first (§4.3).
  void rank(float* scores, size_t n, size_t k, std::vector<uint32_t>& out) const {
    if (reference_query_) float32_softmax(scores, n);
    const size_t before = out.size();
    top_k_indices(scores, n, k, out);
    out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
                             [&](uint32_t i) { return !has_[i]; }),
              out.end());
  }

  const DatasetIndex& index_;
  bool reference_query_;
  RowMat c_;
  std::vector<char> has_;
  mutable std::mutex memo_mu_;
  mutable std::unordered_map<uint64_t, std::vector<uint32_t>> memo_;
};

}  // namespace

std::unique_ptr<Scorer> content(const ScorerContext& ctx) { return std::make_unique<Content>(ctx); }

}  // namespace um::scene::scorers
