#pragma once
// Team-draft interleaving (Radlinski, Kurup & Joachims 2008) and its multileaving generalisation
// (Schuth et al. 2014): in each round the teams that still have items pick in a random order, each
// adding its best-ranked item not yet on the page, until the page is full or every list is spent.
// Every page slot is credited to the team that picked it; with two teams a fair coin decides who
// picks first in each round, which is what makes the comparison unbiased.
#include <cstdint>
#include <vector>

#include "util/rng.h"

namespace um::arena {

struct InterleavedPage {
  std::vector<uint32_t> items;  // page order
  std::vector<int> team;        // per slot: index of the list that contributed it
};

InterleavedPage team_draft(const std::vector<std::vector<uint32_t>>& lists, size_t page_size, util::Rng& rng);

}  // namespace um::arena
