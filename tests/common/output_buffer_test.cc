#include "common/output_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

std::string contents(const OutputBuffer& buffer) {
  return std::string(buffer.data(), buffer.size());
}

TEST(OutputBufferTest, KeepsOrderAcrossAppendsAndConsumes) {
  OutputBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  buffer.append("hello ", 6);
  buffer.append("world", 5);
  EXPECT_EQ(contents(buffer), "hello world");
  buffer.consume(6);
  EXPECT_EQ(contents(buffer), "world");
  buffer.append("!", 1);
  EXPECT_EQ(contents(buffer), "world!");
  buffer.consume(6);
  EXPECT_TRUE(buffer.empty());
}

TEST(OutputBufferTest, LongInterleavingMatchesAReferenceString) {
  OutputBuffer buffer;
  std::string reference;
  unsigned seed = 7;
  for (int round = 0; round < 2000; ++round) {
    seed = seed * 1103515245 + 12345;
    const std::string chunk((seed >> 8) % 700, static_cast<char>('a' + round % 26));
    buffer.append(chunk.data(), chunk.size());
    reference += chunk;
    const size_t take = std::min<size_t>(reference.size(), (seed >> 4) % 900);
    buffer.consume(take);
    reference.erase(0, take);
    ASSERT_EQ(contents(buffer), reference) << "round " << round;
  }
}

}  // namespace
}  // namespace reactord::common
