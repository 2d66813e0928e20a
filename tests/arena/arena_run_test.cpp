// The arena on a real dataset (ml-100k from ../shared/data) with an LLM stand-in and with the
// control simulators: report contents, request order, resumability, bad recommender input.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "arena/arena.h"
#include "backend/backend.h"
#include "common/shared_data.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "fake_simulator_backend.h"
#include "model/init.h"
#include "scene/scene_generator.h"
#include "util/error.h"

namespace um::arena {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path prepared_ml100k(const fs::path& raw, const std::string& tag) {
  fs::path work = um::testing::temp_dir(tag);
  data::prepare({.dataset = "ml-100k", .raw_dir = raw, .work_dir = work});
  return work;
}

ArenaOptions base_options(const fs::path& work) {
  ArenaOptions o;
  o.work = work;
  o.dataset = "ml-100k";
  o.recommenders = {"random", "pop", "itemknn", "ease"};
  o.users = 30;
  o.seed = 11;
  o.bootstrap = 200;
  o.figures = false;
  o.progress = false;
  o.controls = {"baseline:uniform", "baseline:popularity"};
  return o;
}

TEST(ArenaRun, InterleavingOnMl100kWithAnLlmSimulator) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-ml100k");
  ArenaOptions o = base_options(work);
  o.simulator = "fake";
  testing::FakeSimulatorBackend be;
  util::Summary summary("arena");
  ArenaResult r = run_arena(o, be, summary);
  ASSERT_TRUE(fs::exists(r.report_json));
  ASSERT_TRUE(fs::exists(r.report_md));
  std::ifstream in(r.report_json);
  auto rep = nlohmann::json::parse(in);
  ASSERT_EQ(rep["recommenders"].size(), 4u);
  for (const auto& rec : rep["recommenders"]) {
    for (const char* m : {"hr@10", "recall@10", "ndcg@10", "mrr@10"})
      EXPECT_TRUE(rec["offline"].contains(m)) << m;
    EXPECT_TRUE(rec["simulated"].contains("score"));
  }
  EXPECT_EQ(rep["pairwise"].size(), 6u);
  for (const auto& p : rep["pairwise"]) {
    for (const char* f : {"a", "b", "win_rate_a", "ci_low", "ci_high", "pages"})
      EXPECT_TRUE(p.contains(f)) << f;
    EXPECT_LE(p["ci_low"].get<double>(), p["win_rate_a"].get<double>());
    EXPECT_GE(p["ci_high"].get<double>(), p["win_rate_a"].get<double>());
  }
  ASSERT_FALSE(rep["agreement"].empty());
  for (const auto& a : rep["agreement"])
    for (const char* f : {"metric", "kendall_tau", "ci_low", "ci_high"}) EXPECT_TRUE(a.contains(f)) << f;
  EXPECT_EQ(rep["controls"].size(), 2u);
  EXPECT_EQ(rep["split"]["spec"], "global-time:0.9");

  // pages.jsonl: one line per page shown (6 pairs per user), each with a distribution over its items.
  std::ifstream pages(r.pages_jsonl);
  std::string line;
  size_t n = 0;
  while (std::getline(pages, line)) {
    auto p = nlohmann::json::parse(line);
    ASSERT_EQ(p["items"].size(), p["distribution"].size());
    ASSERT_EQ(p["teams"].size(), p["items"].size());
    ++n;
  }
  EXPECT_EQ(n, r.pages);
  EXPECT_EQ(n, 6 * r.users);

  // The requests: the direct prompt, a scene user message, and every page of one user sent together.
  auto msgs = be.messages();
  ASSERT_EQ(msgs.size(), r.distinct_pages);
  for (const auto& m : msgs) {
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].role, "system");
    EXPECT_NE(m[1].content.find("# Exposure List\n[A] "), std::string::npos);
    EXPECT_EQ(m[2].content, "Behavior: [");
  }
  std::vector<std::string> users_in_order;
  for (const auto& k : be.keys()) {
    std::string u = k.substr(0, k.find('/'));
    if (users_in_order.empty() || users_in_order.back() != u) users_in_order.push_back(u);
  }
  std::set<std::string> distinct(users_in_order.begin(), users_in_order.end());
  EXPECT_EQ(distinct.size(), users_in_order.size()) << "pages of one user were not sent together";
}

// The history entries of a page's user message (between "## History" and the exposure list; each
// entry ends with a newline and entries are joined by another).
std::vector<std::string> history_lines(const std::string& user_message) {
  const size_t b = user_message.find("## History\n");
  const size_t e = user_message.find("\n\n# Exposure List");
  EXPECT_NE(b, std::string::npos);
  EXPECT_NE(e, std::string::npos);
  std::vector<std::string> out;
  const std::string h = user_message.substr(b + 11, e - b - 11);
  for (size_t at = 0; at < h.size();) {
    size_t end = h.find("\n\n", at);
    if (end == std::string::npos) end = h.size();
    out.push_back(h.substr(at, end - at));
    at = end + 2;
  }
  return out;
}

// The first page's history of every user the simulator was asked about, with history = `window`.
std::map<std::string, std::vector<std::string>> histories(const fs::path& work, size_t window) {
  ArenaOptions o = base_options(work);
  o.simulator = "fake";
  o.users = 20;
  o.controls = {};
  o.history = window;
  o.name = "history-" + std::to_string(window);
  testing::FakeSimulatorBackend be;
  util::Summary s("arena");
  run_arena(o, be, s);
  std::map<std::string, std::vector<std::string>> out;
  const auto keys = be.keys();
  const auto msgs = be.messages();
  for (size_t i = 0; i < keys.size(); ++i)
    out.emplace(keys[i].substr(0, keys[i].find('/')), history_lines(msgs[i][1].content));
  return out;
}

// --history N: every page shows the user's N most recent interactions before the page's time (all of
// them when fewer), the same entries the longest window ends with; 0 keeps the reference's random
// 2-10 window.
TEST(ArenaRun, FixedHistoryWindowShowsTheMostRecentEntries) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-history");
  const auto all = histories(work, 1000);
  const auto seven = histories(work, 7);
  const auto reference = histories(work, 0);
  ASSERT_EQ(seven.size(), all.size());
  size_t full = 0;
  for (const auto& [user, lines] : seven) {
    const auto& longest = all.at(user);
    ASSERT_EQ(lines.size(), std::min<size_t>(7, longest.size())) << user;
    EXPECT_TRUE(std::equal(lines.begin(), lines.end(), longest.end() - static_cast<long>(lines.size())))
        << user;
    full += lines.size() == 7;
  }
  EXPECT_GT(full, seven.size() / 2);
  std::set<size_t> lengths;
  for (const auto& [user, lines] : reference) {
    EXPECT_GE(lines.size(), 1u);
    EXPECT_LE(lines.size(), 10u);
    lengths.insert(lines.size());
  }
  EXPECT_GT(lengths.size(), 2u) << "the reference's window is drawn per user and time";

  ArenaOptions bad = base_options(work);
  bad.simulator = "baseline:uniform";
  bad.history = scene::kMaxHistoryWindow + 1;
  util::Summary s("arena");
  EXPECT_THROW(run_arena(bad, s), util::Error);
}

TEST(ArenaRun, KilledRunsResumeFromTheStoreAndWriteTheSameBytes) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-resume");
  ArenaOptions o = base_options(work);
  o.simulator = "fake";
  o.protocol = "session";
  o.rounds = 2;
  o.users = 15;
  std::string json, md, pages;
  size_t sent_first = 0;
  {
    testing::FakeSimulatorBackend be;
    util::Summary s("arena");
    ArenaResult r = run_arena(o, be, s);
    json = slurp(r.report_json);
    md = slurp(r.report_md);
    pages = slurp(r.pages_jsonl);
    sent_first = be.keys().size();
    ASSERT_GT(sent_first, 0u);
  }
  const fs::path out = work / "arena" / "session";
  // A kill after some answers: keep the header and the first third of the stored answers, and a
  // torn final line; the final files are gone.
  const fs::path store = out / "requests.store.jsonl";
  std::vector<std::string> lines;
  {
    std::ifstream in(store);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), sent_first + 1);
  {
    std::ofstream t(store, std::ios::trunc);
    for (size_t i = 0; i < 1 + sent_first / 3; ++i) t << lines[i] << "\n";
    t << lines.back().substr(0, lines.back().size() / 2);
  }
  fs::remove(out / "report.json");
  fs::remove(out / "report.md");
  fs::remove(out / "pages.jsonl");
  {
    testing::FakeSimulatorBackend be;
    util::Summary s("arena");
    ArenaResult r = run_arena(o, be, s);
    EXPECT_EQ(be.keys().size(), sent_first - sent_first / 3);
    EXPECT_EQ(slurp(r.report_json), json);
    EXPECT_EQ(slurp(r.report_md), md);
    EXPECT_EQ(slurp(r.pages_jsonl), pages);
  }
  {
    testing::FakeSimulatorBackend be;
    util::Summary s("arena");
    ArenaResult r = run_arena(o, be, s);
    EXPECT_EQ(be.keys().size(), 0u);
    EXPECT_EQ(slurp(r.report_json), json);
  }
}

// Interleaving asks the pages of one user together, as one group of the engine; a run killed in
// the middle of a group asks that group again whole (the fake backend, like the engine, answers
// depending on the group), and the outputs are the same bytes.
TEST(ArenaRun, KilledInTheMiddleOfAPageGroupResumesWholeGroups) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-resume-groups");
  ArenaOptions o = base_options(work);
  o.simulator = "fake";
  o.users = 10;
  std::string json, pages;
  std::vector<std::string> first_keys;
  {
    testing::FakeSimulatorBackend be;
    util::Summary s("arena");
    ArenaResult r = run_arena(o, be, s);
    json = slurp(r.report_json);
    pages = slurp(r.pages_jsonl);
    first_keys = be.keys();
  }
  ASSERT_GT(first_keys.size(), 12u);
  const fs::path out = work / "arena" / "interleave";
  const fs::path store = out / "requests.store.jsonl";
  std::vector<std::string> lines;
  {
    std::ifstream in(store);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  {
    std::ofstream t(store, std::ios::trunc);  // 4 recommenders: 6 pages per user; keep 1 + 8 answers
    for (size_t i = 0; i < 9; ++i) t << lines[i] << "\n";
  }
  for (const char* f : {"report.json", "report.md", "pages.jsonl"}) fs::remove(out / f);
  testing::FakeSimulatorBackend be;
  util::Summary s("arena");
  ArenaResult r = run_arena(o, be, s);
  // The second user's group (answers 7 and 8 kept) is asked again whole: 6 fewer than the first run.
  EXPECT_EQ(be.keys().size(), first_keys.size() - 6);
  EXPECT_EQ(slurp(r.report_json), json);
  EXPECT_EQ(slurp(r.pages_jsonl), pages);
}

#ifdef UM_BACKEND_EMBEDDED
// The same with the embedded engine (the shared prompt prefix once, the exposure lists of a user's
// pages batched): a run killed in the middle of a group writes the same bytes as an uninterrupted one.
TEST(ArenaRun, EmbeddedEngineResumesWholePageGroupsByteIdentically) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  model::InitOptions mo;
  mo.arch = "qwen3";
  mo.layers = 1;
  mo.hidden = 32;
  mo.heads = 2;
  mo.kv_heads = 1;
  mo.intermediate = 48;
  mo.tie_embeddings = true;
  mo.dtype = "f32";
  mo.seed = 5;
  mo.tokenizer_dir = tok;
  mo.out_dir = um::testing::temp_dir("arena-tiny-model");
  model::init_random_model(mo);
  fs::path work = prepared_ml100k(raw, "arena-embedded-resume");
  ArenaOptions o = base_options(work);
  o.recommenders = {"random", "pop", "itemknn"};
  o.simulator = "local:" + mo.out_dir.string() + "?dtype=f32";
  o.users = 6;
  o.controls = {};
  std::string json, pages;
  {
    auto be = backend::make_backend(o.simulator);
    util::Summary s("arena");
    ArenaResult r = run_arena(o, *be, s);
    json = slurp(r.report_json);
    pages = slurp(r.pages_jsonl);
    // Pages of one user share the prompt prefix: most prompt tokens come from the cache.
    ASSERT_GT(r.prefix_cache_hit_rate, 0.5);
  }
  const fs::path out = work / "arena" / "interleave";
  const fs::path store = out / "requests.store.jsonl";
  std::vector<std::string> lines;
  {
    std::ifstream in(store);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  ASSERT_GT(lines.size(), 8u);
  {
    std::ofstream t(store, std::ios::trunc);  // killed in the middle of a group (3 pairs per user)
    for (size_t i = 0; i < 5; ++i) t << lines[i] << "\n";
  }
  for (const char* f : {"report.json", "report.md", "pages.jsonl"}) fs::remove(out / f);
  auto be = backend::make_backend(o.simulator);
  util::Summary s("arena");
  ArenaResult r = run_arena(o, *be, s);
  EXPECT_EQ(slurp(r.report_json), json);
  EXPECT_EQ(slurp(r.pages_jsonl), pages);
}
#endif

// The same simulator under another name (e.g. the same model in another folder: local:/a vs
// local:/b) gives the same intervals: the bootstrap streams are keyed by role, not by the spec.
TEST(ArenaRun, IntervalsDoNotDependOnTheSimulatorsName) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-names");
  std::vector<nlohmann::json> reports;
  for (const char* name : {"local:/models/a", "local:/elsewhere/b"}) {
    ArenaOptions o = base_options(work);
    o.simulator = name;
    o.users = 12;
    o.name = std::string("run-") + (reports.empty() ? "a" : "b");
    testing::FakeSimulatorBackend be;
    util::Summary s("arena");
    ArenaResult r = run_arena(o, be, s);
    std::ifstream in(r.report_json);
    reports.push_back(nlohmann::json::parse(in));
  }
  ASSERT_FALSE(reports[0]["pairwise"].empty());
  EXPECT_EQ(reports[0]["pairwise"], reports[1]["pairwise"]);
  EXPECT_EQ(reports[0]["agreement"], reports[1]["agreement"]);
}

TEST(ArenaRun, ControlSimulatorsOnRealData) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-controls");
  ArenaOptions o = base_options(work);
  o.recommenders = {"random", "pop"};
  o.simulator = "baseline:popularity";
  o.controls = {"baseline:uniform", "baseline:position", "baseline:collaborative"};
  o.users = 60;
  util::Summary s("arena");
  ArenaResult r = run_arena(o, s);
  // A popularity-driven user prefers the popularity recommender's items.
  EXPECT_EQ(r.ranking, (std::vector<std::string>{"pop", "random"}));
  std::ifstream in(r.report_json);
  auto rep = nlohmann::json::parse(in);
  EXPECT_EQ(rep["controls"].size(), 3u);
  // Offline, pop beats random on ml-100k as well.
  EXPECT_EQ(rep["offline_ranking"]["hr@10"][0], "pop");
}

TEST(ArenaRun, BadRecommenderInputIsCountedNotSilent) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path work = prepared_ml100k(raw, "arena-bad");
  ArenaOptions o = base_options(work);
  o.users = 0;
  o.recommenders = {"pop"};
  o.protocol = "page";
  o.simulator = "baseline:uniform";
  o.controls = {};
  // A file recommender that knows only two users and names an item the dataset does not have.
  fs::path file = work / "lists.jsonl";
  data::Dataset ds = data::load_dataset(work, "ml-100k");
  recommend::Split split = recommend::make_split(ds, recommend::parse_split(o.split));
  ASSERT_GE(split.test_users.size(), 3u);
  {
    std::ofstream f(file);
    for (size_t j = 0; j < 2; ++j) {
      uint32_t u = split.test_users[j];
      f << "{\"user_id\":\"" << ds.users[u].id
        << "\",\"items\":[\"no-such-item\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}\n";
    }
  }
  o.recommenders.push_back("file:" + file.string());
  util::Summary s("arena");
  ArenaResult r = run_arena(o, s);
  EXPECT_EQ(r.users, 2u);
  std::ifstream in(r.report_json);
  auto rep = nlohmann::json::parse(in);
  bool missing = false, unknown = false;
  for (const auto& [reason, n] : rep["skips"].items()) {
    if (reason.find("user dropped") != std::string::npos &&
        n.get<int64_t>() == static_cast<int64_t>(split.test_users.size() - 2))
      missing = true;
    if (reason.find("unknown item ids") != std::string::npos && n.get<int64_t>() == 2) unknown = true;
  }
  EXPECT_TRUE(missing) << rep["skips"].dump();
  EXPECT_TRUE(unknown) << rep["skips"].dump();

  // Option errors name the field.
  ArenaOptions bad = o;
  bad.page_size = 1;
  try {
    run_arena(bad, s);
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "page-size");
  }
  bad = o;
  bad.recommenders = {"pop", "pop"};
  EXPECT_THROW(run_arena(bad, s), util::Error);
}

}  // namespace
}  // namespace um::arena
