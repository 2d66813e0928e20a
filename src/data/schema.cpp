#include "data/schema.h"

namespace um::data {

std::string user_file(const std::string& dataset) { return "raws/" + dataset + "_user_feature.jsonl"; }
std::string item_file(const std::string& dataset) { return "raws/" + dataset + "_item_feature.jsonl"; }
std::string interaction_file(const std::string& dataset) { return "raws/" + dataset + "_interaction.jsonl"; }
std::string cache_file(const std::string& dataset) { return "raws/" + dataset + ".umds"; }

}  // namespace um::data
