#include "targets/target_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

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

ExcludeList::Key ExcludeList::key_of(const IpAddress& a) {
    if (a.family == Family::V4) return {4, 0, a.v4_host_order()};
    Key k{6, 0, 0};
    for (std::size_t i = 0; i < 8; ++i) k.hi = k.hi << 8 | a.bytes[i];
    for (std::size_t i = 8; i < 16; ++i) k.lo = k.lo << 8 | a.bytes[i];
    return k;
}

ExcludeList::Key ExcludeList::successor(Key k) {
    if (++k.lo == 0) ++k.hi;
    return k;
}

void ExcludeList::insert(Key lo, Key hi) {
    ranges_.push_back({lo, hi});
    std::sort(ranges_.begin(), ranges_.end());
    std::vector<std::pair<Key, Key>> merged;
    for (const auto& r : ranges_) {
        if (!merged.empty() && r.first <= successor(merged.back().second))
            merged.back().second = std::max(merged.back().second, r.second);
        else merged.push_back(r);
    }
    ranges_ = std::move(merged);
}

void ExcludeList::add(std::string_view spec) {
    TargetSet set;
    set.add(spec);
    // Consecutive addresses become one range (a CIDR block is one; an octet range a few).
    std::optional<Key> lo, hi;
    for (std::uint64_t i = 0; i < set.size(); ++i) {
        const Key k = key_of(set.at(i));
        if (hi && k == successor(*hi)) {
            hi = k;
            continue;
        }
        if (lo) insert(*lo, *hi);
        lo = hi = k;
    }
    if (lo) insert(*lo, *hi);
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

bool ExcludeList::contains(const IpAddress& a) const {
    const Key k = key_of(a);
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), k,
                               [](const Key& v, const std::pair<Key, Key>& r) { return v < r.first; });
    return it != ranges_.begin() && k <= std::prev(it)->second;
}

TargetSource::TargetSource(std::vector<std::string> specs, std::optional<std::string> list_file,
                           std::optional<Family> name_family)
    : specs_(std::move(specs)), list_file_(std::move(list_file)), name_family_(name_family) {
    rewind();
}

void TargetSource::rewind() {
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
    out = fresh();
    if (!specs_done_) {
        specs_done_ = true;
        for (const auto& s : specs_) out.add(s);
        if (!out.empty() || !list_file_) return !out.empty();
    }
    std::string entry;
    for (std::size_t n = 0; n < kChunkEntries && read_entry(entry); ++n) {
        try {
            out.add(entry);
        } catch (const InputError& e) {
            throw InputError(fmt::format("{}:{}: {}", *list_file_, line_no_, e.what()));
        }
    }
    return !out.empty();
}

std::uint64_t TargetSource::validate() {
    std::uint64_t total = 0;
    TargetSet chunk;
    while (next(chunk)) total += chunk.size();
    rewind();
    return total;
}

}  // namespace scanfw
