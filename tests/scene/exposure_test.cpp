// Merge, exposure shaping, top-k, scorers and the collaborative embedding on tiny inputs.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <fstream>
#include <set>

#include "common/shared_data.h"
#include "scene/exposure/collaborative_embedding.h"
#include "scene/exposure/merge.h"
#include "scene/exposure/safetensors_io.h"
#include "scene/exposure/scorer.h"
#include "test_datasets.h"
#include "util/error.h"

namespace um::scene {
namespace {

TEST(Merge, KeepsEachListsOrderAndDeduplicates) {
  std::vector<std::vector<uint32_t>> lists = {{1, 2, 3, 4}, {10, 11, 12}, {3, 20, 1}};
  for (uint64_t rec = 0; rec < 50; ++rec) {
    auto rng = util::Rng::stream(1, "t", rec);
    auto m = merge_ranked_lists(lists, rng);
    std::set<uint32_t> uniq(m.begin(), m.end());
    EXPECT_EQ(uniq.size(), m.size());
    EXPECT_EQ(m.size(), 8u);  // {1, 2, 3, 4, 10, 11, 12, 20}
  }
}

TEST(Merge, BlocksArePlacedAtSortedPermutationPositions) {
  // With two lists the merged sequence must interleave them preserving relative order.
  std::vector<std::vector<uint32_t>> lists = {{1, 2, 3}, {7, 8}};
  std::set<std::vector<uint32_t>> seen;
  for (uint64_t rec = 0; rec < 200; ++rec) {
    auto rng = util::Rng::stream(3, "t", rec);
    auto m = merge_ranked_lists(lists, rng);
    ASSERT_EQ(m.size(), 5u);
    std::vector<uint32_t> a, b;
    for (auto x : m) (x < 5 ? a : b).push_back(x);
    EXPECT_EQ(a, lists[0]);
    EXPECT_EQ(b, lists[1]);
    seen.insert(m);
  }
  EXPECT_EQ(seen.size(), 10u);  // all C(5,2) interleavings occur
}

TEST(Shape, LengthRangeAndPositions) {
  std::vector<uint32_t> negs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  ExposureShape shape{.min_options = 2, .max_options = 12};
  std::set<int> lengths, positions_last;
  for (uint64_t rec = 0; rec < 2000; ++rec) {
    auto l = util::Rng::stream(0, "len", rec), p = util::Rng::stream(0, "pos", rec);
    auto e = shape_exposure(negs, 99, shape, l, p);
    ASSERT_TRUE(e);
    int n = static_cast<int>(e->items.size());
    EXPECT_GE(n, 2);
    EXPECT_LE(n, 12);
    EXPECT_EQ(e->items[static_cast<size_t>(e->item_pos)], 99u);
    lengths.insert(n);
    if (e->item_pos == n - 1) positions_last.insert(n);
    // negatives keep their order
    std::vector<uint32_t> rest = e->items;
    rest.erase(rest.begin() + e->item_pos);
    EXPECT_TRUE(std::equal(rest.begin(), rest.end(), negs.begin()));
  }
  EXPECT_EQ(lengths.size(), 11u);
  EXPECT_FALSE(positions_last.empty());  // fixed: the last position is reachable
  shape.reference_positions = true;
  for (uint64_t rec = 0; rec < 2000; ++rec) {
    auto l = util::Rng::stream(0, "len", rec), p = util::Rng::stream(0, "pos", rec);
    auto e = shape_exposure(negs, 99, shape, l, p);
    EXPECT_LT(e->item_pos, static_cast<int>(e->items.size()) - 1);  // reference: never last
  }
}

TEST(Shape, TooFewNegativesIsDropped) {
  ExposureShape shape{.min_options = 5, .max_options = 5};
  auto l = util::Rng::stream(0, "len", 0), p = util::Rng::stream(0, "pos", 0);
  EXPECT_FALSE(shape_exposure({1, 2, 3}, 9, shape, l, p));
  auto e = shape_exposure({1, 2, 3, 4, 5, 6}, 9, shape, l, p);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->items.size(), 5u);
  ExposureShape bad{.min_options = 3, .max_options = 2};
  EXPECT_THROW(shape_exposure({1}, 9, bad, l, p), util::Error);
}

TEST(TopK, OrderAndTies) {
  std::vector<float> s = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f};
  std::vector<uint32_t> out;
  top_k_indices(s.data(), s.size(), 3, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{1, 4, 0}));
  out.clear();
  top_k_indices(s.data(), s.size(), 10, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{1, 4, 0, 2, 3}));
}

TEST(Scorers, RandomIsADistinctUniformSubset) {
  auto ds = testing::synthetic_movielens(5, 40);
  DatasetIndex idx(ds);
  SocialGraph social;
  ScorerContext ctx{idx, social};
  auto r = make_scorer("random", ctx);
  std::vector<int> hits(40, 0);
  for (uint64_t rec = 0; rec < 400; ++rec) {
    auto rng = util::Rng::stream(0, "r", rec);
    std::vector<uint32_t> out;
    r->top_k({0, 0, 0, 0}, 10, rng, out);
    ASSERT_EQ(out.size(), 10u);
    EXPECT_EQ(std::set<uint32_t>(out.begin(), out.end()).size(), 10u);
    for (auto i : out) hits[i]++;
  }
  for (int h : hits) EXPECT_GT(h, 50);  // expectation 100 each
  EXPECT_THROW(make_scorer("nope", ctx), util::NotSupported);
  EXPECT_THROW(make_scorer("content", ctx), util::Error);  // no vectors given
}

// The randomised embedding spans the exact top-r eigenspace of R̃ᵀR̃ when the sketch covers all
// items, so E·Eᵀ must equal D^{1/2} V_r V_rᵀ D^{1/2} from a dense eigendecomposition.
TEST(Collaborative, MatchesExactLowPassFilter) {
  auto ds = testing::synthetic_movielens(30, 12);
  DatasetIndex idx(ds);
  CollaborativeParams p;
  p.rank = 4;
  p.oversample = 16;
  Matrix2D e = collaborative_embedding(idx, p);
  const auto n = static_cast<Eigen::Index>(idx.num_iids());
  ASSERT_EQ(e.rows, static_cast<size_t>(n));
  ASSERT_EQ(e.cols, 4u);
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(idx.num_users()), n);
  for (size_t k = 0; k < ds.interactions.size(); ++k)
    r(idx.interaction_user(k), idx.item_iid(idx.interaction_item(k))) += 1;
  Eigen::VectorXd du = r.rowwise().sum().cwiseMax(1.0), di = r.colwise().sum().transpose().cwiseMax(1.0);
  Eigen::MatrixXd rn =
      du.cwiseSqrt().cwiseInverse().asDiagonal() * r * di.cwiseSqrt().cwiseInverse().asDiagonal();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(rn.transpose() * rn);
  Eigen::MatrixXd v = eig.eigenvectors().rightCols(4);
  Eigen::MatrixXd exact = di.cwiseSqrt().asDiagonal() * v * v.transpose() * di.cwiseSqrt().asDiagonal();
  Eigen::MatrixXd got(n, n);
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> em(e.data.data(), n,
                                                                                             4);
  got = em.cast<double>() * em.cast<double>().transpose();
  EXPECT_LT((got - exact).cwiseAbs().maxCoeff(), 1e-4);
  // deterministic for a seed
  Matrix2D again = collaborative_embedding(idx, p);
  EXPECT_EQ(again.data, e.data);
}

TEST(Collaborative, CacheRoundTripAndInvalidation) {
  auto ds = testing::synthetic_movielens(20, 30);
  DatasetIndex idx(ds);
  auto work = um::testing::temp_dir("scene-collab-cache");
  CollaborativeParams p;
  bool cached = true;
  Matrix2D a = cached_collaborative_embedding(idx, p, work, &cached);
  EXPECT_FALSE(cached);
  Matrix2D b = cached_collaborative_embedding(idx, p, work, &cached);
  EXPECT_TRUE(cached);
  EXPECT_EQ(a.data, b.data);
  p.seed = 5;  // other parameters: recomputed, not reused
  cached_collaborative_embedding(idx, p, work, &cached);
  EXPECT_FALSE(cached);
  auto m = read_safetensors_matrix(work / "embeddings" / "ml-1m.collaborative.safetensors",
                                   "item_collaborative_embedding");
  EXPECT_EQ(m.rows, idx.num_iids());
  EXPECT_EQ(m.cols, std::min<size_t>(64, idx.num_iids()));
}

// The embedding caches are read through util::parse_safetensors_header, the model's checks: every
// tensor of the file is checked (not only the one read) and a shape whose element count wraps around
// 2^64 is refused (it used to be read as a 2^32 × 2^32 matrix holding no floats).
TEST(SafetensorsMatrix, TheWholeHeaderIsChecked) {
  auto dir = um::testing::temp_dir("scene-safetensors");
  auto write = [&](const std::string& header, const std::string& body) {
    std::string out(8, '\0');
    for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    std::ofstream(dir / "m.safetensors", std::ios::binary | std::ios::trunc) << out << header << body;
    return dir / "m.safetensors";
  };
  // BF16 1.0 and 2.0 (0x3f80, 0x4000), little-endian, and the string metadata.
  auto m = read_safetensors_matrix(
      write(R"({"__metadata__":{"k":"v"},"emb":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}})",
            std::string("\x80\x3f\x00\x40", 4)),
      "emb");
  EXPECT_EQ(m.rows, 1u);
  EXPECT_EQ(m.cols, 2u);
  EXPECT_EQ(m.data, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(m.metadata.at("k"), "v");
  auto refused = [&](const std::string& header, const std::string& want) {
    try {
      read_safetensors_matrix(write(header, std::string(8, '\0')), "emb");
      ADD_FAILURE() << "accepted " << header;
    } catch (const util::Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_EQ(e.where().file, (dir / "m.safetensors").string());
    }
  };
  refused(R"({"emb":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})",
          "shape does not match data_offsets");
  refused(R"({"emb":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},)"
          R"("other":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
          "data_offsets out of range");
  refused(R"({"emb":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}})", "negative dimension");
  refused(R"({"emb":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "not 2-D");
  refused(R"({"emb":{"dtype":"I32","shape":[1,2],"data_offsets":[0,8]}})", "unsupported dtype I32");
  refused(R"({"other":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})", "tensor not found");
}

TEST(Scorers, ContentUsesTheGroundTruthsOwnVector) {
  auto ds = testing::synthetic_movielens(5, 6);
  DatasetIndex idx(ds);
  SocialGraph social;
  auto dir = um::testing::temp_dir("scene-content");
  auto path = dir / "vectors.jsonl";
  {
    std::ofstream f(path);
    // items 1..6: two clusters; item 6 has no vector
    f << R"({"item_id":"1","vector":[1,0]})"
      << "\n"
      << R"({"item_id":"2","vector":[0.9,0.1]})"
      << "\n"
      << R"({"item_id":"3","vector":[0,1]})"
      << "\n"
      << R"({"item_id":"4","vector":[0.2,0.8]})"
      << "\n"
      << R"({"item_id":"5","vector":[0.5,0.5]})"
      << "\n"
      << R"({"item_id":"999","vector":[1,1]})"
      << "\n";
  }
  ScorerContext ctx{idx, social, "", path};
  auto c = make_scorer("content", ctx);
  auto rng = util::Rng::stream(0, "c", 0);
  std::vector<uint32_t> out;
  c->top_k({0, static_cast<uint32_t>(idx.item_row("3")), 0, 0}, 10, rng, out);
  std::vector<uint32_t> want = {
      static_cast<uint32_t>(idx.item_row("3")), static_cast<uint32_t>(idx.item_row("4")),
      static_cast<uint32_t>(idx.item_row("5")), static_cast<uint32_t>(idx.item_row("2")),
      static_cast<uint32_t>(idx.item_row("1"))};
  EXPECT_EQ(out, want);
  out.clear();
  c->top_k({0, static_cast<uint32_t>(idx.item_row("6")), 0, 0}, 10, rng, out);
  EXPECT_TRUE(out.empty());
  // the same vectors from a safetensors file in item-file order
  Matrix2D m;
  m.rows = 6;
  m.cols = 2;
  m.data = {1, 0, 0.9f, 0.1f, 0, 1, 0.2f, 0.8f, 0.5f, 0.5f, 0, 0};
  write_safetensors_matrix(dir / "c.safetensors", "item_content_embedding", m);
  ScorerContext ctx2{idx, social, "", dir / "c.safetensors"};
  auto c2 = make_scorer("content", ctx2);
  out.clear();
  c2->top_k({0, static_cast<uint32_t>(idx.item_row("3")), 0, 0}, 3, rng, out);
  EXPECT_EQ(out, std::vector<uint32_t>(want.begin(), want.begin() + 3));
  // Lists are reused per (ground truth, k): a second query appends the same list, another k its own.
  c2->top_k({1, static_cast<uint32_t>(idx.item_row("3")), 5, 0}, 3, rng, out);
  EXPECT_EQ(out, std::vector<uint32_t>({want[0], want[1], want[2], want[0], want[1], want[2]}));
  out.clear();
  c2->top_k({0, static_cast<uint32_t>(idx.item_row("3")), 0, 0}, 2, rng, out);
  EXPECT_EQ(out, std::vector<uint32_t>(want.begin(), want.begin() + 2));
}

// prefetch (blocked matrix-matrix products) gives the lists top_k computes one query at a time.
TEST(Scorers, ContentPrefetchMatchesSingleQueries) {
  auto ds = testing::synthetic_movielens(5, 6);
  DatasetIndex idx(ds);
  SocialGraph social;
  auto dir = um::testing::temp_dir("scene-content-prefetch");
  Matrix2D m;
  m.rows = idx.num_items();
  m.cols = 16;
  auto rng = util::Rng::stream(3, "vectors", 0);
  for (size_t i = 0; i < m.rows * m.cols; ++i) m.data.push_back(static_cast<float>(rng.uniform01()) - 0.5f);
  write_safetensors_matrix(dir / "c.safetensors", "item_content_embedding", m);
  ScorerContext ctx{idx, social, "", dir / "c.safetensors"};
  auto single = make_scorer("content", ctx);
  auto blocked = make_scorer("content", ctx);
  std::vector<ScoreQuery> qs;
  for (uint32_t g = 0; g < static_cast<uint32_t>(idx.num_items()); ++g) qs.push_back({0, g, 0, 0});
  blocked->prefetch(qs, 4, 2);
  for (const auto& q : qs) {
    std::vector<uint32_t> a, b;
    single->top_k(q, 4, rng, a);
    blocked->top_k(q, 4, rng, b);
    EXPECT_EQ(a, b) << q.ground_truth;
    EXPECT_EQ(a.size(), 4u);
  }
}

}  // namespace
}  // namespace um::scene

namespace um::scene {
namespace {

// Social: items ranked by the number of friends who interacted with them strictly before the target.
TEST(Scorers, SocialCountsFriendsBeforeTheTarget) {
  data::Dataset ds;
  ds.name = "LastFM";
  for (const char* u : {"me", "f1", "f2", "stranger"}) ds.users.push_back({u, "{}", "{}"});
  for (const char* i : {"a", "b", "c", "d"}) ds.items.push_back({i, "{}", "{}"});
  auto t = [](int day) { return testing::at("2009-01-01 00:00:00") + day * 86400LL * 1000000; };
  ds.interactions = {{"f1", "a", t(1), "{}"},       {"f2", "a", t(2), "{}"}, {"f1", "b", t(3), "{}"},
                     {"f2", "c", t(20), "{}"},  // after the target: not counted
                     {"stranger", "d", t(1), "{}"}, {"me", "a", t(10), "{}"}};
  DatasetIndex idx(ds);
  SocialGraph social;
  social.friends = {{1, 2}, {}, {}, {}};
  ScorerContext ctx{idx, social};
  auto s = make_scorer("social", ctx);
  auto rng = util::Rng::stream(0, "s", 0);
  std::vector<uint32_t> out;
  s->top_k({0, 0, t(10), 0}, 10, rng, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1}));  // a (2 friends), b (1); c is later, d is no friend's
}

}  // namespace
}  // namespace um::scene
