#include <gtest/gtest.h>

#include <vector>

#include "Common/Crypto.h"
#include "Security/PasswordHasher.h"

using namespace HospitalBridge;

TEST(PasswordHasher, VerifiesTheRightPasswordOnly) {
  PasswordHasher hasher(100000);
  std::string stored = hasher.Hash("Correct-Horse-42");
  EXPECT_EQ(0u, stored.rfind("pbkdf2-sha256$100000$", 0)) << stored;
  EXPECT_TRUE(PasswordHasher::Verify("Correct-Horse-42", stored));
  EXPECT_FALSE(PasswordHasher::Verify("correct-horse-42", stored));
  EXPECT_FALSE(PasswordHasher::Verify("", stored));
  EXPECT_EQ(std::string::npos, stored.find("Correct-Horse-42")) << "the password itself is never stored";
}

TEST(PasswordHasher, SaltsDiffer) {
  PasswordHasher hasher(100000);
  EXPECT_NE(hasher.Hash("Same-Password-1"), hasher.Hash("Same-Password-1"));
}

TEST(PasswordHasher, OldIterationCountsKeepVerifying) {
  std::string old = PasswordHasher(100000).Hash("Kept-From-2025!");
  EXPECT_TRUE(PasswordHasher::Verify("Kept-From-2025!", old));
}

TEST(PasswordHasher, KnownVectorMatchesRfc7914) {
  // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64).
  EXPECT_EQ(
      "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
      "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
      Crypto::ToHex(Crypto::Pbkdf2Sha256("passwd", "salt", 1, 64)));
}

TEST(PasswordHasher, MalformedStoredHashesNeverVerify) {
  for (const char* stored :
       {"", "plain", "pbkdf2-sha256$", "pbkdf2-sha256$abc$c2FsdA==$a2V5", "pbkdf2-sha256$10$c2FsdA==$a2V5",
        "md5$100000$c2FsdA==$a2V5", "pbkdf2-sha256$100000$!!!$a2V5", "pbkdf2-sha256$100000$c2FsdA==$"}) {
    EXPECT_FALSE(PasswordHasher::Verify("anything", stored)) << stored;
  }
}

TEST(PasswordPolicy, RefusesShortWellKnownAndNameBasedPasswords) {
  EXPECT_NE("", PasswordWeakness("short1!", "bob"));
  EXPECT_NE("", PasswordWeakness("Password1234", "bob"));
  EXPECT_NE("", PasswordWeakness("xx-Reception-xx", "reception"));
  EXPECT_NE("", PasswordWeakness("aaaaaaaaaaaaaaaa", "bob"));
  EXPECT_EQ("", PasswordWeakness("Front-Counter-2026", "desk"));
}

TEST(Crypto, TokensAre128BitUrlSafe) {
  std::string token = Crypto::NewToken();
  EXPECT_EQ(22u, token.size());
  EXPECT_EQ(std::string::npos,
            token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
  EXPECT_NE(token, Crypto::NewToken());
}

TEST(Crypto, Base64RoundTrips) {
  for (const std::string& data :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    std::string decoded;
    ASSERT_TRUE(Crypto::Base64Decode(Crypto::Base64Encode(data), decoded));
    EXPECT_EQ(data, decoded);
  }
  std::string decoded;
  EXPECT_TRUE(Crypto::Base64Decode("YWRtaW46cGFzcw==", decoded));
  EXPECT_EQ("admin:pass", decoded);
  EXPECT_FALSE(Crypto::Base64Decode("YW*x", decoded));
  EXPECT_FALSE(Crypto::Base64Decode("YQ==YQ", decoded));
}
