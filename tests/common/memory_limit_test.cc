#include "common/memory_limit.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/common/fake_cgroup_tree.h"

namespace reactord::common {
namespace {

constexpr const char* kV2Mount =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
constexpr const char* kV1MemoryMount =
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
constexpr uint64_t kMachine = uint64_t{24} << 30;  // MemTotal of the fake meminfo: 24 GiB
constexpr uint64_t k256MiB = uint64_t{256} << 20;

// A tree with /proc/meminfo saying the machine has 24 GiB.
class MemoryLimitTest : public ::testing::Test {
 protected:
  MemoryLimitTest() {
    tree_.write("/proc/meminfo", "MemTotal:       25165824 kB\nMemFree:        23000000 kB\n");
  }
  MemoryLimit probe() const { return probeMemoryLimit(tree_.paths(), tree_.path("/proc/meminfo")); }

  FakeCgroupTree tree_;
};

TEST_F(MemoryLimitTest, NoCgroupMeansTheMachinesMemory) {
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, kMachine);
  EXPECT_EQ(limit.source, "MemTotal in " + tree_.path("/proc/meminfo"));
}

TEST_F(MemoryLimitTest, CgroupV2MemoryMax) {
  tree_.write("/proc/self/cgroup", "0::/app\n");
  tree_.write("/proc/self/mountinfo", kV2Mount);
  tree_.write("/sys/fs/cgroup/app/memory.max", "268435456\n");
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, k256MiB);
  EXPECT_EQ(limit.source, "cgroup v2 memory.max in " + tree_.path("/sys/fs/cgroup/app"));
}

TEST_F(MemoryLimitTest, CgroupV2MaxMeansNoLimit) {
  tree_.write("/proc/self/cgroup", "0::/app\n");
  tree_.write("/proc/self/mountinfo", kV2Mount);
  tree_.write("/sys/fs/cgroup/app/memory.max", "max\n");
  EXPECT_EQ(probe().bytes, kMachine);
}

TEST_F(MemoryLimitTest, TightestAncestorWins) {
  tree_.write("/proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  tree_.write("/proc/self/mountinfo", kV2Mount);
  tree_.write("/sys/fs/cgroup/kubepods/pod1/ctr/memory.max", "max\n");
  tree_.write("/sys/fs/cgroup/kubepods/pod1/memory.max", "268435456\n");
  tree_.write("/sys/fs/cgroup/kubepods/memory.max", "1073741824\n");
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, k256MiB);
  EXPECT_NE(limit.source.find("/kubepods/pod1"), std::string::npos) << limit.source;
  EXPECT_EQ(limit.source.find("/ctr"), std::string::npos) << limit.source;
}

TEST_F(MemoryLimitTest, CgroupV1InsideAContainerNamespace) {
  // Docker on cgroup v1: the container's own cgroup is the root of its mount.
  tree_.write("/proc/self/cgroup",
              "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n");
  tree_.write("/proc/self/mountinfo",
              "41 35 0:36 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n");
  tree_.write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n");
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, k256MiB);
  EXPECT_EQ(limit.source,
            "cgroup v1 memory.limit_in_bytes in " + tree_.path("/sys/fs/cgroup/memory"));
}

TEST_F(MemoryLimitTest, CgroupV1NoLimitIsAHugeNumber) {
  tree_.write("/proc/self/cgroup", "4:memory:/app\n");
  tree_.write("/proc/self/mountinfo", kV1MemoryMount);
  tree_.write("/sys/fs/cgroup/memory/app/memory.limit_in_bytes", "9223372036854771712\n");
  tree_.write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, kMachine);
  EXPECT_NE(limit.source.find("MemTotal"), std::string::npos) << limit.source;
}

TEST_F(MemoryLimitTest, NestedCgroupV1) {
  tree_.write("/proc/self/cgroup", "4:memory:/outer/inner\n");
  tree_.write("/proc/self/mountinfo", kV1MemoryMount);
  tree_.write("/sys/fs/cgroup/memory/outer/inner/memory.limit_in_bytes", "536870912\n");
  tree_.write("/sys/fs/cgroup/memory/outer/memory.limit_in_bytes", "268435456\n");
  tree_.write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  const MemoryLimit limit = probe();
  EXPECT_EQ(limit.bytes, k256MiB);
  EXPECT_EQ(limit.source,
            "cgroup v1 memory.limit_in_bytes in " + tree_.path("/sys/fs/cgroup/memory/outer"));
}

TEST_F(MemoryLimitTest, HybridMachineReadsTheV1Controller) {
  // As here: the unified hierarchy is mounted but holds no memory controller.
  tree_.write("/proc/self/cgroup", "4:memory:/app\n0::/\n");
  tree_.write("/proc/self/mountinfo",
              std::string(kV1MemoryMount) +
                  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  tree_.write("/sys/fs/cgroup/unified/cgroup.controllers", "\n");
  tree_.write("/sys/fs/cgroup/memory/app/memory.limit_in_bytes", "268435456\n");
  EXPECT_EQ(probe().bytes, k256MiB);
}

TEST_F(MemoryLimitTest, MalformedLimitsAreIgnored) {
  tree_.write("/proc/self/cgroup", "0::/app\n");
  tree_.write("/proc/self/mountinfo", kV2Mount);
  for (const char* text : {"256M\n", "", "\n", "-268435456\n", "268435456 1\n", " 268435456\n",
                           "99999999999999999999999\n", "0\n", "268435456\n\n"}) {
    tree_.write("/sys/fs/cgroup/app/memory.max", text);
    const MemoryLimit limit = probe();
    EXPECT_EQ(limit.bytes, kMachine) << "memory.max holding '" << text << "'";
    EXPECT_NE(limit.source.find("MemTotal"), std::string::npos) << limit.source;
  }
}

TEST_F(MemoryLimitTest, ALimitAboveTheMachineDoesNotCount) {
  tree_.write("/proc/self/cgroup", "0::/app\n");
  tree_.write("/proc/self/mountinfo", kV2Mount);
  tree_.write("/sys/fs/cgroup/app/memory.max", std::to_string(kMachine * 2) + "\n");
  EXPECT_EQ(probe().source, "MemTotal in " + tree_.path("/proc/meminfo"));
}

TEST(MemoryLimitFallbackTest, NoMeminfoMeansThePhysicalPages) {
  FakeCgroupTree tree;
  for (const char* text : {"", "MemTotal: lots\n", "MemTotal:       12 MB\n"}) {
    tree.write("/proc/meminfo", text);
    const MemoryLimit limit = probeMemoryLimit(tree.paths(), tree.path("/proc/meminfo"));
    EXPECT_GT(limit.bytes, 0u);
    EXPECT_EQ(limit.source, "physical pages (sysconf)") << "meminfo holding '" << text << "'";
  }
}

TEST(MemoryLimitFallbackTest, ThisMachineHasALimit) {
  const MemoryLimit limit = probeMemoryLimit();
  EXPECT_GT(limit.bytes, uint64_t{16} << 20);
  EXPECT_FALSE(limit.source.empty());
}

}  // namespace
}  // namespace reactord::common
