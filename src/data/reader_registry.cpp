// The table of raw-dataset readers: adding a format = one file in readers/ + one line here.
#include "data/reader.h"
#include "data/readers/readers.h"

namespace um::data {

const std::vector<ReaderEntry>& reader_table() {
  static const std::vector<ReaderEntry> table = [] {
    std::vector<ReaderEntry> t;
    for (auto* group : {&readers::movielens_readers, &readers::mind_readers, &readers::amazon_readers,
                        &readers::lastfm_readers, &readers::kuairec_readers, &readers::steam_readers,
                        &readers::goodreads_readers, &readers::mobilerec_readers}) {
      for (auto& e : group()) t.push_back(std::move(e));
    }
    return t;
  }();
  return table;
}

}  // namespace um::data
