#include "cli/version.hpp"

#include <CLI/Version.hpp>
#include <absl/base/config.h>
#include <boost/version.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pcap/pcap.h>
#include <spdlog/version.h>

#include <scanfw/plugin_api.hpp>

// Versions no header tells, passed in by core/CMakeLists.txt from what CMake found.
#ifndef SCANFW_LIBPCAP_VERSION
#define SCANFW_LIBPCAP_VERSION "unknown"
#endif
#ifndef SCANFW_LIBCAP_VERSION
#define SCANFW_LIBCAP_VERSION "unknown"
#endif
#ifndef SCANFW_YAML_CPP_VERSION
#define SCANFW_YAML_CPP_VERSION "unknown"
#endif
#ifndef SCANFW_PLATFORM
#define SCANFW_PLATFORM "unknown"
#endif

namespace scanfw {

std::string version_text() {
    // Like nmap's: the program, then what it was built with. libpcap is the only library
    // that can say at run time which version is loaded (pcap_lib_version()).
    std::string out = fmt::format("scanfw {}\n", SCANFW_VERSION);
    out += fmt::format("Plugin API: {}\n", kPluginApiVersion);
    out += fmt::format("Platform: {}, compiled by {} {}\n", SCANFW_PLATFORM,
#if defined(__clang__)
                       "clang",
#elif defined(__GNUC__)
                       "GCC",
#else
                       "an unknown compiler",
#endif
                       __VERSION__);
    out += fmt::format(
        "Compiled with: libpcap-{} libcap-{} yaml-cpp-{} spdlog-{}.{}.{} fmt-{}.{}.{} boost-{}.{}.{} "
        "abseil-{} nlohmann_json-{}.{}.{} cli11-{}\n",
        SCANFW_LIBPCAP_VERSION, SCANFW_LIBCAP_VERSION, SCANFW_YAML_CPP_VERSION, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
        SPDLOG_VER_PATCH, FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100, BOOST_VERSION / 100000,
        BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, ABSL_LTS_RELEASE_VERSION, NLOHMANN_JSON_VERSION_MAJOR,
        NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH, CLI11_VERSION);
    out += fmt::format("Running with: {}", pcap_lib_version());
    return out;
}

}  // namespace scanfw
