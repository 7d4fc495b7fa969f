#include "output/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/intern.hpp"

namespace scanfw {

// A record: a 26-byte key (family, address, kind, arrival number: sorting by its bytes
// gives address order, then statuses before results, then arrival order), a length,
// then the fields.
namespace {
constexpr std::size_t kKey = 1 + 16 + 1 + 4 + 4;  // + the record's length
constexpr std::uint8_t kStatus = 0, kResult = 1;

void put8(std::vector<std::uint8_t>& b, std::uint8_t v) { b.push_back(v); }
void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
    b.push_back(std::uint8_t(v >> 8));
    b.push_back(std::uint8_t(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
    put16(b, std::uint16_t(v >> 16));
    put16(b, std::uint16_t(v));
}
void put_str(std::vector<std::uint8_t>& b, std::string_view s) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(s.size(), 0xffffff));
    put32(b, n);
    b.insert(b.end(), s.begin(), s.begin() + n);
}

struct Reader {
    const std::uint8_t* p;
    const std::uint8_t* end;
    std::uint8_t u8() { return p < end ? *p++ : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint32_t u32() { return std::uint32_t{u16()} << 16 | u16(); }
    std::string str() {
        const std::uint32_t n = std::min<std::uint32_t>(u32(), static_cast<std::uint32_t>(end - p));
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        return s;
    }
};

std::uint32_t record_length(const std::uint8_t* r) {
    return std::uint32_t(r[22]) << 24 | std::uint32_t(r[23]) << 16 | std::uint32_t(r[24]) << 8 | r[25];
}

bool key_less(const std::uint8_t* a, const std::uint8_t* b) { return std::memcmp(a, b, 22) < 0; }

// The host of a record.
IpAddress host_of(const std::uint8_t* r) {
    IpAddress a;
    a.family = r[0] == 6 ? Family::V6 : Family::V4;
    std::memcpy(a.bytes.data(), r + 1, 16);
    return a;
}

void decode(const std::uint8_t* r, HostView& view) {
    Reader in{r + kKey, r + record_length(r)};
    if (r[17] == kStatus) {
        HostStatus s;
        s.host = view.host;
        s.up = in.u8() != 0;
        s.reason = intern(in.str());
        s.ttl = in.u8();
        s.rtt_us = in.u32();
        if (in.u8()) {
            MacAddress m;
            for (auto& b : m) b = in.u8();
            s.mac = m;
        }
        s.hostname = in.str();
        s.ptr_name = in.str();
        s.update = in.u8() != 0;
        if (!view.status || (!view.status->up && s.up && !s.update)) {
            view.status = std::move(s);
        } else {  // more of the same host: what it adds
            if (!view.status->mac) view.status->mac = s.mac;
            if (view.status->hostname.empty()) view.status->hostname = s.hostname;
            if (view.status->ptr_name.empty()) view.status->ptr_name = s.ptr_name;
        }
        return;
    }
    Result res;
    res.host = view.host;
    res.port = in.u16();
    res.protocol = static_cast<Protocol>(in.u8());
    res.technique = intern(in.str());
    res.state = static_cast<State>(in.u8());
    res.reason = intern(in.str());
    res.ttl = in.u8();
    res.rtt_us = in.u32();
    if (in.u8()) {
        ServiceInfo s;
        s.name = in.str();
        s.product = in.str();
        s.version = in.str();
        s.extrainfo = in.str();
        s.hostname = in.str();
        s.ostype = in.str();
        s.devicetype = in.str();
        s.tunnel = in.str();
        s.method = in.str();
        s.conf = in.u8();
        for (std::uint8_t n = in.u8(); n > 0; --n) s.cpe.push_back(in.str());
        res.service = std::make_shared<const ServiceInfo>(std::move(s));
    }
    view.results.push_back(std::move(res));
}

// Runs merged at once (and at most this many of each level stay open).
constexpr std::size_t kFanIn = 16;

std::FILE* temporary_file() {
    std::FILE* f = std::tmpfile();  // in TMPDIR, gone when closed
    if (!f)
        throw RuntimeError(fmt::format("cannot make a temporary file for the results: {} (set TMPDIR)",
                                       std::strerror(errno)));
    return f;
}

void write_record(std::FILE* f, const std::uint8_t* r) {
    if (std::fwrite(r, 1, record_length(r), f) != record_length(r))
        throw RuntimeError(fmt::format("writing the results' temporary file failed: {}", std::strerror(errno)));
}

void rewind_written(std::FILE* f) {
    if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0)
        throw RuntimeError(fmt::format("writing the results' temporary file failed: {}", std::strerror(errno)));
}

}  // namespace

// A sorted run on disk, read back a record at a time.
struct Spool::Run {
    std::FILE* file = nullptr;
    unsigned level = 0;
    std::vector<std::uint8_t> record;
    ~Run() {
        if (file) std::fclose(file);
    }
    bool next() {
        record.resize(kKey);
        if (std::fread(record.data(), 1, kKey, file) != kKey) return false;
        const std::uint32_t len = record_length(record.data());
        if (len < kKey) throw RuntimeError("spool: a corrupt record in a temporary file");
        record.resize(len);
        if (std::fread(record.data() + kKey, 1, len - kKey, file) != len - kKey)
            throw RuntimeError("spool: a temporary file ended in the middle of a record");
        return true;
    }
};

namespace {
// The k-way merge of sorted sources by key: `next(i)` gives source i's next record (or
// nullptr when it has no more), `put` takes each record in order.
template <typename Next, typename Put>
void merge_sources(std::size_t sources, Next next, Put put) {
    struct Head {
        const std::uint8_t* record;
        std::size_t source;
    };
    auto greater = [](const Head& a, const Head& b) { return key_less(b.record, a.record); };
    std::priority_queue<Head, std::vector<Head>, decltype(greater)> heads(greater);
    for (std::size_t i = 0; i < sources; ++i)
        if (const std::uint8_t* r = next(i)) heads.push({r, i});
    while (!heads.empty()) {
        const Head h = heads.top();
        heads.pop();
        put(h.record);
        if (const std::uint8_t* r = next(h.source)) heads.push({r, h.source});
    }
}
}  // namespace

// The buffer never grows past the budget and a record's worth: reserved at once, so
// that a vector doubling its capacity never holds the old and the new copy at once.
Spool::Spool(std::size_t budget) : budget_(budget) {
    buf_.reserve(budget_ + (std::size_t{1} << 16));
    offsets_.reserve(budget_ / 48 + 16);
}
Spool::~Spool() = default;

void Spool::put_key(const IpAddress& host, std::uint8_t kind) {
    if (buf_.size() >= budget_) spill();
    offsets_.push_back(static_cast<std::uint32_t>(buf_.size()));
    put8(buf_, static_cast<std::uint8_t>(host.family));
    buf_.insert(buf_.end(), host.bytes.begin(), host.bytes.end());
    put8(buf_, kind);
    put32(buf_, seq_++);
    put32(buf_, 0);  // the length, filled in when the record is done
}

namespace {
void finish_record(std::vector<std::uint8_t>& buf, std::uint32_t start) {
    const auto len = static_cast<std::uint32_t>(buf.size() - start);
    buf[start + 22] = std::uint8_t(len >> 24);
    buf[start + 23] = std::uint8_t(len >> 16);
    buf[start + 24] = std::uint8_t(len >> 8);
    buf[start + 25] = std::uint8_t(len);
}
}  // namespace

void Spool::add(const HostStatus& s) {
    put_key(s.host, kStatus);
    put8(buf_, s.up);
    put_str(buf_, s.reason);
    put8(buf_, s.ttl);
    put32(buf_, s.rtt_us);
    put8(buf_, s.mac.has_value());
    if (s.mac)
        for (auto b : *s.mac) put8(buf_, b);
    put_str(buf_, s.hostname);
    put_str(buf_, s.ptr_name);
    put8(buf_, s.update);
    finish_record(buf_, offsets_.back());
}

void Spool::add(const Result& r) {
    put_key(r.host, kResult);
    put16(buf_, r.port);
    put8(buf_, static_cast<std::uint8_t>(r.protocol));
    put_str(buf_, r.technique);
    put8(buf_, static_cast<std::uint8_t>(r.state));
    put_str(buf_, r.reason);
    put8(buf_, r.ttl);
    put32(buf_, r.rtt_us);
    put8(buf_, r.service != nullptr);
    if (r.service) {
        const ServiceInfo& s = *r.service;
        for (const std::string* f : {&s.name, &s.product, &s.version, &s.extrainfo, &s.hostname, &s.ostype,
                                     &s.devicetype, &s.tunnel, &s.method})
            put_str(buf_, *f);
        put8(buf_, static_cast<std::uint8_t>(s.conf));
        put8(buf_, static_cast<std::uint8_t>(std::min<std::size_t>(s.cpe.size(), 255)));
        for (std::size_t i = 0; i < s.cpe.size() && i < 255; ++i) put_str(buf_, s.cpe[i]);
    }
    finish_record(buf_, offsets_.back());
}

void Spool::sort_buffer() {
    std::sort(offsets_.begin(), offsets_.end(),
              [&](std::uint32_t a, std::uint32_t b) { return key_less(buf_.data() + a, buf_.data() + b); });
}

void Spool::spill() {
    if (offsets_.empty()) return;
    sort_buffer();
    auto run = std::make_unique<Run>();
    run->file = temporary_file();
    for (std::uint32_t off : offsets_) write_record(run->file, buf_.data() + off);
    rewind_written(run->file);
    runs_.push_back(std::move(run));
    ++runs_written_;
    buf_.clear();
    offsets_.clear();
    compact();
}

void Spool::compact() {
    // kFanIn runs of one level (always the last ones: levels only fall along runs_)
    // become one run of the next level, which may cascade.
    while (runs_.size() >= kFanIn) {
        const std::size_t first = runs_.size() - kFanIn;
        const unsigned level = runs_.back()->level;
        if (runs_[first]->level != level) return;
        auto merged = std::make_unique<Run>();
        merged->file = temporary_file();
        merged->level = level + 1;
        merge_sources(
            kFanIn,
            [&](std::size_t i) -> const std::uint8_t* {
                Run& r = *runs_[first + i];
                return r.next() ? r.record.data() : nullptr;
            },
            [&](const std::uint8_t* r) { write_record(merged->file, r); });
        rewind_written(merged->file);
        runs_.resize(first);  // closes the merged runs' files, which deletes them
        runs_.push_back(std::move(merged));
    }
}

void Spool::for_each_host(const std::function<void(const HostView&)>& f) {
    sort_buffer();
    // A k-way merge of the runs and the buffer (the last source), by key.
    std::size_t next_in_buffer = 0;
    HostView view;
    bool open = false;
    merge_sources(
        runs_.size() + 1,
        [&](std::size_t i) -> const std::uint8_t* {
            if (i < runs_.size()) return runs_[i]->next() ? runs_[i]->record.data() : nullptr;
            return next_in_buffer < offsets_.size() ? buf_.data() + offsets_[next_in_buffer++] : nullptr;
        },
        [&](const std::uint8_t* record) {
            const IpAddress host = host_of(record);
            if (open && host != view.host) {
                f(view);
                view = HostView{};
                open = false;
            }
            if (!open) {
                view.host = host;
                open = true;
            }
            decode(record, view);
        });
    if (open) f(view);
}

}  // namespace scanfw
