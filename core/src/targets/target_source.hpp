// Where targets come from: the command line (one chunk) and -iL files, read a
// chunk at a time so that a list of millions never sits in memory at once; and the
// addresses never to scan (--exclude, --excludefile).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "targets/targets.hpp"

namespace scanfw {

class ExcludeList {
public:
    void add(std::string_view spec);          // target syntax; throws InputError
    void add_list(std::string_view list);     // comma-separated, as --exclude takes
    void add_file(const std::string& path);   // whitespace-separated, '#' comments
    bool contains(const IpAddress& a) const { return ranges_.contains(a); }
    bool empty() const { return ranges_.empty(); }
    const AddressRanges& ranges() const { return ranges_; }

private:
    AddressRanges ranges_;  // normalized after each add
};

class TargetSource {
public:
    static constexpr std::size_t kChunkEntries = 4096;  // target specs per chunk from a file

    // Each chunk comes out normalized (see TargetSet::normalize) without `excluded`.
    TargetSource(std::vector<std::string> specs, std::optional<std::string> list_file,
                 std::optional<Family> name_family, const ExcludeList* excluded = nullptr);

    // Reads every target once without keeping them, so that bad input is reported
    // (with FILE:LINE) before anything is sent. Returns how many addresses will be
    // scanned (each once, exclusions left out).
    std::uint64_t validate();
    // A digest of the targets, the list file's contents and the exclusions: what
    // identifies the target set of a scan for --resume and merge.
    std::string digest() const { return digest_; }

    // The next chunk into `out` (replaced); false when there are no more.
    bool next(TargetSet& out);
    void rewind();

private:
    bool read_entry(std::string& entry);  // the next spec from the file
    TargetSet fresh() const;

    std::vector<std::string> specs_;
    std::optional<std::string> list_file_;
    std::optional<Family> name_family_;
    const ExcludeList* excluded_ = nullptr;
    bool specs_done_ = false;
    std::ifstream file_;
    std::size_t line_no_ = 0;
    std::string line_;
    std::size_t line_pos_ = 0;
    std::string digest_;
    // Addresses of earlier chunks (and the exclusions): a target listed twice, in
    // the arguments and the list or in two chunks of the list, is scanned once. Kept
    // as ranges, so CIDR blocks cost nothing; past kMaxSeen disjoint ranges (a list
    // of millions of scattered addresses) later duplicates are no longer caught.
    static constexpr std::size_t kMaxSeen = std::size_t{1} << 16;
    AddressRanges seen_;
    bool seen_full_ = false;
};

}  // namespace scanfw
