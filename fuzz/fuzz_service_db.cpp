// fuzz_service_db: text -> ProbeDb::parse (nmap-service-probes), then a response ->
// find_match / test_match with template expansion, for every probe and line.
//
// Input: the probe file, then optionally "\n====\n" and the response bytes; without
// the marker the file's own text is also the response. The only exception allowed
// out of the parser is InputError, and its message must name the file; whatever
// matches must give fields within nmap's sizes, every byte printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "services/match.hpp"

namespace {

[[noreturn]] void fail() { std::abort(); }

void check_field(const std::string& s, std::size_t size) {
    if (s.size() >= size) fail();
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) fail();
}

void check(const scanfw::services::ServiceIdentity& id) {
    using namespace scanfw::services;
    check_field(id.product, kProductSize);
    check_field(id.version, kVersionSize);
    check_field(id.extrainfo, kInfoSize);
    check_field(id.hostname, kHostnameSize);
    check_field(id.ostype, kOstypeSize);
    check_field(id.devicetype, kDevicetypeSize);
    if (id.cpe.size() > 3) fail();
    for (const auto& c : id.cpe) {
        check_field(c, kCpeSize);
        if (c.rfind("cpe:/", 0) != 0) fail();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace scanfw::services;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    static const std::string kName = "fuzz.probes";
    constexpr std::string_view kMarker = "\n====\n";
    const auto cut = input.find(kMarker);
    const std::string_view text = input.substr(0, cut);
    const std::string_view response = cut == std::string_view::npos ? input : input.substr(cut + kMarker.size());

    std::optional<ProbeDb> db;
    try {
        db.emplace(ProbeDb::parse(text, kName));
    } catch (const scanfw::InputError& e) {
        if (std::string_view(e.what()).substr(0, kName.size() + 1) != kName + ":") fail();
        return 0;
    }
    for (const Probe& p : db->probes()) {
        // What the prober relies on: a probe matches itself first; TCP ones end
        // with the NULL probe; port lists are sorted; the NULL probe is TCP.
        if (p.fallbacks.empty() || p.fallbacks.front() != &p) fail();
        if (p.protocol == scanfw::Protocol::Tcp && db->null_probe() != nullptr && !p.is_null() &&
            p.fallbacks.back() != db->null_probe())
            fail();
        if (p.is_null() && p.protocol != scanfw::Protocol::Tcp) fail();
        if (p.rarity < 1 || p.rarity > 9) fail();
        for (std::size_t i = 1; i < p.ports.size(); ++i)
            if (p.ports[i - 1] >= p.ports[i]) fail();
        if (const auto r = find_match(p, response)) check(r->id);
        for (const Match& m : p.matches)
            if (const auto r = test_match(m, response)) check(r->id);
    }
    return 0;
}
