// Guessing limits that hold when the guesses arrive together, and the client
// address behind a reverse proxy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "Common/Http.h"
#include "Security/AttemptLimiter.h"
#include "Security/ClientAddress.h"

using namespace HospitalBridge;

namespace {
AttemptLimiter::Limit UserLimit(int max) { return AttemptLimiter::Limit{max, 900, 900, true}; }
AttemptLimiter::Limit AddressLimit(int max) { return AttemptLimiter::Limit{max, 900, 900, false}; }
}  // namespace

TEST(AttemptLimiter, SimultaneousWrongGuessesCheckNoMoreThanTheLimit) {
  AttemptLimiter limiter({UserLimit(5), AddressLimit(100)});
  std::atomic<int> checked{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 60; i++) {
    threads.emplace_back([&] {
      AttemptLimiter::Ticket ticket = limiter.Reserve({"admin", "10.0.0.1"});
      if (!ticket.Granted()) {
        refused++;
        return;
      }
      checked++;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the password hash
      ticket.Failed();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(5, checked.load());
  EXPECT_EQ(55, refused.load());
  EXPECT_FALSE(limiter.Reserve({"admin", "10.0.0.1"}).Granted()) << "the right password comes too late";
  EXPECT_GT(limiter.RetryAfter({"admin", ""}), 800);
}

TEST(AttemptLimiter, AnAttemptWaitsForTheOutcomeOfThoseTakingTheLastPlaces) {
  AttemptLimiter limiter({UserLimit(2)});
  AttemptLimiter::Ticket first = limiter.Reserve({"u"});
  AttemptLimiter::Ticket second = limiter.Reserve({"u"});
  ASSERT_TRUE(first.Granted() && second.Granted());
  std::atomic<bool> thirdGranted{false};
  std::thread third([&] { thirdGranted = limiter.Reserve({"u"}).Granted(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  first.Succeeded();  // the right password: the user's failures are forgotten
  third.join();
  EXPECT_TRUE(thirdGranted.load());
  second.Failed();
}

TEST(AttemptLimiter, AnUnsettledTicketCountsAsAFailure) {
  AttemptLimiter limiter({AddressLimit(2)});
  { AttemptLimiter::Ticket lost = limiter.Reserve({"a"}); }
  { AttemptLimiter::Ticket lost = limiter.Reserve({"a"}); }
  EXPECT_FALSE(limiter.Reserve({"a"}).Granted());
  EXPECT_TRUE(limiter.Reserve({"b"}).Granted()) << "other keys are not affected";
}

TEST(AttemptLimiter, SuccessResetsOnlyTheKeysThatAskForIt) {
  AttemptLimiter limiter({UserLimit(3), AddressLimit(3)});
  limiter.Reserve({"u", "a"}).Failed();
  limiter.Reserve({"u", "a"}).Failed();
  limiter.Reserve({"u", "a"}).Succeeded();
  limiter.Reserve({"u", "a"}).Failed();
  // The user's count restarted at the success; the address's did not.
  EXPECT_EQ(0, limiter.RetryAfter({"u", ""}));
  EXPECT_GT(limiter.RetryAfter({"", "a"}), 0);
}

TEST(AttemptLimiter, TheLockEndsAfterTheLockoutAndTheWindowForgets) {
  int64_t now = 1000;
  AttemptLimiter limiter({AttemptLimiter::Limit{2, 60, 120, false}}, [&now] { return now; });
  limiter.Reserve({"a"}).Failed();
  now += 61;  // outside the window: the first failure no longer counts
  limiter.Reserve({"a"}).Failed();
  EXPECT_TRUE(limiter.Reserve({"a"}).Granted());
  limiter.Reserve({"a"}).Failed();
  limiter.Reserve({"a"}).Failed();
  EXPECT_EQ(120, limiter.RetryAfter({"a"}));
  now += 121;
  EXPECT_TRUE(limiter.Reserve({"a"}).Granted());
}

TEST(TrustedProxies, ForwardedHeadersCountOnlyFromATrustedProxy) {
  TrustedProxies proxies({"127.0.0.1", "10.1.0.0/16"}, "Security.TrustedProxies");
  HttpRequest direct;
  direct.connectionIp = "192.0.2.7";
  direct.headers["x-forwarded-for"] = "203.0.113.9";
  direct.headers["x-forwarded-proto"] = "https";
  proxies.Resolve(direct, false);
  EXPECT_EQ("192.0.2.7", direct.remoteIp) << "anyone can write X-Forwarded-For";
  EXPECT_FALSE(direct.secure);

  HttpRequest proxied = direct;
  proxied.connectionIp = "127.0.0.1";
  proxies.Resolve(proxied, false);
  EXPECT_EQ("203.0.113.9", proxied.remoteIp);
  EXPECT_TRUE(proxied.secure);
}

TEST(TrustedProxies, TheClientIsTheRightMostUntrustedHop) {
  TrustedProxies proxies({"127.0.0.1", "10.1.0.0/16"}, "Security.TrustedProxies");
  HttpRequest request;
  request.connectionIp = "127.0.0.1";
  // The client wrote "1.1.1.1" itself; the edge proxy (10.1.2.3) saw 198.51.100.4.
  request.headers["x-forwarded-for"] = "1.1.1.1, 198.51.100.4, 10.1.2.3";
  proxies.Resolve(request, false);
  EXPECT_EQ("198.51.100.4", request.remoteIp);

  request.headers["x-forwarded-for"] = "not-an-address, 10.1.2.3";
  proxies.Resolve(request, false);
  EXPECT_EQ("10.1.2.3", request.remoteIp) << "garbage is never taken as the client";
}

TEST(TrustedProxies, NetworksAndMappedAddresses) {
  TrustedProxies proxies({"::1", "fd00::/8", "192.168.0.0/24"}, "Security.TrustedProxies");
  EXPECT_TRUE(proxies.Trusts("::1"));
  EXPECT_TRUE(proxies.Trusts("fd12::5"));
  EXPECT_TRUE(proxies.Trusts("192.168.0.200"));
  EXPECT_TRUE(proxies.Trusts("::ffff:192.168.0.3"));
  EXPECT_FALSE(proxies.Trusts("192.168.1.1"));
  EXPECT_FALSE(proxies.Trusts("fe80::1"));
  EXPECT_FALSE(proxies.Trusts(""));
  EXPECT_THROW(TrustedProxies({"10.0.0.0/33"}, "X"), std::exception);
  EXPECT_THROW(TrustedProxies({"proxy.local"}, "X"), std::exception);
}

TEST(CanonicalPath, OneFormForEveryWayOfWritingAPath) {
  EXPECT_EQ("/bridge/login", CanonicalPath("/bridge/login/"));
  EXPECT_EQ("/bridge/login", CanonicalPath("//bridge///login//"));
  EXPECT_EQ("/s/abc", CanonicalPath("/s/abc/"));
  EXPECT_EQ("/", CanonicalPath(""));
  EXPECT_EQ("/", CanonicalPath("///"));
}
