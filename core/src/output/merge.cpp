#include "output/merge.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "output/record.hpp"

namespace scanfw {

namespace {

// What would make two records parts of different scans, or "" when they agree.
std::string difference(const ScanInfo& a, const ScanInfo& b) {
    auto techniques = [](const ScanInfo& i) {
        std::string out;
        for (const auto& t : i.techniques) out += fmt::format("{} {} {}; ", t.name, protocol_name(t.protocol), port_ranges(t.ports));
        return out;
    };
    if (techniques(a) != techniques(b)) return fmt::format("techniques or ports differ ({} vs {})", techniques(a), techniques(b));
    if (a.targets_digest != b.targets_digest || a.targets != b.targets)
        return fmt::format("the targets differ ({} addresses, digest {} vs {} addresses, digest {})", a.targets,
                           a.targets_digest, b.targets, b.targets_digest);
    if (a.seed != b.seed)
        return fmt::format("the seed differs ({} vs {})", a.seed ? std::to_string(*a.seed) : "none",
                           b.seed ? std::to_string(*b.seed) : "none");
    if (a.shards != b.shards) return fmt::format("the shard count differs ({} vs {})", a.shards, b.shards);
    if (a.discovery != b.discovery) return "host discovery differs";
    if (a.service_detection != b.service_detection) return "service detection (-sV) differs";
    return {};
}

}  // namespace

void merge_records(const MergeRequest& req) {
    if (req.files.empty()) throw InputError("merge: name the shards' -oJ files");
    // What each file is: all one scan, each shard once.
    std::vector<RecordHeader> headers;
    for (const auto& f : req.files) headers.push_back(RecordReader::header(f));
    const ScanInfo& base = headers.front().info;
    std::map<std::uint32_t, std::string> shard_file;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const ScanInfo& info = headers[i].info;
        if (const std::string d = difference(base, info); !d.empty())
            throw InputError(fmt::format("merge: {} and {} are not shards of one scan: {}", req.files.front(), req.files[i], d));
        const auto [it, fresh] = shard_file.emplace(info.shard, req.files[i]);
        if (!fresh)
            throw InputError(fmt::format("merge: {} and {} are both shard {}/{}", it->second, req.files[i], info.shard,
                                         info.shards));
    }
    // What they leave uncovered.
    std::vector<std::string> gaps;
    double uncovered = 0;
    for (std::uint32_t k = 1; k <= base.shards; ++k)
        if (!shard_file.count(k)) {
            gaps.push_back(fmt::format("shard {}/{} is missing", k, base.shards));
            uncovered += 1.0 / base.shards;
        }
    for (const auto& [k, file] : shard_file) {
        const auto s = RecordReader::summary(file);
        const double done = s ? s->done : 0;
        if (!s || s->interrupted) {
            gaps.push_back(fmt::format("shard {}/{} ({}) {} at {:.1f}%", k, base.shards, file,
                                       s ? "was interrupted" : "has no summary: it was cut off", 100 * done));
            uncovered += (1 - done) / base.shards;
        }
    }
    std::string partial;
    if (!gaps.empty()) {
        partial = fmt::format("partial merge: {}; {:.1f}% of the scan is not covered", fmt::join(gaps, "; "), 100 * uncovered);
        if (!req.allow_partial)
            throw InputError(fmt::format("merge: {}. Merge anyway with --allow-partial", partial.substr(15)));
        spdlog::warn("{}", partial);
    }

    DisplayOptions display = req.display;
    display.host_ordered_json = true;
    Outputs outputs = make_outputs(req.outputs, display);
    outputs.count_hosts_once();
    ScanInfo info = base;
    info.shard = info.shards = 1;  // one scan again
    outputs.begin(info);
    double seconds = 0;
    RecordReader::Callbacks cb;
    cb.host = [&](const HostStatus& h) { outputs.on_host(h); };
    cb.result = [&](const Result& r) { outputs.on_result(r); };
    cb.summary = [&](const RecordSummary& s) { seconds = std::max(seconds, s.seconds); };
    for (const auto& [k, file] : shard_file) RecordReader::read(file, cb);
    ScanSummary s;
    s.hosts = base.targets;
    s.results = outputs.results();
    s.seconds = seconds;
    s.done = 1 - uncovered;
    s.partial = partial;
    outputs.end(s);
}

}  // namespace scanfw
