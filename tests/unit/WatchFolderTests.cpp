// The watch-folder importer against a real temporary folder and a fake
// Orthanc: files are imported once stable, refused ones kept with a reason,
// nothing is ever lost.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "Import/WatchFolderImporter.h"
#include "TestSupport.h"

using namespace HospitalBridge;
namespace fs = std::filesystem;

namespace {
// Accepts files that start with "DICM-OK" (then "AlreadyStored" for the same
// content), refuses others as Orthanc refuses a non-DICOM file.
class FakeOrthanc : public IOrthancRest {
 public:
  bool Get(const std::string&, std::string&) override { return false; }
  bool Post(const std::string& uri, const std::string& body, std::string& answer) override {
    if (uri != "/instances") return false;
    if (unavailable) throw OrthancUnavailable("stopping");
    if (body.rfind("DICM-OK", 0) != 0) throw OrthancRejected("Bad file format");
    const bool known = stored.count(body) > 0;
    stored.insert(body);
    answer = std::string("{\"ID\":\"x\",\"Status\":\"") + (known ? "AlreadyStored" : "Success") + "\"}";
    return true;
  }
  std::set<std::string> stored;
  bool unavailable = false;
};

class WatchFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("hb-watch-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
    settings.settleMs = 1000;
    HospitalBridge::WatchFolder folder;
    folder.path = (root / "in").string();
    folder.processedPath = (root / "in" / "processed").string();
    folder.failedPath = (root / "in" / "failed").string();
    settings.folders.push_back(folder);
    importer = std::make_unique<WatchFolderImporter>(settings, orthanc, nullptr);
  }
  void TearDown() override { fs::remove_all(root); }
  void Write(const std::string& relative, const std::string& content) {
    fs::create_directories((root / "in" / relative).parent_path());
    std::ofstream((root / "in" / relative).string(), std::ios::binary) << content;
  }
  // Two scans SettleMs apart: a file unchanged across them is imported.
  void Settle() {
    importer->ScanOnce(now);
    now += 1500;
    importer->ScanOnce(now);
  }

  fs::path root;
  WatchFolderSettings settings;
  FakeOrthanc orthanc;
  std::unique_ptr<WatchFolderImporter> importer;
  int64_t now = 1000000;
};
}  // namespace

TEST_F(WatchFolders, AFileIsImportedOnlyOnceItStopsChanging) {
  Write("scan/a.dcm", "DICM-OK first half");
  importer->ScanOnce(now);
  now += 1500;
  Write("scan/a.dcm", "DICM-OK first half and the rest");  // still growing
  importer->ScanOnce(now);
  EXPECT_TRUE(orthanc.stored.empty());
  EXPECT_TRUE(fs::exists(root / "in/scan/a.dcm"));
  now += 1500;
  importer->ScanOnce(now);
  EXPECT_EQ(1u, orthanc.stored.size());
  EXPECT_FALSE(fs::exists(root / "in/scan/a.dcm"));
  EXPECT_TRUE(fs::exists(root / "in/processed/scan/a.dcm")) << "the sub-folder is kept";
  Json::Value status = importer->Status()["folders"][0];
  EXPECT_EQ(1, status["imported"].asInt());
  EXPECT_EQ(0, status["waiting"].asInt());
}

TEST_F(WatchFolders, ARefusedFileGoesToFailedWithItsReason) {
  Write("notes.txt", "not an image");
  Settle();
  EXPECT_FALSE(fs::exists(root / "in/notes.txt"));
  ASSERT_TRUE(fs::exists(root / "in/failed/notes.txt"));
  std::ifstream reason((root / "in/failed/notes.txt.reason.txt").string());
  std::string text((std::istreambuf_iterator<char>(reason)), std::istreambuf_iterator<char>());
  EXPECT_NE(std::string::npos, text.find("Bad file format")) << text;
  EXPECT_EQ(1, importer->Status()["folders"][0]["failed"].asInt());
  // The failed folder is not scanned again.
  Settle();
  EXPECT_EQ(1, importer->Status()["folders"][0]["failed"].asInt());
}

TEST_F(WatchFolders, ADuplicateIsKeptUnderAFreshName) {
  Write("a.dcm", "DICM-OK same");
  Settle();
  Write("a.dcm", "DICM-OK same");
  Settle();
  EXPECT_EQ(1, importer->Status()["folders"][0]["duplicates"].asInt());
  EXPECT_TRUE(fs::exists(root / "in/processed/a.dcm"));
  EXPECT_TRUE(fs::exists(root / "in/processed/a (2).dcm")) << "never overwritten";
}

TEST_F(WatchFolders, WhenOrthancIsUnavailableTheFileStaysForTheNextScan) {
  Write("a.dcm", "DICM-OK later");
  orthanc.unavailable = true;
  Settle();
  EXPECT_TRUE(fs::exists(root / "in/a.dcm"));
  EXPECT_NE("", importer->Status()["folders"][0]["last_error"].asString());
  orthanc.unavailable = false;
  now += 1500;
  importer->ScanOnce(now);
  EXPECT_TRUE(fs::exists(root / "in/processed/a.dcm"));
}

TEST_F(WatchFolders, FilesBeingWrittenUnderTemporaryNamesAreLeftAlone) {
  Write("a.dcm.part", "DICM-OK partial");
  Write(".hidden.dcm", "DICM-OK hidden");
  Settle();
  EXPECT_TRUE(orthanc.stored.empty());
  EXPECT_TRUE(fs::exists(root / "in/a.dcm.part"));
}

TEST_F(WatchFolders, DeleteAfterImportRemovesOnlyImportedFiles) {
  settings.folders[0].deleteAfterImport = true;
  importer = std::make_unique<WatchFolderImporter>(settings, orthanc, nullptr);
  Write("a.dcm", "DICM-OK del");
  Write("b.txt", "text");
  Settle();
  EXPECT_FALSE(fs::exists(root / "in/a.dcm"));
  EXPECT_FALSE(fs::exists(root / "in/processed/a.dcm"));
  EXPECT_TRUE(fs::exists(root / "in/failed/b.txt")) << "a refused file is never deleted";
}
