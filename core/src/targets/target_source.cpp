#include "targets/target_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace scanfw {

namespace {

// Splits text into entries on whitespace (and commas when `commas`).
template <class F>
void for_each_entry(std::string_view text, bool commas, F f) {
    const char* seps = commas ? " \t\r\n," : " \t\r\n";
    std::size_t pos = 0;
    while ((pos = text.find_first_not_of(seps, pos)) != std::string_view::npos) {
        const std::size_t end = std::min(text.find_first_of(seps, pos), text.size());
        f(text.substr(pos, end - pos));
        pos = end;
    }
}

}  // namespace

void ExcludeList::add(std::string_view spec) {
    TargetSet set;
    set.add(spec);
    set.normalize(nullptr);
    for (std::uint64_t i = 0, n = set.size(); i < n;) {
        // Each normalized block is one range: walk them by their first addresses.
        const IpAddress first = set.at(i);
        std::uint64_t j = i + 1;
        AddressRanges::Key k = AddressRanges::key_of(first);
        while (j < n && AddressRanges::key_of(set.at(j)) == AddressRanges::successor(k)) {
            k = AddressRanges::successor(k);
            ++j;
        }
        ranges_.add(AddressRanges::key_of(first), k);
        i = j;
    }
    ranges_.normalize();
}

void ExcludeList::add_list(std::string_view list) {
    for_each_entry(list, true, [&](std::string_view e) { add(e); });
}

void ExcludeList::add_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("--excludefile {}: cannot read: {}", path, std::strerror(errno)));
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        const std::string_view text = std::string_view(line).substr(0, line.find('#'));
        try {
            for_each_entry(text, false, [&](std::string_view e) { add(e); });
        } catch (const InputError& e) {
            throw InputError(fmt::format("{}:{}: {}", path, n, e.what()));
        }
    }
}

TargetSource::TargetSource(std::vector<std::string> specs, std::optional<std::string> list_file,
                           std::optional<Family> name_family, const ExcludeList* excluded)
    : specs_(std::move(specs)), list_file_(std::move(list_file)), name_family_(name_family), excluded_(excluded) {
    rewind();
}

void TargetSource::rewind() {
    seen_ = excluded_ ? excluded_->ranges() : AddressRanges{};
    seen_full_ = false;
    specs_done_ = false;
    line_no_ = 0;
    line_.clear();
    line_pos_ = 0;
    if (list_file_) {
        file_.close();
        file_.clear();
        if (*list_file_ == "-") throw InputError("-iL -: reading targets from stdin is not supported; name a file");
        file_.open(*list_file_);
        if (!file_) throw InputError(fmt::format("-iL {}: cannot read: {}", *list_file_, std::strerror(errno)));
    }
}

TargetSet TargetSource::fresh() const {
    TargetSet set;
    set.set_name_family(name_family_);
    set.set_lenient(true);
    return set;
}

bool TargetSource::read_entry(std::string& entry) {
    while (true) {
        const std::string_view rest = std::string_view(line_).substr(std::min(line_pos_, line_.size()));
        const std::string_view text = rest.substr(0, rest.find('#'));
        const std::size_t start = text.find_first_not_of(" \t\r\n");
        if (start != std::string_view::npos) {
            const std::size_t end = std::min(text.find_first_of(" \t\r\n", start), text.size());
            entry.assign(text.substr(start, end - start));
            line_pos_ += end;
            return true;
        }
        if (!file_.is_open() || !std::getline(file_, line_)) return false;
        ++line_no_;
        line_pos_ = 0;
    }
}

bool TargetSource::next(TargetSet& out) {
    // A chunk all excluded (or whose names all failed) is passed over.
    while (true) {
        out = fresh();
        bool read_any = false;
        if (!specs_done_) {
            specs_done_ = true;
            read_any = !specs_.empty();
            for (const auto& s : specs_) out.add(s);
        } else {
            std::string entry;
            for (std::size_t n = 0; n < kChunkEntries && read_entry(entry); ++n) {
                read_any = true;
                try {
                    out.add(entry);
                } catch (const InputError& e) {
                    throw InputError(fmt::format("{}:{}: {}", *list_file_, line_no_, e.what()));
                }
            }
        }
        out.normalize(&seen_);
        if (!seen_full_) {
            out.ranges_into(seen_);
            if (seen_.ranges().size() > kMaxSeen) {
                seen_full_ = true;
                spdlog::warn("over {} separate ranges of targets: a target listed again later may be scanned twice",
                             kMaxSeen);
            }
        }
        if (!out.empty()) return true;
        if (!read_any && (specs_done_ && (!list_file_ || !file_.is_open() || file_.eof()))) return false;
    }
}

std::uint64_t TargetSource::validate() {
    std::uint64_t total = 0;
    TargetSet chunk;
    std::uint64_t h = 0x736f75726365ull;  // digest of every chunk's ranges, in order
    while (next(chunk)) {
        total += chunk.size();
        for (std::uint64_t i = 0; i < chunk.size(); i += std::max<std::uint64_t>(1, chunk.size() / 64)) {
            const IpAddress a = chunk.at(i);
            h = (h ^ IpAddressHash{}(a)) * 0x100000001b3ull;
        }
        h = (h ^ chunk.size()) * 0x100000001b3ull;
    }
    digest_ = fmt::format("{:016x}", h);
    rewind();
    return total;
}

}  // namespace scanfw
