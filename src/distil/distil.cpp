#include "distil/distil.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <span>

#include "distil/distil_inputs.h"
#include "distil/distil_scene.h"
#include "distil/reference_fields.h"
#include "distil/reference_io.h"
#include "distil/scene_messages.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::distil {

namespace {

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
  // Where pass 2 finds a candidate's texts: its train line, and for the chosen and rejected
  // rationale the JSON string inside its probs line. Line offsets are used for plain files (pass 2
  // reads just these bytes back); the spans within lines for compressed ones too.
  uint64_t line_offset[3] = {0, 0, 0};  // train, strong, weak
  uint32_t train_size = 0;
  ProbsRecord::Span pick_token[2];
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

// Names of a dataset's random streams (docs/method.md §8.4; see docs/reference-differences.md).
struct StreamNames {
  std::string behavior[2];  // per variant
  std::string sampling;
  explicit StreamNames(const std::string& ds)
      : behavior{"distil/behavior/" + ds + "/" + variant_name(Variant::strong),
                 "distil/behavior/" + ds + "/" + variant_name(Variant::weak)},
        sampling("distil/sampling/" + ds) {}
};

Allocation allocation(const DistilOptions& o) {
  return o.allocation.value_or(o.compat == data::Compat::reference ? Allocation::reference
                                                                   : Allocation::proportional);
}

// Pass 1 for one row: parse the numbers, compute every §8.1–8.5 quantity, and remember where a
// candidate's texts are.
void analyse_row(const StreamNames& streams, int64_t cid, const Row* const (&row)[3],
                 const AlignedFiles& files, const DistilOptions& o, SamplingColumn sampling,
                 SceneState& out) {
  thread_local LineParser parser;
  thread_local SceneRecord scene;
  thread_local ProbsRecord probs[2];
  thread_local std::vector<DecisionStat> stats[2];
  const int64_t line_no = cid + 1;
  parse_scene(parser, row[0]->line, scene, false, {.file = files.path(0), .line = line_no});
  for (size_t v = 0; v < 2; ++v) {
    const util::Location where{.file = files.path(v + 1), .line = line_no};
    parse_probs(parser, row[v + 1]->line, probs[v], 0, where);
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
    util::Rng rng = util::Rng::stream(o.seed, streams.behavior[v], static_cast<uint64_t>(cid));
    stats[v].clear();
    sum[v] = summarise_variant(probs[v].choice, scene.choice_cnt, scene.item_pos, rng, stats[v],
                               o.compat == data::Compat::reference ? kReferenceSampleSupport : 0);
  }
  out.n_strong = static_cast<uint16_t>(sum[0].n);
  out.n_weak = static_cast<uint16_t>(sum[1].n);
  out.metrics = scene_metrics(sum[0], sum[1]);
  if (sum[0].hit_rate == 0 && sum[1].hit_rate == 0) {
    out.status = Status::no_hit;
    return;
  }
  util::Rng rng = util::Rng::stream(o.seed, streams.sampling, static_cast<uint64_t>(cid));
  out.pick = pick_pair(stats[0], stats[1], sampling, rng);
  out.status = !out.pick.chosen     ? Status::no_teacher_hit
               : !out.pick.rejected ? Status::no_miss
                                    : Status::candidate;
  if (out.status != Status::candidate) return;
  for (size_t f = 0; f < 3; ++f) out.line_offset[f] = row[f]->offset;
  out.train_size = static_cast<uint32_t>(row[0]->line.text.size());
  const Pick* picks[2] = {&*out.pick.chosen, &*out.pick.rejected};
  for (size_t i = 0; i < 2; ++i) {
    const auto v = static_cast<size_t>(picks[i]->variant);
    out.pick_token[i] = probs[v].decision_tokens.at(static_cast<size_t>(picks[i]->index));
  }
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

constexpr const char* kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// The texts pass 2 needs for one selected scene: its train line and the JSON string tokens of the
// chosen and rejected rationale.
struct PairInputs {
  JsonLine train{std::string_view()};
  JsonLine token[2] = {std::string_view(), std::string_view()};
};

// Pass 2 for one selected row: the preference and SFT lines.
void build_pair(const std::string& ds, const PairInputs& in, const AlignedFiles& files, int64_t line_no,
                const SceneState& s, const std::string& system_json, util::JsonWriter& pref,
                util::JsonWriter& sft) {
  // Buffers reused across pairs (no allocation per pair once they have grown).
  thread_local LineParser parser;
  thread_local SceneRecord scene;
  thread_local std::string user, assistant[2];
  parse_scene(parser, in.train, scene, true, {.file = files.path(0), .line = line_no});
  user.clear();
  util::append_json_string(user, user_message(scene.text), false);
  const Pick picks[2] = {*s.pick.chosen, *s.pick.rejected};
  for (size_t i = 0; i < 2; ++i) {
    const size_t f = picks[i].variant == Variant::strong ? 1 : 2;
    const std::string_view rationale = parse_string_token(
        parser, in.token[i], {.file = files.path(f), .line = line_no, .field = fields::kDecisionList});
    assistant[i].clear();
    util::append_json_string(assistant[i], assistant_target(rationale, picks[i].behavior), false);
  }
  auto head = [&](util::JsonWriter& w) {
    w.clear();
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
  head(pref);
  pref.key(fields::kMessagesChosen);
  write_encoded_messages(pref, system_json, user, assistant[0]);
  pref.key(fields::kMessagesRejected);
  write_encoded_messages(pref, system_json, user, assistant[1]);
  pref.key(fields::kBehaviorChosen);
  pref.value(std::string_view(&kLetters[picks[0].behavior], 1));
  pref.key(fields::kBehaviorRejected);
  pref.value(std::string_view(&kLetters[picks[1].behavior], 1));
  pref.end_object();
  pref.newline();
  head(sft);
  sft.key(fields::kMessages);
  write_encoded_messages(sft, system_json, user, assistant[0]);
  sft.end_object();
  sft.newline();
}

// The filter and sampling columns the options name.
struct Columns {
  bool random_filter = false;          // "random": scenes ranked by a seeded uniform key
  std::optional<MetricColumn> filter;  // set unless random_filter
  SamplingColumn sampling = SamplingColumn::entropy;
};

// Checks the options before any file is read (the first failing check is the error reported).
Columns check_options(const DistilOptions& o) {
  if (o.datasets.empty()) throw util::Error("no datasets given (--datasets A,B)");
  if (o.name.empty() || o.name.find('/') != std::string::npos)
    throw util::Error("--name must be a plain file-name stem");
  if (o.select < 0) throw util::Error("--select must be >= 0");
  Columns c;
  c.random_filter = o.filter_column == fields::kRandom;
  c.filter = parse_metric_column(o.filter_column);
  if (!c.random_filter && !c.filter)
    throw util::Error("unknown filter column '" + o.filter_column + "' (a scene metric name or 'random')");
  const std::optional<SamplingColumn> sampling = parse_sampling_column(o.sampling_column);
  if (!sampling)
    throw util::Error("unknown sampling column '" + o.sampling_column + "' (entropy, logloss or random)");
  c.sampling = *sampling;
  for (size_t i = 0; i < o.datasets.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (o.datasets[i] == o.datasets[j]) throw util::Error("dataset '" + o.datasets[i] + "' given twice");
  return c;
}

// One dataset after pass 1: its input files (kept open for pass 2) and the state of each train row
// (scenes[cid], cid = row index from 0).
struct DatasetScenes {
  std::unique_ptr<AlignedFiles> files;
  std::vector<SceneState> scenes;
};

// Pass 1 over one dataset: numbers only; rationales and texts are located, not decoded.
DatasetScenes analyse_dataset(const DistilOptions& o, const std::string& ds, SamplingColumn sampling) {
  DatasetScenes out;
  out.files = std::make_unique<AlignedFiles>(o.work_dir, ds);
  AlignedFiles& files = *out.files;
  const StreamNames streams(ds);
  std::optional<util::Progress> bar;
  if (o.progress) bar.emplace("distil " + ds, files.file(0).size(), "B");
  uint64_t last_bytes = 0;
  std::vector<Row> rows[3];
  for (;;) {
    const size_t n = files.next_batch(rows);
    if (n == 0) break;
    const size_t base = out.scenes.size();
    out.scenes.resize(base + n);
    for_each_slot(n, o.threads, [&](size_t i) {
      const Row* const row[3] = {&rows[0][i], &rows[1][i], &rows[2][i]};
      analyse_row(streams, static_cast<int64_t>(base + i), row, files, o, sampling, out.scenes[base + i]);
    });
    if (bar) {
      bar->add(files.file(0).position() - last_bytes);
      last_bytes = files.file(0).position();
    }
  }
  if (bar) bar->finish();
  return out;
}

// Selection over every dataset at once (§8.6): ranks the candidate scenes, marks the selected ones
// and counts the dropped scenes, the candidates, the pairs and their groups into `result`.
void select_pairs(const DistilOptions& o, const Columns& c, std::vector<DatasetScenes>& data,
                  DistilResult& result) {
  std::vector<RankedScene> ranked;
  std::vector<std::pair<size_t, size_t>> ranked_at;  // (dataset index, cid)
  for (size_t d = 0; d < data.size(); ++d) {
    for (size_t cid = 0; cid < data[d].scenes.size(); ++cid) {
      const SceneState& s = data[d].scenes[cid];
      if (s.status != Status::candidate) {
        ++result.dropped[status_name(s.status)];
        continue;
      }
      RankedScene r;
      r.dataset = o.datasets[d];
      r.choice_cnt = s.choice_cnt;
      r.source = static_cast<uint32_t>(d);
      r.cid = static_cast<int64_t>(cid);
      r.key = c.random_filter ? util::Rng::stream(o.seed, "distil/filter/" + o.datasets[d], cid).uniform01()
                              : metric_value(s.metrics, *c.filter);
      ranked.push_back(std::move(r));
      ranked_at.emplace_back(d, cid);
    }
  }
  result.candidates = static_cast<int64_t>(ranked.size());
  // A random key is a shuffle: its direction is irrelevant.
  const bool ascending = c.random_filter ? false : o.ascending;
  for (size_t i : select_scenes(ranked, o.select, ascending, allocation(o), &result.groups)) {
    SceneState& s = data[ranked_at[i].first].scenes[ranked_at[i].second];
    s.selected = true;
    ++result.pairs;
    if (s.pick.rejected->variant == Variant::weak) ++result.rejected_from_weak;
  }
}

// The metrics table: one line per scene with decisions, in (dataset, cid) order.
void write_scene_metrics(const std::filesystem::path& file, const std::vector<std::string>& datasets,
                         const std::vector<DatasetScenes>& data) {
  util::AtomicWriter metrics(file);
  util::JsonWriter w;
  for (size_t d = 0; d < data.size(); ++d) {
    for (size_t cid = 0; cid < data[d].scenes.size(); ++cid) {
      if (data[d].scenes[cid].status == Status::no_decisions) continue;
      write_metrics_line(w, datasets[d], static_cast<int64_t>(cid), data[d].scenes[cid]);
      if (w.str().size() > (1 << 20)) {
        metrics.write(w.str());
        w.clear();
      }
    }
  }
  metrics.write(w.str());
  metrics.commit();
}

// The probs file (1 strong, 2 weak) holding a selected scene's chosen (pick 0) or rejected (pick 1)
// rationale.
size_t picked_file(const SceneState& s, size_t pick) {
  const Pick& p = pick == 0 ? *s.pick.chosen : *s.pick.rejected;
  return p.variant == Variant::strong ? 1 : 2;
}

// Pass 2: the preference and SFT lines of the selected scenes, in (dataset, cid) order, built a batch
// of kBatchLines pairs at a time in parallel. Plain files are read only where the selected lines and
// strings lie; compressed ones are read through again. Nothing is visible before commit().
class PairWriter {
 public:
  PairWriter(const std::filesystem::path& pref_file, const std::filesystem::path& sft_file,
             const std::string& system_json, unsigned threads)
      : pref_(pref_file), sft_(sft_file), system_json_(system_json), threads_(threads) {}

  void write_dataset(const std::string& ds, AlignedFiles& files, const std::vector<SceneState>& states) {
    if (std::none_of(states.begin(), states.end(), [](const SceneState& s) { return s.selected; })) return;
    files.start_pass2();
    if (files.any_compressed()) {
      read_through(ds, files, states);
    } else {
      read_mapped(ds, files, states);
    }
  }

  void commit() {
    pref_.commit();
    sft_.commit();
  }

 private:
  // Plain files: each selected scene's train line and picked strings, where pass 1 found them.
  void read_mapped(const std::string& ds, AlignedFiles& files, const std::vector<SceneState>& states) {
    for (size_t cid = 0; cid < states.size(); ++cid) {
      const SceneState& s = states[cid];
      if (!s.selected) continue;
      const size_t slot = batch_.size();
      PairInputs& in = pair_inputs_[slot];
      in.train = files.mapped(0).line(s.line_offset[0], s.train_size, train_copies_[slot]);
      for (size_t pick = 0; pick < 2; ++pick) {
        const size_t f = picked_file(s, pick);
        const ProbsRecord::Span t = s.pick_token[pick];
        in.token[pick] =
            files.mapped(f).line(s.line_offset[f] + t.offset, t.size, token_copies_[2 * slot + pick]);
      }
      batch_.push_back(cid);
      if (batch_.size() == kBatchLines) flush(ds, files, states, true);
    }
    if (!batch_.empty()) flush(ds, files, states, true);
  }

  // Compressed files: every row again, keeping the selected ones of each batch of rows.
  void read_through(const std::string& ds, AlignedFiles& files, const std::vector<SceneState>& states) {
    size_t base = 0;
    for (;;) {
      const size_t n = files.next_batch(rows_);
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        const SceneState& s = states[base + i];
        if (!s.selected) continue;
        PairInputs& in = pair_inputs_[batch_.size()];
        in.train = rows_[0][i].line;
        for (size_t pick = 0; pick < 2; ++pick) {
          const ProbsRecord::Span t = s.pick_token[pick];
          in.token[pick] = JsonLine(rows_[picked_file(s, pick)][i].line.text.substr(t.offset, t.size));
          in.token[pick].padded = true;  // inside a line of the padded batch buffer
        }
        batch_.push_back(base + i);
      }
      if (!batch_.empty()) flush(ds, files, states, false);
      base += n;
    }
  }

  // Builds the batch's lines in parallel and appends them to both files in cid order.
  void flush(const std::string& ds, AlignedFiles& files, const std::vector<SceneState>& states, bool mapped) {
    for_each_slot(batch_.size(), threads_, [&](size_t i) {
      const size_t cid = batch_[i];
      build_pair(ds, pair_inputs_[i], files, static_cast<int64_t>(cid) + 1, states[cid], system_json_,
                 pref_lines_[i], sft_lines_[i]);
    });
    for (size_t i = 0; i < batch_.size(); ++i) {
      pref_parts_[i] = pref_lines_[i].str();
      sft_parts_[i] = sft_lines_[i].str();
    }
    pref_.write_parts(std::span(pref_parts_).first(batch_.size()));
    sft_.write_parts(std::span(sft_parts_).first(batch_.size()));
    if (mapped) {
      const SceneState& last = states[batch_.back()];
      for (size_t f = 0; f < 3; ++f) files.mapped(f).release_before(last.line_offset[f]);
    }
    batch_.clear();
  }

  util::AtomicWriter pref_, sft_;
  const std::string& system_json_;
  unsigned threads_;
  // Per batch slot: the built lines, their views for writev, the inputs and their padded copies.
  std::vector<util::JsonWriter> pref_lines_ = std::vector<util::JsonWriter>(kBatchLines);
  std::vector<util::JsonWriter> sft_lines_ = std::vector<util::JsonWriter>(kBatchLines);
  std::vector<std::string_view> pref_parts_ = std::vector<std::string_view>(kBatchLines);
  std::vector<std::string_view> sft_parts_ = std::vector<std::string_view>(kBatchLines);
  std::vector<PairInputs> pair_inputs_ = std::vector<PairInputs>(kBatchLines);
  std::vector<std::string> train_copies_ = std::vector<std::string>(kBatchLines);
  std::vector<std::string> token_copies_ = std::vector<std::string>(2 * kBatchLines);
  std::vector<size_t> batch_;  // cids
  std::vector<Row> rows_[3];
};

}  // namespace

DistilResult run_distil(const DistilOptions& o) {
  const Columns columns = check_options(o);
  const std::string system_json = encode(load_system_prompt(o.system_prompt_file.string(), o.prompts_dir));

  DistilResult result;
  std::vector<DatasetScenes> data;
  data.reserve(o.datasets.size());
  for (const std::string& ds : o.datasets) {
    data.push_back(analyse_dataset(o, ds, columns.sampling));
    result.scenes += static_cast<int64_t>(data.back().scenes.size());
  }
  select_pairs(o, columns, data, result);

  const DistilFiles outputs = distil_files(o.work_dir, o.name);
  std::filesystem::create_directories(outputs.pref.parent_path());
  result.metrics_file = outputs.metrics;
  result.pref_file = outputs.pref;
  result.sft_file = outputs.sft;
  write_scene_metrics(result.metrics_file, o.datasets, data);
  PairWriter pairs(result.pref_file, result.sft_file, system_json, o.threads);
  for (size_t d = 0; d < data.size(); ++d) pairs.write_dataset(o.datasets[d], *data[d].files, data[d].scenes);
  pairs.commit();
  return result;
}

}  // namespace um::distil
