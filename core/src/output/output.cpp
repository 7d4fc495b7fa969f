// What every output shares: names of states and services, escaping, files, and the
// choice of outputs. The formats: output_table.cpp, output_json.cpp, output_nmap.cpp.
#include "output/output.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"

namespace scanfw {

bool possibly_open(State s) {
    return s == State::Open || s == State::OpenFiltered || s == State::Unfiltered;
}

bool ignored_state(State s, std::size_t ports_in_state, bool open_only) {
    if (s == State::Open) return false;
    if (open_only && !possibly_open(s)) return true;
    return ports_in_state > 25;
}

std::optional<std::string> service_name(std::uint16_t port, Protocol proto) {
    // getservbyport() reads /etc/services on every call and is not thread-safe: one
    // cache, behind a lock, for all outputs.
    static std::mutex mutex;
    static std::map<std::pair<Protocol, std::uint16_t>, std::optional<std::string>> cache;
    const std::lock_guard lock(mutex);
    const auto [it, added] = cache.try_emplace({proto, port});
    if (added) {
        const servent* s = getservbyport(htons(port), proto == Protocol::Tcp ? "tcp" : "udp");
        if (s) it->second = s->s_name;
    }
    return it->second;
}

namespace {

// Appends the valid UTF-8 sequences of `text` through `put` (code point, bytes), and
// '?' in place of each byte that starts no valid sequence.
template <typename Put>
void for_each_utf8(std::string_view text, Put put) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
        bool ok = len > 0 && i + len <= text.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            ok = (c >> 6) == 0x2;
            cp = (cp << 6) | (c & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid either.
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            put(cp, text.substr(i, len));
            i += len;
        } else {
            put(U'?', std::string_view("?"));
            ++i;
        }
    }
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_utf8(text, [&](char32_t cp, std::string_view bytes) {
        switch (cp) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            case '\t': out += "&#9;"; break;
            case '\n': out += "&#10;"; break;
            case '\r': out += "&#13;"; break;
            default:
                // XML 1.0 has no way to carry other C0 controls, U+FFFE or U+FFFF.
                if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) out += '?';
                else out += bytes;
        }
    });
    return out;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_utf8(text, [&](char32_t cp, std::string_view bytes) {
        switch (cp) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (cp < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
                else out += bytes;
        }
    });
    return out;
}

std::string port_ranges(const std::vector<std::uint16_t>& sorted_ports) {
    std::string out;
    for (std::size_t i = 0; i < sorted_ports.size();) {
        std::size_t j = i;
        while (j + 1 < sorted_ports.size() && sorted_ports[j + 1] == sorted_ports[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += j == i ? fmt::format("{}", sorted_ports[i]) : fmt::format("{}-{}", sorted_ports[i], sorted_ports[j]);
        i = j + 1;
    }
    return out;
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    // Cells are ASCII (states, reasons, service and technique names): padded by bytes.
    std::string out;
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 1, ' ');
        }
        out += '\n';
    }
    return out;
}

ScanInfo make_scan_info(std::span<const Job> jobs, std::uint64_t targets, std::string command_line) {
    ScanInfo info;
    for (const auto& j : jobs)
        if (j.info().kind == Kind::Port) info.techniques.push_back({j.name(), j.info().protocol, j.ports});
    info.command_line = std::move(command_line);
    info.targets = targets;
    return info;
}

OutputFile::OutputFile(const std::string& path, bool append) : path_(path) {
    f_ = path == "-" ? stdout : std::fopen(path.c_str(), append ? "a" : "w");
    if (!f_) throw InputError(fmt::format("cannot write output file '{}': {}", path, std::strerror(errno)));
}

OutputFile::~OutputFile() {
    if (f_ && f_ != stdout) std::fclose(f_);
}

void OutputFile::flush() {
    if (f_) std::fflush(f_);
}

void OutputFile::close() {
    if (!f_) return;
    const bool failed = std::fflush(f_) != 0 || std::ferror(f_) != 0;
    const bool close_failed = f_ != stdout && std::fclose(f_) != 0;
    f_ = nullptr;
    if (failed || close_failed) throw RuntimeError(fmt::format("writing output file '{}' failed", path_));
}

Outputs::~Outputs() {
    if (!open_) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    try {
        end(ScanSummary{targets_, results_, seconds, true});
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
    }
}

void Outputs::begin(const ScanInfo& info) {
    open_ = true;
    targets_ = info.targets;
    started_ = std::chrono::steady_clock::now();
    for (auto& o : outputs_) o->begin(info);
}

void Outputs::on_result(const Result& r) {
    ++results_;
    for (auto& o : outputs_) o->on_result(r);
}

void Outputs::end(const ScanSummary& s) {
    open_ = false;
    std::exception_ptr first;
    for (auto& o : outputs_) {
        try {
            o->end(s);
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

Outputs make_outputs(const OutputConfig& files, const DisplayOptions& display) {
    if (files.all && *files.all == "-")
        throw InputError("-oA needs a base file name: it writes four files, not stdout");
    auto path = [&](const std::optional<std::string>& given, const char* extension) -> std::optional<std::string> {
        if (given) return given;
        if (files.all) return *files.all + extension;
        return std::nullopt;
    };
    const auto xml = path(files.xml, ".xml"), grepable = path(files.grepable, ".gnmap"),
               normal = path(files.normal, ".nmap"), json = path(files.json, ".jsonl");

    int to_stdout = 0;
    for (const auto* p : {&xml, &grepable, &normal, &json})
        if (*p && **p == "-") ++to_stdout;
    if (to_stdout > 1) throw InputError("only one output can go to stdout ('-')");

    Outputs outputs;
    if (xml) outputs.add(std::make_unique<XmlOutput>(*xml, display.open_only));
    if (grepable) outputs.add(std::make_unique<GrepableOutput>(*grepable, display.open_only));
    if (normal) outputs.add(std::make_unique<NormalOutput>(*normal, display));
    if (json) outputs.add(std::make_unique<JsonLinesOutput>(*json, display.open_only, display.resume_from == *json));
    if (to_stdout == 0) outputs.add(std::make_unique<TableOutput>(stdout, display));
    return outputs;
}

}  // namespace scanfw
