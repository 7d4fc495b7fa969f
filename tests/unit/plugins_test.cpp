// The loader: the real plugins load; files that are not plugins, or not for this
// API version, are refused with an error naming the file; a throwing plugin is
// reported by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <set>

#include "plugin/plugins.hpp"

using namespace scanfw;
using ::testing::HasSubstr;

namespace {
const std::filesystem::path kFixtures = SCANFW_TEST_FIXTURE_DIR;

std::string load_error(const std::filesystem::path& file) {
    try {
        load_plugin_file(file);
    } catch (const PluginError& e) {
        return e.what();
    }
    return "loaded";
}
}  // namespace

TEST(PluginLoader, FindsAllEightTechniquesEachInItsOwnFile) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    std::vector<std::string> errors;
    const auto plugins = registry.load_all(errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    std::set<std::string> names, files;
    for (const auto& p : plugins) {
        names.insert(p->name());
        files.insert(p->file().string());
        EXPECT_EQ(p->file().filename().string(), p->name() + ".so");
    }
    EXPECT_EQ(names, (std::set<std::string>{"ack", "connect", "fin", "null", "syn", "udp", "window", "xmas"}));
    EXPECT_EQ(files.size(), 8u);
}

TEST(PluginLoader, RefusesAnotherApiVersion) {
    const auto err = load_error(kFixtures / "wrongapi.so");
    EXPECT_THAT(err, HasSubstr("wrongapi.so"));
    EXPECT_THAT(err, HasSubstr("API version 999"));
}

TEST(PluginLoader, RefusesASharedObjectWithoutTheSymbols) {
    const auto err = load_error(kFixtures / "nosymbols.so");
    EXPECT_THAT(err, HasSubstr("nosymbols.so"));
    EXPECT_THAT(err, HasSubstr("not a scanfw plugin"));
}

TEST(PluginLoader, RefusesAFileThatIsNotASharedObject) {
    const auto err = load_error(kFixtures / "notelf.so");
    EXPECT_THAT(err, HasSubstr("notelf.so"));
    EXPECT_THAT(err, HasSubstr("cannot load"));
}

TEST(PluginLoader, RefusesAPluginWhoseNameIsNotItsFileName) {
    EXPECT_THAT(load_error(kFixtures / "misnamed.so"), HasSubstr("calls itself 'othername'"));
}

TEST(PluginLoader, ListingGoesOnPastBadFiles) {
    PluginRegistry registry({kFixtures, SCANFW_TEST_PLUGIN_DIR});
    std::vector<std::string> errors;
    const auto plugins = registry.load_all(errors);
    EXPECT_EQ(plugins.size(), 8u + 1u);  // the eight, and the fixture that only throws later
    EXPECT_EQ(errors.size(), 4u);
}

TEST(PluginLoader, NamesAreNotPaths) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    for (const char* bad : {"../syn", "/tmp/x", "Syn", "syn.so", ""})
        EXPECT_THROW(registry.load(bad), PluginError) << bad;
    try {
        registry.load("nosuch");
        FAIL();
    } catch (const PluginError& e) {
        EXPECT_THAT(e.what(), HasSubstr("unknown plugin 'nosuch'"));
    }
}

TEST(PluginLoader, AnExceptionInsideAPluginIsReportedWithItsName) {
    const auto p = load_plugin_file(kFixtures / "throws.so");
    try {
        p->classify(Reply{});
        FAIL();
    } catch (const PluginFailure& e) {
        EXPECT_THAT(e.what(), HasSubstr("plugin 'throws'"));
        EXPECT_THAT(e.what(), HasSubstr("fixture classify failure"));
    }
    EXPECT_THROW(p->probe(1), PluginFailure);
}

TEST(PluginLoader, RefusesGroupWritablePluginsWhenRoot) {
    if (geteuid() != 0) GTEST_SKIP() << "only enforced when running as root";
    const auto dir = std::filesystem::temp_directory_path() / ("scanfw-perm-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms(0755));
    std::filesystem::copy_file(std::filesystem::path(SCANFW_TEST_PLUGIN_DIR) / "syn.so", dir / "syn.so",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(dir / "syn.so", std::filesystem::perms(0775));
    const auto err = load_error(dir / "syn.so");
    std::filesystem::remove_all(dir);
    EXPECT_THAT(err, HasSubstr("writable by group or others"));
}
