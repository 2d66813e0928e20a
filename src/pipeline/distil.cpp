#include "pipeline/distil.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>

#include "pipeline/distil_scene.h"
#include "pipeline/reference_fields.h"
#include "pipeline/reference_io.h"
#include "pipeline/scene_messages.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::pipeline {

namespace {

constexpr size_t kBatchLines = 1024;

// Why a scene with rows in the train file yields no pair (summary keys and the metrics "status").
enum class Status : uint8_t { no_decisions, no_hit, no_teacher_hit, no_miss, candidate };
const char* status_name(Status s) {
  switch (s) {
    case Status::no_decisions:
      return "no_decisions";
    case Status::no_hit:
      return "no_hit";
    case Status::no_teacher_hit:
      return "no_teacher_hit";
    case Status::no_miss:
      return "no_miss";
    case Status::candidate:
      return "candidate";
  }
  return "";
}

struct SceneState {
  Status status = Status::no_decisions;
  bool selected = false;
  uint8_t choice_cnt = 0;
  uint8_t item_pos = 0;
  uint16_t n_strong = 0, n_weak = 0;
  SceneMetrics metrics;
  PairPick pick;
};

// The train file and both probs files, read in lockstep (row r of each is scene r).
class AlignedFiles {
 public:
  AlignedFiles(const std::filesystem::path& work, const std::string& ds)
      : paths_{scenes_path(work, ds, "train"), probs_path(work, ds, "strong"), probs_path(work, ds, "weak")} {
    for (const auto& p : paths_)
      if (!std::filesystem::exists(p)) throw util::Error("input file not found", {.file = p.string()});
    for (size_t i = 0; i < 3; ++i) readers_[i].emplace(paths_[i]);
  }
  // Reads up to kBatchLines rows into lines[0..2]; returns the row count (0 at the end).
  size_t next_batch(std::vector<std::string> (&lines)[3]) {
    size_t n = 0;
    std::string_view v;
    for (; n < kBatchLines; ++n) {
      bool got[3];
      for (size_t f = 0; f < 3; ++f) {
        got[f] = readers_[f]->next(v);
        if (got[f]) {
          if (lines[f].size() <= n) lines[f].emplace_back();
          pad_line(lines[f][n], v);
        }
      }
      if (got[0] != got[1] || got[0] != got[2]) {
        const size_t shorter = !got[1] ? 1 : !got[2] ? 2 : 0;
        throw util::Error("file has fewer lines than the others (each line is one train scene, in order)",
                          {.file = paths_[shorter].string(), .line = readers_[shorter]->line_number() + 1});
      }
      if (!got[0]) break;
    }
    return n;
  }
  const std::filesystem::path& path(size_t f) const { return paths_[f]; }
  uint64_t bytes_read() const { return readers_[0]->bytes_read(); }
  uint64_t file_size() const { return readers_[0]->file_size(); }

 private:
  std::filesystem::path paths_[3];
  std::optional<util::LineReader> readers_[3];
};

// Runs fn(i) for each slot in parallel; rethrows the exception of the lowest failing slot, so the
// reported error does not depend on thread scheduling.
template <typename Fn>
void for_each_slot(size_t n, unsigned threads, Fn&& fn) {
  std::vector<std::exception_ptr> errors(n);
  util::parallel_for(n, threads, [&](size_t i) {
    try {
      fn(i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  });
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void check_aligned(const SceneRecord& scene, const ProbsRecord& probs, const util::Location& where) {
  if (probs.user_id != scene.user_id || probs.item_id != scene.item_id)
    throw util::Error("probs line does not belong to the train scene of the same row (user_id/item_id " +
                          probs.user_id + "/" + probs.item_id + " vs " + scene.user_id + "/" + scene.item_id +
                          ")",
                      where);
}

// Pass 1 for one row: parse the numbers, compute every §8.1–8.5 quantity.
void analyse_row(const std::string& ds, int64_t cid, const JsonLine (&line)[3], const AlignedFiles& files,
                 int64_t line_no, const DistilOptions& o, SamplingColumn sampling, SceneState& out) {
  thread_local LineParser parser;
  thread_local SceneRecord scene;
  thread_local ProbsRecord probs[2];
  thread_local std::vector<DecisionStat> stats[2];
  parse_scene(parser, line[0], scene, false, {.file = files.path(0).string(), .line = line_no});
  for (size_t v = 0; v < 2; ++v) {
    const util::Location where{.file = files.path(v + 1).string(), .line = line_no};
    parse_probs(parser, line[v + 1], probs[v], 0, where);
    check_aligned(scene, probs[v], where);
  }
  out = SceneState{};
  out.choice_cnt = static_cast<uint8_t>(scene.choice_cnt);
  out.item_pos = static_cast<uint8_t>(scene.item_pos);
  if (!probs[0].has_choice || probs[0].choice.empty() || !probs[1].has_choice || probs[1].choice.empty()) {
    out.status = Status::no_decisions;
    return;
  }
  VariantSummary sum[2];
  for (size_t v = 0; v < 2; ++v) {
    const Variant var = static_cast<Variant>(v);
    util::Rng rng = util::Rng::stream(o.seed, "distil/behavior/" + ds + "/" + variant_name(var),
                                      static_cast<uint64_t>(cid));
    stats[v].clear();
    sum[v] = summarise_variant(probs[v].choice, scene.choice_cnt, scene.item_pos, rng, stats[v]);
  }
  out.n_strong = static_cast<uint16_t>(sum[0].n);
  out.n_weak = static_cast<uint16_t>(sum[1].n);
  out.metrics = scene_metrics(sum[0], sum[1]);
  if (sum[0].hit_rate == 0 && sum[1].hit_rate == 0) {
    out.status = Status::no_hit;
    return;
  }
  util::Rng rng = util::Rng::stream(o.seed, "distil/sampling/" + ds, static_cast<uint64_t>(cid));
  out.pick = pick_pair(stats[0], stats[1], sampling, rng);
  out.status = !out.pick.chosen     ? Status::no_teacher_hit
               : !out.pick.rejected ? Status::no_miss
                                    : Status::candidate;
}

void write_metrics_line(util::JsonWriter& w, const std::string& ds, int64_t cid, const SceneState& s) {
  w.begin_object();
  w.key(fields::kDataset);
  w.value(ds);
  w.key(fields::kCid);
  w.value(cid);
  w.key(fields::kChoiceCnt);
  w.value(static_cast<int>(s.choice_cnt));
  w.key(fields::kItemPos);
  w.value(static_cast<int>(s.item_pos));
  w.key("n_teacher");
  w.value(static_cast<int>(s.n_strong));
  w.key("n_student");
  w.value(static_cast<int>(s.n_weak));
  for (int c = 0; c < kMetricColumns; ++c) {
    w.key(metric_column_name(static_cast<MetricColumn>(c)));
    w.value(metric_value(s.metrics, static_cast<MetricColumn>(c)));
  }
  w.key("status");
  w.value(status_name(s.status));
  w.key("selected");
  w.value(s.selected);
  w.end_object();
  w.newline();
}

// [system, user, assistant] from contents already encoded as JSON strings (the system prompt and the
// user message are encoded once and appear three times per pair).
void write_encoded_messages(util::JsonWriter& w, std::string_view system, std::string_view user,
                            std::string_view assistant) {
  w.begin_array();
  const std::pair<const char*, std::string_view> msgs[] = {
      {fields::kSystem, system}, {fields::kUser, user}, {fields::kAssistant, assistant}};
  for (const auto& [role, content] : msgs) {
    w.begin_object();
    w.key(fields::kRole);
    w.value(role);
    w.key(fields::kContent);
    w.raw(content);
    w.end_object();
  }
  w.end_array();
}

std::string encode(std::string_view s) {
  std::string out;
  util::append_json_string(out, s, false);
  return out;
}

// Pass 2 for one selected row: the preference and SFT lines.
void build_pair(const std::string& ds, const JsonLine (&line)[3], const AlignedFiles& files, int64_t line_no,
                const SceneState& s, const std::string& system_json, std::string& pref, std::string& sft) {
  thread_local LineParser parser;
  thread_local SceneRecord scene;
  thread_local ProbsRecord probs;
  parse_scene(parser, line[0], scene, true, {.file = files.path(0).string(), .line = line_no});
  const std::string user = encode(user_message(scene.text));
  std::string assistant[2];
  const Pick picks[2] = {*s.pick.chosen, *s.pick.rejected};
  // Each needed probs line is parsed once, keeping only the picked rationales.
  uint64_t want[3] = {0, 0, 0};
  auto file_of = [](const Pick& p) -> size_t { return p.variant == Variant::strong ? 1 : 2; };
  for (const Pick& p : picks) {
    const auto j = static_cast<uint64_t>(p.index);
    want[file_of(p)] |= j < 64 ? uint64_t{1} << j : kAllDecisions;
  }
  for (size_t f = 1; f < 3; ++f) {
    if (!want[f]) continue;
    parse_probs(parser, line[f], probs, want[f], {.file = files.path(f).string(), .line = line_no});
    for (size_t i = 0; i < 2; ++i)
      if (file_of(picks[i]) == f)
        assistant[i] = encode(
            assistant_target(probs.decision_list.at(static_cast<size_t>(picks[i].index)), picks[i].behavior));
  }
  auto head = [&](util::JsonWriter& w) {
    w.begin_object();
    w.key(fields::kDataset);
    w.value(ds);
    w.key(fields::kUserId);
    w.value(scene.user_id);
    w.key(fields::kItemId);
    w.value(scene.item_id);
    w.key(fields::kTimestamp);
    w.value(scene.timestamp);
  };
  util::JsonWriter w;
  head(w);
  w.key(fields::kMessagesChosen);
  write_encoded_messages(w, system_json, user, assistant[0]);
  w.key(fields::kMessagesRejected);
  write_encoded_messages(w, system_json, user, assistant[1]);
  w.key(fields::kBehaviorChosen);
  w.value(std::string(1, option_letter(picks[0].behavior)));
  w.key(fields::kBehaviorRejected);
  w.value(std::string(1, option_letter(picks[1].behavior)));
  w.end_object();
  w.newline();
  pref = w.take();
  w.clear();
  head(w);
  w.key(fields::kMessages);
  write_encoded_messages(w, system_json, user, assistant[0]);
  w.end_object();
  w.newline();
  sft = w.take();
}

}  // namespace

DistilResult run_distil(const DistilOptions& o) {
  if (o.datasets.empty()) throw util::Error("no datasets given (--datasets A,B)");
  if (o.name.empty() || o.name.find('/') != std::string::npos)
    throw util::Error("--name must be a plain file-name stem");
  if (o.select < 0) throw util::Error("--select must be >= 0");
  const bool random_filter = o.filter_column == fields::kRandom;
  const std::optional<MetricColumn> filter = parse_metric_column(o.filter_column);
  if (!random_filter && !filter)
    throw util::Error("unknown filter column '" + o.filter_column + "' (a scene metric name or 'random')");
  const std::optional<SamplingColumn> sampling = parse_sampling_column(o.sampling_column);
  if (!sampling)
    throw util::Error("unknown sampling column '" + o.sampling_column + "' (entropy, logloss or random)");
  for (size_t i = 0; i < o.datasets.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (o.datasets[i] == o.datasets[j]) throw util::Error("dataset '" + o.datasets[i] + "' given twice");
  const std::string system_json = encode(load_system_prompt(o.system_prompt_file.string(), o.prompts_dir));

  DistilResult result;
  std::vector<std::vector<SceneState>> scenes(o.datasets.size());
  std::vector<std::string> lines[3];
  auto row_views = [&](size_t i) {
    return std::array<JsonLine, 3>{JsonLine::in_padded(lines[0][i]), JsonLine::in_padded(lines[1][i]),
                                   JsonLine::in_padded(lines[2][i])};
  };

  // Pass 1: numbers only; rationales and texts are skipped by the parser.
  for (size_t d = 0; d < o.datasets.size(); ++d) {
    const std::string& ds = o.datasets[d];
    AlignedFiles files(o.work_dir, ds);
    std::optional<util::Progress> bar;
    if (o.progress) bar.emplace("distil " + ds, files.file_size(), "B");
    uint64_t last_bytes = 0;
    for (;;) {
      const size_t n = files.next_batch(lines);
      if (n == 0) break;
      const size_t base = scenes[d].size();
      scenes[d].resize(base + n);
      for_each_slot(n, o.threads, [&](size_t i) {
        const auto v = row_views(i);
        const JsonLine row[3] = {v[0], v[1], v[2]};
        const auto cid = static_cast<int64_t>(base + i);
        analyse_row(ds, cid, row, files, cid + 1, o, *sampling, scenes[d][base + i]);
      });
      if (bar) {
        bar->add(files.bytes_read() - last_bytes);
        last_bytes = files.bytes_read();
      }
    }
    if (bar) bar->finish();
    result.scenes += static_cast<int64_t>(scenes[d].size());
  }

  // Selection over every dataset at once (§8.6).
  std::vector<RankedScene> ranked;
  std::vector<std::pair<size_t, size_t>> ranked_at;  // (dataset index, cid)
  for (size_t d = 0; d < scenes.size(); ++d) {
    for (size_t cid = 0; cid < scenes[d].size(); ++cid) {
      const SceneState& s = scenes[d][cid];
      if (s.status != Status::candidate) {
        ++result.dropped[status_name(s.status)];
        continue;
      }
      RankedScene r;
      r.dataset = o.datasets[d];
      r.choice_cnt = s.choice_cnt;
      r.source = static_cast<uint32_t>(d);
      r.cid = static_cast<int64_t>(cid);
      r.key = random_filter ? util::Rng::stream(o.seed, "distil/filter/" + o.datasets[d], cid).uniform01()
                            : metric_value(s.metrics, *filter);
      ranked.push_back(std::move(r));
      ranked_at.emplace_back(d, cid);
    }
  }
  result.candidates = static_cast<int64_t>(ranked.size());
  // A random key is a shuffle: its direction is irrelevant.
  const bool ascending = random_filter ? false : o.ascending;
  for (size_t i : select_scenes(ranked, o.select, ascending, o.allocation, &result.groups)) {
    SceneState& s = scenes[ranked_at[i].first][ranked_at[i].second];
    s.selected = true;
    ++result.pairs;
    if (s.pick.rejected->variant == Variant::weak) ++result.rejected_from_weak;
  }

  const std::filesystem::path out_dir = o.work_dir / "datasets";
  std::filesystem::create_directories(out_dir);
  result.metrics_file = out_dir / (o.name + "_scene_metrics.jsonl");
  result.pref_file = out_dir / (o.name + "_pref.jsonl");
  result.sft_file = out_dir / (o.name + "_sft.jsonl");
  {
    util::AtomicWriter metrics(result.metrics_file);
    util::JsonWriter w;
    for (size_t d = 0; d < scenes.size(); ++d) {
      for (size_t cid = 0; cid < scenes[d].size(); ++cid) {
        if (scenes[d][cid].status == Status::no_decisions) continue;
        write_metrics_line(w, o.datasets[d], static_cast<int64_t>(cid), scenes[d][cid]);
        if (w.str().size() > (1 << 20)) {
          metrics.write(w.str());
          w.clear();
        }
      }
    }
    metrics.write(w.str());
    metrics.commit();
  }

  // Pass 2: texts and rationales of the selected scenes, in (dataset, cid) order.
  util::AtomicWriter pref(result.pref_file);
  util::AtomicWriter sft(result.sft_file);
  std::vector<std::string> pref_lines, sft_lines;
  for (size_t d = 0; d < o.datasets.size(); ++d) {
    const std::string& ds = o.datasets[d];
    if (std::none_of(scenes[d].begin(), scenes[d].end(), [](const SceneState& s) { return s.selected; }))
      continue;
    AlignedFiles files(o.work_dir, ds);
    size_t base = 0;
    for (;;) {
      const size_t n = files.next_batch(lines);
      if (n == 0) break;
      pref_lines.assign(n, std::string());
      sft_lines.assign(n, std::string());
      for_each_slot(n, o.threads, [&](size_t i) {
        const SceneState& s = scenes[d][base + i];
        if (!s.selected) return;
        const auto v = row_views(i);
        const JsonLine row[3] = {v[0], v[1], v[2]};
        build_pair(ds, row, files, static_cast<int64_t>(base + i) + 1, s, system_json, pref_lines[i],
                   sft_lines[i]);
      });
      for (size_t i = 0; i < n; ++i) {
        pref.write(pref_lines[i]);
        sft.write(sft_lines[i]);
      }
      base += n;
    }
  }
  pref.commit();
  sft.commit();
  return result;
}

}  // namespace um::pipeline
