#include "common/cpu_count.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/common/fake_cgroup_tree.h"

namespace reactord::common {
namespace {

constexpr const char* kV2Mount =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(CpuCountTest, NoCgroupMeansTheAffinityMask) {
  FakeCgroupTree tree;
  const CpuCount cpus = probeUsableCpus(3, tree.paths());
  EXPECT_EQ(cpus.count, 3);
  EXPECT_EQ(cpus.source, "affinity mask");
}

TEST(CpuCountTest, CgroupV2QuotaIsRoundedUp) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/app\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/app/cpu.max", "150000 100000\n");
  const CpuCount cpus = probeUsableCpus(8, tree.paths());
  EXPECT_EQ(cpus.count, 2);
  EXPECT_NE(cpus.source.find("cgroup v2 cpu.max 150000/100000"), std::string::npos) << cpus.source;
}

TEST(CpuCountTest, CgroupV2MaxMeansNoQuota) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/app\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/app/cpu.max", "max 100000\n");
  EXPECT_EQ(probeUsableCpus(4, tree.paths()).count, 4);
}

TEST(CpuCountTest, TightestAncestorWins) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
  tree.write("/sys/fs/cgroup/kubepods/pod1/cpu.max", "50000 100000\n");
  tree.write("/sys/fs/cgroup/kubepods/cpu.max", "400000 100000\n");
  const CpuCount cpus = probeUsableCpus(16, tree.paths());
  EXPECT_EQ(cpus.count, 1);
  EXPECT_NE(cpus.source.find("kubepods/pod1"), std::string::npos) << cpus.source;
}

TEST(CpuCountTest, CgroupV1InsideAContainerNamespace) {
  FakeCgroupTree tree;
  // Docker on cgroup v1: the container's own cgroup is the root of its mount.
  tree.write("/proc/self/cgroup",
             "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
  tree.write("/proc/self/mountinfo",
             "40 35 0:35 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup "
             "rw,cpu,cpuacct\n"
             "41 35 0:36 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n");
  tree.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n");
  tree.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  const CpuCount cpus = probeUsableCpus(8, tree.paths());
  EXPECT_EQ(cpus.count, 3);
  EXPECT_NE(cpus.source.find("cgroup v1"), std::string::npos) << cpus.source;
}

TEST(CpuCountTest, CgroupV1UnlimitedQuota) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "4:cpu,cpuacct:/\n");
  tree.write("/proc/self/mountinfo",
             "40 35 0:35 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
  tree.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  tree.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(probeUsableCpus(2, tree.paths()).count, 2);
}

TEST(CpuCountTest, AffinityBelowQuotaWinsAndATinyQuotaIsStillOne) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/cpu.max", "400000 100000\n");
  const CpuCount wide = probeUsableCpus(2, tree.paths());
  EXPECT_EQ(wide.count, 2);
  EXPECT_NE(wide.source.find("affinity mask"), std::string::npos) << wide.source;

  tree.write("/sys/fs/cgroup/cpu.max", "10000 100000\n");
  EXPECT_EQ(probeUsableCpus(2, tree.paths()).count, 1);
}

// Found by cpu_count_fuzz: a quota near LLONG_MAX overflowed the rounding up.
TEST(CpuCountTest, HugeQuotaMeansTheAffinityMaskNotAnOverflow) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/app\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/app/cpu.max", "9223372036854775807 100000\n");
  const CpuCount cpus = probeUsableCpus(4, tree.paths());
  EXPECT_EQ(cpus.count, 4);
  EXPECT_NE(cpus.source.find("allows more"), std::string::npos) << cpus.source;

  tree.write("/sys/fs/cgroup/app/cpu.max", "15000088888888888888888 100000\n");  // past LLONG_MAX
  EXPECT_EQ(probeUsableCpus(4, tree.paths()).source, "affinity mask");
}

TEST(CpuCountTest, MalformedQuotaIsIgnored) {
  FakeCgroupTree tree;
  tree.write("/proc/self/cgroup", "0::/app\n");
  tree.write("/proc/self/mountinfo", kV2Mount);
  tree.write("/sys/fs/cgroup/app/cpu.max", "150000x 100000\n");
  const CpuCount cpus = probeUsableCpus(4, tree.paths());
  EXPECT_EQ(cpus.count, 4);
  EXPECT_EQ(cpus.source, "affinity mask");
}

TEST(CpuCountTest, ThisMachineAgreesWithItsAffinityMaskOrLess) {
  const int affinity = affinityCpuCount();
  EXPECT_GE(affinity, 1);
  const CpuCount cpus = probeUsableCpus(affinity);
  EXPECT_GE(cpus.count, 1);
  EXPECT_LE(cpus.count, affinity);
}

}  // namespace
}  // namespace reactord::common
