// The loader: the real plugins load; files that are not plugins, or not for this
// API version, are refused with an error naming the file; options are checked against
// their declared types; a throwing plugin is reported by name.
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

std::string configure_error(const char* plugin, const std::vector<OptionSetting>& settings) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    try {
        registry.load(plugin)->configure(settings);
    } catch (const PluginError& e) {
        return e.what();
    }
    return "configured";
}
}  // namespace

TEST(PluginLoader, FindsEveryTechniqueEachInItsOwnFile) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    std::set<std::string> names;
    for (const auto& e : registry.load_all()) {
        ASSERT_TRUE(e.plugin) << e.error;
        names.insert(e.plugin->name());
        EXPECT_EQ(e.file.filename().string(), e.plugin->name() + ".so");
        EXPECT_FALSE(e.shadowed);
    }
    for (const char* n : {"ack", "connect", "fin", "null", "syn", "udp", "window", "xmas", "maimon", "scanflags", "ipproto"})
        EXPECT_TRUE(names.count(n)) << n;
}

TEST(PluginLoader, RefusesAnotherApiVersionNamingBoth) {
    const auto err = load_error(kFixtures / "wrongapi.so");
    EXPECT_THAT(err, HasSubstr("wrongapi.so"));
    EXPECT_THAT(err, HasSubstr("built for plugin API version 999, this scanfw has version 2"));
}

TEST(PluginLoader, RefusesAVersionOnePluginAndSaysHowToMendIt) {
    // tests/fixtures/v1_plugin.cpp: the 0.1.0 README's plugin, built against API 1.
    const auto err = load_error(kFixtures / "oldapi.so");
    EXPECT_THAT(err, HasSubstr("oldapi.so: built for plugin API version 1, this scanfw has version 2"));
    EXPECT_THAT(err, HasSubstr("rebuild it"));
}

TEST(PluginLoader, RefusesASharedObjectWithoutTheSymbols) {
    const auto err = load_error(kFixtures / "nosymbols.so");
    EXPECT_THAT(err, HasSubstr("nosymbols.so"));
    EXPECT_THAT(err, HasSubstr("not a scanfw plugin"));
}

TEST(PluginLoader, SaysAFileThatIsNotASharedObjectIsNotOne) {
    const auto err = load_error(kFixtures / "notelf.so");
    EXPECT_THAT(err, HasSubstr("notelf.so: not a shared object"));
    EXPECT_THAT(err, ::testing::Not(HasSubstr("Bad file descriptor")));
}

TEST(PluginLoader, RefusesAPluginWhoseNameIsNotItsFileName) {
    EXPECT_THAT(load_error(kFixtures / "misnamed.so"), HasSubstr("calls itself 'othername'"));
}

TEST(PluginLoader, ListingShowsBrokenFilesBesideGoodOnesOfTheSameName) {
    // A broken syn.so in an earlier folder: both are listed, the broken one with its
    // error, the good one marked shadowed.
    const auto dir = std::filesystem::temp_directory_path() / ("scanfw-shadow-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(kFixtures / "notelf.so", dir / "syn.so", std::filesystem::copy_options::overwrite_existing);
    PluginRegistry registry({dir, SCANFW_TEST_PLUGIN_DIR});
    int broken = 0, shadowed_good = 0;
    for (const auto& e : registry.load_all()) {
        if (e.file.stem() != "syn") continue;
        if (!e.plugin) {
            ++broken;
            EXPECT_THAT(e.error, HasSubstr("not a shared object"));
        } else if (e.shadowed) {
            ++shadowed_good;
        }
    }
    std::filesystem::remove_all(dir);
    EXPECT_EQ(broken, 1);
    EXPECT_EQ(shadowed_good, 1);
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

TEST(PluginLoader, AMissingPluginDirIsAnError) {
    EXPECT_THROW(PluginRegistry::search_path({"/nonexistent/plugins"}), std::exception);
}

TEST(PluginLoader, AnExceptionInsideAPluginIsReportedWithItsName) {
    const auto p = load_plugin_file(kFixtures / "throws.so")->configure();
    try {
        p->classify(Reply{});
        FAIL();
    } catch (const PluginFailure& e) {
        EXPECT_THAT(e.what(), HasSubstr("plugin 'throws'"));
        EXPECT_THAT(e.what(), HasSubstr("fixture classify failure"));
    }
    ProbeContext ctx;
    std::uint8_t buf[64];
    EXPECT_THROW(p->probe(ctx, buf), PluginFailure);
}

TEST(PluginOptions, AreCheckedAgainstTheirDeclaredTypes) {
    EXPECT_EQ(configure_error("scanflags", {{"flags", "FINACK", "--plugin-arg"}}), "configured");
    EXPECT_THAT(configure_error("scanflags", {{"flgs", "FIN", "--plugin-arg"}}),
                HasSubstr("--plugin-arg: plugin 'scanflags' has no option 'flgs' (it has: flags, as)"));
    EXPECT_THAT(configure_error("syn", {{"flags", "FIN", "p.yaml:3:5"}}),
                HasSubstr("p.yaml:3:5: plugin 'syn' has no option 'flags' (it takes none)"));
    EXPECT_THAT(configure_error("scanflags", {{"flags", "BOGUS", "p.yaml:4:20"}}),
                HasSubstr("p.yaml:4:20: plugin 'scanflags', option 'flags': 'BOGUS': no TCP flag called 'BOG'"));
}

TEST(PluginOptions, DefaultsAndTypedValuesReachTheTechnique) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    const auto p = registry.load("scanflags");
    ASSERT_EQ(p->options().size(), 2u);
    EXPECT_EQ(p->options()[0].name, "flags");
    const auto t = p->configure({{"as", "ack", "test"}});
    EXPECT_EQ(t->options().text("flags"), "SYN");
    EXPECT_EQ(t->options().text("as"), "ack");
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
