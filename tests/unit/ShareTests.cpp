// Share links without a server: secrets, unlock rules, sessions, consent,
// auto-share, and the QR, ZIP and template writers they rely on.
#include <gtest/gtest.h>
#include <zlib.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "Common/AuditSink.h"
#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/HtmlTemplate.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Configuration.h"
#include "Share/AutoShare.h"
#include "Share/DownloadTickets.h"
#include "Share/ModalityGlossary.h"
#include "Share/PhoneAccess.h"
#include "Share/PortalRoutes.h"
#include "Share/QrCode.h"
#include "Share/ShareIssuer.h"
#include "Share/SlipSeal.h"
#include "Share/ZipWriter.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
class RecordingAudit : public IAuditSink {
 public:
  void Record(AuditEvent event) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  int Count(const std::string& action) {
    std::lock_guard<std::mutex> lock(mutex);
    int n = 0;
    for (const AuditEvent& e : events) n += e.action == action ? 1 : 0;
    return n;
  }
  std::mutex mutex;
  std::vector<AuditEvent> events;
};

class Shares : public ::testing::Test {
 protected:
  void SetUp() override {
    config.siteId = "HOS-001";
    config.shares.secretHashIterations = 10000;  // keeps the tests quick
    config.consent.sharePermitsByDefault = false;
    database = MigratedMemoryDatabase();
    patients = std::make_unique<PatientStore>(*database);
    studies = std::make_unique<StudyIndexStore>(*database);
    consentStore = std::make_unique<ConsentStore>(*database);
    consent =
        std::make_unique<ConsentService>(*consentStore, *patients, *studies, config.consent, config.siteId);
    store = std::make_unique<ShareStore>(*database);
    Rebuild();
    Patient jane;
    jane.nationalId = "199012345678";
    jane.identifiers = {{"HOS-001", "P1", ""}};
    janeId = patients->Create(jane).id;
    AddStudy("o1", "1.2.1", "P1", "CR", "20261120");
    AddStudy("o2", "1.2.2", "P1", "CT", "20261121");
    AddStudy("o3", "1.2.3", "P2", "MR", "20261121");
  }
  void Rebuild() {
    issuer = std::make_unique<ShareIssuer>(*store, *studies, orthanc, patients.get(), consent.get(), audit,
                                           config.Site(), config.shares, clock);
    throttle = std::make_unique<AttemptLimiter>(std::vector<AttemptLimiter::Limit>{
        {config.shares.maxFailuresPerAddress, config.shares.windowMinutes * 60,
         config.shares.lockoutMinutes * 60, false}});
    phone = std::make_unique<PhoneAccess>(*store, *throttle, audit, config.shares, clock);
  }
  void AddStudy(const std::string& id, const std::string& uid, const std::string& patient,
                const std::string& modality, const std::string& date) {
    StudyRecord study;
    study.orthancId = id;
    study.studyUid = uid;
    study.patientId = patient;
    study.patientName = "DOE^JANE";
    study.patientBirthDate = "19900215";
    study.studyDate = date;
    study.modalities = {modality};
    studies->Upsert(study);
  }
  void PermitSharing() {
    ConsentRecord record;
    record.patientId = janeId;
    record.kind = "share";
    record.decision = "permit";
    record.method = "signed-form";
    record.recordedBy = "desk";
    consent->Record(record, "");
  }
  CreatedShare MakeShare(const std::string& study = "o1", const std::string& factor = "pin") {
    ShareRequest request;
    request.study = study;
    request.secondFactor = factor;
    request.consentAttested = true;
    return issuer->Create(request, AuditActor{ActorKind::kUser, "desk", "reception", "10.0.0.5"});
  }

  Configuration config;
  CannedOrthanc orthanc;
  RecordingAudit audit;
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<PatientStore> patients;
  std::unique_ptr<StudyIndexStore> studies;
  std::unique_ptr<ConsentStore> consentStore;
  std::unique_ptr<ConsentService> consent;
  std::unique_ptr<ShareStore> store;
  ManualClock clock{Time::NowSeconds() * 1000};
  std::unique_ptr<AttemptLimiter> throttle;
  std::unique_ptr<ShareIssuer> issuer;
  std::unique_ptr<PhoneAccess> phone;
  std::string janeId;
};
}  // namespace

TEST_F(Shares, TheTokenAndPinAreReturnedOnceAndStoredOnlyAsHashes) {
  CreatedShare created = MakeShare();
  EXPECT_EQ(22u, created.token.size());
  ASSERT_EQ(6u, created.pin.size());
  for (char c : created.pin) EXPECT_TRUE(c >= '0' && c <= '9');
  Share stored = *store->Find(created.share.id);
  EXPECT_EQ(Crypto::Sha256(created.token), stored.tokenHash);
  EXPECT_EQ(std::string::npos, stored.secretHash.find(created.pin));
  EXPECT_EQ(32u, stored.secretHash.size());
  // Only the pending slip keeps them, and printing forgets them.
  ASSERT_TRUE(store->FindPendingSlip(created.share.id).has_value());
  issuer->MarkPrinted(created.share.id, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  EXPECT_FALSE(store->FindPendingSlip(created.share.id).has_value());
  EXPECT_FALSE(store->Find(created.share.id)->slipPending);
  EXPECT_EQ(1, audit.Count("share.created"));
  EXPECT_EQ(1, audit.Count("share.printed"));
}

TEST_F(Shares, PinsAreUniformlySpreadAndDiffer) {
  std::set<std::string> pins;
  for (int i = 0; i < 20; i++) pins.insert(MakeShare().pin);
  EXPECT_GT(pins.size(), 18u);
}

TEST_F(Shares, BadRequestsAreRefusedWithTheirReason) {
  ShareRequest request;
  request.consentAttested = true;
  AuditActor actor{ActorKind::kUser, "desk", "reception", ""};
  EXPECT_THROW(issuer->Create(request, actor), DomainError) << "neither study nor patient";
  request.study = "nope";
  try {
    issuer->Create(request, actor);
    FAIL() << "unknown study accepted";
  } catch (const DomainError& e) {
    EXPECT_EQ(404, HttpStatusOf(e.GetKind()));
    EXPECT_NE(std::string::npos, e.Detail().find("nope"));
  }
  request.study = "o1";
  request.validDays = 366;
  EXPECT_THROW(issuer->Create(request, actor), DomainError);
  request.validDays = 0;
  request.secondFactor = "none";
  EXPECT_THROW(issuer->Create(request, actor), DomainError) << "none needs AllowNoSecondFactor";
  request.secondFactor = "fingerprint";
  EXPECT_THROW(issuer->Create(request, actor), DomainError);
}

TEST_F(Shares, ConsentOrAnAttestationIsNeededAndTheAttestationIsRecorded) {
  ShareRequest request;
  request.study = "o1";
  AuditActor actor{ActorKind::kUser, "desk", "reception", ""};
  try {
    issuer->Create(request, actor);
    FAIL() << "shared without consent";
  } catch (const DomainError& e) {
    EXPECT_EQ(409, HttpStatusOf(e.GetKind()));
  }
  request.consentAttested = true;
  issuer->Create(request, actor);
  std::vector<ConsentRecord> history = consentStore->History(janeId);
  ASSERT_EQ(1u, history.size());
  EXPECT_EQ("attestation", history[0].method);
  EXPECT_EQ("permit", history[0].decision);
  // With the permit recorded, the next link needs no attestation.
  request.consentAttested = false;
  EXPECT_NO_THROW(issuer->Create(request, actor));
}

TEST_F(Shares, APatientShareHoldsEveryStudyOfThatPatientOnly) {
  ShareRequest request;
  request.patientId = "P1";
  request.consentAttested = true;
  CreatedShare created = issuer->Create(request, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  ASSERT_EQ(2u, created.share.studies.size());
  EXPECT_EQ("patient", created.share.scope);
  for (const ShareStudyRef& study : created.share.studies) EXPECT_NE("o3", study.orthancId);
}

TEST_F(Shares, WrongPinsLockTheShareAndStaffUnlockIt) {
  CreatedShare created = MakeShare();
  Share share = *store->Find(created.share.id);
  const std::string wrong = created.pin == "000000" ? "111111" : "000000";
  UnlockOutcome outcome = phone->Unlock(share, "12ab", "", "10.0.0.9");
  EXPECT_EQ(UnlockOutcome::Kind::kWrongSecret, outcome.kind);
  EXPECT_NE(std::string::npos, outcome.message.find("6 digits")) << outcome.message;
  EXPECT_EQ(4, outcome.attemptsLeft) << "a PIN of the wrong shape counts";
  for (int i = 0; i < 3; i++)
    EXPECT_EQ(UnlockOutcome::Kind::kWrongSecret, phone->Unlock(share, wrong, "", "").kind);
  EXPECT_EQ(UnlockOutcome::Kind::kLocked, phone->Unlock(share, wrong, "", "").kind);
  std::optional<Share> locked;
  EXPECT_EQ(LinkState::kLocked, phone->LookUp(created.token, locked));
  EXPECT_EQ(1, audit.Count("share.locked"));

  issuer->ClearLock(created.share.id, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  std::optional<Share> unlocked;
  ASSERT_EQ(LinkState::kActive, phone->LookUp(created.token, unlocked));
  UnlockOutcome opened = phone->Unlock(*unlocked, " " + created.pin + " ", "", "10.0.0.9");
  ASSERT_EQ(UnlockOutcome::Kind::kOpened, opened.kind);
  EXPECT_LE(opened.sessionExpiresAt - Time::NowSeconds(), 3600);
  std::optional<Share> session = phone->SessionShare(opened.sessionToken);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(created.share.id, session->id);
  EXPECT_FALSE(phone->SessionShare(opened.sessionToken + "x").has_value());
  phone->EndSession(opened.sessionToken);
  EXPECT_FALSE(phone->SessionShare(opened.sessionToken).has_value());
}

TEST_F(Shares, SimultaneousWrongPinsCheckNoMoreThanTheLimit) {
  CreatedShare created = MakeShare();
  const Share share = *store->Find(created.share.id);
  const std::string wrong = created.pin == "000000" ? "111111" : "000000";
  std::vector<std::thread> threads;
  for (int i = 0; i < 60; i++) {
    // Each from its own address, so only the link's limit applies.
    threads.emplace_back([&, i] { phone->Unlock(share, wrong, "", "10.9.0." + std::to_string(i)); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(5, audit.Count("share.unlock_failed")) << "secrets checked";
  EXPECT_EQ(1, audit.Count("share.locked"));
  EXPECT_EQ(UnlockOutcome::Kind::kLocked, phone->Unlock(share, created.pin, "", "10.9.1.1").kind)
      << "the right PIN afterwards is refused while locked";
}

TEST_F(Shares, BirthDateUnlocksWithEitherDateSpelling) {
  CreatedShare created = MakeShare("o1", "birth-date");
  EXPECT_TRUE(created.pin.empty());
  Share share = *store->Find(created.share.id);
  EXPECT_EQ(UnlockOutcome::Kind::kWrongSecret, phone->Unlock(share, "", "1990-02-16", "").kind);
  EXPECT_EQ(UnlockOutcome::Kind::kWrongSecret, phone->Unlock(share, "", "15/02/1990", "").kind);
  EXPECT_EQ(UnlockOutcome::Kind::kOpened, phone->Unlock(share, "", "1990-02-15", "").kind);
  EXPECT_EQ(UnlockOutcome::Kind::kOpened, phone->Unlock(share, "", "19900215", "").kind);
}

TEST_F(Shares, MaxUsesEndNewUnlocksButNotOpenSessions) {
  ShareRequest request;
  request.study = "o1";
  request.consentAttested = true;
  request.maxUses = 1;
  CreatedShare created = issuer->Create(request, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  Share share = *store->Find(created.share.id);
  UnlockOutcome first = phone->Unlock(share, created.pin, "", "");
  ASSERT_EQ(UnlockOutcome::Kind::kOpened, first.kind);
  std::optional<Share> after;
  EXPECT_EQ(LinkState::kUsedUp, phone->LookUp(created.token, after));
  EXPECT_EQ(UnlockOutcome::Kind::kUsedUp, phone->Unlock(share, created.pin, "", "").kind);
  EXPECT_TRUE(phone->SessionShare(first.sessionToken).has_value());
}

TEST_F(Shares, RevokedAndExpiredLinksEndTheirSessions) {
  CreatedShare created = MakeShare();
  UnlockOutcome opened = phone->Unlock(*store->Find(created.share.id), created.pin, "", "");
  ASSERT_TRUE(phone->SessionShare(opened.sessionToken).has_value());
  issuer->Revoke(created.share.id, "wrong patient", AuditActor{ActorKind::kUser, "desk", "reception", ""});
  EXPECT_FALSE(phone->SessionShare(opened.sessionToken).has_value());
  std::optional<Share> share;
  EXPECT_EQ(LinkState::kRevoked, phone->LookUp(created.token, share));
  EXPECT_EQ("wrong patient", share->revokeReason);

  CreatedShare second = MakeShare();
  UnlockOutcome secondOpened = phone->Unlock(*store->Find(second.share.id), second.pin, "", "");
  ASSERT_TRUE(phone->SessionShare(secondOpened.sessionToken).has_value());
  clock.Advance(31LL * 86400 * 1000);  // past the default 30 days
  EXPECT_EQ(LinkState::kExpired, phone->LookUp(second.token, share));
  EXPECT_FALSE(phone->SessionShare(secondOpened.sessionToken).has_value());
  EXPECT_EQ(LinkState::kInvalid, phone->LookUp("not-a-token", share));
  EXPECT_EQ(LinkState::kInvalid, phone->LookUp(second.token.substr(0, 10), share));
}

TEST_F(Shares, ReprintRevokesTheOldLinkAndKeepsItsOptions) {
  CreatedShare old = MakeShare("o2", "birth-date");
  CreatedShare fresh = issuer->Reprint(old.share.id, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  EXPECT_NE(old.token, fresh.token);
  Share previous = *store->Find(old.share.id);
  EXPECT_EQ("revoked", previous.Status(Time::NowSeconds()));
  EXPECT_EQ(fresh.share.id, previous.replacedBy);
  EXPECT_EQ(old.share.id, fresh.share.replaces);
  EXPECT_EQ("birth-date", fresh.share.secondFactor);
  ASSERT_EQ(1u, fresh.share.studies.size());
  EXPECT_EQ("o2", fresh.share.studies[0].orthancId);
}

TEST_F(Shares, WithdrawingShareConsentRevokesThePatientsLinks) {
  consent->OnDenied([this](const std::string& patientId, ConsentKind kind) {
    if (kind == ConsentKind::kShare) issuer->RevokeForPatient(patientId);
  });
  PermitSharing();
  CreatedShare created = MakeShare();
  ConsentRecord deny;
  deny.patientId = janeId;
  deny.kind = "share";
  deny.decision = "deny";
  deny.method = "verbal";
  deny.recordedBy = "desk";
  consent->Record(deny, "");
  EXPECT_EQ("revoked", store->Find(created.share.id)->Status(Time::NowSeconds()));
  EXPECT_EQ("share consent withdrawn", store->Find(created.share.id)->revokeReason);
}

TEST_F(Shares, AutoShareMatchesModalityOrCallingAetOnceAndNeedsConsent) {
  config.shares.autoShare.enabled = true;
  config.shares.autoShare.modalities = {"CR"};
  config.shares.autoShare.callingAets = {"MR_SCANNER"};
  Rebuild();
  AutoShare autoShare(*issuer, config.shares.autoShare);
  auto indexed = [&](const StudyRecord& study, bool stable) {
    // The event as the pipeline hands it over, with the one consent decision.
    StudyEventContext context(
        StudyEvent{1, study.orthancId, study.studyUid, stable ? "stable" : "indexed", 0}, study,
        [](const StudyRecord&) { return std::string("PAT-JANE"); },
        [this](const std::string&) { return consent->Decide(janeId); });
    autoShare.Consume(context);
  };
  StudyRecord cr = *studies->FindByOrthancId("o1");
  indexed(cr, true);
  EXPECT_EQ(0, store->CountPendingSlips()) << "no consent: no automatic link";
  PermitSharing();
  indexed(cr, false);
  EXPECT_EQ(0, store->CountPendingSlips()) << "only once the study is complete";
  indexed(cr, true);
  indexed(cr, true);
  EXPECT_EQ(1, store->CountPendingSlips()) << "one link per study";
  StudyRecord ct = *studies->FindByOrthancId("o2");
  indexed(ct, true);
  EXPECT_EQ(1, store->CountPendingSlips()) << "CT is not configured";
  ct.sources.push_back(StudySource{"s", "DicomProtocol", "MR_SCANNER", "", "", 0, 1});
  indexed(ct, true);
  EXPECT_EQ(2, store->CountPendingSlips()) << "the calling AE matches";
  std::vector<Share> pending = store->PendingSlips(Time::NowSeconds());
  ASSERT_EQ(2u, pending.size());
  EXPECT_TRUE(pending[0].automatic);
}

TEST_F(Shares, ListingFiltersByStatusAndPatient) {
  CreatedShare a = MakeShare("o1");
  MakeShare("o3");
  issuer->Revoke(a.share.id, "", AuditActor{ActorKind::kUser, "desk", "reception", ""});
  ShareFilter filter;
  filter.status = "active";
  EXPECT_EQ(1, store->List(filter, Time::NowSeconds()).total);
  filter.status = "revoked";
  EXPECT_EQ(1, store->List(filter, Time::NowSeconds()).total);
  filter.status = "all";
  filter.patientId = "P2";
  SharePage page = store->List(filter, Time::NowSeconds());
  ASSERT_EQ(1, page.total);
  EXPECT_EQ("o3", page.shares[0].studies[0].orthancId);
  filter.patientId.clear();
  filter.studyOrthancId = "1.2.1";
  EXPECT_EQ(1, store->List(filter, Time::NowSeconds()).total) << "by StudyInstanceUID too";
}

TEST_F(Shares, TheAddressThrottleWaitsAfterTooManyFailures) {
  config.shares.maxFailuresPerAddress = 3;
  Rebuild();
  EXPECT_EQ(0, phone->RetryAfter("10.1.1.1"));
  for (int i = 0; i < 3; i++) phone->ReserveAddressAttempt("10.1.1.1").Failed();
  EXPECT_GT(phone->RetryAfter("10.1.1.1"), 0);
  EXPECT_EQ(0, phone->RetryAfter("10.1.1.2"));
}

TEST(QrCodeImage, PngHasTheQuietZoneAndDarkFinderPatterns) {
  QrCode code("http://127.0.0.1:8042/s/AAAAAAAAAAAAAAAAAAAAAA");
  ASSERT_GE(code.Size(), 21);
  EXPECT_TRUE(code.Dark(0, 0)) << "finder pattern corner";
  const int scale = 4;
  std::string png = code.Png(scale);
  ASSERT_EQ(0, png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)));
  auto be32 = [&png](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
  };
  const uint32_t side = static_cast<uint32_t>((code.Size() + 2 * QrCode::kQuietZone) * scale);
  EXPECT_EQ(side, be32(16));
  EXPECT_EQ(side, be32(20));
  // Decompress IDAT and read pixels: the quiet zone is white, the finder's
  // corner module dark.
  const size_t idat = png.find("IDAT");
  ASSERT_NE(std::string::npos, idat);
  const uint32_t length = be32(idat - 4);
  const size_t rowBytes = (side + 7) / 8 + 1;
  std::string raw(rowBytes * side, '\0');
  uLongf rawSize = static_cast<uLongf>(raw.size());
  ASSERT_EQ(Z_OK, uncompress(reinterpret_cast<Bytef*>(&raw[0]), &rawSize,
                             reinterpret_cast<const Bytef*>(png.data() + idat + 4), length));
  auto white = [&](uint32_t x, uint32_t y) {
    return (static_cast<unsigned char>(raw[y * rowBytes + 1 + x / 8]) & (0x80 >> (x % 8))) != 0;
  };
  EXPECT_TRUE(white(0, 0));
  const uint32_t corner = QrCode::kQuietZone * scale;
  EXPECT_FALSE(white(corner, corner));
  EXPECT_FALSE(white(corner + 1, corner + 1));
}

TEST(QrCodeImage, SvgDrawsEveryDarkModule) {
  QrCode code("hello");
  std::string svg = code.Svg();
  EXPECT_EQ(0u, svg.find("<svg"));
  EXPECT_NE(std::string::npos, svg.find("viewBox=\"0 0 " + std::to_string(code.Size() + 8)));
  int dark = 0;
  for (int y = 0; y < code.Size(); y++)
    for (int x = 0; x < code.Size(); x++) dark += code.Dark(x, y) ? 1 : 0;
  // Each "h<run>" covers run modules.
  int covered = 0;
  for (size_t at = svg.find('h'); at != std::string::npos; at = svg.find('h', at + 1)) {
    if (at > 0 && std::isdigit(static_cast<unsigned char>(svg[at + 1])) && svg[at - 1] != '-') {
      covered += std::stoi(svg.substr(at + 1));
    }
  }
  EXPECT_EQ(dark, covered);
}

TEST(ZipArchive, StoredEntriesCarryTheirCrcAndTheDirectoryListsThem) {
  ZipWriter writer;
  writer.Add("1 CR Chest/0001.jpg", std::string("\xff\xd8\xff\xe0 one", 8));
  writer.Add("1 CR Chest/0002.jpg", "second");
  std::string zip = writer.Finish();
  EXPECT_EQ(0, zip.compare(0, 4, "PK\x03\x04"));
  const size_t end = zip.rfind("PK\x05\x06");
  ASSERT_NE(std::string::npos, end);
  EXPECT_EQ(2, static_cast<unsigned char>(zip[end + 10]));
  const size_t second = zip.find("1 CR Chest/0002.jpg");
  ASSERT_NE(std::string::npos, second);
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>("second"), 6));
  const size_t header = second - 30;
  uint32_t stored = 0;
  for (int i = 3; i >= 0; i--) stored = (stored << 8) | static_cast<unsigned char>(zip[header + 14 + i]);
  EXPECT_EQ(crc, stored);
  EXPECT_EQ("second", zip.substr(second + 19, 6));
}

TEST(HtmlTemplates, ValuesAreEscapedAndSectionsFollowTheirFlags) {
  TemplateValues values{{"name", "<img src=x onerror=alert(1)>&\"'"}, {"pin", "123456"}, {"svg", "<svg/>"}};
  EXPECT_EQ("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;", RenderTemplate("{{name}}", values));
  EXPECT_EQ("<svg/>", RenderTemplate("{{{svg}}}", values));
  EXPECT_EQ("PIN 123456.", RenderTemplate("{{#pin}}PIN {{pin}}{{/pin}}{{#none}}open{{/none}}.", values));
  EXPECT_EQ("no date", RenderTemplate("{{^birth_date}}no date{{/birth_date}}", values));
  EXPECT_EQ("", RenderTemplate("{{unknown}}", values));
  EXPECT_THROW(RenderTemplate("{{#pin}}never closed", values), std::runtime_error);
}

TEST(HtmlTemplates, TheShippedTemplatesRenderAndEscapePatientNames) {
  TemplateValues values{{"hospital_name", "St <b>Mary</b>"},
                        {"patient_name", "<script>x</script>"},
                        {"pin", "123456"},
                        {"kind", "revoked"},
                        {"title", "t"},
                        {"message", "m"},
                        {"qr_svg", "<svg id=\"qr\"></svg>"},
                        {"format", "a6"}};
  for (const char* name : {"landing.html", "notice.html", "slip.html"}) {
    std::string page = RenderEmbeddedTemplate(name, values);
    EXPECT_EQ(std::string::npos, page.find("<script>x")) << name;
    EXPECT_EQ(std::string::npos, page.find("<b>Mary")) << name;
    EXPECT_EQ(std::string::npos, page.find("{{")) << name;
    EXPECT_NE(std::string::npos, page.find("St &lt;b&gt;Mary")) << name;
  }
  EXPECT_NE(std::string::npos, RenderEmbeddedTemplate("slip.html", values).find("<svg id=\"qr\">"));
}

TEST(PatientForms, UrlEncodedFieldsAreDecoded) {
  std::map<std::string, std::string> form = ParseFormBody("pin=12+34&birth_date=1990-02-15&x=%3Cb%3E&empty=");
  EXPECT_EQ("12 34", form["pin"]);
  EXPECT_EQ("1990-02-15", form["birth_date"]);
  EXPECT_EQ("<b>", form["x"]);
  EXPECT_EQ("", form["empty"]);
}

TEST(ModalityWords, KnownAndUnknownCodesAndPresets) {
  EXPECT_EQ("X-ray", DescribeModality("CR").name);
  EXPECT_NE(std::string::npos, DescribeModality("ZZ").name.find("ZZ"));
  EXPECT_EQ(1u, PresetsFor("CR").size());
  EXPECT_GT(PresetsFor("CT").size(), 3u);
  WindowPreset lung;
  ASSERT_TRUE(FindPreset("lung", lung));
  EXPECT_LT(lung.center, 0);
  EXPECT_FALSE(FindPreset("default", lung));
}

TEST(LongDates, PatientsReadDatesInWords) {
  EXPECT_EQ("22 December 2026", Time::DateToLong("20261222"));
  EXPECT_EQ("22 December 2026", Time::DateToLong("2026-12-22"));
  EXPECT_EQ("", Time::DateToLong("2026122"));
  EXPECT_EQ("", Time::DateToLong("20261322"));
  EXPECT_EQ("1 January 1970", Time::FormatLongDate(0));
}

TEST(PersonNames, DicomNamesReadAsOnPaper) {
  EXPECT_EQ("DOE, JANE M", Text::PersonNameForDisplay("DOE^JANE^M^^"));
  EXPECT_EQ("Dr DOE, JANE PhD", Text::PersonNameForDisplay("DOE^JANE^^Dr^PhD"));
  EXPECT_EQ("CompressedSamples, CT1", Text::PersonNameForDisplay("CompressedSamples^CT1"));
  EXPECT_EQ("YAMADA, TARO", Text::PersonNameForDisplay("YAMADA^TARO=山田^太郎"));
  EXPECT_EQ("<b>x</b>", Text::PersonNameForDisplay("<b>x</b>")) << "escaping is the page's job";
  EXPECT_EQ("", Text::PersonNameForDisplay(""));
}

TEST_F(Shares, APendingSlipIsSealedInTheDatabase) {
  CreatedShare created = MakeShare();
  std::optional<PendingSlip> stored = store->FindPendingSlip(created.share.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(std::string::npos, stored->token.find(created.token));
  EXPECT_EQ(std::string::npos, stored->pin.find(created.pin));
  std::optional<PendingSlip> opened = issuer->OpenPendingSlip(created.share.id);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(created.token, opened->token);
  EXPECT_EQ(created.pin, opened->pin);
  // Another key (the key file replaced): the slip cannot be shown any more.
  Rebuild();
  EXPECT_FALSE(issuer->OpenPendingSlip(created.share.id).has_value());
}

TEST(SlipKeys, AKeyFileIsCreatedPrivateAndReused) {
  const std::string path = ::testing::TempDir() + "hb-slip-key-" + std::to_string(::getpid());
  std::remove(path.c_str());
  std::string sealed;
  {
    SlipSeal first(path);
    sealed = first.Seal("secret-token");
  }
  struct stat info {};
  ASSERT_EQ(0, stat(path.c_str(), &info));
  EXPECT_EQ(0600u, info.st_mode & 0777u);
  EXPECT_EQ(32, info.st_size);
  SlipSeal again(path);
  std::string opened;
  ASSERT_TRUE(again.Open(sealed, opened));
  EXPECT_EQ("secret-token", opened);
  std::string tampered = sealed;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(again.Open(tampered, opened));
  std::remove(path.c_str());
}

TEST_F(Shares, ReprintKeepsTheSameStudiesAndRecordsNoNewConsent) {
  ShareRequest request;
  request.patientId = "P1";
  request.consentAttested = true;
  CreatedShare old = issuer->Create(request, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  ASSERT_EQ(2u, old.share.studies.size());
  const size_t consents = consentStore->History(janeId).size();
  AddStudy("o4", "1.2.4", "P1", "CR", "20261122");  // arrives after the link was made
  CreatedShare fresh = issuer->Reprint(old.share.id, AuditActor{ActorKind::kUser, "desk", "reception", ""});
  ASSERT_EQ(2u, fresh.share.studies.size());
  for (const ShareStudyRef& study : fresh.share.studies) EXPECT_NE("o4", study.orthancId);
  EXPECT_EQ(consents, consentStore->History(janeId).size()) << "a reprint attests nothing new";
  EXPECT_EQ("patient", fresh.share.scope);
}

TEST_F(Shares, ABirthDateLinkWithoutABirthDateRecordsNoAttestation) {
  StudyRecord study = *studies->FindByOrthancId("o3");
  study.patientBirthDate.clear();
  studies->Upsert(study);
  Patient other;
  other.nationalId = "198001011234";
  other.identifiers = {{"HOS-001", "P2", ""}};
  const std::string otherId = patients->Create(other).id;
  ShareRequest request;
  request.study = "o3";
  request.secondFactor = "birth-date";
  request.consentAttested = true;
  EXPECT_THROW(issuer->Create(request, AuditActor{ActorKind::kUser, "desk", "reception", ""}), DomainError);
  EXPECT_TRUE(consentStore->History(otherId).empty()) << "a refused link leaves no consent record";
}

TEST(RequestChecks, UnknownNamesAndBadNumbersAreNamed) {
  HttpRequest request;
  request.query = {{"limit", "20"}, {"sttus", "active"}};
  try {
    RejectUnknownParameters(request, {"status", "limit"});
    FAIL() << "a misspelt parameter was accepted";
  } catch (const DomainError& e) {
    EXPECT_EQ(400, HttpStatusOf(e.GetKind()));
    EXPECT_EQ("Unknown parameter: sttus", std::string(e.what()));
    EXPECT_EQ("known parameters: status, limit", e.Detail());
  }
  EXPECT_EQ(20, IntegerParameter(request, "limit", 50, 1, 500));
  EXPECT_EQ(50, IntegerParameter(request, "offset", 50, 0, 500));
  request.query["limit"] = "0";
  EXPECT_THROW(IntegerParameter(request, "limit", 50, 1, 500), DomainError);
  request.query["limit"] = "-3";
  EXPECT_THROW(IntegerParameter(request, "limit", 50, 1, 500), DomainError);
  Json::Value body(Json::objectValue);
  body["study"] = "x";
  EXPECT_NO_THROW(RejectUnknownFields(body, {"study", "note"}));
  body["notes"] = "y";
  EXPECT_THROW(RejectUnknownFields(body, {"study", "note"}), DomainError);
}

TEST(DownloadTickets, OneUseOneStudyOneAddressOneMinute) {
  DownloadTickets tickets(60);
  DownloadTicket ticket;
  ticket.shareId = 7;
  ticket.studyOrthancId = "s1";
  ticket.address = "10.0.0.5";
  const std::string token = tickets.Issue(ticket, 1000);
  EXPECT_EQ(22u, token.size());
  EXPECT_FALSE(tickets.Redeem(token, "s2", "10.0.0.5", 1001)) << "another study";
  const std::string second = tickets.Issue(ticket, 1000);
  EXPECT_FALSE(tickets.Redeem(second, "s1", "10.0.0.6", 1001)) << "another address";
  const std::string third = tickets.Issue(ticket, 1000);
  EXPECT_FALSE(tickets.Redeem(third, "s1", "10.0.0.5", 1060)) << "expired";
  const std::string fourth = tickets.Issue(ticket, 1000);
  std::optional<DownloadTicket> redeemed = tickets.Redeem(fourth, "s1", "10.0.0.5", 1030);
  ASSERT_TRUE(redeemed.has_value());
  EXPECT_EQ(7, redeemed->shareId);
  EXPECT_FALSE(tickets.Redeem(fourth, "s1", "10.0.0.5", 1031)) << "used";
  EXPECT_FALSE(tickets.Redeem("", "s1", "10.0.0.5", 1031));
}

TEST(ZipWriterStream, EntriesLeaveAsTheyAreWrittenAndTheArchiveReadsBack) {
  std::string streamed;
  std::vector<size_t> pieces;
  ZipWriter writer([&](const std::string& piece) {
    streamed += piece;
    pieces.push_back(streamed.size());
    return true;
  });
  writer.Add("01 CT/0001.jpg", std::string(5000, 'a'));
  const size_t afterFirst = streamed.size();
  EXPECT_GT(afterFirst, 5000u) << "the first entry left before the second was made";
  writer.Add("01 CT/0002.jpg", std::string(7000, 'b'));
  EXPECT_EQ("", writer.Finish());
  ZipWriter memory;
  memory.Add("01 CT/0001.jpg", std::string(5000, 'a'));
  memory.Add("01 CT/0002.jpg", std::string(7000, 'b'));
  EXPECT_EQ(memory.Finish(), streamed) << "the same bytes either way";
  ZipWriter gone([](const std::string&) { return false; });
  EXPECT_THROW(gone.Add("x", "y"), ZipWriter::Abandoned);
}
