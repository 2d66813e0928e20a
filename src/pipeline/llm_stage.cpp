#include "pipeline/llm_stage.h"

#include <condition_variable>
#include <exception>
#include <mutex>

#include "util/error.h"
#include "util/line_reader.h"

namespace um::pipeline {

std::filesystem::path store_path_for(const std::filesystem::path& final_path) {
  std::filesystem::path p = final_path;
  p.replace_extension(".store.jsonl");
  return p;
}

std::map<std::string, nlohmann::json> load_store(const std::filesystem::path& path,
                                                 const std::string& stage) {
  std::map<std::string, nlohmann::json> out;
  if (!std::filesystem::exists(path)) return out;
  backend::RequestStore::read(path, stage, [&](const std::string& key, const std::string& value) {
    out.emplace(key, nlohmann::json::parse(value));
  });
  return out;
}

nlohmann::json contents_value(const backend::GenerateResult& result) {
  nlohmann::json v;
  v["contents"] = nlohmann::json::array();
  for (const auto& s : result.samples) v["contents"].push_back(s.text);
  return v;
}

std::vector<scene::SceneRecord> read_scenes(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw util::Error("scene file missing (run `usermirror scenes` first)", {.file = path.string()});
  return scene::read_scene_file(path);
}

namespace {

// Runs one submit_* call over a chunk and waits for all its callbacks.
template <typename Request, typename Result, typename Submit>
int64_t run_chunked(std::vector<Request> requests, backend::RequestStore& store,
                    const std::function<std::string(const Result&)>& to_json, util::Progress& progress,
                    const SkipBudget& budget, size_t chunk, Submit submit) {
  int64_t failed = 0;
  std::string first_error;
  for (size_t begin = 0; begin < requests.size(); begin += chunk) {
    // A cancelled call (util::CallControl, the Python package's Ctrl-C) stops between chunks: every
    // answer so far is in the store, so a rerun resumes from here.
    util::check_cancelled();
    size_t end = std::min(requests.size(), begin + chunk);
    std::vector<Request> batch(std::make_move_iterator(requests.begin() + static_cast<std::ptrdiff_t>(begin)),
                               std::make_move_iterator(requests.begin() + static_cast<std::ptrdiff_t>(end)));
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const auto& r : batch) keys.push_back(r.key);
    std::mutex mu;
    std::condition_variable cv;
    size_t remaining = batch.size();
    std::exception_ptr store_error;
    submit(std::move(batch), [&](size_t i, Result&& result, std::exception_ptr error) {
      std::string err_text;
      if (!error) {
        try {
          store.put(keys[i], to_json(result));
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!store_error) store_error = std::current_exception();
        }
      } else {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          err_text = e.what();
        }
      }
      try {
        progress.add(1);
      } catch (const util::Cancelled&) {
        // A backend may run this callback inside submit() on this thread, where unwinding would
        // abandon requests in flight: a cancelled call stops at the next chunk instead.
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!err_text.empty()) {
        ++failed;
        if (first_error.empty()) first_error = "request " + keys[i] + ": " + err_text;
      }
      if (--remaining == 0) cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return remaining == 0; });
    if (store_error) std::rethrow_exception(store_error);
    if (failed > budget.max_failures)
      throw util::Error(std::to_string(failed) + " request(s) failed (skip budget " +
                            std::to_string(budget.max_failures) + "); first: " + first_error,
                        {.file = store.path().string()});
  }
  return failed;
}

}  // namespace

int64_t run_generate(backend::Backend& be, std::vector<backend::GenerateRequest> requests,
                     backend::RequestStore& store,
                     const std::function<std::string(const backend::GenerateResult&)>& to_json,
                     util::Progress& progress, const SkipBudget& budget, size_t chunk) {
  return run_chunked<backend::GenerateRequest, backend::GenerateResult>(
      std::move(requests), store, to_json, progress, budget, chunk,
      [&](std::vector<backend::GenerateRequest> b, backend::GenerateCallback cb) {
        be.submit_generate(std::move(b), std::move(cb));
      });
}

int64_t run_options(backend::Backend& be, std::vector<backend::OptionRequest> requests,
                    backend::RequestStore& store,
                    const std::function<std::string(const backend::OptionResult&)>& to_json,
                    util::Progress& progress, const SkipBudget& budget, size_t chunk) {
  return run_chunked<backend::OptionRequest, backend::OptionResult>(
      std::move(requests), store, to_json, progress, budget, chunk,
      [&](std::vector<backend::OptionRequest> b, backend::OptionCallback cb) {
        be.submit_options(std::move(b), std::move(cb));
      });
}

}  // namespace um::pipeline
