// `scanfw merge`: the records (-oJ) of a scan's shards read as one scan and written to
// every output, as if one process had made it. Records of different scans, a shard given
// twice, and shards missing or cut short are refused, naming the files (the last two
// are merged anyway with --allow-partial, and every output says what is missing).
#pragma once

#include <string>
#include <vector>

#include "output/outputs.hpp"

namespace scanfw {

struct MergeRequest {
    std::vector<std::string> files;
    OutputFiles outputs;
    DisplayOptions display;
    bool allow_partial = false;
};

// Throws InputError (exit 2) for records that cannot be merged, saying why.
void merge_records(const MergeRequest& request);

}  // namespace scanfw
