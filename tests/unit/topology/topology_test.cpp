#include <gtest/gtest.h>

#include "topology/topology.h"

using namespace numasoak;

namespace {

Topology two_by_one() {
  Topology t;
  t.nodes = {NumaNode{1, MiB(1024)}, NumaNode{1, MiB(1024)}};
  return t;
}

TEST(Topology, RendersQemuArguments) {
  Topology t;
  t.nodes = {NumaNode{2, MiB(512)}, NumaNode{1, MiB(1024)}};
  t.distances = {{10, 21}, {21, 10}};
  const std::vector<std::string> expected = {
      "-m", "1536M", "-smp", "3,sockets=3,cores=1,threads=1",
      "-object", "memory-backend-ram,id=mem0,size=512M", "-numa", "node,nodeid=0,cpus=0-1,memdev=mem0",
      "-object", "memory-backend-ram,id=mem1,size=1024M", "-numa", "node,nodeid=1,cpus=2,memdev=mem1",
      "-numa", "dist,src=0,dst=1,val=21", "-numa", "dist,src=1,dst=0,val=21"};
  EXPECT_EQ(t.qemu_args(), expected);
  EXPECT_EQ(t.total_cpus(), 3);
  EXPECT_EQ(t.total_memory(), MiB(1536));
  EXPECT_EQ(t.first_cpu(1), 2);
}

TEST(Topology, DefaultDistancesAreTenAndTwenty) {
  const Topology t = two_by_one();
  EXPECT_EQ(t.distance(0, 0), 10);
  EXPECT_EQ(t.distance(0, 1), 20);
  EXPECT_TRUE(t.problems().empty());
  EXPECT_EQ(t.describe(), "2 nodes x 1 CPU x 1G");
}

TEST(Topology, ReportsEveryProblem) {
  Topology none;
  EXPECT_EQ(none.problems(), std::vector<std::string>{"the guest needs at least 1 NUMA node"});

  Topology t = two_by_one();
  t.nodes[1].memory = MiB(101);
  t.distances = {{10, 5}, {20, 10}};
  const auto p = t.problems();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "node 1 has 101M of memory; the workload needs at least 256M per node");
  EXPECT_EQ(p[1], "node 1 memory 101M is not a multiple of 2M (one huge page)");
  EXPECT_EQ(p[2], "distance from node 0 to node 1 must be 11..254, not 5");

  Topology big;
  big.nodes.assign(2, NumaNode{40, MiB(512)});
  EXPECT_EQ(big.problems(), std::vector<std::string>{"80 vCPUs is more than the 64 a guest may have"});
}

}  // namespace
