// The scan's record: -oJ's JSON Lines. A first line says what the scan is (its
// provenance: techniques, ports, targets, seed, shard); then a line per host status and
// per result as they come; a last line sums it up. Any output can be made again from
// it: --resume replays it into every output before scanning what it lacks, and
// `scanfw merge` reads the records of a scan's shards as one scan.
//
//   {"type":"scan","scanner":"scanfw","argv":[...],"techniques":[...],"seed":...,"shard":"1/4",...}
//   {"type":"host","host":"198.18.0.2","status":"up","reason":"echo-reply","ttl":64}
//   {"host":"198.18.0.2","port":22,"protocol":"tcp","technique":"syn","state":"open","reason":"syn-ack","ttl":64}
//   {"type":"summary",...,"results":1027,"states":{...},"interrupted":false}
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "output/outputs.hpp"

namespace scanfw {

// What a record's first and last lines say.
struct RecordHeader {
    ScanInfo info;
    std::string file;  // where it was read from, for messages
};
struct RecordSummary {
    bool interrupted = false;
    double done = 1;  // the share of the scan's items that got a result
    double seconds = 0;
    std::uint64_t hosts = 0, results = 0;
};

class RecordReader {
public:
    struct Callbacks {
        std::function<void(const RecordHeader&)> header;
        std::function<void(const HostStatus&)> host;
        std::function<void(const Result&)> result;
        std::function<void(const RecordSummary&)> summary;
    };
    // Reads `path` line by line (any of the callbacks may be empty). Throws InputError
    // "FILE:LINE: what is wrong" for a line that is not one of the record's; a last line
    // cut short (a process killed while writing it) is skipped with a warning.
    static void read(const std::string& path, const Callbacks& callbacks);
    // Only the first line: what the scan was. Throws InputError when it is none.
    static RecordHeader header(const std::string& path);
    // Only the last line, if it is the summary (nullopt: the record was cut off).
    static std::optional<RecordSummary> summary(const std::string& path);
};

// --resume FILE: throws InputError naming the difference when this scan (`now`) is not
// the one the record `was` of: other techniques or ports, targets, or shard.
void check_resumable(const std::string& file, const ScanInfo& was, const ScanInfo& now);

// --resume FILE, before anything is written: throws InputError when an output would
// lose what a file holds. A resume never replaces a finished scan: not a file of
// another record's outputs that holds one (nmap's formats ended "done", a record whose
// summary says it was not interrupted), nor FILE itself when the scan it records is
// finished (nothing is left to resume). FILE may be continued only by -oJ.
void check_resume_outputs(const OutputFiles& files, const std::string& record);

// A ScanInfo as the record's first line writes it, and back.
std::string header_json(const ScanInfo& info);
ScanInfo parse_header_json(const std::string& line, const std::string& where);

}  // namespace scanfw
