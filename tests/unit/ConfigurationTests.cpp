#include <gtest/gtest.h>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Configuration.h"

using namespace HospitalBridge;

namespace {
Json::Value Orthanc(const std::string& text) { return JsonText::ParseConfiguration(text, "test"); }

std::string StartupMessage(const std::string& orthancJson) {
  try {
    LoadConfiguration(Orthanc(orthancJson));
  } catch (const StartupError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Configuration, MissingSectionMeansAllDefaults) {
  Configuration config = LoadConfiguration(Orthanc(R"({"IndexDirectory": "/var/lib/orthanc/db"})"));
  EXPECT_EQ("HOS-001", config.siteId);
  EXPECT_EQ("/var/lib/orthanc/db/hospitalbridge.db", config.databasePath);
  EXPECT_TRUE(config.studyIndex.enabled);
  EXPECT_EQ(500, config.studyIndex.refreshDelayMs);
  EXPECT_EQ(600000u, config.security.passwordHashIterations);
  EXPECT_EQ(1024u * 1024u, config.security.maxRequestBodyBytes);
}

TEST(Configuration, DatabaseDefaultsToStorageDirectoryWithoutIndexDirectory) {
  Configuration config = LoadConfiguration(Orthanc(R"({"StorageDirectory": "/data"})"));
  EXPECT_EQ("/data/hospitalbridge.db", config.databasePath);
}

TEST(Configuration, UserValuesOverrideDefaultsAndKeepTheRest) {
  Configuration config = LoadConfiguration(Orthanc(R"({
    // comments are allowed, as in orthanc.json
    "HospitalBridge": {"Site": {"Name": "General Hospital"}, "StudyIndex": {"MaxPageSize": 200},
                       "DatabasePath": "/tmp/x.db"}})"));
  EXPECT_EQ("General Hospital", config.siteName);
  EXPECT_EQ("HOS-001", config.siteId);
  EXPECT_EQ(200, config.studyIndex.maxPageSize);
  EXPECT_EQ(50, config.studyIndex.defaultPageSize);
  EXPECT_EQ("/tmp/x.db", config.databasePath);
}

TEST(Configuration, UnknownOptionIsNamedWithItsPath) {
  std::string message = StartupMessage(R"({"HospitalBridge": {"Security": {"PasswordHashIteration": 1}}})");
  EXPECT_NE(std::string::npos, message.find("HospitalBridge.Security.PasswordHashIteration")) << message;
  EXPECT_NE(std::string::npos, message.find("PasswordHashIterations"))
      << "lists the known options: " << message;
}

TEST(Configuration, WrongTypeIsNamed) {
  std::string message = StartupMessage(R"({"HospitalBridge": {"StudyIndex": {"MaxPageSize": "many"}}})");
  EXPECT_NE(std::string::npos, message.find("HospitalBridge.StudyIndex.MaxPageSize")) << message;
  EXPECT_NE(std::string::npos, message.find("expected an integer, got a string")) << message;
  EXPECT_NE("", StartupMessage(R"({"HospitalBridge": {"Modules": {"WebApp": 1}}})"));
  EXPECT_NE("", StartupMessage(R"({"HospitalBridge": {"Site": "HOS-1"}})"));
  EXPECT_NE("", StartupMessage(R"({"HospitalBridge": {"StudyIndex": {"MaxPageSize": 2.5}}})"));
  EXPECT_NE("", StartupMessage(R"({"HospitalBridge": []})"));
}

TEST(Configuration, OutOfRangeIsNamed) {
  std::string message =
      StartupMessage(R"({"HospitalBridge": {"Security": {"PasswordHashIterations": 1000}}})");
  EXPECT_NE(std::string::npos, message.find("HospitalBridge.Security.PasswordHashIterations")) << message;
  EXPECT_NE(std::string::npos, message.find("between 100000 and 10000000")) << message;
  message =
      StartupMessage(R"({"HospitalBridge": {"StudyIndex": {"DefaultPageSize": 900, "MaxPageSize": 100}}})");
  EXPECT_NE(std::string::npos, message.find("HospitalBridge.StudyIndex.DefaultPageSize")) << message;
  message = StartupMessage(R"({"HospitalBridge": {"Site": {"Id": "HOS 001<script>"}}})");
  EXPECT_NE(std::string::npos, message.find("HospitalBridge.Site.Id")) << message;
}

TEST(Configuration, OrthancAuthenticationMustBeOff) {
  EXPECT_NE(std::string::npos,
            StartupMessage(R"({"AuthenticationEnabled": true})").find("AuthenticationEnabled"));
  // Orthanc switches its authentication on by itself when remote access is
  // allowed and the option is left out.
  EXPECT_NE("", StartupMessage(R"({"RemoteAccessAllowed": true})"));
  EXPECT_EQ("", StartupMessage(R"({"RemoteAccessAllowed": true, "AuthenticationEnabled": false})"));
}

TEST(Configuration, EmbeddedDefaultsAreDocumentedJson) {
  Json::Value defaults = DefaultConfigurationJson();
  ASSERT_TRUE(defaults.isObject());
  for (const char* key : {"Site", "DatabasePath", "Modules", "StudyIndex", "Security"}) {
    EXPECT_TRUE(defaults.isMember(key)) << key;
  }
}
