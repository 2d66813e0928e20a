// Chat-template rendering speed: the Qwen3 template (../shared/tokenizers/qwen3) on a typical
// simulation scene (reasoning system prompt, 10 history items, 10 options, open assistant turn), versus
// python3-jinja2 configured as transformers does, in the same run.
//
//   build/chat_template_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "text/chat_template.h"
#include "text/prompt.h"
#include "text/prompt_store.h"

namespace {

namespace fs = std::filesystem;

// The source tree (CMake passes absolute source paths, so __FILE__ locates it).
const fs::path kSourceDir = fs::path(__FILE__).parent_path().parent_path();

fs::path qwen3_dir() { return kSourceDir / ".." / "shared" / "tokenizers" / "qwen3"; }

um::text::SceneText typical_scene() {
  um::text::SceneText s;
  s.profile = "## User Profile\nGender: female\nAge: 35-44\nOccupation: writer\nLocation: Portland, OR\n";
  for (int i = 0; i < 10; ++i) {
    s.history += "A movie viewed " + std::to_string(10 - i) + " days ago\nSome Movie Title (199" +
                 std::to_string(i) + ") Drama|Romance \nMy Behavior:\nRating: 4.0/5.0\n";
    if (i < 9) s.history += "\n";
    s.action_list.push_back("Candidate Film Number " + std::to_string(i) + " (2000) - Comedy|Drama \n");
  }
  return s;
}

std::vector<um::text::ChatMessage> typical_messages() {
  return um::text::scene_messages(typical_scene(), um::text::load_prompt(um::text::kDefaultReasoningPrompt),
                                  um::text::kEvalReasoningPrefix);
}

void BM_Qwen3RenderScene(benchmark::State& state) {
  if (!fs::exists(qwen3_dir())) {
    state.SkipWithError("../shared/tokenizers/qwen3 not found");
    return;
  }
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(qwen3_dir());
  auto msgs = um::text::to_json(typical_messages());
  size_t bytes = 0;
  for (auto _ : state) {
    std::string s = tpl.render(msgs, {.continue_final_message = true});
    bytes += s.size();
    benchmark::DoNotOptimize(s);
  }
  state.counters["renders/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Qwen3RenderScene)->Unit(benchmark::kMicrosecond);

void BM_Qwen3ParseTemplate(benchmark::State& state) {
  if (!fs::exists(qwen3_dir())) {
    state.SkipWithError("../shared/tokenizers/qwen3 not found");
    return;
  }
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(qwen3_dir());
  for (auto _ : state) {
    um::text::JinjaTemplate t(tpl.source());
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_Qwen3ParseTemplate)->Unit(benchmark::kMicrosecond);

// The same render in python3-jinja2 (compiled template, as transformers caches it), timed in Python.
void BM_Qwen3RenderScene_PythonJinja2(benchmark::State& state) {
  if (!fs::exists(qwen3_dir()) || !fs::exists("/usr/bin/python3")) {
    state.SkipWithError("qwen3 tokenizer or /usr/bin/python3 missing");
    return;
  }
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(qwen3_dir());
  fs::path tmp = fs::temp_directory_path() / "um_chat_template_bench.json";
  {
    nlohmann::ordered_json in = {{"template", tpl.source()},
                                 {"messages", um::text::to_json(typical_messages())}};
    std::ofstream(tmp) << in.dump();
  }
  const fs::path oracle = kSourceDir / "tests" / "oracles" / "jinja";
  const std::string cmd = "/usr/bin/python3 -c \"import sys, json, time; sys.path.insert(0, '" +
                          oracle.string() + "'); import render; c = json.load(open('" + tmp.string() +
                          "')); env = render.make_env(); t = env.from_string(c['template']); n = 2000; "
                          "t0 = time.perf_counter()\nfor _ in range(n): t.render(messages=c['messages'], "
                          "add_generation_prompt=False, tools=None, documents=None, eos_token='<|im_end|>')\n"
                          "print(n / (time.perf_counter() - t0))\"";
  double rate = 0;
  for (auto _ : state) {
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    std::array<char, 128> buf{};
    if (!p || !fgets(buf.data(), buf.size(), p.get())) {
      state.SkipWithError("python3-jinja2 run failed");
      return;
    }
    rate = std::stod(buf.data());
  }
  state.counters["renders/s"] = rate;
}
BENCHMARK(BM_Qwen3RenderScene_PythonJinja2)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
