#include "Common/AuditVocabulary.h"

namespace HospitalBridge {
namespace {
const char kAuth[] = "110114";
const char kAuthName[] = "User Authentication";
const char kAccess[] = "110103";
const char kAccessName[] = "DICOM Instances Accessed";
const char kExport[] = "110106";
const char kExportName[] = "Export";
const char kQuery[] = "110112";
const char kQueryName[] = "Query";
const char kAlert[] = "110113";
const char kAlertName[] = "Security Alert";
const char kOrder[] = "110109";
const char kOrderName[] = "Order Record";
}  // namespace

const std::vector<AuditAction>& AuditActions() {
  static const std::vector<AuditAction> actions = {
      {"login", "accounts", kAuth, kAuthName, "E", "110122", "Login", "Sign-in", "Signed in"},
      {"login.failed", "accounts", kAuth, kAuthName, "E", "110122", "Login", "Sign-in failed",
       "Tried to sign in"},
      {"logout", "accounts", kAuth, kAuthName, "E", "110123", "Logout", "Sign-out", "Signed out"},
      {"user.created", "accounts", "110136", "Security Roles Changed", "U", "", "", "Account created",
       "Created an account"},
      {"user.changed", "accounts", "110136", "Security Roles Changed", "U", "", "", "Account changed",
       "Changed an account"},
      {"dicom.stored", "images", "110104", "DICOM Instances Transferred", "C", "", "", "Images received",
       "Images received"},
      {"study.viewed", "images", kAccess, kAccessName, "R", "", "", "Study viewed", "Looked at the images"},
      {"study.searched", "images", kQuery, kQueryName, "E", "", "", "Studies searched",
       "Searched the image archive"},
      {"study.downloaded", "images", kExport, kExportName, "R", "", "", "Study downloaded",
       "Downloaded a copy of the images"},
      {"study.exported", "images", kExport, kExportName, "R", "", "", "Study sent elsewhere",
       "Sent a copy of the images out of the image archive"},
      {"study.modified", "images", kAccess, kAccessName, "U", "", "", "Study modified",
       "Changed the image data"},
      {"study.deleted", "images", kAccess, kAccessName, "D", "", "", "Study deleted", "Deleted the images"},
      // Links and downloads hand images out of the hospital; a phone
      // unlocking a link authenticates the patient; refused studies and
      // locked links are security alerts; what a phone sees is an access.
      {"share.created", "shares", kExport, kExportName, "R", "", "", "Share link created",
       "Created a link to share the images"},
      {"share.printed", "shares", kExport, kExportName, "R", "", "", "Share slip printed",
       "Printed the slip of a share link"},
      {"share.revoked", "shares", kExport, kExportName, "R", "", "", "Share link revoked",
       "Cancelled a share link"},
      {"share.unlocked", "shares", kExport, kExportName, "R", "", "", "Share link unlocked by staff",
       "Unlocked a share link"},
      {"share.opened", "shares", kAuth, kAuthName, "E", "110122", "Login", "Share link opened",
       "Opened the images with a share link"},
      {"share.unlock_failed", "shares", kAuth, kAuthName, "E", "110122", "Login", "Wrong PIN or birth date",
       "Tried to open a share link"},
      {"share.locked", "shares", kAlert, kAlertName, "E", "", "", "Share link locked",
       "A share link was locked after wrong PINs"},
      {"share.viewed", "shares", kAccess, kAccessName, "R", "", "", "Shared images viewed",
       "Opened the images with a share link"},
      {"share.downloaded", "shares", kExport, kExportName, "R", "", "", "Shared images downloaded",
       "Downloaded the images with a share link"},
      {"share.denied", "shares", kAlert, kAlertName, "E", "", "", "Share link refused a study",
       "A share link was refused other images"},
      {"federation.query.sent", "federation", kQuery, kQueryName, "E", "", "", "Peers asked",
       "Asked other hospitals about the patient's images"},
      {"federation.query.answered", "federation", kQuery, kQueryName, "E", "", "", "Peer answered",
       "Told another hospital about the patient's images"},
      {"federation.retrieve", "federation", "110107", "Import", "C", "", "", "Study retrieved from a peer",
       "Copied the images from another hospital"},
      {"consent.recorded", "consent", "110110", "Patient Record", "U", "", "", "Consent recorded",
       "Recorded the patient's consent"},
      // Orders are DICOM's "Order Record" events; attaching a study to its
      // order changes the images' tags.
      {"order.created", "orders", kOrder, kOrderName, "C", "", "", "Order created",
       "An imaging order was made"},
      {"order.changed", "orders", kOrder, kOrderName, "U", "", "", "Order changed",
       "An imaging order was changed"},
      {"order.arrived", "orders", kOrder, kOrderName, "U", "", "", "Patient checked in",
       "Checked in for the examination"},
      {"order.started", "orders", kOrder, kOrderName, "U", "", "", "Examination started (first images)",
       "The examination started"},
      {"order.completed", "orders", kOrder, kOrderName, "U", "", "", "Examination completed",
       "The examination was completed"},
      {"order.cancelled", "orders", kOrder, kOrderName, "U", "", "", "Order cancelled",
       "An imaging order was cancelled"},
      {"order.reconciled", "orders", kAccess, kAccessName, "U", "", "", "Study attached to its order",
       "Images were corrected to match their order"},
      {"reconciliation.dismissed", "orders", kOrder, kOrderName, "U", "", "", "Study without order set aside",
       "Images without an order were set aside"},
      {"worklist.refused", "security", kAlert, kAlertName, "E", "", "", "Worklist query refused",
       "A device was refused the list of examinations"},
      // Reports are patient records (DICOM "Patient Record"); the signed PDF
      // stored into the study is a DICOM instance created.
      {"report.created", "reports", "110110", "Patient Record", "C", "", "", "Report started",
       "A report on the images was started"},
      {"report.assigned", "reports", "110110", "Patient Record", "U", "", "",
       "Study claimed, assigned or released", "A radiologist was given the images to read"},
      {"report.signed", "reports", "110110", "Patient Record", "C", "", "", "Report signed",
       "The report on the images was signed"},
      {"report.sign_refused", "reports", kAlert, kAlertName, "E", "", "", "Report sign-off refused",
       "A report could not be signed"},
      {"report.amended", "reports", "110110", "Patient Record", "U", "", "", "Report amendment started",
       "A correction to the report was started"},
      {"report.critical_communicated", "reports", "110110", "Patient Record", "U", "", "",
       "Critical finding communicated", "An urgent finding was told to a doctor"},
      {"report.stored", "reports", "110104", "DICOM Instances Transferred", "C", "", "",
       "Report stored with the images", "The report was stored with the images"},
      {"report.viewed", "reports", "110110", "Patient Record", "R", "", "", "Report viewed",
       "Read the report"},
      {"report.template_changed", "reports", "110110", "Patient Record", "U", "", "",
       "Report template changed", "A report template was changed"},
      // The router hands images and reports to other systems (Export); a
      // study a rule selected but the patient's consent kept home is said too.
      {"router.delivered", "router", kExport, kExportName, "R", "", "", "Study delivered elsewhere",
       "Sent a copy of the images or report to another system"},
      {"router.failed", "router", kExport, kExportName, "R", "", "", "Delivery failed",
       "Tried to send a copy of the images or report to another system"},
      {"router.withheld", "router", kExport, kExportName, "R", "", "", "Study kept home (consent)",
       "Did not send the images elsewhere, as the patient asked"},
      {"router.changed", "router", kExport, kExportName, "R", "", "", "Router queue changed",
       "Changed what is sent to other systems"},
      {"request.refused", "security", kAlert, kAlertName, "E", "", "", "Request refused",
       "A request was refused"},
      {"system.started", "system", "110100", "Application Activity", "E", "110120", "Application Start",
       "Server started", "The image archive started"},
  };
  return actions;
}

AuditAction AuditActionOf(const std::string& name) {
  for (const AuditAction& action : AuditActions()) {
    if (name == action.name) return action;
  }
  return AuditAction{"", "system", "110100", "Application Activity", "E", "", "", "", ""};
}

const char* ActorKindName(ActorKind kind) {
  switch (kind) {
    case ActorKind::kUser:
      return "user";
    case ActorKind::kPeer:
      return "peer";
    case ActorKind::kPatientLink:
      return "share";
    case ActorKind::kDicomSender:
      return "dicom";
    case ActorKind::kSystem:
      return "system";
  }
  return "system";
}

AuditActor AuditActor::Of(const Identity& identity, const std::string& address) {
  return AuditActor{identity.role == Role::kPeer ? ActorKind::kPeer : ActorKind::kUser, identity.username,
                    identity.authenticated ? RoleName(identity.role) : "", address};
}

AuditActor AuditActor::PatientLink(int64_t shareId, const std::string& address) {
  return AuditActor{ActorKind::kPatientLink, "share #" + std::to_string(shareId), "", address};
}

AuditActor AuditActor::DicomSender(const std::string& aet, const std::string& address) {
  return AuditActor{ActorKind::kDicomSender, aet, "", address};
}

AuditActor AuditActor::System(const std::string& name) {
  return AuditActor{ActorKind::kSystem, name, "", ""};
}

AuditActor AuditActor::Claimed(const std::string& username, const std::string& address) {
  return AuditActor{ActorKind::kUser, username.substr(0, 64), "", address};
}

AuditEvent MakeAuditEvent(const std::string& action, const AuditActor& actor, const std::string& outcome) {
  AuditEvent event;
  event.action = action;
  event.outcome = outcome;
  event.actorName = actor.name;
  event.actorRole = actor.role;
  event.actorKind = ActorKindName(actor.kind);
  event.sourceIp = actor.address;
  return event;
}

}  // namespace HospitalBridge
