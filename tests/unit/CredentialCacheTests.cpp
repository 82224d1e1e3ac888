// The credential cache forgets on every node when a user changes, and
// remembers no longer than its time.
#include <gtest/gtest.h>

#include "Security/CredentialCache.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
Identity Nurse() { return Identity{true, 7, "nurse", Role::kTechnician, false}; }
}  // namespace

TEST(CredentialCache, RemembersForItsTimeOnly) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseGenerationCache cache(*database, 300, clock);
  EXPECT_FALSE(cache.Find("k").has_value());
  cache.Remember("k", Nurse());
  ASSERT_TRUE(cache.Find("k").has_value());
  EXPECT_EQ("nurse", cache.Find("k")->username);
  clock.Advance(299 * 1000);
  EXPECT_TRUE(cache.Find("k").has_value());
  clock.Advance(2 * 1000);
  EXPECT_FALSE(cache.Find("k").has_value());
}

TEST(CredentialCache, AChangedUserIsForgottenOnEveryNodeWithinASecond) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseGenerationCache nodeA(*database, 300, clock);
  DatabaseGenerationCache nodeB(*database, 300, clock);  // another Orthanc on the same database
  nodeA.Remember("k", Nurse());
  nodeB.Remember("k", Nurse());

  nodeA.Invalidate();  // the nurse was disabled through node A
  EXPECT_FALSE(nodeA.Find("k").has_value()) << "at once where the change was made";
  clock.Advance(1000);
  EXPECT_FALSE(nodeB.Find("k").has_value()) << "within a second elsewhere";

  nodeB.Remember("k", Nurse());
  clock.Advance(1000);
  EXPECT_TRUE(nodeB.Find("k").has_value()) << "no change since: remembered again";
}

TEST(CredentialCache, ForgettingOneEntryKeepsTheOthers) {
  auto database = MigratedMemoryDatabase();
  ManualClock clock;
  DatabaseGenerationCache sessions(*database, 2, clock);  // as the session cache is built
  sessions.Remember("ended", Nurse());
  sessions.Remember("other", Nurse());
  sessions.Forget("ended");  // logged out on this node
  EXPECT_FALSE(sessions.Find("ended").has_value());
  EXPECT_TRUE(sessions.Find("other").has_value());
  clock.Advance(2 * 1000);
  EXPECT_FALSE(sessions.Find("other").has_value()) << "a session is remembered for two seconds at most";
}
