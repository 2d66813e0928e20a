#pragma once
// One function per raw-format file in data/readers/, each returning its table rows.
#include <vector>

#include "data/reader.h"

namespace um::data::readers {

std::vector<ReaderEntry> movielens_readers();
std::vector<ReaderEntry> mind_readers();
std::vector<ReaderEntry> amazon_readers();
std::vector<ReaderEntry> lastfm_readers();
std::vector<ReaderEntry> kuairec_readers();
std::vector<ReaderEntry> steam_readers();
std::vector<ReaderEntry> goodreads_readers();
std::vector<ReaderEntry> mobilerec_readers();

}  // namespace um::data::readers
