// Unix habits for file arguments: every input file option of the light `usermirror` commands also
// takes a FIFO (what bash's <(...) hands over), bash's <(...) itself, and `-` for standard input
// (redirected from a file, or a pipe), with the same output as for a regular file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/shared_data.h"
#include "support/synthetic_inputs.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout only
  std::string err;  // stderr
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `script` with bash; stdout is captured, stderr goes to a side file.
Result bash(const std::string& script, const fs::path& scratch) {
  Result r;
  const fs::path err = scratch / "stderr.txt";
  const std::string cmd = "bash -c " + quote(script) + " 2>" + quote(err.string());
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err);
  return r;
}

std::string light() { return quote((um::testing::binary_dir() / "usermirror").string()); }

// One way of handing `input` to a command whose file argument is written `{}` in `command`.
struct Way {
  std::string name;
  std::string script;
};

std::string with_path(std::string command, const std::string& path) {
  const size_t at = command.find("{}");
  EXPECT_NE(at, std::string::npos) << command;
  return command.replace(at, 2, path);
}

// The ways of handing over an input: the file itself; a FIFO made with mkfifo and fed by a writer;
// bash's <(cat file); `-` with stdin redirected from the file; `-` at the end of a pipe.
constexpr size_t kWays = 5;

Way way(size_t i, const std::string& command, const fs::path& input, const fs::path& scratch) {
  const std::string in = quote(input.string());
  switch (i) {
    case 0:
      return {"regular file", with_path(command, in)};
    case 1: {
      const fs::path fifo = scratch / "input.fifo";
      fs::remove(fifo);
      EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << fifo;
      // The writer gives up after a while, so a command that never opens the FIFO fails the test
      // instead of hanging it.
      return {"mkfifo", "timeout 120 sh -c " + quote("cat " + in + " > " + quote(fifo.string())) + " & " +
                            with_path(command, quote(fifo.string())) + "; rc=$?; wait; exit $rc"};
    }
    case 2:
      return {"<(...)", with_path(command, "<(cat " + in + ")")};
    case 3:
      return {"- < file", with_path(command, "-") + " < " + in};
    default:
      return {"cat | -", "cat " + in + " | " + with_path(command, "-")};
  }
}

class StreamInputs : public ::testing::Test {
 protected:
  void SetUp() override { scratch_ = um::testing::temp_dir("stream_inputs"); }
  fs::path scratch_;
};

TEST_F(StreamInputs, RenderChatMessages) {
  const fs::path messages = scratch_ / "messages.json";
  spit(messages, R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])");
  const std::string tokenizer = (um::testing::source_dir() / "tests/fixtures/chat_templates/chatml").string();
  const std::string cmd =
      light() + " render-chat --tokenizer " + quote(tokenizer) + " --add-generation-prompt --messages {}";
  std::string expected;
  for (size_t i = 0; i < kWays; ++i) {
    const Way w = way(i, cmd, messages, scratch_);
    const Result r = bash(w.script, scratch_);
    ASSERT_EQ(r.code, 0) << w.name << ": " << r.err;
    if (expected.empty()) {
      expected = r.out;
      EXPECT_NE(expected.find("Be brief."), std::string::npos) << expected;
      EXPECT_NE(expected.find("hi"), std::string::npos) << expected;
    }
    EXPECT_EQ(r.out, expected) << w.name;
  }
}

TEST_F(StreamInputs, TokenizeInput) {
  UM_REQUIRE_SHARED(tokenizer, "tokenizers/qwen3");
  const fs::path lines = scratch_ / "lines.jsonl";
  spit(lines, "\"hello world\"\n\"Behavior: [A]\"\n");
  const std::string cmd = light() + " tokenize --tokenizer " + quote(tokenizer.string()) + " --input {}";
  std::string expected;
  for (size_t i = 0; i < kWays; ++i) {
    const Way w = way(i, cmd, lines, scratch_);
    const Result r = bash(w.script, scratch_);
    ASSERT_EQ(r.code, 0) << w.name << ": " << r.err;
    if (expected.empty()) {
      expected = r.out;
      EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 2) << expected;
    }
    EXPECT_EQ(r.out, expected) << w.name;
  }
  // Without --input, standard input is read as before.
  const Result r =
      bash(light() + " tokenize --tokenizer " + quote(tokenizer.string()) + " < " + quote(lines.string()),
           scratch_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

TEST_F(StreamInputs, PromptsImportFrom) {
  // The synthetic released-train fixture and its independently computed digest
  // (tests/text/prompt_store_test.cpp).
  const fs::path from = um::testing::source_dir() / "tests/fixtures/prompts/released_train_synthetic.jsonl";
  const std::string sha = "a0fa1e4ebf65ca633f649918f36254e6c26ff92b766e8fa7d6032aa5dc24e9ff";
  for (size_t i = 0; i < kWays; ++i) {
    const fs::path out = scratch_ / ("prompts" + std::to_string(i));
    const std::string cmd =
        light() + " prompts import --expect-sha256 " + sha + " --out " + quote(out.string()) + " --from {}";
    const Way w = way(i, cmd, from, scratch_);
    const Result r = bash(w.script, scratch_);
    ASSERT_EQ(r.code, 0) << w.name << ": " << r.err << r.out;
    EXPECT_NE(r.out.find("scanned 3 rows"), std::string::npos) << w.name << ": " << r.out;
    EXPECT_EQ(slurp(out / "authors-default.txt"),
              "You are a synthetic test prompt.\nIt only exists to test prompt import.\n")
        << w.name;
  }
}

TEST_F(StreamInputs, DistilSystemPrompt) {
  const fs::path work = scratch_ / "work";
  um::distil::SyntheticSpec spec;
  spec.scenes = 40;
  spec.rationales = 4;
  spec.rationale_chars = 60;
  um::distil::write_synthetic_distil_inputs(work, "syn", spec);
  const fs::path prompt = scratch_ / "system.txt";
  spit(prompt, "A system prompt given as a file.\n");
  std::string expected;
  for (size_t i = 0; i < kWays; ++i) {
    const std::string name = "out" + std::to_string(i);
    const std::string cmd = light() + " distil --work " + quote(work.string()) + " --datasets syn --name " +
                            name + " --select 10 --system-prompt {}";
    const Way w = way(i, cmd, prompt, scratch_);
    const Result r = bash(w.script, scratch_);
    ASSERT_EQ(r.code, 0) << w.name << ": " << r.err;
    const std::string pref = slurp(work / "datasets" / (name + "_pref.jsonl"));
    if (expected.empty()) {
      expected = pref;
      ASSERT_FALSE(expected.empty());
      EXPECT_NE(expected.find("A system prompt given as a file.\\n"), std::string::npos)
          << expected.substr(0, 400);
    }
    EXPECT_EQ(pref, expected) << w.name;
  }
}

TEST_F(StreamInputs, ScenesContentVectors) {
  const fs::path work = scratch_ / "work";
  const fs::path raw = um::testing::source_dir() / "data/demo/ml-latest-small";
  const Result prep = bash(light() + " prepare --dataset ml-latest-small --raw " + quote(raw.string()) +
                               " --work " + quote(work.string()),
                           scratch_);
  ASSERT_EQ(prep.code, 0) << prep.err;
  // One small vector per item, a function of its row, so content neighbours are well defined.
  const fs::path vectors = scratch_ / "vectors.jsonl";
  {
    std::ifstream items(work / "raws/ml-latest-small_item_feature.jsonl");
    std::ofstream out(vectors);
    std::string line;
    for (int row = 0; std::getline(items, line); ++row) {
      const auto j = nlohmann::json::parse(line);
      out << nlohmann::json{{"item_id", j["item_id"]}, {"vector", {row % 7, row % 5, 1.0}}}.dump() << "\n";
    }
  }
  std::string expected;
  for (size_t i = 0; i < kWays; ++i) {
    const fs::path output = scratch_ / ("scenes" + std::to_string(i) + ".jsonl");
    const std::string cmd = light() + " scenes --dataset ml-latest-small --work " + quote(work.string()) +
                            " --split eval --samples 6 --seed 3 --scorers random,content --output " +
                            quote(output.string()) + " --content-vectors {}";
    const Way w = way(i, cmd, vectors, scratch_);
    const Result r = bash(w.script, scratch_);
    ASSERT_EQ(r.code, 0) << w.name << ": " << r.err;
    const std::string scenes = slurp(output);
    if (expected.empty()) {
      expected = scenes;
      EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 6) << expected.substr(0, 400);
    }
    EXPECT_EQ(scenes, expected) << w.name;
  }
}

TEST_F(StreamInputs, MissingInputStillFailsClearly) {
  const Result r =
      bash(light() + " render-chat --tokenizer " +
               quote((um::testing::source_dir() / "tests/fixtures/chat_templates/chatml").string()) +
               " --messages " + quote((scratch_ / "absent.json").string()),
           scratch_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("absent.json"), std::string::npos) << r.err;
}

}  // namespace
