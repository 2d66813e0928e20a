#include "distil/distil.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <span>

#include "distil/distil_scene.h"
#include "distil/reference_fields.h"
#include "distil/reference_io.h"
#include "distil/scene_messages.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/mapped_file.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::distil {

namespace {

// Rows per batch: small enough that a batch's lines are still in cache when they are parsed.
constexpr size_t kBatchLines = 256;

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

// One line of an input file, parsable in place, and the byte offset where it starts.
struct Row {
  JsonLine line{std::string_view()};
  uint64_t offset = 0;
};

// The lines of one input file, read a batch at a time into one buffer and parsed where they lie
// (no copy per line: the buffer keeps kJsonPadding spare bytes after its data). zlib reads plain
// files unchanged and gzip files decompressed; for plain files a line's offset is its byte offset
// in the file. Lines end at "\n" (a "\r" before it is dropped) and the last one needs none, as
// util::LineReader's do.
class LineBatches {
 public:
  explicit LineBatches(const std::filesystem::path& path) : path_(path.string()) {
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) throw util::Error("cannot open: " + ec.message(), {.file = path_});
    gz_ = gzopen(path_.c_str(), "rb");
    if (gz_ == nullptr) throw util::Error("cannot open for reading", {.file = path_});
    gzbuffer(gz_, 1 << 17);
    compressed_ = gzdirect(gz_) == 0;
  }
  ~LineBatches() { gzclose(gz_); }
  LineBatches(const LineBatches&) = delete;
  LineBatches& operator=(const LineBatches&) = delete;

  bool compressed() const { return compressed_; }
  const std::string& path() const { return path_; }
  int64_t line_number() const { return line_no_; }
  uint64_t size() const { return size_; }
  uint64_t position() const {
    const z_off_t off = gzoffset(gz_);
    return off < 0 ? 0 : static_cast<uint64_t>(off);
  }

  // Up to `max` next lines into rows[0..n) (rows.size() >= max); returns n (0 at the end). The lines
  // stay valid until the next call.
  size_t next(size_t max, std::vector<Row>& rows) {
    if (spans_.size() < max) spans_.resize(max);
    if (begin_ > 0) {  // keep the unread tail (a partial line) at the front
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      base_ += begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    size_t n = 0, pos = 0, scan = 0;
    while (n < max) {
      // (the buffer is still unallocated before the first fill(): memchr must not see a null pointer)
      const void* nl = scan < end_ ? std::memchr(buf_.get() + scan, '\n', end_ - scan) : nullptr;
      if (nl != nullptr) {
        const auto at = static_cast<size_t>(static_cast<const char*>(nl) - buf_.get());
        spans_[n++] = {pos, at - pos};
        pos = scan = at + 1;
        continue;
      }
      scan = end_;
      if (fill()) continue;
      if (pos < end_) {  // a last line without "\n"
        spans_[n++] = {pos, end_ - pos};
        pos = end_;
      }
      break;
    }
    begin_ = pos;
    for (size_t i = 0; i < n; ++i) {
      auto [off, len] = spans_[i];
      if (len > 0 && buf_[off + len - 1] == '\r') --len;
      rows[i].line = JsonLine(std::string_view(buf_.get() + off, len));
      rows[i].line.padded = true;  // the buffer's next bytes: more lines or spare room
      rows[i].offset = base_ + off;
    }
    line_no_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  static constexpr size_t kChunk = 1 << 18;  // small: the unread tail moved per batch is below it
  // Reads more bytes after end_ (growing the buffer as needed); false at the end of the file.
  bool fill() {
    if (eof_) return false;
    if (capacity_ < end_ + kChunk + kJsonPadding) {  // grow, without zero-filling
      const size_t grown = std::max(2 * capacity_, end_ + kChunk + kJsonPadding);
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      capacity_ = grown;
    }
    const size_t room = std::min<size_t>(capacity_ - end_ - kJsonPadding, 1u << 30);
    const int got = gzread(gz_, buf_.get() + end_, static_cast<unsigned>(room));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(gz_, &errnum);
      throw util::Error(std::string("read error: ") + (msg ? msg : "unknown"),
                        {.file = path_, .line = line_no_});
    }
    if (got == 0) {
      int errnum = 0;
      const char* msg = gzerror(gz_, &errnum);
      if (errnum != Z_OK && errnum != Z_STREAM_END)
        throw util::Error(std::string("decompression error: ") + (msg ? msg : "unknown"),
                          {.file = path_, .line = line_no_ + 1});
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(got);
    return true;
  }

  std::string path_;
  gzFile gz_ = nullptr;
  bool compressed_ = false;
  uint64_t size_ = 0;
  std::unique_ptr<char[]> buf_;  // [begin_, end_) unread, then >= kJsonPadding spare bytes
  size_t capacity_ = 0;
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) of this batch's lines in buf_
  size_t begin_ = 0, end_ = 0;
  uint64_t base_ = 0;  // offset of buf_[0] in the (decompressed) file
  bool eof_ = false;
  int64_t line_no_ = 0;
};

// A plain input file mapped for pass 2, which reads only the selected scenes' lines and strings.
class MappedInput {
 public:
  explicit MappedInput(const std::filesystem::path& path) : map_(path) {}
  // Bytes [offset, offset + size) as a line to parse; `copy` backs it near the end of the file.
  JsonLine line(uint64_t offset, size_t size, std::string& copy) const {
    const std::string_view text = bytes(offset, size);
    if (offset + size + kJsonPadding <= map_.size()) {
      JsonLine l(text);
      l.padded = true;  // the file's next bytes are padding simdjson may read (never parse)
      return l;
    }
    pad_line(copy, text);
    return JsonLine::in_padded(copy);
  }
  std::string_view bytes(uint64_t offset, size_t size) const {
    if (offset + size > map_.size())
      throw util::Error("input file changed during distil (shorter than in the first pass)",
                        {.file = map_.path()});
    return map_.view().substr(offset, size);
  }
  // Pages before `offset` will not be read again (selected lines come in file order).
  void release_before(uint64_t offset) {
    if (offset <= released_) return;
    map_.release(released_, offset);
    released_ = offset;
  }

 private:
  util::MappedFile map_;
  uint64_t released_ = 0;
};

// The train file and both probs files, read in lockstep (row r of each is scene r).
class AlignedFiles {
 public:
  AlignedFiles(const std::filesystem::path& work, const std::string& ds)
      : paths_{scenes_path(work, ds, "train"), probs_path(work, ds, "strong"), probs_path(work, ds, "weak")} {
    for (const auto& p : paths_)
      if (!std::filesystem::exists(p)) throw util::Error("input file not found", {.file = p.string()});
    for (size_t f = 0; f < 3; ++f) files_[f].emplace(paths_[f]);
  }
  // Reads up to kBatchLines rows into rows[0..2]; returns the row count (0 at the end).
  size_t next_batch(std::vector<Row> (&rows)[3]) {
    size_t n[3];
    for (size_t f = 0; f < 3; ++f) {
      if (rows[f].size() < kBatchLines) rows[f].resize(kBatchLines);
      n[f] = files_[f]->next(kBatchLines, rows[f]);
    }
    if (n[0] != n[1] || n[0] != n[2]) {
      const size_t least = std::min({n[0], n[1], n[2]});
      const size_t shorter = n[1] == least ? 1 : n[2] == least ? 2 : 0;
      throw util::Error("file has fewer lines than the others (each line is one train scene, in order)",
                        {.file = path(shorter), .line = files_[shorter]->line_number() + 1});
    }
    return n[0];
  }
  LineBatches& file(size_t f) { return *files_[f]; }
  const std::string& path(size_t f) const { return files_[f]->path(); }
  bool any_compressed() const {
    return files_[0]->compressed() || files_[1]->compressed() || files_[2]->compressed();
  }
  // Pass 2 over plain files: the mapped files; over compressed ones: a fresh sequential read.
  void start_pass2() {
    if (any_compressed()) {
      for (size_t f = 0; f < 3; ++f) files_[f].emplace(paths_[f]);
    } else {
      for (size_t f = 0; f < 3; ++f) mapped_[f].emplace(paths_[f]);
    }
  }
  MappedInput& mapped(size_t f) { return *mapped_[f]; }

 private:
  std::filesystem::path paths_[3];
  std::optional<LineBatches> files_[3];
  std::optional<MappedInput> mapped_[3];
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
  std::vector<std::unique_ptr<AlignedFiles>> inputs(o.datasets.size());
  std::vector<Row> rows[3];

  // Pass 1: numbers only; rationales and texts are located, not decoded.
  for (size_t d = 0; d < o.datasets.size(); ++d) {
    const std::string& ds = o.datasets[d];
    inputs[d] = std::make_unique<AlignedFiles>(o.work_dir, ds);
    AlignedFiles& files = *inputs[d];
    const StreamNames streams(ds);
    std::optional<util::Progress> bar;
    if (o.progress) bar.emplace("distil " + ds, files.file(0).size(), "B");
    uint64_t last_bytes = 0;
    for (;;) {
      const size_t n = files.next_batch(rows);
      if (n == 0) break;
      const size_t base = scenes[d].size();
      scenes[d].resize(base + n);
      for_each_slot(n, o.threads, [&](size_t i) {
        const Row* const row[3] = {&rows[0][i], &rows[1][i], &rows[2][i]};
        analyse_row(streams, static_cast<int64_t>(base + i), row, files, o, *sampling, scenes[d][base + i]);
      });
      if (bar) {
        bar->add(files.file(0).position() - last_bytes);
        last_bytes = files.file(0).position();
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
  for (size_t i : select_scenes(ranked, o.select, ascending, allocation(o), &result.groups)) {
    SceneState& s = scenes[ranked_at[i].first][ranked_at[i].second];
    s.selected = true;
    ++result.pairs;
    if (s.pick.rejected->variant == Variant::weak) ++result.rejected_from_weak;
  }

  const DistilFiles outputs = distil_files(o.work_dir, o.name);
  std::filesystem::create_directories(outputs.pref.parent_path());
  result.metrics_file = outputs.metrics;
  result.pref_file = outputs.pref;
  result.sft_file = outputs.sft;
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

  // Pass 2: texts and rationales of the selected scenes, in (dataset, cid) order. Plain files are
  // read only where the selected lines and strings lie; compressed ones are read through again.
  util::AtomicWriter pref(result.pref_file);
  util::AtomicWriter sft(result.sft_file);
  std::vector<util::JsonWriter> pref_lines(kBatchLines), sft_lines(kBatchLines);
  std::vector<std::string_view> pref_parts(kBatchLines), sft_parts(kBatchLines);
  std::vector<PairInputs> pair_inputs(kBatchLines);
  std::vector<std::string> train_copies(kBatchLines), token_copies(2 * kBatchLines);
  std::vector<size_t> batch;  // cids
  for (size_t d = 0; d < o.datasets.size(); ++d) {
    const std::string& ds = o.datasets[d];
    const std::vector<SceneState>& states = scenes[d];
    if (std::none_of(states.begin(), states.end(), [](const SceneState& s) { return s.selected; })) continue;
    AlignedFiles& files = *inputs[d];
    files.start_pass2();
    const bool mapped = !files.any_compressed();
    // The chosen and rejected strings of a scene, given where a probs file's line lies.
    auto tokens_of = [&](const SceneState& s, auto&& line_of, PairInputs& in) {
      const Pick* picks[2] = {&*s.pick.chosen, &*s.pick.rejected};
      for (size_t i = 0; i < 2; ++i) {
        const size_t f = picks[i]->variant == Variant::strong ? 1 : 2;
        in.token[i] = line_of(i, f, s.line_offset[f], s.pick_token[i]);
      }
    };
    auto build_batch = [&] {
      for_each_slot(batch.size(), o.threads, [&](size_t i) {
        const size_t cid = batch[i];
        build_pair(ds, pair_inputs[i], files, static_cast<int64_t>(cid) + 1, states[cid], system_json,
                   pref_lines[i], sft_lines[i]);
      });
      for (size_t i = 0; i < batch.size(); ++i) {
        pref_parts[i] = pref_lines[i].str();
        sft_parts[i] = sft_lines[i].str();
      }
      pref.write_parts(std::span(pref_parts).first(batch.size()));
      sft.write_parts(std::span(sft_parts).first(batch.size()));
      if (mapped) {
        const SceneState& last = states[batch.back()];
        for (size_t f = 0; f < 3; ++f) files.mapped(f).release_before(last.line_offset[f]);
      }
      batch.clear();
    };
    if (mapped) {
      for (size_t cid = 0; cid < states.size(); ++cid) {
        const SceneState& s = states[cid];
        if (!s.selected) continue;
        PairInputs& in = pair_inputs[batch.size()];
        in.train = files.mapped(0).line(s.line_offset[0], s.train_size, train_copies[batch.size()]);
        tokens_of(
            s,
            [&](size_t pick, size_t f, uint64_t line_offset, ProbsRecord::Span t) {
              return files.mapped(f).line(line_offset + t.offset, t.size,
                                          token_copies[2 * batch.size() + pick]);
            },
            in);
        batch.push_back(cid);
        if (batch.size() == kBatchLines) build_batch();
      }
      if (!batch.empty()) build_batch();
      continue;
    }
    size_t base = 0;
    for (;;) {
      const size_t n = files.next_batch(rows);
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        const SceneState& s = states[base + i];
        if (!s.selected) continue;
        PairInputs& in = pair_inputs[batch.size()];
        in.train = rows[0][i].line;
        tokens_of(
            s,
            [&](size_t, size_t f, uint64_t, ProbsRecord::Span t) {
              JsonLine token(rows[f][i].line.text.substr(t.offset, t.size));
              token.padded = true;  // inside a line of the padded batch buffer
              return token;
            },
            in);
        batch.push_back(base + i);
      }
      if (!batch.empty()) build_batch();
      base += n;
    }
  }
  pref.commit();
  sft.commit();
  return result;
}

}  // namespace um::distil
