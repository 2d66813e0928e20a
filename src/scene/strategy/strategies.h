#pragma once
// Factories of the per-dataset strategies, one per file in this folder.
#include <memory>
#include <string_view>

#include "scene/strategy.h"

namespace um::scene::strategies {

std::unique_ptr<Strategy> movielens(std::string_view dataset);
std::unique_ptr<Strategy> amazon(std::string_view dataset);
std::unique_ptr<Strategy> goodreads(std::string_view dataset);
std::unique_ptr<Strategy> kuairec(std::string_view dataset);
std::unique_ptr<Strategy> lastfm(std::string_view dataset);
std::unique_ptr<Strategy> mind(std::string_view dataset);
std::unique_ptr<Strategy> mobilerec(std::string_view dataset);
std::unique_ptr<Strategy> steam(std::string_view dataset);

}  // namespace um::scene::strategies
