// Seeded mutation fuzzing of every parser of outside input (issue 14, docs/reliability.md): seed
// inputs from ../shared (first few KB) and tests/fixtures, mutated (bit flips, byte insert/delete,
// truncation, splicing, quote/brace/newline/escape injection, huge numbers) and fed in-process. Each
// input must parse or throw util::Error; ASan+UBSan catch memory errors. CI runs a fixed number of
// iterations per target; `scripts/fuzz TARGET SECONDS` runs one target by time.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backend/batch_file.h"
#include "backend/request_store.h"
#include "common/shared_data.h"
#include "data/csv.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "data/readers/pyliteral.h"
#include "data/schema.h"
#include "fuzz/fuzz_mutator.h"
#include "pipeline/llm_stage.h"
#include "pipeline/run_config.h"
#include "scene/exposure/safetensors_io.h"
#include "scene/scene_record.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/json_line.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/time.h"

namespace um::fuzz {

namespace fs = std::filesystem;

std::string read_head(const fs::path& p, size_t max_bytes) {
  util::LineReader in(p);  // gzip-transparent
  std::string out;
  std::string_view line;
  while (in.next(line) && out.size() + line.size() + 1 <= max_bytes) {
    out.append(line);
    out += '\n';
  }
  return out;
}

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

fs::path fixture(const std::string& rel) { return testing::source_dir() / "tests/fixtures" / rel; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (nl > at) out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// ---- delimited text -----------------------------------------------------------------------

TEST(Fuzz, Csv) {
  std::vector<std::string> seeds;
  for (const char* f :
       {"raw/kuairec/big_matrix.csv", "raw/kuairec/kuairec_caption_category.csv",
        "raw/kuairec/user_features.csv", "raw/mind-dev/news.tsv.fixture", "raw/lastfm/artists.dat.fixture"})
    seeds.push_back(read_head(fixture(f)));
  seeds.push_back("a,\"b\"\"c\",\"multi\nline\"\r\nx,y\rz\n");
  fs::path dir = testing::temp_dir("fuzz-csv");
  fuzz("csv", seeds, 400, [&](const std::string& in) {
    fs::path p = dir / "in.csv";
    write_all(p, in);
    std::vector<std::string_view> fields;
    for (char d : {',', '\t'}) {
      data::CsvReader r(p, d);
      while (r.next(fields)) {
      }
    }
    data::PandasRecordReader pr(p, '\t');
    while (pr.next(fields)) {
    }
    for (const auto& line : lines_of(in)) data::split_on(line, "::", fields);
  });
}

// ---- data::prepare on a raw folder with one mutated file --------------------------------------

struct RawSeed {
  std::string dataset;
  std::map<std::string, std::string> files;  // name -> content
};

void fuzz_prepare(const std::string& target, const RawSeed& raw, int64_t ci_iterations) {
  std::vector<std::string> names;
  for (const auto& [name, _] : raw.files) names.push_back(name);
  // Mutate one file per case: seeds of file k are tagged with k in their first byte.
  std::vector<std::string> seeds;
  for (size_t k = 0; k < names.size(); ++k)
    seeds.push_back(std::string(1, static_cast<char>(k)) + raw.files.at(names[k]));
  fs::path base = testing::temp_dir("fuzz-" + target);
  int64_t n = 0;
  fuzz(target, seeds, ci_iterations, [&](const std::string& tagged) {
    if (tagged.empty()) return;
    size_t k = static_cast<unsigned char>(tagged[0]) % names.size();
    fs::path dir = base / std::to_string(n++ % 2);
    fs::remove_all(dir);
    fs::create_directories(dir / "raw");
    for (size_t j = 0; j < names.size(); ++j) {
      fs::create_directories((dir / "raw" / names[j]).parent_path());
      write_all(dir / "raw" / names[j], j == k ? tagged.substr(1) : raw.files.at(names[j]));
    }
    data::prepare(
        {.dataset = raw.dataset, .raw_dir = dir / "raw", .work_dir = dir / "work", .skip_bad = n % 3 == 0});
  });
}

// Every file under tests/fixtures/raw/<folder> (subfolders kept: MobileRec), ".fixture" dropped.
RawSeed fixture_raw(const std::string& dataset, const std::string& folder) {
  RawSeed r{dataset, {}};
  const fs::path root = fixture("raw/" + folder);
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string name = fs::relative(e.path(), root).string();
    if (name.ends_with(".fixture")) name.resize(name.size() - 8);
    r.files[name] = read_all(e.path());
  }
  return r;
}

TEST(Fuzz, PrepareMl1m) {
  UM_REQUIRE_SHARED(ml, "data/ml-1m");
  // The first ratings (a few KB), the movies they name, the first users: a consistent small raw set.
  RawSeed r{"ml-1m", {}};
  r.files["ratings.dat"] = read_head(ml / "ratings.dat.gz", 3000);
  std::set<std::string> movies, users;
  for (const auto& l : lines_of(r.files["ratings.dat"])) {
    auto a = l.find("::"), b = l.find("::", a + 2);
    users.insert(l.substr(0, a));
    movies.insert(l.substr(a + 2, b - a - 2));
  }
  util::LineReader in(ml / "movies.dat");
  std::string_view line;
  while (in.next(line))
    if (movies.count(std::string(line.substr(0, line.find("::"))))) (r.files["movies.dat"] += line) += '\n';
  util::LineReader uin(ml / "users.dat");
  while (uin.next(line))
    if (users.count(std::string(line.substr(0, line.find("::"))))) (r.files["users.dat"] += line) += '\n';
  fuzz_prepare("prepare-ml-1m", r, 150);
}

TEST(Fuzz, PrepareLastfm) { fuzz_prepare("prepare-lastfm", fixture_raw("LastFM", "lastfm"), 150); }
TEST(Fuzz, PrepareMind) { fuzz_prepare("prepare-mind", fixture_raw("MIND", "mind-dev"), 150); }
TEST(Fuzz, PrepareKuairec) { fuzz_prepare("prepare-kuairec", fixture_raw("KuaiRec2", "kuairec"), 150); }
TEST(Fuzz, PrepareSteam) { fuzz_prepare("prepare-steam", fixture_raw("steam", "steam"), 150); }
TEST(Fuzz, PrepareAmazon) {
  fuzz_prepare("prepare-amazon", fixture_raw("Amazon-All_Beauty", "amazon-2023"), 150);
}
TEST(Fuzz, PrepareGoodreads) {
  fuzz_prepare("prepare-goodreads", fixture_raw("goodreads", "goodreads"), 150);
}
TEST(Fuzz, PrepareMobilerec) {
  fuzz_prepare("prepare-mobilerec", fixture_raw("mobilerec", "mobilerec"), 150);
}
TEST(Fuzz, PrepareSteamAustralian) {
  fuzz_prepare("prepare-steam-australian", fixture_raw("steam-australian", "steam-australian"), 150);
}

// Lines of `file` whose first `sep`-separated field is in `keys` (a raw side file cut down to the
// entities a ratings head names).
std::string lines_with_keys(const fs::path& file, const std::string& sep, const std::set<std::string>& keys,
                            bool keep_header = false) {
  std::string out;
  util::LineReader in(file);
  std::string_view line;
  bool first = true;
  while (in.next(line)) {
    if ((first && keep_header) || keys.count(std::string(line.substr(0, line.find(sep)))))
      (out += line) += '\n';
    first = false;
  }
  return out;
}

TEST(Fuzz, PrepareMl100k) {
  UM_REQUIRE_SHARED(ml, "data/ml-100k");
  RawSeed r{"ml-100k", {}};
  r.files["u.data"] = read_head(ml / "u.data", 3000);
  std::set<std::string> users, movies;
  for (const auto& l : lines_of(r.files["u.data"])) {
    auto a = l.find('\t'), b = l.find('\t', a + 1);
    users.insert(l.substr(0, a));
    movies.insert(l.substr(a + 1, b - a - 1));
  }
  r.files["u.item"] = lines_with_keys(ml / "u.item", "|", movies);  // Latin-1 titles
  r.files["u.user"] = lines_with_keys(ml / "u.user", "|", users);
  r.files["u.genre"] = read_all(ml / "u.genre");
  fuzz_prepare("prepare-ml-100k", r, 150);
}

TEST(Fuzz, PrepareMlLatest) {
  UM_REQUIRE_SHARED(ml, "data/ml-latest-small");
  // Quoted CSV with headers and CRLF line ends.
  RawSeed r{"ml-latest-small", {}};
  r.files["ratings.csv"] = read_head(ml / "ratings.csv", 3000);
  std::set<std::string> movies;
  bool header = true;
  for (const auto& l : lines_of(r.files["ratings.csv"])) {
    if (!std::exchange(header, false))
      movies.insert(l.substr(l.find(',') + 1, l.find(',', l.find(',') + 1) - l.find(',') - 1));
  }
  r.files["movies.csv"] = lines_with_keys(ml / "movies.csv", ",", movies, true);
  fuzz_prepare("prepare-ml-latest", r, 150);
}

TEST(Fuzz, PrepareAmazon2018) {
  UM_REQUIRE_SHARED(am, "data/amazon-2018-Magazine_Subscriptions");
  // The 2018 release's 5-core reviews and metadata (JSON Lines; read here uncompressed).
  RawSeed r{"Amazon-Magazine_Subscriptions", {}};
  r.files["Magazine_Subscriptions_5.json"] = read_head(am / "Magazine_Subscriptions_5.json.gz", 4000);
  std::set<std::string> asins;
  for (const auto& l : lines_of(r.files["Magazine_Subscriptions_5.json"])) {
    auto at = l.find("\"asin\": \"");
    if (at != std::string::npos) asins.insert(l.substr(at + 9, l.find('"', at + 9) - at - 9));
  }
  util::LineReader meta(am / "meta_Magazine_Subscriptions.json.gz");
  std::string_view line;
  while (meta.next(line)) {
    auto at = line.find("\"asin\": \"");
    if (at != std::string_view::npos &&
        asins.count(std::string(line.substr(at + 9, line.find('"', at + 9) - at - 9))))
      (r.files["meta_Magazine_Subscriptions.json"] += line) += '\n';
  }
  fuzz_prepare("prepare-amazon-2018", r, 150);
}

// ---- raws/<DS>_*.jsonl ----------------------------------------------------------------------

TEST(Fuzz, DatasetJsonl) {
  const std::string ds = "LastFM";
  RawSeed raw = fixture_raw(ds, "lastfm");
  fs::path base = testing::temp_dir("fuzz-jsonl");
  fs::create_directories(base / "raw");
  for (const auto& [name, text] : raw.files) write_all(base / "raw" / name, text);
  data::prepare({.dataset = ds, .raw_dir = base / "raw", .work_dir = base / "seed"});
  const std::vector<std::string> files = {data::user_file(ds), data::item_file(ds),
                                          data::interaction_file(ds)};
  std::vector<std::string> seeds;
  for (size_t k = 0; k < files.size(); ++k)
    seeds.push_back(std::string(1, static_cast<char>(k)) + read_head(base / "seed" / files[k]));
  fuzz("dataset-jsonl", seeds, 300, [&](const std::string& tagged) {
    if (tagged.empty()) return;
    size_t k = static_cast<unsigned char>(tagged[0]) % files.size();
    fs::path work = base / "work";
    fs::remove_all(work);
    for (size_t j = 0; j < files.size(); ++j) {
      fs::create_directories((work / files[j]).parent_path());
      write_all(work / files[j], j == k ? tagged.substr(1) : read_all(base / "seed" / files[j]));
    }
    data::read_dataset_jsonl(work, ds);
  });
}

// ---- Python literals (Steam) -----------------------------------------------------------------

TEST(Fuzz, PythonLiteral) {
  std::vector<std::string> seeds;
  for (const char* f : {"raw/steam/steam_reviews.json", "raw/steam/steam_games.json",
                        "raw/steam-australian/australian_user_reviews.json"})
    for (auto& l : lines_of(read_head(fixture(f), 8192))) seeds.push_back(l);
  if (auto p = testing::shared_path("data/steam-ucsd/steam_games.json.gz"))
    for (auto& l : lines_of(read_head(*p, 4096))) seeds.push_back(l);
  seeds.push_back(
      R"({u'a': (1, 2.5e3, -3L, None, True), b'k\x00\u00e9\ud83d\ude00': [u'\N', '\777'], 1: {}})");
  fuzz("pyliteral", seeds, 3000, [&](const std::string& in) {
    std::string out;
    if (!data::python_literal_to_json(in, out)) {
      // Success promises JSON: the output must parse.
      if (!nlohmann::json::accept(out))
        throw std::logic_error("python_literal_to_json produced invalid JSON: " + out);
    }
  });
}

// ---- tokenizer.json / tokenizer_config.json -----------------------------------------------------

TEST(Fuzz, Tokenizer) {
  std::vector<std::string> seeds = {
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3, "Ġ": 4}, "merges": ["a b"]},
          "added_tokens": [{"id": 3, "content": "<s>", "special": true, "single_word": false, "lstrip": false,
                            "rstrip": false, "normalized": false}],
          "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]},
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
          "decoder": {"type": "ByteLevel"}})",
      R"({"model": {"type": "BPE", "vocab": {"▁a": 0, "b": 1}, "merges": [["▁a", "b"]], "byte_fallback": true},
          "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
          "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"},
          "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "b", "type_id": 0}},
                             {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"b": {"id": "b", "ids": [1]}}}})",
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split",
          "pattern": {"Regex": "(?i:'s|'t)|\\p{L}+|\\s+"}, "behavior": "Isolated", "invert": false}})"};
  const std::string config =
      R"({"bos_token": "<s>", "eos_token": {"content": "<s>"}, "add_bos_token": true})";
  // Odd seeds are configs (with a fixed valid tokenizer), even seeds tokenizers (with the config).
  std::vector<std::string> tagged;
  for (auto& s : seeds) tagged.push_back("T" + s);
  tagged.push_back("C" + config);
  if (auto p = testing::shared_path("tokenizers/qwen3/tokenizer_config.json"))
    tagged.push_back("C" + read_all(*p));
  fuzz("tokenizer", tagged, 600, [&](const std::string& in) {
    if (in.empty()) return;
    bool is_config = in[0] == 'C';
    auto tok = is_config ? text::Tokenizer::from_json(seeds[0], in.substr(1))
                         : text::Tokenizer::from_json(in.substr(1), config);
    std::vector<int32_t> ids = tok.encode("ab a\xc3\xa9 <s>b\xff", true);
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
  });
}

TEST(Fuzz, ChatTemplateConfig) {
  std::vector<std::string> seeds = {
      R"({"chat_template": "{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}", "bos_token": "<s>", "eos_token": {"content": "</s>"}})",
      R"({"chat_template": [{"name": "default", "template": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}"}, {"name": "tool_use", "template": "{{ tools | tojson }}"}]})"};
  if (auto p = testing::shared_path("tokenizers/qwen3/tokenizer_config.json")) seeds.push_back(read_all(*p));
  fs::path dir = testing::temp_dir("fuzz-chat");
  const nlohmann::ordered_json messages = {{{"role", "system"}, {"content", "s"}},
                                           {{"role", "user"}, {"content", "hi"}},
                                           {{"role", "assistant"}, {"content", "ok"}}};
  fuzz("chat-template", seeds, 400, [&](const std::string& in) {
    write_all(dir / "tokenizer_config.json", in);
    auto tpl = text::ChatTemplate::from_tokenizer_config(dir);
    (void)tpl.render(messages);
  });
}

// ---- safetensors ------------------------------------------------------------------------------

TEST(Fuzz, Safetensors) {
  fs::path dir = testing::temp_dir("fuzz-safetensors");
  scene::Matrix2D m;
  m.rows = 3;
  m.cols = 4;
  for (int i = 0; i < 12; ++i) m.data.push_back(static_cast<float>(i) * 0.5f);
  m.metadata["format"] = "pt";
  write_safetensors_matrix(dir / "seed.safetensors", "emb", m);
  std::string seed = read_all(dir / "seed.safetensors");
  // Also a hand-made F16 and BF16 header and a header length past the end.
  std::string h16 = R"({"emb":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}})";
  auto with_header = [](const std::string& header, const std::string& body) {
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + body;
  };
  std::vector<std::string> seeds = {
      seed, with_header(h16, std::string(8, '\x3c')),
      with_header(R"({"__metadata__":{"a":"b"},"emb":{"dtype":"BF16","shape":[1,3],"data_offsets":[0,6]}})",
                  std::string(6, '\x40')),
      with_header(R"({"emb":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}})", std::string(8, '\0'))};
  fuzz("safetensors", seeds, 800, [&](const std::string& in) {
    write_all(dir / "in.safetensors", in);
    auto r = scene::read_safetensors_matrix(dir / "in.safetensors", "emb");
    if (r.data.size() != r.rows * r.cols) throw std::logic_error("matrix size does not match its shape");
  });
}

// ---- request store and batch files --------------------------------------------------------------

TEST(Fuzz, RequestStore) {
  std::string seed = std::string(R"({"magic":"usermirror-request-store","version":1,"stage":"decide"})") +
                     "\n" + R"({"key":"ml-1m-1/teacher/0","value":{"choices":["A","B"]}})" + "\n" +
                     R"({"key":"ml-1m-2/teacher/0","value":"\u00e9\n"})" + "\n" +
                     R"({"key":"ml-1m-2/teacher/1","value":[1,2.5,null,true]})" + "\n";
  fs::path dir = testing::temp_dir("fuzz-store");
  fuzz("request-store", {seed, seed.substr(0, seed.size() - 7)}, 800, [&](const std::string& in) {
    fs::path p = dir / "s.store.jsonl";
    write_all(p, in);
    size_t n = 0;
    backend::RequestStore::read(p, "decide", [&](const std::string&, const std::string&) { ++n; });
    backend::RequestStore store(p, "decide");
    if (store.size() > n) throw std::logic_error("store holds more keys than read() returned");
    store.put("new/key", R"({"ok":1})");
  });
}

TEST(Fuzz, BatchOutput) {
  std::string ok =
      R"({"id":"batch_req_1","custom_id":"ml-1m-1/teacher/0","response":{"status_code":200,"request_id":"r1","body":{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Behavior: [A]"},"logprobs":null,"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":"B"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}},"error":null})";
  std::string err =
      R"({"id":"batch_req_2","custom_id":"ml-1m-2/teacher/0","response":{"status_code":400,"request_id":"r2","body":{"error":{"message":"bad","type":"invalid_request_error"}}},"error":null})";
  std::string failed =
      R"({"id":"batch_req_3","custom_id":"k3","response":null,"error":{"code":"x","message":"expired"}})";
  fs::path dir = testing::temp_dir("fuzz-batch");
  fuzz("batch-output", {ok + "\n" + err + "\n" + failed + "\n", ok + "\n", err}, 800,
       [&](const std::string& in) {
         write_all(dir / "out.jsonl", in);
         (void)backend::read_batch_output(dir / "out.jsonl");
       });
}

// ---- run configs ------------------------------------------------------------------------------

TEST(Fuzz, RunConfig) {
  std::vector<std::string> seeds = {read_all(testing::source_dir() / "configs/demo.toml"),
                                    read_all(testing::source_dir() / "configs/example-real.toml")};
  fs::path dir = testing::temp_dir("fuzz-config");
  fuzz("run-config", seeds, 600, [&](const std::string& in) {
    write_all(dir / "run.toml", in);
    (void)pipeline::load_run_config(dir / "run.toml");
  });
}

// ---- scene files ------------------------------------------------------------------------------

std::string scene_json(const scene::SceneRecord& r, bool with_impressions) {
  util::JsonWriter w(/*ascii=*/true);
  scene::write_scene(w, r, with_impressions);
  return w.str();
}

TEST(Fuzz, SceneLine) {
  scene::SceneRecord r;
  r.text.profile = "Age: 25\nGender: F \"quoted\" \xc3\xa9";
  r.text.action_list = {"<Movie> Toy Story (1995)", "<Movie> Heat (1995)\tx"};
  r.text.history = "watched \\ things";
  r.user_id = "12";
  r.item_id = "1193";
  r.timestamp = 978300760000;
  r.item_pos = 1;
  r.choice_cnt = 2;
  r.dataset = "ml-1m";
  r.impression_list = {"1", "1193"};
  std::vector<std::string> seeds = {
      scene_json(r, true), scene_json(r, false),
      R"({"text":{"profile":"p","action_list":["x"],"history":""},"user_id":7,"item_id":8,"timestamp":"2000-12-31 22:12:40","item_pos":0,"choice_cnt":1,"dataset":"ml-1m","impression_list":[8]})"};
  util::JsonLineParser parser;
  fuzz("scene-line", seeds, 3000, [&](const std::string& in) {
    scene::SceneRecord got;
    scene::parse_scene(parser, in, got, /*want_text=*/false, {.file = "fuzz.jsonl", .line = 1});
    scene::parse_scene(parser, in, got, /*want_text=*/true, {.file = "fuzz.jsonl", .line = 1});
  });
}

// Whole scene files (several lines, blank lines, a torn last line) through scene::read_scene_file,
// the one reader (scenes' eval users, decide, score, evaluate through pipeline::read_scenes, released
// eval sets). Property: what it accepts is written back by scene::write_scene and read again as the
// same records, and the pipeline's wrapper reads the same records.
TEST(Fuzz, SceneFile) {
  scene::SceneRecord r;
  r.text.profile = "Age: 25\nGender: F";
  r.text.action_list = {"<Movie> Toy Story (1995)", "<Movie> Heat (1995)"};
  r.text.history = "watched";
  r.user_id = "12";
  r.item_id = "1193";
  r.timestamp = 978300760000;
  r.item_pos = 1;
  r.choice_cnt = 2;
  r.dataset = "ml-1m";
  const std::string a = scene_json(r, false) + "\n";
  r.user_id = "13";
  r.impression_list = {"1", "1193"};
  const std::string b = scene_json(r, true) + "\n";
  fs::path dir = testing::temp_dir("fuzz-scene-file");
  fuzz("scene-file", {a + b, a + "\n" + b + a, a + b.substr(0, b.size() / 2)}, 800,
       [&](const std::string& in) {
         write_all(dir / "s.jsonl", in);
         const std::vector<scene::SceneRecord> got = scene::read_scene_file(dir / "s.jsonl");
         std::string again;
         for (const auto& s : got) again += scene_json(s, !s.impression_list.empty()) + "\n";
         write_all(dir / "again.jsonl", again);
         std::string twice;
         try {
           for (const auto& s : scene::read_scene_file(dir / "again.jsonl"))
             twice += scene_json(s, !s.impression_list.empty()) + "\n";
         } catch (const util::Error& e) {
           throw std::logic_error(std::string("a written scene file does not read back: ") + e.what());
         }
         if (twice != again) throw std::logic_error("a scene file read back differs from the one written");
         if (pipeline::read_scenes(dir / "s.jsonl").size() != got.size())
           throw std::logic_error("pipeline::read_scenes read a different number of records");
       });
}

// The released train set's preference lines (MirrorUser/UserMirrorer: messages_chosen/rejected).
TEST(Fuzz, PreferenceFile) {
  const std::string seed = read_all(fixture("prompts/released_train_synthetic.jsonl"));
  fs::path dir = testing::temp_dir("fuzz-preference-file");
  fuzz("preference-file", {seed, read_all(fixture("prompts/released_train_tampered.jsonl"))}, 800,
       [&](const std::string& in) {
         write_all(dir / "p.jsonl", in);
         (void)scene::read_preference_file(dir / "p.jsonl");
       });
}

// ---- regression tests: inputs the fuzzer found -------------------------------------------------

// "1e308.0" and "5001e999" (a digit run replaced by a huge number) were accepted and written as
// invalid JSON.
TEST(FuzzRegression, PythonLiteralFloatWithTwoFractions) {
  std::string out;
  EXPECT_TRUE(data::python_literal_to_json("{u'hours': 1e308.0, u'page': 2}", out).has_value()) << out;
  EXPECT_TRUE(data::python_literal_to_json("1.5.2", out).has_value()) << out;
  EXPECT_TRUE(data::python_literal_to_json("1e5e3", out).has_value()) << out;
  EXPECT_TRUE(data::python_literal_to_json("{u'products': 5001e999}", out).has_value()) << out;  // inf
  ASSERT_FALSE(data::python_literal_to_json("[1e308, -1.5e-3, 2., .5]", out).has_value());
  EXPECT_EQ(out, "[1e308,-1.5e-3,2.0,0.5]");
}

// A MovieLens timestamp whose microseconds overflow int64 was signed-overflow UB (UBSan).
TEST(FuzzRegression, MovieLensHugeTimestamp) {
  fs::path dir = testing::temp_dir("fuzz-regress-ml");
  fs::create_directories(dir / "raw");
  write_all(dir / "raw" / "users.dat", "1::F::1::10::48067\n");
  write_all(dir / "raw" / "movies.dat", "1::Toy Story (1995)::Animation\n");
  write_all(dir / "raw" / "ratings.dat", "1::1::5::97829867978300174\n");
  EXPECT_THROW(data::prepare({.dataset = "ml-1m", .raw_dir = dir / "raw", .work_dir = dir / "w1"}),
               util::Error);
  auto r =
      data::prepare({.dataset = "ml-1m", .raw_dir = dir / "raw", .work_dir = dir / "w2", .skip_bad = true});
  EXPECT_EQ(r.interactions, 0u);
}

// A u.genre index of 9223372036854775807 (or -1) resized the genre table to that size
// (std::length_error, or gigabytes allocated for 1597722).
TEST(FuzzRegression, Ml100kGenreIndexOutOfRange) {
  fs::path dir = testing::temp_dir("fuzz-regress-ml100k");
  for (const char* index : {"9223372036854775807", "-1", "1597722"}) {
    fs::remove_all(dir / "raw");
    fs::create_directories(dir / "raw");
    write_all(dir / "raw" / "u.data", "1\t1\t5\t881250949\n");
    write_all(dir / "raw" / "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n");
    write_all(dir / "raw" / "u.user", "1|24|M|technician|85711\n");
    write_all(dir / "raw" / "u.genre", std::string("unknown|0\nAction|") + index + "\n");
    try {
      data::prepare({.dataset = "ml-100k", .raw_dir = dir / "raw", .work_dir = dir / "w"});
      ADD_FAILURE() << "index " << index << " accepted";
    } catch (const util::Error& e) {
      EXPECT_NE(std::string(e.what()).find("u.genre"), std::string::npos) << e.what();
    }
  }
  write_all(dir / "raw" / "u.genre", "unknown|0\nAction|1\n");
  EXPECT_NO_THROW(data::prepare({.dataset = "ml-100k", .raw_dir = dir / "raw", .work_dir = dir / "ok"}));
}

// A MobileRec unix_timestamp of -9223372036854775808 (or an Amazon 2018 unixReviewTime of 1e300):
// llround(ts) * 1000000 was signed-overflow UB (UBSan). Now a bad record.
TEST(FuzzRegression, HugeTimestampsAreBadRecords) {
  fs::path dir = testing::temp_dir("fuzz-regress-ts");
  const std::string header =
      "uid,app_package,review,rating,votes,date,formated_date,unix_timestamp,app_category\n";
  const std::string meta = read_all(fixture("raw/mobilerec/app_meta/app_meta.csv"));
  for (const char* ts : {"-9223372036854775808", "1e300", "inf"}) {
    fs::path raw = dir / "mobilerec" / ts;
    fs::create_directories(raw);
    write_all(raw / "mobilerec_final.csv", header + "u1,com.whatsapp,ok,5,0,x,2020-10-21," + ts +
                                               ",C\nu1,com.spotify.music,ok,4,0,x,2021-03-03,1614729600,M\n");
    write_all(raw / "app_meta.csv", meta);
    EXPECT_THROW(data::prepare({.dataset = "mobilerec", .raw_dir = raw, .work_dir = raw / "w1"}), util::Error)
        << ts;
    auto r =
        data::prepare({.dataset = "mobilerec", .raw_dir = raw, .work_dir = raw / "w2", .skip_bad = true});
    EXPECT_EQ(r.interactions, 1u) << ts;
  }
  fs::path raw = dir / "amazon";
  fs::create_directories(raw);
  write_all(
      raw / "Magazine_Subscriptions_5.json",
      R"({"overall": 5.0, "reviewerID": "A1", "asin": "B1", "reviewText": "x", "summary": "y", "unixReviewTime": 1e300})"
      "\n"
      R"({"overall": 4.0, "reviewerID": "A1", "asin": "B1", "reviewText": "x", "summary": "y", "unixReviewTime": 1400000000})"
      "\n");
  write_all(raw / "meta_Magazine_Subscriptions.json", R"({"asin": "B1", "title": "T"})"
                                                      "\n");
  EXPECT_THROW(
      data::prepare({.dataset = "Amazon-Magazine_Subscriptions", .raw_dir = raw, .work_dir = raw / "w1"}),
      util::Error);
  EXPECT_NO_THROW(data::prepare({.dataset = "Amazon-Magazine_Subscriptions",
                                 .raw_dir = raw,
                                 .work_dir = raw / "w2",
                                 .skip_bad = true}));
}

// A KuaiRec timestamp that became INT64_MIN microseconds: append_datetime negated it (UBSan).
TEST(FuzzRegression, DatetimeOfExtremeEpochs) {
  EXPECT_FALSE(util::format_datetime(INT64_MIN).empty());
  EXPECT_FALSE(util::format_datetime(INT64_MAX).empty());
  EXPECT_TRUE(util::format_datetime(-1).starts_with("1969-12-31 23:59:59")) << util::format_datetime(-1);
  EXPECT_TRUE(util::format_datetime(-86400000000).starts_with("1969-12-31 00:00:00"));
  EXPECT_TRUE(util::format_datetime(0).starts_with("1970-01-01 00:00:00"));
}

// A vocabulary id of 2^31 - 1: (id + 1) overflowed int (UBSan), and would have allocated gigabytes.
TEST(FuzzRegression, TokenizerHugeVocabId) {
  EXPECT_THROW(
      text::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 2147483647}, "merges": []}})"),
      util::Error);
  EXPECT_NO_THROW(
      text::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 5}, "merges": []}})"));
}

// A request store header with a number where a string belongs threw json::type_error.
TEST(FuzzRegression, RequestStoreHeaderFieldTypes) {
  fs::path dir = testing::temp_dir("fuzz-regress-store");
  for (const char* header : {R"({"magic":1,"stage":"decide"})",
                             R"({"magic":"usermirror-request-store","version":"1","stage":"decide"})",
                             R"({"magic":"usermirror-request-store","version":1,"stage":[]})"}) {
    write_all(dir / "s.jsonl", std::string(header) + "\n");
    EXPECT_THROW(backend::RequestStore(dir / "s.jsonl", "decide"), util::Error) << header;
  }
}

}  // namespace
}  // namespace um::fuzz
