#include "Share/ShareSettings.h"

namespace HospitalBridge {

SharesSettings ReadSharesSettings(const SettingsReader& read) {
  SharesSettings shares;
  shares.enabled = read.ModuleEnabled("Shares");
  shares.publicBaseUrl = read.String("Shares.PublicBaseUrl");
  while (!shares.publicBaseUrl.empty() && shares.publicBaseUrl.back() == '/') shares.publicBaseUrl.pop_back();
  if (!shares.publicBaseUrl.empty() && shares.publicBaseUrl.rfind("http://", 0) != 0 &&
      shares.publicBaseUrl.rfind("https://", 0) != 0) {
    SettingsReader::Invalid("Shares.PublicBaseUrl",
                            "must start with https:// (or http://), got \"" + shares.publicBaseUrl + "\"");
  }
  shares.defaultValidDays = read.Int("Shares.DefaultValidDays", 1, 3650);
  shares.maxValidDays = read.Int("Shares.MaxValidDays", 1, 3650);
  if (shares.defaultValidDays > shares.maxValidDays) {
    SettingsReader::Invalid("Shares.DefaultValidDays", "must not exceed Shares.MaxValidDays (" +
                                                           std::to_string(shares.maxValidDays) + ")");
  }
  shares.allowNoSecondFactor = read.Bool("Shares.AllowNoSecondFactor");
  shares.maxFailedUnlocks = read.Int("Shares.MaxFailedUnlocks", 1, 20);
  shares.sessionMinutes = read.Int("Shares.SessionMinutes", 1, 60);
  shares.maxFailuresPerAddress = read.Int("Shares.MaxFailuresPerAddress", 1, 100000);
  shares.windowMinutes = read.Int("Shares.WindowMinutes", 1, 1440);
  shares.lockoutMinutes = read.Int("Shares.LockoutMinutes", 1, 1440);
  shares.pendingSlipHours = read.Int("Shares.PendingSlipHours", 1, 720);
  shares.secretHashIterations =
      static_cast<uint32_t>(read.Integer("Shares.SecretHashIterations", 10000, 10000000));
  AutoShareSettings& autoShare = shares.autoShare;
  autoShare.enabled = read.Bool("Shares.AutoShare.Enabled");
  autoShare.modalities = read.StringList("Shares.AutoShare.Modalities");
  autoShare.callingAets = read.StringList("Shares.AutoShare.CallingAets");
  autoShare.validDays = read.Int("Shares.AutoShare.ValidDays", 1, 3650);
  if (autoShare.validDays > shares.maxValidDays) {
    SettingsReader::Invalid("Shares.AutoShare.ValidDays", "must not exceed Shares.MaxValidDays");
  }
  if (autoShare.enabled && !shares.enabled)
    SettingsReader::Invalid("Shares.AutoShare.Enabled", "needs Modules.Shares");
  if (autoShare.enabled && !read.ModuleEnabled("StudyIndex")) {
    SettingsReader::Invalid("Shares.AutoShare.Enabled", "needs Modules.StudyIndex");
  }
  return shares;
}

}  // namespace HospitalBridge
