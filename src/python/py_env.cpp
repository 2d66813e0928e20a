// usermirror.Env: a Gymnasium-style environment (reset / step) in which a policy shows pages of items
// to the simulated test users of a prepared dataset. The split, the users' histories and "now" are
// the arena's (recommend::Split, the first test interaction's time), pages are rendered with the
// dataset's templates exactly as the arena renders them (SceneGenerator::render), and the
// simulator answers with the same requests (SimulatorCore).
//
// One episode: reset(seed) picks a test user from stream (seed, "python/env", 0) (later resets
// without a seed continue that stream); each step shows one page, asks the simulator for its choice
// distribution q, samples the choice from the same stream, appends it to the user's history
// (rendered after the real history, as the arena's session protocol does) and returns the reward:
//   reward="probability" (default)  sum of q over the page's items that are among the user's
//                                   held-out (test) items: the expected hit of the page;
//   reward="choice"                 1 if the sampled choice is a held-out item, else 0.
// terminated is always false; truncated becomes true after `horizon` steps.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <unordered_map>

#include "data/dataset_io.h"
#include "python/python.h"
#include "recommend/recommend.h"
#include "scene/scene_generator.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::python {

namespace fs = std::filesystem;

namespace {

class EnvCore {
 public:
  EnvCore(const fs::path& work, const std::string& dataset, std::shared_ptr<SimulatorCore> sim,
          const std::string& split, size_t users, int horizon, std::string reward, uint64_t seed)
      : sim_(std::move(sim)), horizon_(horizon), reward_(std::move(reward)) {
    if (reward_ != "probability" && reward_ != "choice")
      throw util::Error("reward must be probability or choice, got '" + reward_ + "'", {.field = "reward"});
    if (horizon_ < 1) throw util::Error("horizon must be >= 1", {.field = "horizon"});
    ds_ = data::load_dataset(work, dataset);
    split_ = recommend::make_split(ds_, recommend::parse_split(split));
    users_ = recommend::sample_test_users(split_, users, seed);
    if (users_.empty()) throw util::Error("the split has no test user", {.field = "split"});
    // The arena's renderer configuration (arena/arena_run.cpp).
    scene::SceneConfig cfg;
    cfg.split = "arena";
    cfg.seed = seed;
    cfg.scorers = {"random"};
    cfg.impressions = scene::ImpressionMode::Sampled;
    cfg.shape = {.min_options = 1, .max_options = 26};
    renderer_ = std::make_unique<scene::SceneGenerator>(ds_, cfg);
    for (uint32_t i = 0; i < ds_.items.size(); ++i) rows_.emplace(ds_.items[i].id, i);
    rng_ = util::Rng::stream(seed, "python/env", 0);
  }

  py::dict reset(std::optional<uint64_t> seed) {
    if (seed) rng_ = util::Rng::stream(*seed, "python/env", 0);
    user_ = users_[static_cast<size_t>(rng_.uniform_int(0, static_cast<int64_t>(users_.size()) - 1))];
    appended_.clear();
    steps_ = 0;
    started_ = true;
    held_out_.clear();
    for (const auto& e : split_.test[user_]) held_out_.push_back(e.item);
    std::sort(held_out_.begin(), held_out_.end());
    return observation();
  }

  py::tuple step(py::handle page) {
    if (!started_) throw util::Error("call reset() before step()", {.field = "page"});
    if (steps_ >= horizon_) throw util::Error("the episode is over: call reset()", {.field = "page"});
    std::vector<uint32_t> items;
    for (auto id : page) {
      std::string s = py::str(id).cast<std::string>();
      auto it = rows_.find(s);
      if (it == rows_.end()) throw util::Error("unknown item id '" + s + "'", {.field = "page", .record = s});
      items.push_back(it->second);
    }
    if (items.size() < 2 || items.size() > 26)
      throw util::Error("a page holds 2 to 26 items, got " + std::to_string(items.size()), {.field = "page"});
    std::vector<text::SceneText> texts{
        renderer_->render(user_, user_, split_.first_test_us(user_), items, appended_)};
    auto sim = sim_;
    // Reasoning mode: the rationales' sampling stream depends on the user, the step and the page.
    std::string state = ds_.users[user_].id + "/" + std::to_string(steps_);
    for (uint32_t i : items) state += "/" + ds_.items[i].id;
    const uint64_t record = util::hash64(state);
    auto dist = run_interruptible([sim, texts, record] { return sim->choose(texts, {}, record); });
    std::vector<double> q = std::move(dist.at(0));
    // The choice: inverse CDF of one uniform draw.
    double u = rng_.uniform01(), acc = 0;
    size_t choice = q.size() - 1;
    for (size_t k = 0; k < q.size(); ++k) {
      acc += q[k];
      if (u < acc) {
        choice = k;
        break;
      }
    }
    double mass = 0;
    py::list hits;
    for (size_t k = 0; k < items.size(); ++k) {
      bool hit = std::binary_search(held_out_.begin(), held_out_.end(), items[k]);
      hits.append(hit);
      if (hit) mass += q[k];
    }
    const bool chosen_hit = std::binary_search(held_out_.begin(), held_out_.end(), items[choice]);
    double reward = reward_ == "probability" ? mass : (chosen_hit ? 1.0 : 0.0);
    appended_.push_back(items[choice]);
    ++steps_;
    py::dict info;
    info["probs"] = py::array_t<double>(static_cast<py::ssize_t>(q.size()), q.data());
    info["choice"] = ds_.items[items[choice]].id;
    info["choice_index"] = choice;
    info["hits"] = hits;
    info["hit_probability"] = mass;
    py::dict text;
    text["profile"] = texts[0].profile;
    text["action_list"] = texts[0].action_list;
    text["history"] = texts[0].history;
    info["scene"] = text;
    return py::make_tuple(observation(), reward, false, steps_ >= horizon_, info);
  }

  py::list item_ids() const {
    py::list out;
    for (const auto& it : ds_.items) out.append(it.id);
    return out;
  }
  py::list train_item_ids() const {
    py::list out;
    for (uint32_t i : split_.train_items) out.append(ds_.items[i].id);
    return out;
  }
  py::list user_ids() const {
    py::list out;
    for (uint32_t u : users_) out.append(ds_.users[u].id);
    return out;
  }

 private:
  py::dict observation() const {
    py::dict obs;
    obs["user_id"] = ds_.users[user_].id;
    py::list history;
    for (uint32_t i : split_.train_items_of(user_)) history.append(ds_.items[i].id);
    for (uint32_t i : appended_) history.append(ds_.items[i].id);
    obs["history"] = history;
    obs["step"] = steps_;
    obs["time_us"] = split_.first_test_us(user_);
    return obs;
  }

  std::shared_ptr<SimulatorCore> sim_;
  int horizon_;
  std::string reward_;
  data::Dataset ds_;
  recommend::Split split_;
  std::vector<uint32_t> users_;
  std::unique_ptr<scene::SceneGenerator> renderer_;
  std::unordered_map<std::string, uint32_t> rows_;
  util::Rng rng_ = util::Rng::stream(0, "python/env", 0);
  uint32_t user_ = 0;
  std::vector<uint32_t> appended_, held_out_;
  int steps_ = 0;
  bool started_ = false;
};

}  // namespace

void bind_env(py::module_& m) {
  using namespace py::literals;
  py::class_<EnvCore>(m, "EnvCore")
      .def(py::init([](const fs::path& work, const std::string& dataset, std::shared_ptr<SimulatorCore> sim,
                       const std::string& split, size_t users, int horizon, const std::string& reward,
                       uint64_t seed) {
             return run_interruptible([=] {
               return std::make_unique<EnvCore>(work, dataset, sim, split, users, horizon, reward, seed);
             });
           }),
           "work"_a, "dataset"_a, "simulator"_a, "split"_a, "users"_a, "horizon"_a, "reward"_a, "seed"_a)
      .def("reset", &EnvCore::reset, "seed"_a = py::none())
      .def("step", &EnvCore::step, "page"_a)
      .def_property_readonly("item_ids", &EnvCore::item_ids)
      .def_property_readonly("train_item_ids", &EnvCore::train_item_ids)
      .def_property_readonly("user_ids", &EnvCore::user_ids);
}

}  // namespace um::python
