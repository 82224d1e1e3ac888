// Leases: work that must run on one node is done by the holder only, another
// takes over once the holder stops renewing, and a worker that needs a lease
// does not tick without it.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "TestSupport.h"

using namespace HospitalBridge;

TEST(Leases, OneHolderAtATimeUntilItExpiresOrIsReleased) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseLeases leases(*database, clock);
  EXPECT_TRUE(leases.Acquire("syslog", "node-a", 60000));
  EXPECT_FALSE(leases.Acquire("syslog", "node-b", 60000));
  EXPECT_TRUE(leases.Acquire("retrieve-jobs", "node-b", 60000)) << "leases are independent";

  clock.Advance(30000);
  EXPECT_TRUE(leases.Acquire("syslog", "node-a", 60000)) << "the holder renews";
  clock.Advance(59000);
  EXPECT_FALSE(leases.Acquire("syslog", "node-b", 60000)) << "renewed: not expired yet";
  clock.Advance(2000);
  EXPECT_TRUE(leases.Acquire("syslog", "node-b", 60000)) << "a holder that stopped renewing loses it";
  EXPECT_FALSE(leases.Acquire("syslog", "node-a", 60000));

  leases.Release("syslog", "node-a");  // not the holder: nothing happens
  EXPECT_FALSE(leases.Acquire("syslog", "node-a", 60000));
  leases.Release("syslog", "node-b");
  EXPECT_TRUE(leases.Acquire("syslog", "node-a", 60000)) << "released: free at once";
}

TEST(Leases, AHolderThatDiedOnThisMachineIsReplacedAtOnce) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseLeases leases(*database, clock);
  // A process of this machine that has exited (Orthanc killed, then started again).
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(child, waitpid(child, &status, 0));
  const std::string dead = DatabaseLeases::HolderOnThisMachine(child, "dead");
  const std::string alive = DatabaseLeases::HolderOnThisMachine(getppid(), "alive");
  EXPECT_TRUE(DatabaseLeases::IsDeadHereHolder(dead));
  EXPECT_FALSE(DatabaseLeases::IsDeadHereHolder(alive));
  EXPECT_FALSE(DatabaseLeases::IsDeadHereHolder(DatabaseLeases::ThisNode()));
  EXPECT_FALSE(DatabaseLeases::IsDeadHereHolder("other-host:4026531836:" + std::to_string(child) + ":x"))
      << "another machine's processes are not ours to judge";
  EXPECT_FALSE(DatabaseLeases::IsDeadHereHolder("node-a"));

  ASSERT_TRUE(leases.Acquire("router", dead, 60000));
  EXPECT_TRUE(leases.Acquire("router", DatabaseLeases::ThisNode(), 60000))
      << "its process is gone: taken at once";
  ASSERT_TRUE(leases.Acquire("audit", alive, 60000));
  EXPECT_FALSE(leases.Acquire("audit", DatabaseLeases::ThisNode(), 60000)) << "a live holder keeps it";
}

TEST(Leases, ThisNodeIsStableWithinAProcess) {
  EXPECT_EQ(DatabaseLeases::ThisNode(), DatabaseLeases::ThisNode());
  EXPECT_NE(std::string::npos, DatabaseLeases::ThisNode().find(':'));
}

TEST(Leases, AWorkerTicksOnlyWhileItHoldsItsLease) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseLeases leases(*database, clock);
  ASSERT_TRUE(leases.Acquire("watch-folders", "another-node", 60000));

  std::atomic<int> ticks{0};
  BackgroundWorker worker("test", [&] {
    ticks++;
    return std::chrono::milliseconds(10);
  });
  worker.RequireLease(leases, "watch-folders", std::chrono::milliseconds(90));
  worker.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(0, ticks.load()) << "another node holds the lease";
  EXPECT_FALSE(worker.HoldsLease());

  clock.Advance(61000);  // the other node stopped renewing
  for (int i = 0; i < 100 && ticks.load() == 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(ticks.load(), 0);
  EXPECT_TRUE(worker.HoldsLease());
  EXPECT_FALSE(leases.Acquire("watch-folders", "another-node", 60000)) << "this node holds it now";

  worker.Stop();
  EXPECT_TRUE(leases.Acquire("watch-folders", "another-node", 60000)) << "given up when the worker stopped";
}
