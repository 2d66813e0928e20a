#pragma once
// Choice models: what picks an item from a page. The LLM simulator (a backend, direct or reasoning
// mode, resumable through a request store) and the control simulators (trivial choice models whose
// agreement with offline metrics tells how much of the LLM's agreement is more than a prior).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "recommend/recommend.h"
#include "text/prompt.h"

namespace um::arena {

// One page shown to one simulated user.
struct PageScene {
  std::string key;                 // identifies the prompt: same key = same text (answers are shared)
  uint32_t user = 0;               // user row
  int64_t t_us = 0;                // the user's "now"
  std::vector<uint32_t> history;   // everything the user has seen: train items + earlier session choices
  std::vector<uint32_t> appended;  // the session choices among them (rendered after the real history)
  std::vector<uint32_t> items;     // the page, item rows in display order
  text::SceneText text;            // profile, history window, exposure entries
};

class ChoiceModel {
 public:
  virtual ~ChoiceModel() = default;
  virtual std::string name() const = 0;
  // False when the model never reads PageScene::text (the controls): pages are then not rendered.
  virtual bool needs_text() const { return true; }
  // One distribution per page (aligned; each sums to 1 over the page's items). Pages with equal keys
  // may appear once only. May be called several times (session rounds).
  virtual std::vector<std::vector<double>> choose(const std::vector<const PageScene*>& pages) = 0;
};

// What the control simulators may know: the train part of the split only.
struct ControlContext {
  const recommend::Split& split;
  const data::Dataset& dataset;
  uint64_t seed = 0;
  unsigned threads = 0;
};

// baseline:uniform          q_k = 1/K
// baseline:position         q_k ∝ 1/log2(k + 2) (an examination prior: the first slots win)
// baseline:popularity       q_k ∝ 1 + train interactions of item k
// baseline:collaborative    q = softmax of the z-scored GF-CF scores (Σ_history E[h]) · E[item_k],
//                           E from the train interactions only (as evaluate's collaborative baseline)
// Throws util::Error (field "simulator") for another name.
std::unique_ptr<ChoiceModel> make_control(const std::string& spec, const ControlContext& context);
bool is_control(const std::string& spec);  // starts with "baseline:"

}  // namespace um::arena
