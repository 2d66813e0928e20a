// run_arena: split → recommenders → lists → pages → choice models → report (arena.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <unordered_map>

#include "arena/arena.h"
#include "arena/arena_outcome.h"
#include "arena/arena_report.h"
#include "arena/interleaving.h"
#include "arena/llm_choice_model.h"
#include "backend/backend.h"
#include "data/dataset_io.h"
#include "distil/scene_messages.h"
#include "scene/scene_generator.h"
#include "text/prompt_store.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::arena {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void validate(const ArenaOptions& o) {
  if (o.work.empty()) throw util::Error("--work is required", {.field = "work"});
  if (o.dataset.empty()) throw util::Error("--dataset is required", {.field = "dataset"});
  if (o.protocol != "interleave" && o.protocol != "multileave" && o.protocol != "page" &&
      o.protocol != "session")
    throw util::Error("protocol must be interleave, multileave, page or session, got '" + o.protocol + "'",
                      {.field = "protocol"});
  const size_t need = o.protocol == "interleave" || o.protocol == "multileave" ? 2 : 1;
  if (o.recommenders.size() < need)
    throw util::Error(
        "the " + o.protocol + " protocol needs at least " + std::to_string(need) + " recommender(s)",
        {.field = "recommenders"});
  std::vector<std::string> names = o.recommenders;
  std::sort(names.begin(), names.end());
  if (auto d = std::adjacent_find(names.begin(), names.end()); d != names.end())
    throw util::Error("recommender '" + *d + "' is listed twice", {.field = "recommenders"});
  if (o.page_size < 2 || o.page_size > 12)
    throw util::Error("page size must be between 2 and 12, got " + std::to_string(o.page_size),
                      {.field = "page-size"});
  if (o.history > scene::kMaxHistoryWindow)
    throw util::Error("history must be between 0 (the reference's random 2-10 window) and " +
                          std::to_string(scene::kMaxHistoryWindow) + ", got " + std::to_string(o.history),
                      {.field = "history"});
  if (o.rounds < 1 || o.rounds > 50)
    throw util::Error("rounds must be between 1 and 50", {.field = "rounds"});
  if (o.offline_k < 1) throw util::Error("offline k must be >= 1", {.field = "offline-k"});
  if (o.simulator.empty()) throw util::Error("--simulator is required", {.field = "simulator"});
  if (o.order != "grouped" && o.order != "naive")
    throw util::Error("order must be grouped or naive", {.field = "order"});
  if (o.bootstrap < 0) throw util::Error("bootstrap must be >= 0", {.field = "bootstrap"});
}

std::string output_name(const ArenaOptions& o) { return o.name.empty() ? o.protocol : o.name; }

// Distinct pages of one choice model, keyed by what the prompt shows.
class PageBook {
 public:
  PageBook(const ArenaData& d, const scene::SceneGenerator* renderer)
      : d_(d), renderer_(renderer), pages_(std::make_shared<std::vector<PageScene>>()) {}

  size_t add(size_t user, const std::vector<uint32_t>& appended, std::vector<uint32_t> items) {
    const uint32_t row = d_.users[user];
    std::string id;
    for (uint32_t a : appended) id += d_.dataset->items[a].id + '\x1f';
    id += '\x1e';
    for (uint32_t i : items) id += d_.dataset->items[i].id + '\x1f';
    std::string key = d_.dataset->users[row].id + "/" + util::hex64(util::hash64(id));
    if (auto it = index_.find(key); it != index_.end()) return it->second;
    PageScene p;
    p.key = key;
    p.user = row;
    p.t_us = d_.split->first_test_us(row);
    p.history = d_.split->train_items_of(row);
    p.history.insert(p.history.end(), appended.begin(), appended.end());
    p.appended = appended;
    p.items = std::move(items);
    if (renderer_) p.text = renderer_->render(row, row, p.t_us, p.items, p.appended);
    index_.emplace(std::move(key), pages_->size());
    pages_->push_back(std::move(p));
    return pages_->size() - 1;
  }
  std::shared_ptr<std::vector<PageScene>> pages() const { return pages_; }

 private:
  const ArenaData& d_;
  const scene::SceneGenerator* renderer_;
  std::shared_ptr<std::vector<PageScene>> pages_;
  std::unordered_map<std::string, size_t> index_;
};

// Asks `model` about pages [from, pages.size()) in the request order of options.order: "grouped"
// sorts by user (stable), so every page of one user follows the previous one and the backend's
// prefix cache serves their shared system prompt, profile and history once.
void answer(ChoiceModel& model, ModelRun& run, size_t from, const ArenaOptions& o, double& seconds) {
  const auto& pages = *run.pages;
  std::vector<size_t> order(pages.size() - from);
  std::iota(order.begin(), order.end(), from);
  if (o.order == "grouped")
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return pages[a].user < pages[b].user; });
  std::vector<const PageScene*> ask;
  for (size_t i : order) ask.push_back(&pages[i]);
  const auto t0 = Clock::now();
  auto dist = ask.empty() ? std::vector<std::vector<double>>{} : model.choose(ask);
  seconds += since(t0);
  if (dist.size() != ask.size())
    throw util::Error("simulator '" + model.name() + "' answered " + std::to_string(dist.size()) + " of " +
                          std::to_string(ask.size()) + " pages",
                      {.field = "simulator"});
  run.dist.resize(pages.size());
  for (size_t j = 0; j < order.size(); ++j) {
    auto& q = dist[j];
    if (!q.empty() && q.size() != pages[order[j]].items.size())
      throw util::Error("simulator '" + model.name() + "' gave " + std::to_string(q.size()) +
                            " probabilities for a page of " + std::to_string(pages[order[j]].items.size()),
                        {.field = "simulator", .record = pages[order[j]].key});
    run.dist[order[j]] = std::move(q);
  }
}

void count_unanswered(ModelRun& run) {
  run.unanswered = 0;
  for (const auto& s : run.showings)
    if (run.dist[s.page].empty()) ++run.unanswered;
}

// Pages that do not depend on the simulator's answers: one recommender's page, or a team-draft
// interleaving of every pair.
ModelRun fixed_pages(const ArenaData& d, const scene::SceneGenerator* renderer) {
  const ArenaOptions& o = *d.options;
  ModelRun run;
  PageBook book(d, renderer);
  const size_t nr = d.rec_names.size();
  if (o.protocol == "page") {
    for (size_t r = 0; r < nr; ++r) {
      for (size_t u = 0; u < d.users.size(); ++u) {
        const auto& list = d.lists[r][u];
        std::vector<uint32_t> items(list.begin(),
                                    list.begin() + static_cast<long>(std::min(o.page_size, list.size())));
        run.showings.push_back({book.add(u, {}, std::move(items)), u, 0, {static_cast<int>(r)}, {}});
      }
    }
  } else if (o.protocol == "multileave") {
    const std::string stage = "arena/multileave";
    std::vector<int> all(nr);
    for (size_t r = 0; r < nr; ++r) all[r] = static_cast<int>(r);
    for (size_t u = 0; u < d.users.size(); ++u) {
      util::Rng rng = util::Rng::stream(o.seed, stage, d.users[u]);
      std::vector<std::vector<uint32_t>> lists;
      for (size_t r = 0; r < nr; ++r) lists.push_back(d.lists[r][u]);
      InterleavedPage p = team_draft(lists, o.page_size, rng);
      run.showings.push_back({book.add(u, {}, std::move(p.items)), u, 0, all, p.team});
    }
  } else {
    for (size_t a = 0; a < nr; ++a) {
      for (size_t b = a + 1; b < nr; ++b) {
        // Keyed by the recommenders' positions, never their names (file:PATH would make the draws
        // depend on where a file lies).
        const std::string stage = "arena/interleave/" + std::to_string(a) + "/" + std::to_string(b);
        for (size_t u = 0; u < d.users.size(); ++u) {
          util::Rng rng = util::Rng::stream(o.seed, stage, d.users[u]);
          InterleavedPage p = team_draft({d.lists[a][u], d.lists[b][u]}, o.page_size, rng);
          run.showings.push_back({book.add(u, {}, std::move(p.items)),
                                  u,
                                  0,
                                  {static_cast<int>(a), static_cast<int>(b)},
                                  p.team});
        }
      }
    }
  }
  run.pages = book.pages();
  return run;
}

// R rounds: show each recommender's page, sample the simulated choice (seeded per model,
// recommender, user and round), append it to the history, ask the recommender again.
ModelRun session_pages(const ArenaData& d, const std::vector<std::unique_ptr<recommend::Recommender>>& recs,
                       ChoiceModel& model, const std::string& stream_key,
                       const scene::SceneGenerator* renderer, double& seconds,
                       std::map<std::string, int64_t>& skips) {
  const ArenaOptions& o = *d.options;
  ModelRun run;
  run.name = model.name();
  PageBook book(d, model.needs_text() ? renderer : nullptr);
  run.pages = book.pages();
  const size_t nr = recs.size(), nu = d.users.size();
  std::vector<std::vector<std::vector<uint32_t>>> appended(nr, std::vector<std::vector<uint32_t>>(nu));
  std::vector<std::vector<char>> alive(nr, std::vector<char>(nu, 1));
  for (int round = 0; round < o.rounds; ++round) {
    const size_t first_page = run.pages->size(), first_showing = run.showings.size();
    for (size_t r = 0; r < nr; ++r) {
      std::vector<std::vector<uint32_t>> lists(nu);
      if (round == 0) {
        for (size_t u = 0; u < nu; ++u) lists[u] = d.lists[r][u];
      } else {
        std::vector<recommend::Query> queries;
        std::vector<size_t> who;
        for (size_t u = 0; u < nu; ++u) {
          if (!alive[r][u]) continue;
          recommend::Query q{.user = d.users[u],
                             .history = d.split->train_items_of(d.users[u]),
                             .t_us = d.split->first_test_us(d.users[u]),
                             .k = o.page_size};
          q.history.insert(q.history.end(), appended[r][u].begin(), appended[r][u].end());
          queries.push_back(std::move(q));
          who.push_back(u);
        }
        auto answers = recs[r]->recommend_batch(queries);
        for (size_t j = 0; j < who.size(); ++j) {
          if (!answers[j].skip.empty()) ++skips["session: " + d.rec_names[r] + ": " + answers[j].skip];
          lists[who[j]] = std::move(answers[j].items);
        }
      }
      for (size_t u = 0; u < nu; ++u) {
        if (!alive[r][u]) continue;
        auto& list = lists[u];
        if (list.size() > o.page_size) list.resize(o.page_size);
        if (list.size() < 2) {
          ++skips["session: " + d.rec_names[r] + ": fewer than 2 items to show, user's session ended"];
          alive[r][u] = 0;
          continue;
        }
        run.showings.push_back(
            {book.add(u, appended[r][u], std::move(list)), u, round, {static_cast<int>(r)}, {}});
      }
    }
    answer(model, run, first_page, o, seconds);
    for (size_t s = first_showing; s < run.showings.size(); ++s) {
      const Showing& sh = run.showings[s];
      const auto& q = run.dist[sh.page];
      const size_t r = static_cast<size_t>(sh.recs[0]);
      if (q.empty()) {
        alive[r][sh.user] = 0;  // no answer: the session cannot go on (counted in unanswered)
        continue;
      }
      util::Rng rng =
          util::Rng::stream(o.seed, "arena/session/" + stream_key + "/" + std::to_string(r),
                            static_cast<uint64_t>(d.users[sh.user]) * 64 + static_cast<uint64_t>(round));
      appended[r][sh.user].push_back((*run.pages)[sh.page].items[rng.categorical(q)]);
    }
  }
  count_unanswered(run);
  return run;
}

std::string load_prompt_text(const ArenaOptions& o) {
  std::string spec = o.system_prompt;
  if (spec.empty())
    spec = std::string(o.mode == "direct" ? text::kDefaultDirectPrompt : text::kDefaultReasoningPrompt);
  return distil::load_system_prompt(
      spec, o.prompts_dir.empty() ? std::nullopt : std::optional<fs::path>(o.prompts_dir));
}

// `given` = null: the simulator is the control named by o.simulator.
ArenaResult run_with(const ArenaOptions& o, ChoiceModel* given, LlmChoiceModel* llm, util::Summary& summary,
                     const std::function<backend::BackendStats()>& stats_of = {}) {
  const auto t_start = Clock::now();
  validate(o);
  ArenaResult result;
  result.out_dir = o.work / "arena" / output_name(o);
  fs::create_directories(result.out_dir);

  data::Dataset ds = data::load_dataset(o.work, o.dataset);
  recommend::Split split = recommend::make_split(ds, recommend::parse_split(o.split));
  ArenaData d;
  d.options = &o;
  d.split = &split;
  d.dataset = &ds;
  d.rec_names = o.recommenders;
  auto sampled = recommend::sample_test_users(split, o.users, o.seed, &d.users_capped);
  d.sampled_users = sampled.size();
  if (d.users_capped)
    std::fprintf(stderr, "arena: %zu users asked for, the split has %zu test users: using all of them\n",
                 o.users, split.test_users.size());
  d.train_count.assign(ds.items.size(), 0);
  for (const auto& events : split.train)
    for (const auto& e : events) ++d.train_count[e.item];

  // Recommenders, trained on the train part, and their lists at each user's first test time.
  const auto t_train = Clock::now();
  std::vector<std::unique_ptr<recommend::Recommender>> recs;
  for (const auto& spec : o.recommenders) {
    auto custom = o.custom_recommender ? o.custom_recommender(spec, ds, split) : nullptr;
    recs.push_back(custom ? std::move(custom)
                          : recommend::make_recommender(
                                spec, split, {.seed = o.seed, .threads = o.threads, .progress = o.progress}));
  }
  const double seconds_training = since(t_train);
  const auto t_lists = Clock::now();
  const size_t k = std::max(o.page_size, static_cast<size_t>(o.offline_k));
  std::vector<recommend::Query> queries;
  for (uint32_t u : sampled)
    queries.push_back(
        {.user = u, .history = split.train_items_of(u), .t_us = split.first_test_us(u), .k = k});
  std::vector<std::vector<recommend::Recommendation>> answers;
  for (size_t r = 0; r < recs.size(); ++r) {
    answers.push_back(recs[r]->recommend_batch(queries));
    int64_t unknown = 0, excluded = 0;
    for (const auto& a : answers.back()) {
      unknown += a.unknown_items;
      excluded += a.excluded_items;
    }
    if (unknown) d.skips[o.recommenders[r] + ": unknown item ids dropped from lists"] += unknown;
    if (excluded) d.skips[o.recommenders[r] + ": history items or duplicates dropped from lists"] += excluded;
  }
  double seconds_lists = since(t_lists);
  // Evaluated users: every recommender has a list of at least two items for them.
  std::vector<size_t> keep;
  for (size_t u = 0; u < sampled.size(); ++u) {
    bool ok = true;
    for (size_t r = 0; r < recs.size(); ++r) {
      const auto& a = answers[r][u];
      if (!a.skip.empty()) {
        ++d.skips["user dropped: " + o.recommenders[r] + ": " + a.skip];
        ok = false;
      } else if (a.items.size() < 2) {
        ++d.skips["user dropped: " + o.recommenders[r] + ": fewer than 2 items"];
        ok = false;
      } else if (a.items.size() < o.page_size) {
        ++d.skips[o.recommenders[r] + ": list shorter than the page (shown as is)"];
      }
    }
    if (ok) keep.push_back(u);
  }
  if (keep.empty())
    throw util::Error("no test user has a usable list from every recommender", {.field = "recommenders"});
  d.lists.assign(recs.size(), {});
  for (size_t u : keep) {
    d.users.push_back(sampled[u]);
    std::vector<uint32_t> rel;
    for (const auto& e : split.test[sampled[u]]) rel.push_back(e.item);
    std::sort(rel.begin(), rel.end());
    rel.erase(std::unique(rel.begin(), rel.end()), rel.end());
    d.relevant.push_back(std::move(rel));
    for (size_t r = 0; r < recs.size(); ++r) d.lists[r].push_back(answers[r][u].items);
  }
  for (size_t r = 0; r < recs.size(); ++r) {
    std::vector<std::vector<uint32_t>> cut;
    for (const auto& l : d.lists[r])
      cut.emplace_back(l.begin(),
                       l.begin() + static_cast<long>(std::min(l.size(), static_cast<size_t>(o.offline_k))));
    d.offline.push_back(recommend::offline_metrics(cut, d.relevant, o.offline_k));
  }

  // The models: the simulator, then the controls on the same pages (their own pages in sessions).
  ControlContext cc{split, ds, o.seed, o.threads};
  std::unique_ptr<ChoiceModel> own = given ? nullptr : make_control(o.simulator, cc);
  ChoiceModel& model = given ? *given : *own;

  // The scene renderer (profile, history window, item entries with the dataset's templates), only
  // when the simulator reads the pages' text.
  std::unique_ptr<scene::SceneGenerator> renderer;
  if (model.needs_text()) {
    scene::SceneConfig cfg;
    cfg.split = "arena";
    cfg.seed = o.seed;
    cfg.threads = o.threads;
    cfg.scorers = {"random"};
    cfg.impressions = scene::ImpressionMode::Sampled;
    cfg.shape = {.min_options = 1, .max_options = 26};
    cfg.history_window = o.history;
    renderer = std::make_unique<scene::SceneGenerator>(ds, cfg);
  }
  std::vector<std::unique_ptr<ChoiceModel>> controls;
  for (const auto& c : o.controls)
    if (c != model.name()) controls.push_back(make_control(c, cc));
  std::vector<ModelRun> runs;
  double seconds = 0, control_seconds = 0;
  if (o.protocol == "session") {
    runs.push_back(session_pages(d, recs, model, "simulator", renderer.get(), seconds, d.skips));
    for (auto& c : controls)
      runs.push_back(session_pages(d, recs, *c, c->name(), nullptr, control_seconds, d.skips));
  } else {
    ModelRun fixed = fixed_pages(d, renderer.get());
    for (size_t m = 0; m <= controls.size(); ++m) {
      ChoiceModel& cm = m == 0 ? model : *controls[m - 1];
      ModelRun run = fixed;
      run.name = cm.name();
      answer(cm, run, 0, o, m == 0 ? seconds : control_seconds);
      count_unanswered(run);
      runs.push_back(std::move(run));
    }
  }
  if (llm) {
    seconds = llm->seconds();
    result.cpu_seconds_simulator = llm->cpu_seconds();
  }

  ReportFiles files = write_arena_report(d, runs, result.out_dir);
  result.report_json = files.json;
  result.report_md = files.markdown;
  result.pages_jsonl = files.pages;
  result.ranking = files.ranking;
  result.users = d.users.size();
  result.pages = runs[0].showings.size();
  result.distinct_pages = runs[0].pages->size();
  result.seconds_simulator = seconds;
  if (o.figures) result.figures = render_arena_figures(result.report_json, result.out_dir);
  result.seconds_total = since(t_start);

  summary.set("dataset", o.dataset);
  summary.set("split", split.spec.text());
  summary.set("protocol", o.protocol);
  summary.set("simulator", model.name());
  summary.count("test users sampled", d.sampled_users);
  summary.count("users evaluated", d.users.size());
  summary.count("pages", result.pages);
  summary.count("distinct prompts", result.distinct_pages);
  if (llm) {
    if (stats_of) {
      const backend::BackendStats st = stats_of();
      if (st.option_prompt_tokens > 0)
        result.prefix_cache_hit_rate = static_cast<double>(st.option_prompt_tokens_cached) /
                                       static_cast<double>(st.option_prompt_tokens);
      if (st.option_prompt_tokens > 0)
        summary.set(
            "prefix-cache hit rate (prompt tokens)",
            std::to_string(static_cast<int>(100.0 * static_cast<double>(st.option_prompt_tokens_cached) /
                                            static_cast<double>(st.option_prompt_tokens))) +
                " % of " + std::to_string(st.option_prompt_tokens));
    }
    summary.count("simulator requests sent", static_cast<uint64_t>(llm->requests_sent()));
    summary.count("answers reused from the store", static_cast<uint64_t>(llm->requests_stored()));
    if (llm->failed()) summary.skip("simulator requests failed", static_cast<uint64_t>(llm->failed()));
  }
  if (runs[0].unanswered)
    summary.skip("pages without a simulator answer", static_cast<uint64_t>(runs[0].unanswered));
  for (const auto& [reason, n] : d.skips) summary.skip(reason, static_cast<uint64_t>(n));
  std::string ranking;
  for (const auto& r : result.ranking) ranking += (ranking.empty() ? "" : " > ") + r;
  summary.set("simulated ranking", ranking);
  // Where the time went: the recommenders (training, lists) and the simulator are not the arena's
  // own work; everything else (split, pages, rendering, controls, statistics, report) is.
  const double overhead = result.seconds_total - seconds - seconds_training - seconds_lists;
  result.seconds_recommenders = seconds_training + seconds_lists;
  summary.set("time: recommenders (training + lists)",
              util::human_seconds(seconds_training) + " + " + util::human_seconds(seconds_lists));
  summary.set("time: simulator", util::human_seconds(seconds) +
                                     (result.cpu_seconds_simulator >= 0
                                          ? " (CPU " + util::human_seconds(result.cpu_seconds_simulator) + ")"
                                          : std::string()));
  if (seconds > 0) {
    char rate[96];
    if (result.cpu_seconds_simulator > 0) {
      std::snprintf(rate, sizeof rate, "%.3g (%.3g per CPU second)",
                    static_cast<double>(result.distinct_pages) / seconds,
                    static_cast<double>(result.distinct_pages) / result.cpu_seconds_simulator);
    } else {
      std::snprintf(rate, sizeof rate, "%.3g", static_cast<double>(result.distinct_pages) / seconds);
    }
    summary.set("simulator pages/s", rate);
  }
  summary.set("time: controls", util::human_seconds(control_seconds));
  summary.set("time: arena overhead (all the rest)",
              util::human_seconds(overhead) + " (" +
                  std::to_string(static_cast<int>(100.0 * overhead / std::max(result.seconds_total, 1e-9))) +
                  " % of the run)");
  summary.set("report", result.report_md.string());
  return result;
}

}  // namespace

ArenaResult run_arena(const ArenaOptions& o, ChoiceModel& simulator, util::Summary& summary) {
  return run_with(o, &simulator, nullptr, summary);
}

ArenaResult run_arena(const ArenaOptions& o, backend::Backend& be, util::Summary& summary) {
  validate(o);
  LlmChoiceOptions lo;
  lo.name = o.simulator;
  lo.mode = o.mode;
  lo.system_prompt = load_prompt_text(o);
  lo.repeats = o.repeats;
  lo.max_tokens = o.max_tokens;
  lo.temperature = o.temperature;
  lo.top_p = o.top_p;
  lo.seed = o.seed;
  lo.max_failures = o.max_failures;
  fs::path out = o.work / "arena" / output_name(o);
  fs::create_directories(out);
  LlmChoiceModel model(be, out / "requests.store.jsonl", std::move(lo));
  return run_with(o, &model, &model, summary, [&be] { return be.stats(); });
}

ArenaResult run_arena(const ArenaOptions& o, util::Summary& summary) {
  validate(o);
  if (is_control(o.simulator)) return run_with(o, nullptr, nullptr, summary);  // made once the split exists
  auto be = backend::make_backend(o.simulator);
  return run_arena(o, *be, summary);
}

}  // namespace um::arena
