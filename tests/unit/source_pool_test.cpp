// --source-ip (issue 10): every address of the pool must be this host's; what is not
// is refused naming it and how to add it. Loopback's addresses are every host's, so
// the accepted cases use 127.0.0.0/8 and ::1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "net/source_pool.hpp"

namespace scanfw {
namespace {

using testing::HasSubstr;

std::string error_of(const std::string& spec) {
    try {
        SourcePool::parse({spec});
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

TEST(SourcePool, AddressesRangesAndPrefixesOfThisHost) {
    const SourcePool pool = SourcePool::parse({"127.0.0.1,127.0.1.1-127.0.1.4", "127.0.2.0/30,::1"});
    EXPECT_EQ(pool.of(Family::V4).size(), 1u + 4 + 4);
    EXPECT_EQ(pool.of(Family::V6).size(), 1u);
    EXPECT_EQ(pool.index_of(*IpAddress::parse("127.0.1.3")), 3);
    EXPECT_EQ(pool.index_of(*IpAddress::parse("198.18.0.1")), -1);
    // The same address twice is one source.
    EXPECT_EQ(SourcePool::parse({"127.0.0.1,127.0.0.1-127.0.0.2"}).of(Family::V4).size(), 2u);
}

TEST(SourcePool, AnAddressNotOfThisHostIsRefusedWithHowToAddIt) {
    const std::string e = error_of("198.18.77.5");
    EXPECT_THAT(e, HasSubstr("198.18.77.5 is not an address of this host"));
    EXPECT_THAT(e, HasSubstr("ip addr add 198.18.77.5/32 dev lo"));
    EXPECT_THAT(e, HasSubstr("ip route add local 198.18.77.0/24 dev lo"));
    EXPECT_THAT(error_of("fd00:5eed:77::5"), HasSubstr("ip -6 route add local fd00:5eed:77::/64 dev lo"));
}

TEST(SourcePool, BadRanges) {
    EXPECT_THAT(error_of("127.0.0.9-127.0.0.1"), HasSubstr("ends before it starts"));
    EXPECT_THAT(error_of("127.0.0.1-::1"), HasSubstr("one family"));
    EXPECT_THAT(error_of("127.0.0.0/8"), HasSubstr("more than 65536 addresses"));
    EXPECT_THAT(error_of("nonsense"), HasSubstr("--source-ip nonsense"));
}

}  // namespace
}  // namespace scanfw
