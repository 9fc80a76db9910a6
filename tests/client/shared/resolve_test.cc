// Host resolution for both client tools: literals need no lookup, an unknown name says why.
#include "client/shared/resolve.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace reactord::client {
namespace {

TEST(ResolveTest, LiteralsAreTheirOwnAddress) {
  std::string error;
  const auto v4 = resolveAddresses("127.0.0.1", 7000, &error);
  ASSERT_EQ(v4.size(), 1u) << error;
  EXPECT_EQ(v4[0].family(), AF_INET);
  EXPECT_EQ(v4[0].ipString(), "127.0.0.1");
  EXPECT_EQ(v4[0].port(), 7000);

  const auto v6 = resolveAddress("::1", 7001, &error);
  ASSERT_TRUE(v6.has_value()) << error;
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->port(), 7001);
}

TEST(ResolveTest, AnUnknownNameIsAnErrorNamingIt) {
  // .invalid never resolves (RFC 6761).
  std::string error;
  EXPECT_TRUE(resolveAddresses("no-such-host.invalid", 7000, &error).empty());
  EXPECT_NE(error.find("no-such-host.invalid"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(resolveAddress("no-such-host.invalid", 7000, &error).has_value());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace reactord::client
