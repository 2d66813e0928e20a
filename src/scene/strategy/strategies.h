#pragma once
// Factories of the per-family strategies, one per file in this folder: `dataset` is the name asked
// for (the strategy's name), `row` its row in the reader table (what differs between the datasets of
// one family, e.g. ReaderEntry::user_attributes).
#include <memory>
#include <string_view>

#include "data/reader.h"
#include "scene/strategy.h"

namespace um::scene::strategies {

std::unique_ptr<Strategy> movielens(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> amazon(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> goodreads(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> kuairec(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> lastfm(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> mind(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> mobilerec(std::string_view dataset, const data::ReaderEntry& row);
std::unique_ptr<Strategy> steam(std::string_view dataset, const data::ReaderEntry& row);

}  // namespace um::scene::strategies
