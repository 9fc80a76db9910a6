#include "common/output_buffer.h"

#include <gtest/gtest.h>

#include <string>

#include "common/memory_account.h"
#include "common/memory_charge.h"

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

TEST(OutputBufferTest, CapacityStopsAtTheLimitAndIsCharged) {
  MemoryAccount account(
      uint64_t{1} << 30, [](void*) {}, nullptr);
  MemoryCharge charge(account, 0);
  constexpr size_t kLimit = 320 * 1024;  // --max_pending_bytes (256 KiB) plus one read
  std::string reference;
  {
    OutputBuffer buffer(kLimit, &charge);
    const std::string chunk(64 * 1024, 'x');
    // A peer that takes nothing: the buffer fills to the limit and its storage stays there, where
    // doubling would have made it 512 KiB.
    for (int i = 0; i < 5; ++i) {
      buffer.append(chunk.data(), chunk.size());
      reference += chunk;
      EXPECT_LE(buffer.capacity(), kLimit) << "after " << i + 1 << " chunks";
      EXPECT_EQ(charge.bytes(), buffer.capacity());
    }
    EXPECT_EQ(buffer.capacity(), kLimit);
    // Draining and refilling at the limit reuses the storage (moving the rest to the front).
    for (int i = 0; i < 20; ++i) {
      buffer.consume(64 * 1024 + 17);
      reference.erase(0, 64 * 1024 + 17);
      const std::string more(64 * 1024 + 17, static_cast<char>('a' + i));
      buffer.append(more.data(), more.size());
      reference += more;
      ASSERT_EQ(buffer.capacity(), kLimit);
      ASSERT_EQ(contents(buffer), reference) << "round " << i;
    }
    EXPECT_EQ(account.held(), kLimit);
  }
  EXPECT_EQ(charge.bytes(), 0u);  // freed with the buffer
  EXPECT_EQ(account.held(), 0u);
}

TEST(OutputBufferTest, OneAppendLargerThanTheLimitStillFits) {
  OutputBuffer buffer(1024, nullptr);
  const std::string big(4000, 'b');
  buffer.append(big.data(), big.size());
  EXPECT_EQ(contents(buffer), big);
  EXPECT_EQ(buffer.capacity(), 4000u);
}

}  // namespace
}  // namespace reactord::common
