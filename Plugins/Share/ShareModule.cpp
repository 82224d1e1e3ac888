#include "Share/ShareModule.h"

#include "Share/PortalRoutes.h"
#include "Share/ShareRoutes.h"

namespace HospitalBridge {

ShareModule::ShareModule(const ModuleContext& context, const SharesSettings& settings, ShareModuleNeeds needs)
    : settings_(settings),
      clock_(context.clock),
      store_(context.database),
      addressThrottle_({{settings.maxFailuresPerAddress, settings.windowMinutes * 60,
                         settings.lockoutMinutes * 60, false}}),
      upkeep_("share upkeep", [this] {
        issuer_->ForgetOldSlips();
        phone_->ForgetExpiredSessions();
        return std::chrono::milliseconds(3600 * 1000);
      }) {
  if (!settings_.enabled) return;
  const std::string& database = context.site.databasePath;
  issuer_ = std::make_unique<ShareIssuer>(
      store_, needs.studies, context.orthanc, needs.patients, needs.consent, context.audit, context.site,
      settings_, context.clock, database == ":memory:" ? "" : database + ".slip-key");
  phone_ = std::make_unique<PhoneAccess>(store_, addressThrottle_, context.audit, settings_, context.clock);
  media_ = std::make_unique<PortalMedia>(context.orthanc);
  RegisterShareRoutes(context.router,
                      ShareRoutesContext{context.site, settings_, *issuer_, needs.studies, needs.sites});
  RegisterPortalRoutes(context.router, PortalRoutesContext{context.site, *phone_, context.audit, *media_,
                                                           needs.sites, needs.access, portalReports_});
  if (needs.pipeline != nullptr) {
    autoShare_ = std::make_unique<AutoShare>(*issuer_, settings_.autoShare);
    needs.pipeline->Add(*autoShare_, StudyEventStage::kAct);
  }
  upkeep_.RequireLease(context.leases, "share-upkeep");
}

void ShareModule::Start() {
  if (issuer_) upkeep_.Start();
}

void ShareModule::Stop() { upkeep_.Stop(); }

void ShareModule::Describe(Json::Value& section) {
  section["enabled"] = issuer_ != nullptr;
  if (!issuer_) return;
  const int64_t now = clock_.NowSeconds();
  section["public_base_url"] = settings_.publicBaseUrl;
  section["default_valid_days"] = settings_.defaultValidDays;
  section["max_valid_days"] = settings_.maxValidDays;
  section["allow_no_second_factor"] = settings_.allowNoSecondFactor;
  section["active"] = static_cast<Json::Int64>(store_.CountActive(now));
  section["pending_slips"] = static_cast<Json::Int64>(store_.CountPendingSlips());
  section["auto_share"]["enabled"] = settings_.autoShare.enabled;
  section["auto_share"]["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& m : settings_.autoShare.modalities) section["auto_share"]["modalities"].append(m);
  section["auto_share"]["calling_aets"] = Json::Value(Json::arrayValue);
  for (const std::string& a : settings_.autoShare.callingAets)
    section["auto_share"]["calling_aets"].append(a);
}

bool ShareModule::AdmitTicketedDownload(const HttpRequest& request) {
  return phone_ && phone_->AdmitTicketedDownload(request);
}

void ShareModule::RevokeForPatient(const std::string& registryPatientId) {
  if (issuer_) issuer_->RevokeForPatient(registryPatientId);
}

}  // namespace HospitalBridge
